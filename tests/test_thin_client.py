"""The thin client: ``spikecodec stream`` and the store commands against a real server import neither
torch, compressai, numba nor scipy (each checked in a fresh interpreter after the command ran), from HDF5,
``.dat`` and simulated sources, and a command that needs the codec stack says which extra to install when
it is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codec.evaluate.sources import open_input
from codec.io import open_spikes, open_writer
from codec.sensor import SensorParams
from server.app import Server
from server.config import ServerConfig

#: runs the command line given as arguments through the CLI, then reports what it imported (last line, JSON)
PROBE = """
import json, sys
for name in sys.argv[1].split(","):
    if name:
        sys.modules[name] = None  # as if not installed: importing it raises ModuleNotFoundError
from client.cli import main
code = main(sys.argv[2:])
print(json.dumps({"exit": code, "imported": sorted(m for m in ("torch", "compressai", "numba", "scipy")
                                                  if m in sys.modules and sys.modules[m] is not None)}))
"""


def run_cli(*argv: str, missing: str = "") -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-c", PROBE, missing, *argv], capture_output=True, text=True, timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path_factory.mktemp("store"), grace_s=0)).start()
    yield srv
    srv.stop(0)


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "in.h5"
    light = np.linspace(0.1, 0.8, 32 * 48).reshape(32, 48)
    with open_writer(path, 32, 48, SensorParams()) as writer:
        writer.write(SensorParams().neurons((32, 48))(np.broadcast_to(light, (80, 32, 48))))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["h5", "dat", "synthetic"])
def test_stream_imports_no_torch_compressai_numba_or_scipy(server, recording, tmp_path, kind: str) -> None:
    report, out = tmp_path / "r.json", tmp_path / "out.h5"
    source = {"h5": [str(recording)], "dat": [str(tmp_path / "in.dat"), "--height", "32", "--width", "48"],
              "synthetic": ["synthetic", "--planes", "80", "--height", "32", "--width", "48"]}[kind]
    if kind == "dat":
        with open_spikes(recording) as reader, open_writer(tmp_path / "in.dat", 32, 48, reader.sensor) as writer:
            writer.write(reader.read())
    probe, proc = run_cli("stream", *source, "--server", f"127.0.0.1:{server.port}", "-o", str(out),
                          "--report", str(report), "--json")
    assert probe == {"exit": 0, "imported": []}, proc.stderr
    fields = json.loads(report.read_text())
    assert fields["planes"] == 80 and fields["scenes"] == 2 and fields["window"] == 32  # centres 16, 48
    assert 0 < fields["bpsp"] < 1 and 5 < fields["isi_psnr"] < 80
    assert "scene_psnr_ref" not in fields  # scene scores need the codec stack: --score-scenes
    with open_input(source[0], 32, 48, 80) as sent:  # as the codec stack reads or simulates it (numba)
        assert fields["original_rate"] == round(float(sent.read_all().mean()), 5)
    with open_spikes(out) as received:
        assert received.num_planes == 80


@pytest.mark.slow
def test_stream_scores_scenes_with_the_codec_stack(server, recording, tmp_path) -> None:
    report = tmp_path / "r.json"
    probe, proc = run_cli("stream", str(recording), "--server", f"127.0.0.1:{server.port}", "--report", str(report),
                          "--score-scenes")
    assert probe["exit"] == 0 and {"compressai", "numba", "torch"} <= set(probe["imported"]), proc.stderr
    assert 5 < json.loads(report.read_text())["scene_psnr_ref"] < 80


def test_a_missing_codec_stack_is_named_with_its_extra(recording, tmp_path) -> None:
    probe, proc = run_cli("encode", str(recording), "-o", str(tmp_path / "x.spkc"), missing="torch,compressai")
    assert probe["exit"] == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "spikecodec encode: error: this needs torch, not installed: pip install 'spikecodec[codec]'")


@pytest.mark.slow
def test_store_commands_import_no_torch_compressai_or_numba(server, recording, tmp_path) -> None:
    address = ["--server", f"127.0.0.1:{server.port}"]
    probe, proc = run_cli("upload", str(recording), *address)
    assert probe == {"exit": 0, "imported": []}, proc.stderr
    stream_id = proc.stdout.strip().splitlines()[-2]  # the id, then the probe's line
    for argv in (["list", *address], ["fetch", stream_id, *address, "-o", str(tmp_path / "f.h5")],
                 ["delete", stream_id, *address]):
        probe, proc = run_cli(*argv)
        assert probe == {"exit": 0, "imported": []}, (argv[0], proc.stderr)
    assert (tmp_path / "f.h5").is_file()
