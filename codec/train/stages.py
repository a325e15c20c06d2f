"""Dispatch of ``spikecodec train --stage ...`` to the stage implementations.

Each stage trains in its own run dir (``<runs>/<stage>``), resumes there, and
exports into the package when it has reached its step count (the defaults below
are the step counts of the shipped weights).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codec.train.runs import DEFAULT_RUNS, RunDir

#: default (steps, learning rate) of each codec stage
DEFAULTS = {"codec": (20000, 2e-4)}


def last_metrics(run: RunDir) -> dict:
    """The last logged training step of ``run`` (empty if none)."""
    if not run.log_path.is_file():
        return {}
    for line in reversed(run.log_path.read_text().splitlines()):
        entry = json.loads(line)
        if "loss" in entry:
            return entry
    return {}


def _codec(args: argparse.Namespace, run: RunDir) -> dict:
    from codec.train.codec_stage import train_codec
    from codec.train.export import export_model

    steps, lr = DEFAULTS["codec"]
    steps = 0 if args.export_only else (args.steps or steps)
    model, summary = train_codec(run, args.data, args.model, steps=steps, batch=args.batch,
                                 crop=args.crop, lr=args.lr or lr)
    record = {"stage": "I (codec on gray natural images)", "steps": summary["step"],
              "wall_seconds": summary["wall_seconds"], "data": summary["data"],
              "lr": args.lr or lr, "final_training_metrics": last_metrics(run),
              "command": f"spikecodec train --stage codec --steps {summary['step']}"}
    record = export_model(model, args.model, "none", record, args.data / "images" / "kodak")
    return {"steps": record["steps"], "kodak_gray": record["kodak_gray"], "sha256": record["sha256"]}


def run_stage(stage: str, args: argparse.Namespace) -> dict:
    """Run one stage with the command-line arguments of ``spikecodec train``."""
    run = RunDir(Path(args.runs or DEFAULT_RUNS) / stage)
    if stage == "codec":
        return _codec(args, run)
    raise ValueError(f"stage {stage!r} is not available")
