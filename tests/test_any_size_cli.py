"""A real 250x250 capture (the size of public real-camera spike datasets, 62,500 pixels: not a
whole number of bytes) read from a plain ``(T, H, W)`` HDF5 dataset with ``--dataset``, through
``encode``/``decode``/``compare``/``reconstruct``, ``stream`` (and upload + fetch) against a real
server on loopback, and a short ``bench``."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from client.cli import main
from client.connection import Connection
from codec.io import open_spikes
from server.app import Server
from server.config import ServerConfig
from spikecodec_proto.v1 import spikes_pb2
from spikecodec_proto.wire import read_spikes, spike_messages, stream_header

PLANES, SIZE = 96, 250
#: every codec flag spelled out, so the offline and the served stream are coded alike
CODEC_FLAGS = ["--quality", "3", "--window", "32", "--offset", "16", "--recon", "tfp", "--attention", "none",
               "--model", "spikecodec-base", "--intra-period", "32", "--gop", "random-access", "--gop-size", "16"]


@pytest.fixture(scope="module")
def capture(tmp_path_factory, reds_dat: Path) -> tuple[Path, np.ndarray]:
    """250x250 of a real recording (its left 250 columns), as a plain uint8 ``/data/spikes`` dataset."""
    with open_spikes(reds_dat) as reader:
        planes = np.ascontiguousarray(reader.read(0, PLANES)[:, :, :SIZE])
    path = tmp_path_factory.mktemp("capture") / "capture.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data/spikes", data=planes, chunks=(16, SIZE, SIZE))
    return path, planes


def _run(capsys, *argv: object) -> dict:
    code = main([*map(str, argv), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.slow
def test_encode_decode_compare_reconstruct_250x250(capture, tmp_path: Path, capsys) -> None:
    path, planes = capture
    enc = _run(capsys, "encode", path, "--dataset", "data/spikes", "-o", tmp_path / "x.spkc", *CODEC_FLAGS)
    assert (enc["planes"], enc["height"], enc["width"], enc["scenes"]) == (PLANES, SIZE, SIZE, 3)
    assert 0 < enc["bpsp"] < 0.2
    dec = _run(capsys, "decode", tmp_path / "x.spkc", "-o", tmp_path / "back.h5", "--scenes", tmp_path / "scenes")
    assert (dec["planes"], dec["height"], dec["width"]) == (PLANES, SIZE, SIZE)
    with open_spikes(tmp_path / "back.h5") as back:
        decoded = back.read()
    assert decoded.shape == planes.shape
    assert abs(decoded.mean() - planes.mean()) < 0.1 * planes.mean()  # regenerated at the same firing rate
    scores = _run(capsys, "compare", path, tmp_path / "back.h5", "--dataset", "data/spikes",
                  "--scenes", tmp_path / "scenes", "--bitstream", tmp_path / "x.spkc")
    assert scores["bpsp"] == pytest.approx(enc["bpsp"]) and scores["scene_psnr"] > 20 and scores["isi_psnr"] > 10
    recon = _run(capsys, "reconstruct", path, "--dataset", "data/spikes", "-o", tmp_path / "recon")
    assert recon["scenes"] == 3 and len(list((tmp_path / "recon").glob("*.png"))) == 3
    # lossless too: the exact layer returns the capture bit for bit
    _run(capsys, "encode", path, "--dataset", "data/spikes", "-o", tmp_path / "exact.spkc", "--lossless")
    _run(capsys, "decode", tmp_path / "exact.spkc", "-o", tmp_path / "exact.h5")
    assert np.array_equal(open_spikes(tmp_path / "exact.h5").read(), planes)


@pytest.mark.slow
def test_stream_upload_fetch_250x250_through_a_real_server(capture, tmp_path: Path, capsys) -> None:
    path, planes = capture
    server = Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path / "store", grace_s=0)).start()
    try:
        address = f"127.0.0.1:{server.port}"
        report = _run(capsys, "stream", path, "--dataset", "data/spikes", "--server", address,
                      "-o", tmp_path / "live.h5", "--bitstream", tmp_path / "live.spkc", "--chunk-planes", "32",
                      *CODEC_FLAGS)
        options = spikes_pb2.CodecOptions(quality=3, window=32, offset=16, recon="tfp", attention="none",
                                          model="spikecodec-base", intra_period=32, gop="random-access", gop_size=16)
        with Connection(address) as conn:
            header = stream_header(SIZE, SIZE, options=options, num_planes=PLANES)
            stored = conn.upload(spike_messages(header, [planes[:50], planes[50:]], chunk_planes=32)).stream
            fetched = np.concatenate([p for _, p in read_spikes(conn.fetch(stored.id))])
    finally:
        server.stop(0)
    assert (report["planes"], report["scenes"]) == (PLANES, 3)
    assert 0 < report["bpsp"] < 0.2 and report["isi_psnr"] > 10
    # the served bitstream is the offline one, and its decoded spikes are what was written live
    _run(capsys, "encode", path, "--dataset", "data/spikes", "-o", tmp_path / "offline.spkc", *CODEC_FLAGS)
    assert (tmp_path / "live.spkc").read_bytes() == (tmp_path / "offline.spkc").read_bytes()
    _run(capsys, "decode", tmp_path / "offline.spkc", "-o", tmp_path / "offline.h5")
    with open_spikes(tmp_path / "live.h5") as live, open_spikes(tmp_path / "offline.h5") as offline:
        assert (live.height, live.width) == (SIZE, SIZE)
        decoded = offline.read()
        assert np.array_equal(live.read(), decoded)
    # stored and fetched back: the same bits and the same decoded spikes
    assert stored.bits == 8 * (tmp_path / "offline.spkc").stat().st_size
    assert np.array_equal(fetched, decoded)


@pytest.mark.slow
def test_short_bench_of_250x250(capture, tmp_path: Path, capsys) -> None:
    path, _ = capture
    result = _run(capsys, "bench", path, "--dataset", "data/spikes", "-o", tmp_path / "bench", "--planes", "64",
                  "--qualities", "3", "--attention", "none", "--intra-period", "1", "--anchor", "vvc",
                  "--qps", "37", "--preset", "faster")
    assert result["points"] == 2
    rd = json.loads((tmp_path / "bench" / "rd.json").read_text())
    assert {p["curve"] for p in rd["points"]} == {"spikecodec-none", "vvc"}
    for point in rd["points"]:
        assert 0 < point["bpsp"] < 1 and point["scene_psnr_ref"] > 20, point["curve"]
    assert rd["settings"]["dataset"] == "data/spikes"  # and the reproducing command names it


def test_dataset_for_a_source_without_datasets_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["stream", "synthetic", "--dataset", "x", "--server", "127.0.0.1:1", "--timeout", "0.2"]) == 2
    assert "--dataset applies to HDF5" in capsys.readouterr().err
    (tmp_path / "r.dat").write_bytes(bytes(100))
    assert main(["encode", str(tmp_path / "r.dat"), "--dataset", "x", "-o", str(tmp_path / "r.spkc")]) == 2
    assert "--dataset applies to HDF5" in capsys.readouterr().err
