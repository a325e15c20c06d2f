"""Training of the scene reconstruction network (``spikecodec train --stage recon``).

Entry point: :func:`train`, taking a :class:`ReconTrainConfig` (or a dict / an
``argparse.Namespace`` with any of its field names). Checkpoints go to
``run_dir/checkpoint.pt`` every ``checkpoint_every`` steps and a run resumes from
there; the final weights and the training record (config, data, steps, wall
time, final metrics) are written to ``out`` (``.pth`` + ``.json``).

Each step draws a fresh batch from :class:`codec.train.recon_data.SceneSampler`
with a generator seeded by ``(seed, step)``, so a resumed run sees the same data.
Loss: MSE between the predicted and the true centre-plane firing rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from codec.device import CPU
from codec.errors import SpikecodecError
from codec.io import open_spikes
from codec.metrics.scene import gain_normalized_psnr, psnr_from_mse
from codec.reconstruct.features import CONTEXT, RADII
from codec.reconstruct.net import DEFAULT_WEIGHTS, NetConfig, NetReconstructor, ReconNet, save_weights
from codec.reconstruct.tfi import TFI
from codec.reconstruct.tfp import TFP
from codec.train.recon_data import (
    EVALUATION_SEQUENCES,
    IMAGE_FOLDERS,
    VIDEO_FOLDER,
    SampleRanges,
    SceneSampler,
    spikes_and_target,
)

DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEFAULT_RUN_DIR = Path.home() / ".cache" / "spikecodec" / "runs" / "recon"
#: real recordings with a ground-truth PNG of plane 150, evaluated (never trained on) at the end
EVALUATION_RECORDINGS = ("spikes/reds_203_part2.dat", "spikes/reds_203_part3.dat")
EVALUATION_PLANE = 150


@dataclass
class ReconTrainConfig:
    """Training settings (sizes in pixels, lengths in steps)."""

    data_root: Path = DEFAULT_DATA_ROOT
    run_dir: Path = DEFAULT_RUN_DIR
    out: Path = DEFAULT_WEIGHTS
    steps: int = 6000
    batch: int = 8
    crop: int = 64
    lr: float = 2e-3
    final_lr_fraction: float = 0.02
    warmup: int = 200
    seed: int = 0
    threads: int = 1
    checkpoint_every: int = 250
    validate_every: int = 500
    validation_batches: int = 4
    export_only: bool = False  # write weights + record from the latest checkpoint, no training
    device: str = CPU  # where the network and the batches compute (codec.device)
    net: NetConfig = field(default_factory=NetConfig)


#: argument names of ``spikecodec train`` that map onto config fields
_ALIASES = {"data": "data_root"}


def config_from(args: Any) -> ReconTrainConfig:
    """Build a config from a :class:`ReconTrainConfig`, a dict or an ``argparse.Namespace``.

    Keys are config field names; ``data`` is accepted for ``data_root`` and ``runs``
    (a parent of per-stage run dirs) sets ``run_dir = runs/recon``. Unknown keys
    and ``None`` values are ignored.
    """
    if isinstance(args, ReconTrainConfig):
        return args
    values = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    known = {f.name for f in dataclasses.fields(ReconTrainConfig)}
    kwargs: dict[str, Any] = {}
    if values.get("runs") is not None:
        kwargs["run_dir"] = Path(values["runs"]).expanduser() / "recon"
    for key, value in values.items():
        key = _ALIASES.get(key, key)
        if key not in known or value is None:
            continue
        if key in ("data_root", "run_dir", "out"):
            value = Path(value).expanduser()
        elif key == "net" and isinstance(value, dict):
            value = NetConfig(**value)
        kwargs[key] = value
    return ReconTrainConfig(**kwargs)


def learning_rate(config: ReconTrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to ``lr * final_lr_fraction``."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    low = config.lr * config.final_lr_fraction
    return low + 0.5 * (config.lr - low) * (1 + math.cos(math.pi * progress))


def _validation_set(sampler: SceneSampler, config: ReconTrainConfig) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng([config.seed, 10**9])
    batches = (spikes_and_target(sampler.scenes(rng, config.batch, config.crop), rng)
               for _ in range(config.validation_batches))
    return [(features.to(config.device), rate.to(config.device)) for features, rate in batches]


@torch.no_grad()
def validate(model: ReconNet, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
    """Rate PSNR (peak 1) of the network and of the widest TFP on held-out synthetic batches."""
    model.eval()
    mse_net = np.mean([float(torch.mean((model(f) - r) ** 2)) for f, r in batches])
    mse_tfp = np.mean([float(torch.mean((f[:, len(RADII) - 1 : len(RADII)] - r) ** 2)) for f, r in batches])
    model.train()
    return {"val_psnr_net": psnr_from_mse(mse_net, 1.0), "val_psnr_tfp33": psnr_from_mse(mse_tfp, 1.0)}


def evaluate_recordings(weights: Path, data_root: Path) -> dict[str, dict[str, float]]:
    """Gain-normalized PSNR at plane 150 of the real recordings: net vs TFP/TFI (K = 8, 16, 32)."""
    from PIL import Image

    results = {}
    for rel in EVALUATION_RECORDINGS:
        path = data_root / rel
        gt_path = path.with_name(path.stem + "_gt.png")
        if not (path.is_file() and gt_path.is_file()):
            continue
        with open_spikes(path) as reader:
            planes = reader.read()
        gt = np.asarray(Image.open(gt_path).convert("L"), dtype=np.float64) / 255.0
        row = {"net": gain_normalized_psnr(gt,
                                           NetReconstructor(32, weights=weights).reconstruct(planes, EVALUATION_PLANE))}
        for window in (8, 16, 32):
            for method in (TFP, TFI):
                scene = method(window).reconstruct(planes, EVALUATION_PLANE)
                row[f"{method.name}{window}"] = gain_normalized_psnr(gt, scene)
        results[path.name] = row
    return results


def train(args: Any) -> dict[str, Any]:
    """Train (or resume) the reconstruction network.

    Returns:
        Summary: ``weights`` and ``record`` paths, ``steps``, ``wall_seconds``,
        ``final_validation`` and the gain-normalized PSNR on the real recordings.
    """
    config = config_from(args)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = config.run_dir / "checkpoint.pt"
    model = ReconNet(config.net).to(config.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    step, wall, history = 0, 0.0, []
    if checkpoint_path.is_file():
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, wall, history = state["step"], state["wall_seconds"], state["history"]
        print(f"resumed {checkpoint_path} at step {step}", file=sys.stderr)
    elif config.export_only:
        raise SpikecodecError(f"--export-only: no checkpoint at {checkpoint_path}")
    sampler = SceneSampler(config.data_root)
    val_batches = _validation_set(sampler, config)
    started = time.monotonic() - wall
    model.train()
    losses: list[float] = []
    while step < config.steps and not config.export_only:
        rng = np.random.default_rng([config.seed, step])
        scenes = sampler.scenes(rng, config.batch, config.crop)
        features, rate = (t.to(config.device) for t in spikes_and_target(scenes, rng))
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        loss = torch.mean((model(features) - rate) ** 2)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        step += 1
        if step % config.validate_every == 0 or step == config.steps:
            entry = {"step": step, "wall_seconds": time.monotonic() - started, "train_mse": float(np.mean(losses)),
                     **validate(model, val_batches)}
            losses = []
            history.append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
        if step % config.checkpoint_every == 0 or step == config.steps:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                     "wall_seconds": time.monotonic() - started, "history": history}
            torch.save(state, checkpoint_path.with_suffix(".tmp"))
            checkpoint_path.with_suffix(".tmp").replace(checkpoint_path)
    model.eval().to(CPU)
    save_weights(model, config.out)
    record = {
        "net": asdict(config.net),
        "training": {
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items() if k != "net"},
            "data": {"images": list(IMAGE_FOLDERS), "video": VIDEO_FOLDER,
                     "excluded_sequences": sorted(EVALUATION_SEQUENCES),
                     "generator": asdict(SampleRanges()), "context_planes": list(CONTEXT)},
            "steps": step,
            "wall_seconds": round(time.monotonic() - started, 1),
            "parameters": sum(p.numel() for p in model.parameters()),
            "final_validation": history[-1] if history else None,
            "recordings_gain_normalized_psnr_plane150": evaluate_recordings(config.out, config.data_root),
            "history": history,
        },
    }
    config.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    (config.run_dir / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    summary = {key: record["training"][key] for key in ("steps", "wall_seconds", "final_validation",
                                                        "recordings_gain_normalized_psnr_plane150")}
    return {"weights": str(config.out), "record": str(config.out.with_suffix(".json")), **summary}
