"""The command line's own surface: ``--version``, refusals that name the flag or the fix, and
readable text output (no Python reprs, small floats with their significant digits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from client.cli import main, text_lines
from codec.version import VERSION

REPO = Path(__file__).resolve().parents[1]


def refused(capsys: pytest.CaptureFixture, *argv: object) -> str:
    """The one-line reason a command gave for exit status 2 (argparse's or the command's own)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse: usage line, then the reason
        code = exit_.code
    assert code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "client.cli", "--version"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip() == f"spikecodec {VERSION}" and VERSION != "unknown"


@pytest.fixture
def spikes(tmp_path: Path) -> Path:
    path = tmp_path / "spikes.h5"
    assert main(["simulate", "synthetic", "-o", str(path), "--planes", "16", "--height", "16", "--width", "32"]) == 0
    return path


def test_encode_refuses_a_spike_file_name_for_its_bitstream(spikes: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    for name in ("x.h5", "x.dat", "x"):
        reason = refused(capsys, "encode", spikes, "-o", tmp_path / name)
        assert reason.endswith(f"{name}: encode writes a .spkc bitstream (decode turns it into .h5 or .dat); "
                               "name the file *.spkc"), reason
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("command", [["stream", "{png}", "--server", "127.0.0.1:1"],
                                     ["upload", "{png}", "--server", "127.0.0.1:1"],
                                     ["simulate", "{png}", "-o", "{tmp}/s.h5"],
                                     ["bench", "{png}", "-o", "{tmp}/bench"]])
def test_a_single_image_is_not_simulated_as_a_still_scene(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           command: list[str]) -> None:
    png = tmp_path / "gt.png"
    Image.fromarray(np.full((16, 32), 128, np.uint8)).save(png)
    reason = refused(capsys, *(a.format(png=png, tmp=tmp_path) for a in command))
    assert "gt.png is a single image, not a spike recording or a video" in reason
    assert f"spikecodec simulate synthetic --image {png} -o spikes.h5" in reason
    assert not (tmp_path / "s.h5").exists() and not (tmp_path / "bench" / "rd.json").exists()


def test_bench_names_a_missing_vvc_outputs_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    reason = refused(capsys, "bench", "synthetic", "-o", tmp_path / "b", "--vvc-outputs", tmp_path / "missing")
    assert reason.endswith(f"argument --vvc-outputs: {tmp_path / 'missing'}: no such folder")


def test_text_output_is_readable(spikes: Path, capsys: pytest.CaptureFixture) -> None:
    lines = text_lines({"bpsp": 0.000812345, "isi_psnr": 37.256712, "plane_rate_hz": 20000.0, "ok": True,
                        "tau": None, "qps": [22, 27], "sensor": {"alpha": 0.5, "reset": "mod"},
                        "curves": [{"name": "vvc", "bd_rate": -0.0612}]})
    assert lines == ["bpsp: 0.0008123", "isi_psnr: 37.2567", "plane_rate_hz: 20000", "ok: yes", "tau: -",
                     "qps: 22, 27", "sensor:", "  alpha: 0.5", "  reset: mod", "curves:", "  - name: vvc",
                     "    bd_rate: -0.0612"]
    capsys.readouterr()
    assert main(["info", str(spikes)]) == 0
    out = capsys.readouterr().out
    assert "sensor:\n  threshold: 1\n" in out and "{" not in out and "[" not in out and "'" not in out


@pytest.mark.parametrize("argv", [["encode", "{spikes}", "-o", "{tmp}/x.spkc"], ["decode", "{tmp}/x.spkc", "-o", "{tmp}/x.h5"],
                                  ["bench", "synthetic", "-o", "{tmp}/b"], ["train", "--stage", "codec"]])
def test_device_cuda_without_a_cuda_device_is_refused_with_the_reason(spikes: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture,
                                                                      argv: list[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: --device cuda is used")
    capsys.readouterr()
    reason = refused(capsys, *(a.format(spikes=spikes, tmp=tmp_path) for a in argv), "--device", "cuda")
    expected = "torch finds no CUDA device on this machine"
    assert reason.startswith(f"spikecodec {argv[0]}: error: --device cuda: ") and expected in reason, reason
    assert reason.endswith("use --device cpu") and not list(tmp_path.glob("x.*")) and not (tmp_path / "b").exists()
