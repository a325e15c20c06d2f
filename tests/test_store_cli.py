"""The store commands (``upload``, ``list``, ``info ID``, ``fetch``, ``delete``) and the defaults
agreement of ``stream`` with offline ``encode`` + ``decode``, through :func:`client.cli.main`
against a real server on loopback (port 0), with its default configuration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest

from client.cli import main
from client.connection import ClientError, Connection
from codec.io import open_spikes
from server.app import Server
from server.config import ServerConfig

REPO = Path(__file__).resolve().parents[1]
#: 256 planes of 32x64: 8 scenes at the default K = 32, a random-access GOP with B scenes
PLANES, HEIGHT, WIDTH = 256, 32, 64


def start(tmp_path: Path, **config) -> Server:
    return Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path / "store", grace_s=0, **config)).start()


@pytest.fixture
def server(tmp_path: Path):
    srv = start(tmp_path)  # the server's codec defaults: codec.options, as every command's
    yield srv
    srv.stop(0)


@pytest.fixture(scope="module")
def spikes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spikes") / "spikes.h5"
    assert main(["simulate", "synthetic", "-o", str(path), "--planes", str(PLANES), "--height", str(HEIGHT),
                 "--width", str(WIDTH)]) == 0
    return path


@pytest.fixture(scope="module")
def offline(spikes: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``spikecodec encode spikes.h5`` and ``decode`` with default flags: (bitstream, decoded spikes)."""
    folder = tmp_path_factory.mktemp("offline")
    spkc, decoded = folder / "offline.spkc", folder / "offline.h5"
    assert main(["encode", str(spikes), "-o", str(spkc)]) == 0
    assert main(["decode", str(spkc), "-o", str(decoded)]) == 0
    return spkc, decoded


def run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def planes(path: Path) -> np.ndarray:
    with open_spikes(path) as reader:
        return reader.read()


def test_store_commands_round_trip(server: Server, spikes: Path, offline: tuple[Path, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    address = f"127.0.0.1:{server.port}"
    code, out, _ = run(capsys, "upload", spikes, "--server", address)
    stream_id = out.strip()
    assert code == 0 and re.fullmatch(r"[0-9a-f]{32}", stream_id)  # the id alone: ID=$(spikecodec upload ...)

    code, out, _ = run(capsys, "list", "--server", address)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "CREATED", "(UTC)"]
    assert stream_id in out and f"{HEIGHT}x{WIDTH}" in out and "spikes" in out

    code, out, _ = run(capsys, "info", stream_id, "--server", address, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["id"] == stream_id and summary["planes"] == PLANES
    assert summary["bytes"] == offline[0].stat().st_size and summary["window"] == 32 and summary["recon"] == "tfp"

    fetched, spkc = tmp_path / "fetched.h5", tmp_path / "fetched.spkc"
    code, out, _ = run(capsys, "fetch", stream_id, "--server", address, "-o", fetched, "--bitstream", spkc, "--json")
    result = json.loads(out)
    assert code == 0 and result["decoded_planes"] == PLANES and result["bitstream_bytes"] == spkc.stat().st_size
    assert spkc.read_bytes() == offline[0].read_bytes()  # the stored bytes are what offline encode writes
    assert np.array_equal(planes(fetched), planes(offline[1]))
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*partial*"))

    code, out, _ = run(capsys, "delete", stream_id, "--server", address)
    assert code == 0 and f"deleted: {stream_id}" in out
    code, out, _ = run(capsys, "list", "--server", address)
    assert code == 0 and out.strip() == f"no streams stored on {address}"


@pytest.mark.parametrize("argv", [["info", "{id}"], ["delete", "{id}"], ["fetch", "{id}", "-o", "{tmp}/x.h5"],
                                  ["fetch", "{id}", "--bitstream", "{tmp}/x.spkc"]])
def test_unknown_stream_id_is_one_clear_line(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture,
                                             argv: list[str]) -> None:
    address, missing = f"127.0.0.1:{server.port}", "0" * 32
    code, out, err = run(capsys, *(a.format(id=missing, tmp=tmp_path) for a in argv), "--server", address)
    assert code == 2 and out == ""
    assert err.strip() == (f"spikecodec {argv[0]}: error: no stream '{missing}' on {address} "
                           f"(spikecodec list --server {address} shows the stored streams)")
    assert not list(tmp_path.glob("x.*"))


def test_a_corrupt_stored_stream_is_refused_and_nothing_is_written(server: Server, spikes: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    address = f"127.0.0.1:{server.port}"
    code, out, _ = run(capsys, "upload", spikes, "--server", address, "--planes", "64")
    stream_id = out.strip()
    stored = server.store.path(stream_id)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    code, out, err = run(capsys, "fetch", stream_id, "--server", address, "--bitstream", tmp_path / "x.spkc")
    assert code == 2 and "DATA_LOSS" in err and "stored file is corrupt" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.spkc").exists()


class Corrupting(grpc.UnaryStreamClientInterceptor):
    """Flips one bit of the first data piece a FetchBitstream call receives (the channel and server stay real)."""

    def intercept_unary_stream(self, continuation, details, request):
        responses = continuation(details, request)
        if not details.method.endswith("/FetchBitstream"):
            return responses

        def flipped():
            done = False
            for piece in responses:
                if piece.WhichOneof("piece") == "data" and not done:
                    data = bytearray(piece.data)
                    data[0] ^= 1
                    piece.data = bytes(data)
                    done = True
                yield piece

        return flipped()


def test_a_download_that_does_not_match_the_announced_sha256_is_not_written(server: Server, spikes: Path,
                                                                              tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture) -> None:
    address = f"127.0.0.1:{server.port}"
    _, out, _ = run(capsys, "upload", spikes, "--server", address, "--planes", "64")
    stream_id, target = out.strip(), tmp_path / "downloads" / "x.spkc"
    target.parent.mkdir()
    with Connection(address, interceptors=[Corrupting()]) as conn:
        with pytest.raises(ClientError, match=r"download corrupt: \d+ bytes with sha256 .* not written") as err:
            conn.download_bitstream(stream_id, target, chunk_bytes=100)
        assert err.value.code == grpc.StatusCode.DATA_LOSS
        assert not list(target.parent.iterdir())  # neither x.spkc nor x.spkc.part
    with Connection(address) as conn:  # the same call unharmed: small pieces add up to the stored file
        info = conn.download_bitstream(stream_id, target, chunk_bytes=100)
    assert target.read_bytes() == server.store.path(stream_id).read_bytes() and info.size == target.stat().st_size


def test_server_down_and_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "list", "--server", "127.0.0.1:1", "--timeout", "0.5")
    assert code == 2 and err.strip() == "spikecodec list: error: no spikecodec server reachable at 127.0.0.1:1 within 0.5 s"
    code, _, err = run(capsys, "fetch", "0" * 32, "--server", "127.0.0.1:1")
    assert code == 2 and "give -o DECODED.h5|.dat and/or --bitstream OUT.spkc" in err
    with pytest.raises(SystemExit) as exit_:
        main(["fetch", "0" * 32, "--server", "127.0.0.1:1", "--bitstream", str(tmp_path / "x.h5")])
    assert exit_.value.code == 2 and "x.h5: this is the stored .spkc bitstream; name the file *.spkc" in (
        capsys.readouterr().err)
    code, _, err = run(capsys, "info", "0" * 32)
    assert code == 2 and "a stored stream's id? add --server HOST:PORT" in err


def test_a_missing_or_wrong_token_names_the_token_option(tmp_path: Path, spikes: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    srv = start(tmp_path, token="s3cret")
    try:
        address = f"127.0.0.1:{srv.port}"
        for argv in (["list"], ["stream", spikes, "--planes", "32"]):
            code, _, err = run(capsys, *argv, "--server", address)
            assert code == 2 and err.strip().endswith(
                f"error: the server at {address} requires a bearer token: pass --token TOKEN or set $SPIKECODEC_TOKEN")
        code, _, err = run(capsys, "list", "--server", address, "--token", "nope")
        assert code == 2 and "refused the token given (--token or $SPIKECODEC_TOKEN)" in err
        code, out, _ = run(capsys, "list", "--server", address, "--token", "s3cret")
        assert code == 0 and out.startswith("no streams stored")
    finally:
        srv.stop(0)


def test_tls_against_a_plaintext_server_is_one_line_without_ssl_logs(server: Server) -> None:
    done = subprocess.run([sys.executable, "-m", "client.cli", "list", "--server", f"127.0.0.1:{server.port}",
                           "--tls", "--timeout", "2"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"spikecodec list: error: TLS handshake with 127.0.0.1:{server.port} failed: the server speaks plaintext "
        "(drop --tls) or its certificate is not signed by the CA given (--ca-cert)"]


@pytest.mark.slow
def test_stream_with_default_flags_equals_offline_encode_and_decode(server: Server, spikes: Path,
                                                                   offline: tuple[Path, Path], tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    live_spkc, live = tmp_path / "live.spkc", tmp_path / "live.h5"
    code, out, _ = run(capsys, "stream", spikes, "--server", f"127.0.0.1:{server.port}", "-o", live,
                       "--bitstream", live_spkc, "--json")
    assert code == 0 and json.loads(out)["planes"] == PLANES
    assert live_spkc.read_bytes() == offline[0].read_bytes()
    assert np.array_equal(planes(live), planes(offline[1]))
