"""``spikecodec encode`` / ``decode`` through the installed console script on the shared REDS .dat."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from client.cli import main
from codec.io import open_spikes
from codec.reconstruct import scene_centres
from codec.reconstruct.pngs import scene_filename

SPIKECODEC = Path(sys.executable).parent / "spikecodec"


def spikecodec(*args: object, threads: int = 2) -> subprocess.CompletedProcess:
    """Run the real console script in a fresh process with ``threads`` torch/OpenMP threads."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return subprocess.run([str(SPIKECODEC), *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def ok(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory, reds_dat) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("cli") / "x.spkc"
    return path, ok(spikecodec("encode", reds_dat, "-o", path, "--quality", "3", "--json"))


@pytest.mark.slow
def test_round_trip_is_byte_identical_across_thread_counts(tmp_path, reds_dat, encoded):
    spkc, enc = encoded
    centres = scene_centres(301, 32)
    assert (enc["planes"], enc["scenes"], enc["height"], enc["width"]) == (301, len(centres), 250, 400)
    assert enc["bits"] == 8 * spkc.stat().st_size
    assert enc["bpsp"] == pytest.approx(enc["bits"] / (301 * 250 * 400))
    assert set(enc["timings"]) >= {"total_s", "planes_per_s", "ms_per_scene"}

    one = ok(spikecodec("decode", spkc, "-o", tmp_path / "one.dat", "--scenes", tmp_path / "scenes", "--json",
                        threads=1))
    ok(spikecodec("decode", spkc, "-o", tmp_path / "two.dat", "--json", threads=2))
    assert (one["planes"], one["scenes"], one["bits"]) == (301, len(centres), enc["bits"])
    assert (tmp_path / "one.dat").read_bytes() == (tmp_path / "two.dat").read_bytes()
    assert (tmp_path / "one.dat").stat().st_size == reds_dat.stat().st_size
    assert sorted(p.name for p in (tmp_path / "scenes").iterdir()) == [scene_filename(c) for c in centres]

    with open_spikes(reds_dat) as original, open_spikes(tmp_path / "one.dat") as decoded:
        rate_in = original.read(0, 301).mean(axis=0)
        rate_out = decoded.read(0, 301).mean(axis=0)
    assert abs(rate_out.mean() - rate_in.mean()) < 0.1 * rate_in.mean()
    assert np.corrcoef(rate_in.ravel(), rate_out.ravel())[0, 1] > 0.8


def cli_error(capsys, *args: object) -> str:
    """Run ``spikecodec`` in-process; it must fail with status 2 and one ``error:`` line on stderr."""
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith(f"spikecodec {args[0]}: error: ")]
    return line


def test_corrupt_and_truncated_streams_fail_with_one_line(tmp_path, capsys, encoded):
    data = bytearray(encoded[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "bad.spkc").write_bytes(bytes(data))
    (tmp_path / "cut.spkc").write_bytes(encoded[0].read_bytes()[:-10])
    for name, reason in (("bad.spkc", r"record \d+ \(scene record \d+\) at byte \d+: body CRC mismatch$"),
                         ("cut.spkc", r"truncated in record \d+ \(.*end\) at byte \d+: 9 of 19 bytes$")):
        line = cli_error(capsys, "decode", tmp_path / name, "-o", tmp_path / "out.dat", "--scenes", tmp_path / "s")
        assert re.search(reason, line), line
        assert not (tmp_path / "out.dat").exists()


def test_bad_encode_arguments_fail_with_one_line(tmp_path, capsys, reds_dat):
    assert "window must be a positive number of planes" in cli_error(
        capsys, "encode", reds_dat, "-o", tmp_path / "x.spkc", "--window", "0")
    error = cli_error(capsys, "encode", reds_dat, "-o", tmp_path / "x.spkc", "--height", "251")
    assert "wrong --height/--width" in error
    assert "quality 7 outside the model's range [1, 6]" in cli_error(
        capsys, "encode", reds_dat, "-o", tmp_path / "x.spkc", "--quality", "7")
    assert "intra period must be an integer >= 1, got 0" in cli_error(
        capsys, "encode", reds_dat, "-o", tmp_path / "x.spkc", "--intra-period", "0")
    assert not (tmp_path / "x.spkc").exists()
