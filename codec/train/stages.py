"""Dispatch of ``spikecodec train --stage ...`` to the stage implementations.

Each stage trains in its own run dir under ``--runs`` (default
``~/.cache/spikecodec/runs``), resumes there, and exports into the package when
it has reached its step count (the defaults below are what the shipped weights
were trained with; see the JSON records in ``codec/models/weights``).

- ``recon``: :func:`codec.train.recon.train` (reconstruction engineer).
- ``codec``: stage I -> ``spikecodec-base`` weights.
- ``joint``: stage II -> ``spikecodec-base`` weights again, and the jointly
  trained reconstruction network becomes the ``net`` reconstructor's weights
  (its record keeps stage I and adds stage II).
- ``attention``: stage III -> ``spikecodec-base-soam`` and ``-bisoam`` weights.
- ``classifier``: the task benchmark's recognition network (:mod:`codec.task.train`; seconds on
  CPU, no run dir) -> ``digits-classifier`` weights, or ``--output`` for a user's set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from codec.errors import SpikecodecError
from codec.models.registry import WEIGHTS_DIR, file_sha256, get_config
from codec.models.shapes import STRIDE
from codec.options import ATTENTION_MODULES
from codec.train.runs import DEFAULT_RUNS, RunDir

if TYPE_CHECKING:
    from torch import nn

#: per stage: steps, learning rate, batch, crop, optional anneal (last steps, lr)
#: codec, attention and inter are the settings of the shipped weights (their records say how
#: each run went; the inter run's piecewise schedule is in docs/CHANGELOG.md); joint made the
#: evaluation RD worse (docs/training.md), so ``--stage all`` leaves it out.
DEFAULTS = {
    "codec": {"steps": 14000, "lr": 5e-4, "batch": 8, "crop": 128, "anneal": (1500, 5e-5)},
    "codec:spikecodec-ctx": {"steps": 3350, "lr": 2e-4, "batch": 8, "crop": 128,
                             "init": "spikecodec-base", "tfp_noise": 0.5},
    "joint": {"steps": 2100, "lr": 3e-4, "batch": 8, "crop": 128},
    "attention": {"steps": 3000, "lr": 3e-4, "batch": 4, "crop": 128, "anneal": (300, 3e-5)},
    "inter": {"steps": 8500, "lr": 2e-4, "batch": 8, "crop": 128, "anneal": (500, 5e-5)},
    "inter:spikecodec-ctx": {"steps": 12000, "lr": 2e-4, "batch": 8, "crop": 128, "anneal": (1000, 2e-5),
                             "reference_model": "spikecodec-base", "init": "spikecodec-base"},
}
#: the stages ``--stage all`` runs, in order (reproduces the shipped weights)
SHIPPED_STAGES = ("recon", "codec", "attention", "inter", "classifier")


def last_metrics(run: RunDir, step: int) -> dict:
    """The last logged training step of ``run`` at or before ``step`` (empty if none)."""
    if not run.log_path.is_file():
        return {}
    for line in reversed(run.log_path.read_text().splitlines()):
        entry = json.loads(line)
        if "loss" in entry and entry["step"] <= step:
            return entry
    return {}


def _settings(stage: str, args: argparse.Namespace) -> dict:
    out = dict(DEFAULTS.get(f"{stage}:{args.model}", DEFAULTS[stage]))
    for key in ("steps", "lr", "batch", "crop", "init", "anneal"):
        value = getattr(args, key)
        if value is not None:
            out[key] = value
    if args.export_only:
        out["steps"] = 0
    if out["crop"] % STRIDE:
        raise SpikecodecError(f"--crop must be a multiple of {STRIDE}, got {out['crop']}")
    return out


def _schedule_flags(settings: dict) -> str:
    """The ``--init`` and ``--anneal`` flags that repeat ``settings`` on a command line."""
    flags = f" --init {settings['init']}" if settings.get("init") else ""
    if settings.get("anneal"):
        flags += f" --anneal {settings['anneal'][0]}:{settings['anneal'][1]:g}"
    return flags


def _record(stage: str, summary: dict, run: RunDir, settings: dict) -> dict:
    return {"stage": stage, "steps": summary["step"], "wall_seconds": summary["wall_seconds"],
            "data": summary["data"],
            "final_training_metrics": last_metrics(run, summary["step"]),
            "anneal": {"last_steps": settings["anneal"][0],
                       "lr": settings["anneal"][1]} if settings.get("anneal") else None}


def _codec(args: argparse.Namespace, runs: Path) -> dict:
    from codec.train.codec_stage import train_codec
    from codec.train.export import export_model

    name = "codec" if args.model == "spikecodec-base" else f"codec-{args.model}"
    # a continuation (--init) trains in its own run dir, beside the run it continues
    run = RunDir(runs / (f"{name}-from-{args.init}" if args.init else name))
    s = _settings("codec", args)
    init_sha = file_sha256(WEIGHTS_DIR / f"{s['init']}.pth") if s.get("init") else None
    model, summary = train_codec(run, args.data, args.model, s["steps"], s["batch"], s["crop"], s["lr"],
                                 anneal=s.get("anneal"), init=s.get("init"), tfp_noise=s.get("tfp_noise", 0.0),
                                 device=args.device)
    record = _record("I: codec on gray natural images", summary, run, s)
    record["command"] = (f"spikecodec train --stage codec --steps {summary['step']} "
                         f"--batch {s['batch']} --crop {s['crop']} --lr {s['lr']:g}" + _schedule_flags(s))
    if s.get("init"):
        record["initialised_from_sha256"] = init_sha
    record = export_model(model, args.model, "none", "intra", record, args.data)
    return {"steps": record["steps"], "kodak_gray": record["kodak_gray"], "sha256": record["sha256"]}


def _ship_recon(recon: nn.Module, stage_record: dict, data_root: Path) -> dict:
    """Install the jointly trained reconstruction network as the product's ``net``
    reconstructor, keeping its stage-I record and adding the stage-II one;
    returns its gain-normalised PSNR on the recordings (plane 150)."""
    from codec.reconstruct.net import DEFAULT_WEIGHTS, save_weights
    from codec.train.recon import evaluate_recordings

    previous = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    before_sha = file_sha256(DEFAULT_WEIGHTS)
    save_weights(recon, DEFAULT_WEIGHTS)
    scores = evaluate_recordings(DEFAULT_WEIGHTS, data_root)
    previous["joint_stage"] = {**stage_record, "initialised_from_sha256": before_sha,
                               "recordings_gain_normalized_psnr_plane150": scores}
    DEFAULT_WEIGHTS.with_suffix(".json").write_text(json.dumps(previous, indent=2) + "\n")
    return {name: round(row["net"], 3) for name, row in scores.items()}


def _joint(args: argparse.Namespace, runs: Path) -> dict:
    from codec.train.export import export_model
    from codec.train.joint_stage import RECON_LR_SCALE, train_joint

    run, s = RunDir(runs / "joint"), _settings("joint", args)
    base_sha = file_sha256(WEIGHTS_DIR / f"{args.model}.pth")
    model, recon, summary = train_joint(run, args.data, args.model, s["steps"], s["batch"], s["crop"], s["lr"],
                                        anneal=s.get("anneal"), device=args.device)
    record = _record("II: joint reconstruction + codec on simulated spikes", summary, run, s)
    record["command"] = (f"spikecodec train --stage joint --steps {summary['step']} "
                         f"--batch {s['batch']} --crop {s['crop']} --lr {s['lr']:g}")
    record["initialised_from_sha256"] = base_sha
    recon_scores = _ship_recon(recon, {k: record[k] for k in ("stage", "steps", "wall_seconds", "command")}
                               | {"lr": s["lr"] * RECON_LR_SCALE}, args.data)
    record["recon_net_recordings_gain_normalized_psnr_plane150"] = recon_scores
    record = export_model(model, args.model, "none", "intra", record, args.data)
    return {"steps": record["steps"], "kodak_gray": record["kodak_gray"], "reds_spikes": record["reds_spikes"],
            "recon_net_psnr": recon_scores, "sha256": record["sha256"]}


def _attention(args: argparse.Namespace, runs: Path) -> dict:
    from codec.train.attention_stage import train_attention
    from codec.train.export import export_model

    s = _settings("attention", args)
    out = {}
    base_sha = file_sha256(WEIGHTS_DIR / f"{args.model}.pth")
    for variant in (args.attention,) if args.attention else ATTENTION_MODULES:
        run = RunDir(runs / "attention" / variant)
        model, summary = train_attention(run, args.data, variant, args.model, s["steps"], s["lr"],
                                         s["batch"], s["crop"], anneal=s.get("anneal"), device=args.device)
        record = _record("III: spike attention over the frozen codec", summary, run, s)
        record["initialised_from_sha256"] = base_sha
        record["command"] = (f"spikecodec train --stage attention --attention {variant} --steps {summary['step']} "
                             f"--batch {s['batch']} --crop {s['crop']} --lr {s['lr']:g}")
        record = export_model(model, args.model, variant, "intra", record, args.data, kodak=False)
        out[variant] = {"steps": record["steps"], "reds_spikes": record["reds_spikes"],
                        "sha256": record["sha256"]}
    return out


def _inter(args: argparse.Namespace, runs: Path) -> dict:
    from codec.evaluate.reds import reds_inter_points
    from codec.models import load_scene_codec
    from codec.options import DEFAULT_INTER_OFFSET
    from codec.pipeline.motion import BLOCK, MAX_DISPLACEMENT
    from codec.train.export import export_model
    from codec.train.inter_stage import train_inter

    name = "inter" if args.model == "spikecodec-base" else f"inter-{args.model}"
    run = RunDir(runs / (f"{name}-from-{args.init}" if args.init else name))
    s = _settings("inter", args)
    reference = s.get("reference_model") or args.model
    model, summary = train_inter(run, args.data, args.model, s["steps"], s["batch"], s["crop"], s["lr"],
                                 anneal=s.get("anneal"), reference_model=reference, init=s.get("init"),
                                 device=args.device)
    kind = "conditional residual codec" if get_config(args.model).conditional_inter else "residual codec"
    record = _record(f"inter: {kind} on P and B predictions of simulated scenes", summary, run, s)
    record["command"] = (f"spikecodec train --stage inter --model {args.model} --steps {summary['step']} "
                         f"--batch {s['batch']} --crop {s['crop']} --lr {s['lr']:g}{_schedule_flags(s)}")
    record["intra_sha256"] = file_sha256(WEIGHTS_DIR / f"{reference}.pth")
    record["motion"] = {"block": BLOCK, "max_displacement": MAX_DISPLACEMENT, "vectors": "half-pel",
                        "inter_offset": DEFAULT_INTER_OFFSET}
    intra = load_scene_codec(reference)
    measure = {"reds_inter": lambda inter: reds_inter_points(intra, inter, args.data / "spikes")}
    record = export_model(model, args.model, "none", "inter", record, args.data, kodak=False, reds=False,
                          evaluations=measure)
    return {"steps": record["steps"], "reds_inter": record["reds_inter"], "sha256": record["sha256"]}


def _recon(args: argparse.Namespace, runs: Path) -> dict:
    from codec.train.recon import train

    settings = {"data_root": args.data, "run_dir": runs / "recon", "threads": args.threads,
                "steps": args.steps, "lr": args.lr, "batch": args.batch, "crop": args.crop, "device": args.device}
    record = train(settings)
    return {"steps": record.get("steps"), "wall_seconds": record.get("wall_seconds")}


def _classifier(args: argparse.Namespace, runs: Path) -> dict:
    from codec.task.classifier import DEFAULT_CLASSIFIER, save_classifier
    from codec.task.data import open_set
    from codec.task.options import DEFAULT_VIEW, DIGITS
    from codec.task.train import DEFAULT_BATCH, DEFAULT_LR, DEFAULT_STEPS, evaluate, train_classifier

    if args.output is None and (args.set != DIGITS or args.view != DEFAULT_VIEW):
        raise SpikecodecError("only the digits TFP classifier is shipped: give --output PATH for this one")
    data = open_set(args.set, split="train")
    steps, batch, lr = args.steps or DEFAULT_STEPS, args.batch or DEFAULT_BATCH, args.lr or DEFAULT_LR
    net, record = train_classifier(data, args.view, args.view_window, steps, batch, lr)
    if args.set == DIGITS:  # the bundled set has a held-out split: the accuracy the record promises
        record["eval"] = evaluate(net, record, open_set(DIGITS, split="eval"))
    record["command"] = (f"spikecodec train --stage classifier --set {args.set} --view {args.view} "
                         f"--view-window {args.view_window} --steps {steps} --batch {batch} --lr {lr:g}")
    output = Path(args.output) if args.output else DEFAULT_CLASSIFIER
    record = save_classifier(net, output, record)
    return {"weights": str(output), "steps": steps, "wall_seconds": record["wall_seconds"],
            "train_accuracy": record["train_accuracy"], "eval_accuracy": record.get("eval", {}).get("accuracy"),
            "sha256": record["sha256"]}


STAGES = {"recon": _recon, "codec": _codec, "joint": _joint, "attention": _attention, "inter": _inter,
          "classifier": _classifier}


def run_stage(stage: str, args: argparse.Namespace) -> dict:
    """Run one stage with the command-line arguments of ``spikecodec train``."""
    return STAGES[stage](args, Path(args.runs or DEFAULT_RUNS).expanduser())
