"""Finished sweep points on disk, so an interrupted ``bench`` resumes where it stopped.

A point lives in ``DIR/points/<source key>/<curve>__<label>__<config hash>.json``;
the hash covers everything the point depends on (source settings, codec weights,
encoder preset, ...), so a changed setting computes a new point instead of
reusing a stale one. Files are written atomically (temporary name, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def config_hash(config: dict[str, Any]) -> str:
    """Short stable hash of a JSON-able dict."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class PointCache:
    """Points of one bench output folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "points"

    def path(self, source_key: str, curve: str, label: str, config: dict[str, Any]) -> Path:
        return self.root / source_key / f"{curve}__{label}__{config_hash(config)}.json"

    def load(self, path: Path) -> dict | None:
        """The cached point, or ``None`` if absent or unreadable (then it is recomputed)."""
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def store(self, path: Path, point: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(point, indent=1, sort_keys=True))
        os.replace(tmp, path)
