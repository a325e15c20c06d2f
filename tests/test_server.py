"""The gRPC service against a real in-process server on loopback (port 0).

Bit-exactness is checked against the offline path (``encode_file`` / ``decode_file``
of the same planes, what ``spikecodec encode`` / ``decode`` run); every bad input
gets its status code and message, and the server keeps serving afterwards.
Helpers here are shared with ``test_server_process.py``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from test_store import spkc_records

from codec.bitstream import RecordParser, header_record
from codec.io import open_spikes, open_writer, pack_planes
from codec.pipeline import EncoderConfig, decode_file, encode_file
from codec.sensor import SensorParams
from server.app import Server
from server.config import ConfigError, ServerConfig, add_arguments, from_args, from_env
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2
from spikecodec_proto.wire import ChunkWriter, stream_header

H, W, T = 64, 96, 150
SENSOR = SensorParams(seed=5)
CODEC = EncoderConfig(quality=3, window=50, recon="tfp")
OPTIONS = spikes_pb2.CodecOptions(quality=CODEC.quality, window=CODEC.window, recon=CODEC.recon, attention="none")
CHUNK = 16
LIMITS = dict(max_pixels=128 * 128, max_planes=1000, max_message_bytes=64 * 1024, max_streams=8, grace_s=0)
Code = grpc.StatusCode


def make_spikes(num_planes: int = T, seed: int = 0, height: int = H, width: int = W) -> np.ndarray:
    """``(T, H, W)`` uint8 spikes of a bright spot drifting over a gradient (seeded)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.6) * width
    t = np.arange(num_planes, dtype=np.float32)[:, None, None]
    spot = np.exp(-((y - cy) ** 2 + (x - cx - 0.1 * t) ** 2) / (0.02 * height * width))
    return SENSOR.neurons((height, width))(0.05 + 0.3 * x / width + 0.5 * spot)


def spike_messages(planes: np.ndarray, num_planes: int = 0, chunk: int = CHUNK,
                   options: spikes_pb2.CodecOptions = OPTIONS, name: str = "") -> list[spikes_pb2.SpikeMessage]:
    """A well-formed stream: header, chunks of ``chunk`` planes, end."""
    writer = ChunkWriter(planes.shape[1], planes.shape[2], chunk)
    header = stream_header(planes.shape[1], planes.shape[2], SENSOR, options, name, num_planes)
    return [header, *writer.push(planes), *writer.finish()]


def received_planes(messages: Iterable[spikes_pb2.SpikeMessage]) -> tuple[spikes_pb2.StreamHeader, np.ndarray]:
    """Header and ``(T, H, W)`` planes of a server's spike stream (checking its chunk order and end)."""
    messages = list(messages)
    header = messages[0].header
    chunks = [m.chunk for m in messages[1:-1]]
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    packed = b"".join(c.packed for c in chunks)
    planes = np.unpackbits(np.frombuffer(packed, np.uint8), bitorder="little").reshape(-1, header.height, header.width)
    assert messages[-1].end.num_planes == len(planes) == sum(c.num_planes for c in chunks)
    return header, planes


def offline(planes: np.ndarray, tmp: Path, config: EncoderConfig = CODEC) -> tuple[bytes, np.ndarray]:
    """``.spkc`` bytes and decoded planes of ``planes`` through the offline file path."""
    src, spkc, out = tmp / "in.h5", tmp / "x.spkc", tmp / "out.h5"
    with open_writer(src, planes.shape[1], planes.shape[2], sensor=SENSOR) as writer:
        writer.write(planes)
    encode_file(src, spkc, config)
    decode_file(spkc, out)
    with open_spikes(out) as reader:
        return spkc.read_bytes(), reader.read(0, reader.num_planes)


def make_server(tmp: Path, **overrides) -> Server:
    """A server (not yet started: use ``with``) on a free loopback port with the test limits."""
    return Server(ServerConfig(host="127.0.0.1", port=0, store=tmp / "store", **{**LIMITS, **overrides}))


def expect_error(code: grpc.StatusCode, match: str, call, *args, **kwargs) -> None:
    """``call(*args)`` (fully consumed if it streams) fails with ``code`` and a message containing ``match``."""
    with pytest.raises(grpc.RpcError) as err:
        result = call(*args, **kwargs)
        if isinstance(result, Iterator):
            list(result)
    assert err.value.code() == code, err.value.details()
    assert match in err.value.details()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with make_server(tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture(scope="module")
def stub(server) -> service_pb2_grpc.SpikeCodecStub:
    return service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))


@pytest.fixture(scope="module")
def spikes() -> np.ndarray:
    return make_spikes()


@pytest.fixture(scope="module")
def reference(spikes, tmp_path_factory) -> tuple[bytes, np.ndarray]:
    return offline(spikes, tmp_path_factory.mktemp("offline"))


def test_upload_then_fetch_equals_offline_encode_decode(server, stub, spikes, reference) -> None:
    spkc, decoded = reference
    reply = stub.Upload(iter(spike_messages(spikes, num_planes=T, name="drift")))
    s = reply.stream
    assert (s.height, s.width, s.num_planes, s.num_scenes, s.name) == (H, W, T, 3, "drift")
    assert s.bits == 8 * len(spkc) and s.bpsp == pytest.approx(s.bits / (T * H * W))
    assert reply.timings.total_s >= reply.timings.encode_s > 0
    assert server.store.path(s.id).read_bytes() == spkc  # the stored file is what `spikecodec encode` writes
    header, planes = received_planes(stub.Fetch(service_pb2.FetchRequest(id=s.id, chunk_planes=40)))
    assert (header.height, header.width, header.num_planes, header.name) == (H, W, T, "drift")
    assert header.sensor.seed == SENSOR.seed and header.options.window == CODEC.window
    np.testing.assert_array_equal(planes, decoded)


@pytest.mark.parametrize("changes, structure", [
    ({"intra_period": 1}, ("intra", 1, 1)),
    ({"gop": "low-delay"}, ("low-delay", 1, CODEC.intra_period)),
    ({"gop": "random-access", "gop_size": 2}, ("random-access", 2, CODEC.intra_period)),
])
def test_structure_options_reach_the_encoder(server, stub, spikes, tmp_path, changes, structure) -> None:
    options = spikes_pb2.CodecOptions(quality=CODEC.quality, window=CODEC.window, recon=CODEC.recon, **changes)
    reply = stub.Upload(iter(spike_messages(spikes, num_planes=T, options=options)))
    spkc, _ = offline(spikes, tmp_path, replace(CODEC, **changes))
    assert server.store.path(reply.stream.id).read_bytes() == spkc
    header = next(iter(RecordParser().feed(spkc)))
    assert (header.gop, header.gop_size, header.intra_period) == structure
    assert (header.inter_sha256 == "") == (structure[0] == "intra")
    fetched, _ = received_planes(stub.Fetch(service_pb2.FetchRequest(id=reply.stream.id)))
    assert (fetched.options.gop, fetched.options.gop_size, fetched.options.intra_period) == structure


@pytest.mark.parametrize("exact", ["scenes", "alone"])
def test_the_exact_option_stores_and_returns_the_input_bit_for_bit(server, stub, spikes, tmp_path, exact) -> None:
    options = spikes_pb2.CodecOptions(quality=CODEC.quality, window=CODEC.window, recon=CODEC.recon, exact=exact)
    reply = stub.Upload(iter(spike_messages(spikes, num_planes=T, options=options)))
    spkc, decoded = offline(spikes, tmp_path, replace(CODEC, exact=exact))
    np.testing.assert_array_equal(decoded, spikes)
    assert server.store.path(reply.stream.id).read_bytes() == spkc
    fetched, planes = received_planes(stub.Fetch(service_pb2.FetchRequest(id=reply.stream.id, chunk_planes=40)))
    assert fetched.options.exact == exact
    np.testing.assert_array_equal(planes, spikes)
    records = list(stub.Encode(iter(spike_messages(spikes, num_planes=T, options=options))))
    assert b"".join(r.data for r in records) == spkc
    kinds = {r.kind for r in records}
    assert records_pb2.RECORD_KIND_EXACT in kinds
    assert (records_pb2.RECORD_KIND_SCENE in kinds) == (exact == "scenes")
    _, planes = received_planes(stub.Decode(iter(records)))
    np.testing.assert_array_equal(planes, spikes)


def test_an_unknown_exact_layer_is_invalid_argument(stub, spikes) -> None:
    options = spikes_pb2.CodecOptions(quality=CODEC.quality, window=CODEC.window, exact="bitwise")
    expect_error(Code.INVALID_ARGUMENT, "exact layer must be one of", stub.Upload,
                 iter(spike_messages(spikes[:60], options=options)))


def test_an_unknown_structure_is_invalid_argument(stub, spikes) -> None:
    options = spikes_pb2.CodecOptions(quality=CODEC.quality, window=CODEC.window, gop="bidirectional")
    expect_error(Code.INVALID_ARGUMENT, "unknown GOP structure 'bidirectional'", stub.Upload,
                 iter(spike_messages(spikes[:60], options=options)))


def test_live_encode_and_decode_equal_the_offline_pipeline(stub, spikes, reference) -> None:
    spkc, decoded = reference
    records = list(stub.Encode(iter(spike_messages(spikes, num_planes=T))))
    assert b"".join(r.data for r in records) == spkc
    kinds = [r.kind for r in records]
    assert kinds == [records_pb2.RECORD_KIND_HEADER] + [records_pb2.RECORD_KIND_SCENE] * 3 + [records_pb2.RECORD_KIND_END]
    # random access, coding order: the first scene, then the last (the anchor), then the one between
    assert [r.centre for r in records[1:4]] == [25, 125, 75]
    # scene i needs planes up to about centre + K/2 and its filter's neighbour's; the last scene has no
    # neighbour after it and leaves with the end marker (chunk count 10), the B scene with its anchor
    assert [r.completed_by_chunk for r in records[1:4]] == [6, 10, 10]
    assert all(r.server_latency_s >= 0 for r in records)
    _, planes = received_planes(stub.Decode(iter(records)))
    np.testing.assert_array_equal(planes, decoded)


def test_store_calls_and_server_info(stub, spikes) -> None:
    ids = [stub.Upload(iter(spike_messages(spikes[:40], name=f"n{i}"))).stream.id for i in range(3)]
    got = stub.GetStream(service_pb2.GetStreamRequest(id=ids[1]))
    assert (got.id, got.name, got.num_planes, got.num_scenes) == (ids[1], "n1", 40, 1)
    page = stub.ListStreams(service_pb2.ListStreamsRequest(page_size=2))
    assert [s.id for s in page.streams] == ids[::-1][:2] and page.next_page_token
    rest = stub.ListStreams(service_pb2.ListStreamsRequest(page_size=2, page_token=page.next_page_token))
    assert ids[0] in [s.id for s in rest.streams]
    assert stub.DeleteStream(service_pb2.DeleteStreamRequest(id=ids[0])).stream.id == ids[0]
    expect_error(Code.NOT_FOUND, f"no stream '{ids[0]}'", stub.GetStream, service_pb2.GetStreamRequest(id=ids[0]))
    expect_error(Code.NOT_FOUND, "32 lowercase hex digits", stub.Fetch, service_pb2.FetchRequest(id="../x"))
    info = stub.GetServerInfo(service_pb2.GetServerInfoRequest())
    assert info.limits.max_pixels == LIMITS["max_pixels"] and info.limits.max_concurrent_streams == 8
    assert info.models[0].name == "spikecodec-base" and 3 in info.models[0].qualities
    assert "tfp" in info.recon_methods and info.defaults.recon and not info.auth_required


def _chunk(seq: int, first: int, n: int, nbytes: int | None = None) -> spikes_pb2.SpikeMessage:
    size = n * H * W // 8 if nbytes is None else nbytes
    return spikes_pb2.SpikeMessage(chunk=spikes_pb2.SpikeChunk(sequence=seq, first_plane=first, num_planes=n, packed=bytes(size)))


def _header(**fields) -> spikes_pb2.SpikeMessage:
    message = stream_header(H, W, SENSOR, OPTIONS)
    for name, value in fields.items():
        setattr(message.header, name, value)
    return message


def _end(chunks: int, planes: int) -> spikes_pb2.SpikeMessage:
    return spikes_pb2.SpikeMessage(end=spikes_pb2.StreamEnd(num_chunks=chunks, num_planes=planes))


def _bad_sensor() -> spikes_pb2.SpikeMessage:
    message = _header()
    message.header.sensor.reset_mechanism = "explode"
    return message


BAD_STREAMS = {
    "empty stream": ([], Code.INVALID_ARGUMENT, "empty stream: expected a header message first"),
    "chunk first": ([_chunk(0, 0, 1)], Code.INVALID_ARGUMENT, "first message must be a header, got a chunk"),
    "bad shape": ([_header(height=0, width=5)], Code.INVALID_ARGUMENT, "header: plane size must be positive, got 0x5"),
    "pad bits": ([_header(height=3, width=5), spikes_pb2.SpikeMessage(chunk=spikes_pb2.SpikeChunk(
        sequence=0, first_plane=0, num_planes=1, packed=b"\xff\xff"))], Code.INVALID_ARGUMENT,
        "chunk 0: packed 3x5 plane 0 has pad bits set"),
    "bit order": ([_header(bit_order=0)], Code.INVALID_ARGUMENT, "bit_order must be BIT_ORDER_LSB_FIRST, got BIT_ORDER_UNSPECIFIED"),
    "sensor": ([_bad_sensor()], Code.INVALID_ARGUMENT, "header: sensor: reset_mechanism must be one of"),
    "quality": ([stream_header(H, W, SENSOR, spikes_pb2.CodecOptions(quality=99))], Code.INVALID_ARGUMENT, "quality 99"),
    "too large": ([_header(height=256, width=256)], Code.RESOURCE_EXHAUSTED, "65536 pixels per plane exceeds the server's max_pixels 16384"),
    "announced": ([_header(num_planes=5000)], Code.RESOURCE_EXHAUSTED, "5000 planes announced, over the server's max_planes 1000"),
    "missing chunk": ([_header(), _chunk(0, 0, 2), _chunk(2, 2, 2)], Code.INVALID_ARGUMENT, "missing chunk 1: got chunk 2 next"),
    "repeated chunk": ([_header(), _chunk(0, 0, 2), _chunk(0, 2, 2)], Code.INVALID_ARGUMENT, "chunk 0 out of order or repeated: expected chunk 1"),
    "first plane": ([_header(), _chunk(0, 0, 2), _chunk(1, 3, 2)], Code.INVALID_ARGUMENT, "chunk 1: first_plane 3, expected 2"),
    "chunk size": ([_header(), _chunk(0, 0, 2, nbytes=100)], Code.INVALID_ARGUMENT, "chunk 0: 100 bytes for 2 planes of 64x96, expected 1536 (768 per plane)"),
    "zero planes": ([_header(), _chunk(0, 0, 0)], Code.INVALID_ARGUMENT, "chunk 0: num_planes must be >= 1, got 0"),
    "second header": ([_header(), _chunk(0, 0, 1), _header()], Code.INVALID_ARGUMENT, "message 2: second header"),
    "no end": ([_header(), _chunk(0, 0, 2)], Code.INVALID_ARGUMENT, "stream closed without an end marker after 1 chunks (2 planes)"),
    "end totals": ([_header(), _chunk(0, 0, 2), _end(2, 4)], Code.INVALID_ARGUMENT, "end: sender counts 2 chunks / 4 planes, server received 1 / 2"),
    "after end": ([_header(), _chunk(0, 0, 2), _end(1, 2), _chunk(1, 2, 1)], Code.INVALID_ARGUMENT, "a chunk message after the end marker"),
    "short stream": ([_header(num_planes=10), _chunk(0, 0, 2), _end(1, 2)], Code.INVALID_ARGUMENT, "stream ended after 2 of 10 announced planes"),
    "max planes": ([_header(), *(_chunk(i, 40 * i, 40) for i in range(26))], Code.RESOURCE_EXHAUSTED, "chunk 25: stream would reach 1040 planes, over the server's max_planes 1000"),
    "message size": ([_header(), _chunk(0, 0, 1000)], Code.RESOURCE_EXHAUSTED, "Received message larger than max"),
}


@pytest.mark.parametrize("rpc", ["Upload", "Encode"])
def test_bad_streams_get_their_status_and_nothing_is_stored(server, stub, spikes, rpc) -> None:
    before = server.store.count()
    for case, (messages, code, match) in BAD_STREAMS.items():
        with pytest.raises(grpc.RpcError) as err:
            result = getattr(stub, rpc)(iter(messages))
            if rpc == "Encode":
                list(result)
        assert (err.value.code(), case) == (code, case), err.value.details()
        assert match in err.value.details(), case
    assert server.store.count() == before
    assert list((server.config.store / "tmp").iterdir()) == []
    assert stub.Upload(iter(spike_messages(spikes[:60]))).stream.num_planes == 60  # still serving


def test_bad_records_and_corrupt_stored_files(server, stub, spikes, reference) -> None:
    spkc, _ = reference
    records = [records_pb2.EncodedRecord(sequence=0, data=spkc[:100]), records_pb2.EncodedRecord(sequence=2, data=b"")]
    expect_error(Code.INVALID_ARGUMENT, "record 2 out of order: expected record 1", stub.Decode, iter(records))
    damaged = bytearray(spkc)
    damaged[len(damaged) // 2] ^= 0xFF
    expect_error(Code.INVALID_ARGUMENT, "body CRC mismatch", stub.Decode, iter([records_pb2.EncodedRecord(data=bytes(damaged))]))
    live = list(stub.Encode(iter(spike_messages(spikes[:60]))))
    (header,) = RecordParser().feed(live[0].data)
    for changed, match in (({"height": 256, "width": 256}, "256x256 = 65536 pixels per plane exceeds the server's max_pixels 16384"),
                           ({"num_planes": 5000}, "stream of 5000 planes, over the server's max_planes 1000")):
        record = records_pb2.EncodedRecord(data=header_record(replace(header, **changed)))
        expect_error(Code.RESOURCE_EXHAUSTED, match, stub.Decode, iter([record]))
    expect_error(Code.INVALID_ARGUMENT, "missing end record: stream truncated after 1 scene record", stub.Decode, iter(live[:-1]))

    sid = stub.Upload(iter(spike_messages(spikes[:60]))).stream.id
    path = server.store.path(sid)
    data = bytearray(path.read_bytes())
    data[-30] ^= 0x04
    path.write_bytes(bytes(data))
    expect_error(Code.DATA_LOSS, f"stream {sid}: stored file is corrupt", stub.Fetch, service_pb2.FetchRequest(id=sid))

    with server.store.begin() as pending:  # intact, but coded with weights this server does not have
        for record in spkc_records():
            pending.write(record)
        foreign = pending.commit().id
    expect_error(Code.FAILED_PRECONDITION, f"stream {foreign} cannot be decoded by this server: stream was encoded with",
                 stub.Fetch, service_pb2.FetchRequest(id=foreign))
    assert stub.GetServerInfo(service_pb2.GetServerInfoRequest()).stored_streams >= 1


def test_busy_server_refuses_extra_streams_then_recovers(tmp_path) -> None:
    release = threading.Event()

    def held_open() -> Iterator[spikes_pb2.SpikeMessage]:
        header, *rest = spike_messages(make_spikes(60))
        yield header
        release.wait(30)
        yield from rest

    with make_server(tmp_path, max_streams=2) as server, ThreadPoolExecutor(2) as pool:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        calls = [pool.submit(lambda: list(stub.Encode(held_open()))) for _ in range(2)]
        deadline = time.monotonic() + 10
        while server.servicer.active_streams < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        expect_error(Code.RESOURCE_EXHAUSTED, "server busy: 2 streams in progress (max_streams 2)",
                     stub.Upload, iter(spike_messages(make_spikes(60))))
        assert stub.GetServerInfo(service_pb2.GetServerInfoRequest()).version  # unary calls still served
        release.set()
        assert [len(c.result()) for c in calls] == [3, 3]  # header, one scene, end record
        assert stub.Upload(iter(spike_messages(make_spikes(60)))).stream.num_planes == 60


def test_stalled_stream_hits_the_per_stream_deadline(tmp_path) -> None:
    with make_server(tmp_path, stream_deadline_s=0.5) as server:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        stop = threading.Event()

        def stalled() -> Iterator[spikes_pb2.SpikeMessage]:
            yield stream_header(H, W, SENSOR, OPTIONS)
            stop.wait(10)

        tic = time.monotonic()
        expect_error(Code.DEADLINE_EXCEEDED, "stream exceeded the server's 0.5 s per-stream deadline", stub.Upload, stalled())
        stop.set()
        assert time.monotonic() - tic < 5
        assert server.store.count() == 0


def test_client_disconnecting_mid_upload_leaves_nothing(server, stub, spikes) -> None:
    before = server.store.count()
    sent = threading.Event()

    def partial() -> Iterator[spikes_pb2.SpikeMessage]:
        yield from spike_messages(spikes)[:5]
        sent.set()
        time.sleep(30)

    future = stub.Upload.future(partial())
    assert sent.wait(10)
    time.sleep(0.3)
    future.cancel()
    deadline = time.monotonic() + 10
    while server.servicer.active_streams and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.servicer.active_streams == 0
    assert server.store.count() == before
    assert list((server.config.store / "tmp").iterdir()) == []


def test_bearer_token(tmp_path, spikes) -> None:
    with make_server(tmp_path, token="s3cret") as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        stub = service_pb2_grpc.SpikeCodecStub(channel)
        info = service_pb2.GetServerInfoRequest()
        expect_error(Code.UNAUTHENTICATED, "missing bearer token", stub.GetServerInfo, info)
        expect_error(Code.UNAUTHENTICATED, "invalid bearer token", stub.GetServerInfo, info, metadata=[("authorization", "Bearer nope")])
        expect_error(Code.UNAUTHENTICATED, "missing bearer token", stub.Upload, iter(spike_messages(spikes[:60])))
        good = [("authorization", "Bearer s3cret")]
        assert stub.GetServerInfo(info, metadata=good).auth_required
        assert stub.Upload(iter(spike_messages(spikes[:60])), metadata=good).stream.num_planes == 60
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
        assert health.status == health_pb2.HealthCheckResponse.SERVING  # probes need no token


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a self-signed certificate")
def test_tls_with_a_self_signed_certificate(tmp_path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    with make_server(tmp_path, tls_cert=str(cert), tls_key=str(key)) as server:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        secure = service_pb2_grpc.SpikeCodecStub(grpc.secure_channel(f"localhost:{server.port}", credentials))
        assert secure.GetServerInfo(service_pb2.GetServerInfoRequest()).tls
        plain = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        expect_error(Code.UNAVAILABLE, "", plain.GetServerInfo, service_pb2.GetServerInfoRequest(), timeout=5)


def test_concurrent_clients_are_bit_exact_and_independent(server, stub, tmp_path) -> None:
    streams = [make_spikes(120, seed=10 + i) for i in range(8)]

    def round_trip(planes: np.ndarray) -> tuple[str, np.ndarray]:
        sid = stub.Upload(iter(spike_messages(planes, num_planes=len(planes), chunk=8))).stream.id
        return sid, received_planes(stub.Fetch(service_pb2.FetchRequest(id=sid)))[1]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(round_trip, streams))
    for i, (planes, (sid, fetched)) in enumerate(zip(streams, results)):
        (tmp_path / str(i)).mkdir()
        spkc, decoded = offline(planes, tmp_path / str(i))
        assert server.store.path(sid).read_bytes() == spkc
        np.testing.assert_array_equal(fetched, decoded)


def test_health_and_reflection(server) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "spikecodec.v1.SpikeCodec"):
        assert health.Check(health_pb2.HealthCheckRequest(service=service)).status == health_pb2.HealthCheckResponse.SERVING
    services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert {"spikecodec.v1.SpikeCodec", "grpc.health.v1.Health"} <= set(services)


def test_packed_wire_format_is_lsb_first(spikes) -> None:
    message = spike_messages(spikes[:3])[1]
    assert message.chunk.packed == pack_planes(spikes[:3]).tobytes()
    first = np.frombuffer(message.chunk.packed[:1], np.uint8)[0]
    assert [(first >> k) & 1 for k in range(8)] == list(spikes[0, 0, :8])


def test_config_defaults_then_environment_then_flags() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    env = {"SPIKECODEC_PORT": "6000", "SPIKECODEC_WINDOW": "128", "SPIKECODEC_TOKEN": "t0k"}
    config = from_args(parser.parse_args(["--port", "7000", "--store", "/srv/s"]), env)
    assert (config.port, config.window, config.store, config.token, config.quality) == (7000, 128, Path("/srv/s"), "t0k", 3.0)
    assert "t0k" not in repr(config)
    with pytest.raises(ConfigError, match="SPIKECODEC_MAX_STREAMS: cannot read 'many' as int"):
        from_env({"SPIKECODEC_MAX_STREAMS": "many"})
    with pytest.raises(ConfigError, match="TLS needs both tls_cert and tls_key"):
        from_env({"SPIKECODEC_TLS_CERT": "c.pem"})


def test_config_limits_flow_into_the_server(tmp_path) -> None:
    config = replace(ServerConfig(host="127.0.0.1", port=0, store=tmp_path), max_streams=5, chunk_planes=7)
    with Server(config) as server:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        limits = stub.GetServerInfo(service_pb2.GetServerInfoRequest()).limits
        assert (limits.max_concurrent_streams, limits.recommended_chunk_planes) == (5, 7)
