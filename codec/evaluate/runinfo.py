"""When and from what a result file was made: UTC date, git commit, package version."""

from __future__ import annotations

import subprocess
import time
from importlib import metadata
from pathlib import Path

#: the source tree this package was loaded from
_SOURCE = Path(__file__).resolve().parents[2]


def git_commit(path: Path = _SOURCE) -> str | None:
    """Short commit of the checkout at ``path`` (``+dirty`` with local edits); ``None`` outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(path), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def run_info() -> dict:
    """``{"date": ISO 8601 UTC, "commit": ..., "version": ...}`` of this run."""
    try:
        version = metadata.version("spikecodec")
    except metadata.PackageNotFoundError:
        version = None
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": git_commit(), "version": version}
