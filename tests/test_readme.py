"""The README's quick starts, run verbatim in a shell, and the README's own limits.

Blocks follow a ``<!-- quickstart: NAME -->`` marker (``pending: ...`` in the marker: the
commands do not exist yet; the test then checks that they still do not, so the mark is
removed as soon as they land). The Python example runs after them in the same folder.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
#: ``<!-- quickstart: name [(pending: ...)] -->`` then a fenced block
BLOCK = re.compile(r"<!-- (quickstart|example): ([^>]*?) -->\n```(\w+)\n(.*?)```", re.S)
#: what the quick starts bind (the server's default port)
PORT = 50051


def _blocks() -> list[tuple[str, str, str, str]]:
    """``(kind, label, language, text)`` of every marked block, in README order."""
    return [(m.group(1), m.group(2).strip(), m.group(3), m.group(4)) for m in BLOCK.finditer(README)]


def _run(language: str, text: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run one block in a fresh process group (a server it started goes down with it)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    argv = ["bash", "-e", "-c", text] if language == "bash" else [sys.executable, "-c", text]
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("::", port))
        except OSError:
            return False
    return True


def test_readme_is_short_and_has_a_quick_start_per_job() -> None:
    assert len(README.splitlines()) <= 300
    labels = [label.split(" (")[0] for kind, label, *_ in _blocks() if kind == "quickstart"]
    assert {"stream", "files", "store", "bench"} <= set(labels)


def test_readme_links_resolve() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (REPO / target).exists(), f"README links to missing {target}"


def test_pending_quick_starts_are_still_pending() -> None:
    from client.cli import COMMANDS

    for kind, label, _, text in _blocks():
        if "pending" in label:
            used = set(re.findall(r"spikecodec (\w+)", text))
            assert used - set(COMMANDS), f"every command of {label!r} exists now: remove its pending mark"


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_quick_starts_run_verbatim(tmp_path: Path) -> None:
    if not _port_free(PORT):
        pytest.skip(f"port {PORT} is taken on this machine; the quick starts bind it")
    for kind, label, language, text in _blocks():
        if "pending" in label:
            continue
        result = _run(language, text, tmp_path, timeout=1800)
        assert result.returncode == 0, f"{kind} {label} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        if label == "stream":
            assert "isi_psnr" in result.stdout and (tmp_path / "decoded.h5").is_file()
            assert (tmp_path / "report.json").is_file() and (tmp_path / "stream.spkc").stat().st_size > 0
        if label == "files":
            assert "planes: 256" in result.stdout and list((tmp_path / "scenes").glob("scene_*.png"))
        if label == "store":
            listed = re.search(r"^([0-9a-f]{32})  ", result.stdout, re.M)  # a row of list's table
            assert listed and f"deleted: {listed.group(1)}" in result.stdout, result.stdout
            assert (tmp_path / "fetched.spkc").read_bytes() == (tmp_path / "spikes.spkc").read_bytes()
            assert (tmp_path / "fetched.h5").is_file()
        if label == "bench":
            assert "| spikecodec-none |" in (tmp_path / "bench-out" / "bd_rate.md").read_text()
            assert "spikecodec bench synthetic" in (tmp_path / "results.md").read_text()
