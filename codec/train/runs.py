"""Run directories: resumable checkpoints and a JSONL log, outside the work tree.

A run dir (default ``~/.cache/spikecodec/runs/<stage>``) holds ``checkpoint.pt``
(model, optimizers, step, RNG state; written atomically) and ``log.jsonl`` (one
JSON object per logged step). Log lines are echoed to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

DEFAULT_RUNS = Path(os.environ.get("SPIKECODEC_RUNS", Path.home() / ".cache" / "spikecodec" / "runs"))


class RunDir:
    """Checkpoint and log files of one training stage."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser()
        self.path.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.path / "checkpoint.pt"
        self.log_path = self.path / "log.jsonl"

    def save(self, state: dict) -> None:
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)

    def load(self) -> dict | None:
        if not self.checkpoint_path.is_file():
            return None
        return torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)

    def log(self, **fields) -> None:
        fields = {"time": round(time.time(), 1), **fields}
        line = json.dumps(fields)
        with self.log_path.open("a") as fh:
            fh.write(line + "\n")
        print(line, file=sys.stderr, flush=True)
