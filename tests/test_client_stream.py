"""``spikecodec stream`` against a real server on loopback, end to end through the console entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from client.cli import main
from codec.io import open_spikes
from codec.pipeline import decode_file
from server.app import Server
from server.config import ServerConfig


@pytest.fixture
def server(tmp_path: Path):
    srv = Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path / "store", window=32, grace_s=0)).start()
    yield srv
    srv.stop(0)


@pytest.mark.slow
def test_stream_synthetic_reports_and_writes(server: Server, tmp_path: Path, capsys) -> None:
    out, report_path, spkc = tmp_path / "decoded.h5", tmp_path / "report.json", tmp_path / "live.spkc"
    code = main(["stream", "synthetic", "--server", f"127.0.0.1:{server.port}", "--planes", "96", "--height", "32",
                 "--width", "64", "--quality", "3", "-o", str(out), "--report", str(report_path),
                 "--bitstream", str(spkc), "--chunk-planes", "16", "--score-scenes", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads(report_path.read_text())
    assert {k: printed[k] for k in report} == report
    assert report["planes"] == 96 and report["scenes"] == 3 and report["window"] == 32
    assert report["bits"] == 8 * spkc.stat().st_size
    assert 0 < report["bpsp"] < 1 and report["compression_ratio"] == pytest.approx(1 / report["bpsp"], rel=1e-3)
    for key in ("isi_psnr", "fr_instant_psnr", "fr_window_psnr", "scene_psnr_gt", "scene_psnr_ref"):
        assert 5.0 < report[key] < 80.0, key
    assert report["scene_psnr_gt_scenes"] == 3  # a simulated source knows every scene's ground truth
    assert report["spike_count_mae"] >= 0 and report["throughput_planes_per_s"] > 0
    assert report["chunks"] == 6
    assert 0 < report["latency_chunk_ms_p50"] <= report["latency_chunk_ms_p95"]
    # the file written live holds what the codec's own decoder makes of the bitstream
    decode_file(spkc, tmp_path / "local.h5")
    with open_spikes(out) as live, open_spikes(tmp_path / "local.h5") as local:
        assert live.num_planes == 96
        assert np.array_equal(live.read(), local.read())


def test_stream_without_server_fails_cleanly(tmp_path: Path, capsys) -> None:
    code = main(["stream", "synthetic", "--server", "127.0.0.1:1", "--planes", "8", "--height", "8", "--width", "8",
                 "--timeout", "0.5"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "spikecodec stream: error: no spikecodec server reachable at 127.0.0.1:1 within 0.5 s"


def test_stream_bad_source_fails_cleanly(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "short.dat"
    bad.write_bytes(b"\x00" * 100)
    assert main(["stream", str(bad), "--server", "127.0.0.1:1"]) == 2
    assert "short.dat" in capsys.readouterr().err


def test_stream_exact_returns_the_input_spikes(server: Server, tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "in.h5", tmp_path / "decoded.h5"
    assert main(["simulate", "synthetic", "-o", str(source), "--planes", "64", "--height", "16", "--width", "32"]) == 0
    capsys.readouterr()
    code = main(["stream", str(source), "--server", f"127.0.0.1:{server.port}", "--exact", "-o", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["spike_count_mae"] == 0
    with open_spikes(source) as sent, open_spikes(out) as received:
        np.testing.assert_array_equal(received.read(), sent.read())


@pytest.mark.slow
def test_stream_exits_with_the_decode_refusal(tmp_path: Path) -> None:
    # one slot: the Encode call holds it, so the Decode call is refused; the client process must stop
    # its endless Encode, exit with the server's reason, and leave the slot free
    config = ServerConfig(host="127.0.0.1", port=0, store=tmp_path / "store", max_streams=1, preempt_idle_s=0,
                          idle_timeout_s=3600, grace_s=0)
    with Server(config) as server:
        proc = subprocess.run([sys.executable, "-m", "client.cli", "stream", "synthetic", "--server",
                               f"127.0.0.1:{server.port}", "--planes", "5000000", "--height", "16", "--width", "16"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines()[-1] == (
            "spikecodec stream: error: Decode: RESOURCE_EXHAUSTED: server busy: 1 streams in progress "
            "(max_streams 1); retry later")
        assert "Traceback" not in proc.stderr
        assert server.servicer.slots.wait_empty(120)
