"""The client library against a real server on loopback: auth, errors, retries, live round trip."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import grpc
import numpy as np
import pytest

from client.connection import ClientError, Connection
from client.retry import RetryPolicy
from client.streaming import round_trip
from codec.sensor import SensorParams
from server.app import Server
from server.config import ServerConfig
from spikecodec_proto.v1 import spikes_pb2
from spikecodec_proto.wire import spike_messages, stream_header

FAST_RETRY = RetryPolicy(attempts=6, initial_backoff_s=0.05, max_backoff_s=0.5)


class CountingInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Counts the attempts that reach the channel, per method (the channel stays real)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _count(self, details) -> None:
        name = details.method.rsplit("/", 1)[-1]
        self.calls[name] = self.calls.get(name, 0) + 1

    def intercept_unary_unary(self, continuation, details, request):
        self._count(details)
        return continuation(details, request)

    def intercept_unary_stream(self, continuation, details, request):
        self._count(details)
        return continuation(details, request)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(store: Path, **config) -> Server:
    return Server(ServerConfig(host="127.0.0.1", store=store, grace_s=0, **{"port": 0, **config})).start()


@pytest.fixture
def server(tmp_path: Path):
    srv = start_server(tmp_path / "store")
    yield srv
    srv.stop(0)


def test_server_info_and_missing_stream(server: Server) -> None:
    counter = CountingInterceptor()
    with Connection(f"127.0.0.1:{server.port}", retry=FAST_RETRY, interceptors=[counter]) as conn:
        info = conn.server_info()
        assert info.limits.max_message_bytes > 0 and info.version
        assert list(conn.list_streams()) == []
        with pytest.raises(ClientError) as err:
            conn.get_stream("no-such-stream")
    assert err.value.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    assert "GetStream no-such-stream" in str(err.value)
    assert counter.calls["GetStream"] == 1  # a final status is never retried


def test_bad_request_is_not_retried_and_names_the_problem(server: Server) -> None:
    with Connection(f"127.0.0.1:{server.port}", retry=FAST_RETRY) as conn:
        header = stream_header(8, 8)
        header.header.bit_order = spikes_pb2.BIT_ORDER_UNSPECIFIED
        with pytest.raises(ClientError, match=r"Encode: INVALID_ARGUMENT: header: bit_order must be") as err:
            list(conn.encode(spike_messages(header, [np.zeros((2, 8, 8), np.uint8)])))
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_token_is_sent_and_required(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "store", token="s3cret")
    try:
        target = f"127.0.0.1:{srv.port}"
        with Connection(target, token="s3cret") as conn:
            assert conn.server_info().auth_required
        counter = CountingInterceptor()
        with Connection(target, token="wrong", retry=FAST_RETRY, interceptors=[counter]) as conn:
            with pytest.raises(ClientError, match="UNAUTHENTICATED: invalid bearer token"):
                conn.server_info()
        assert counter.calls["GetServerInfo"] == 1
        with Connection(target) as conn, pytest.raises(ClientError, match="missing bearer token"):
            conn.server_info()
    finally:
        srv.stop(0)


def test_unavailable_is_retried_until_the_server_is_up(tmp_path: Path) -> None:
    port = free_port()
    holder: list[Server] = []
    starter = threading.Timer(0.4, lambda: holder.append(start_server(tmp_path / "store", port=port)))
    counter = CountingInterceptor()
    starter.start()
    try:
        # the server needs a few seconds to start on a loaded machine: retry for ~10 s
        patient = RetryPolicy(attempts=15, initial_backoff_s=0.05, max_backoff_s=1.0)
        with Connection(f"127.0.0.1:{port}", retry=patient, interceptors=[counter]) as conn:
            assert conn.server_info().version
        assert counter.calls["GetServerInfo"] > 1
    finally:
        starter.join()
        for srv in holder:
            srv.stop(0)


def test_deadline_is_retried_then_reported() -> None:
    """A peer that accepts TCP connections but never answers: every try runs into its deadline."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        counter = CountingInterceptor()
        policy = RetryPolicy(attempts=3, initial_backoff_s=0.01)
        target = f"127.0.0.1:{silent.getsockname()[1]}"
        with Connection(target, timeout_s=0.2, retry=policy, interceptors=[counter]) as conn:
            tic = time.perf_counter()
            with pytest.raises(ClientError, match="GetServerInfo: DEADLINE_EXCEEDED") as err:
                conn.server_info()
            assert time.perf_counter() - tic >= 0.6
    assert err.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert counter.calls["GetServerInfo"] == 3


def test_no_server_gives_a_clear_error() -> None:
    with Connection(f"127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=2, initial_backoff_s=0.01)) as conn:
        with pytest.raises(ClientError, match="no spikecodec server reachable"):
            conn.wait_ready(0.3)
        with pytest.raises(ClientError, match="UNAVAILABLE"):
            conn.server_info()
    with pytest.raises(ClientError, match="HOST:PORT"):
        Connection("localhost")


def synthetic_planes(num: int, height: int = 32, width: int = 64) -> np.ndarray:
    """Real simulated spikes of the moving synthetic scene."""
    from codec.evaluate.sources import open_input

    with open_input("synthetic", height, width, num) as source:
        return source.read_all()


@pytest.mark.slow
def test_live_round_trip_upload_and_fetch(server: Server) -> None:
    from codec.pipeline import Decoder

    planes = synthetic_planes(80)
    # low delay: each scene leaves as soon as it is filtered (random access holds it for its anchor)
    options = spikes_pb2.CodecOptions(window=32, quality=3, gop="low-delay")
    with Connection(f"127.0.0.1:{server.port}") as conn:
        header = stream_header(32, 64, SensorParams(), options, "live")
        received: list[np.ndarray] = []
        trip = round_trip(conn, header, [planes[:50], planes[50:]], chunk_planes=16,
                          on_planes=lambda first, block: received.append(block))
        decoded = np.concatenate(received)
        assert decoded.shape == planes.shape and trip.decoded_planes == 80
        assert len(trip.chunk_sent) == len(trip.chunk_returned) == 5
        assert all(latency > 0 for latency in trip.chunk_latency_s)
        # scenes centred on planes 16 and 48: the first leaves with the chunk that completes its filter
        # neighbour (the second scene); the second has no neighbour after it and leaves with the end marker
        assert len(trip.record_latency_s) == 1
        # the live output is exactly what the codec's decoder makes of the records
        local = Decoder()
        assert np.array_equal(np.concatenate([local.push(r) for r in trip.records]), decoded)

        summary = conn.upload(spike_messages(stream_header(32, 64, SensorParams(), options, "up"), [planes])).stream
        assert summary.num_planes == 80 and summary.bits == trip.bits
        assert [s.id for s in conn.list_streams()] == [summary.id]
        assert conn.get_stream(summary.id).sha256 == summary.sha256
        fetched = [m for m in conn.fetch(summary.id, chunk_planes=32) if m.HasField("chunk")]
        assert sum(m.chunk.num_planes for m in fetched) == 80
        assert conn.delete_stream(summary.id).id == summary.id
        with pytest.raises(ClientError, match="NOT_FOUND"):
            list(conn.fetch(summary.id))


def test_round_trip_reports_the_encode_error(server: Server) -> None:
    planes = np.zeros((40, 16, 16), np.uint8)
    header = stream_header(16, 16, options=spikes_pb2.CodecOptions(quality=99.0, window=8))
    with Connection(f"127.0.0.1:{server.port}") as conn:
        with pytest.raises(ClientError, match=r"^Encode: INVALID_ARGUMENT: .*quality 99") as err:
            round_trip(conn, header, [planes])
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT


def endless_synthetic(planes: int) -> tuple[spikes_pb2.SpikeMessage, Iterator[np.ndarray]]:
    """The header and blocks of a 16x16 synthetic stream far longer than any test runs: simulated a block
    at a time, as the client sends it."""
    from codec.evaluate.sources import open_input

    source = open_input("synthetic", 16, 16, planes, block_planes=32)
    return stream_header(16, 16, source.sensor, spikes_pb2.CodecOptions(window=8), "endless", planes), source.blocks


def test_a_refused_decode_cancels_the_encode(tmp_path: Path) -> None:
    # one slot: Encode takes it and Decode is refused; without preemption or an idle timeout that
    # could free it, only the client cancelling Encode gives the slot back before the stream's end
    server = start_server(tmp_path, max_streams=1, preempt_idle_s=0, idle_timeout_s=3600)
    try:
        header, blocks = endless_synthetic(5_000_000)
        with Connection(f"127.0.0.1:{server.port}") as conn:
            with pytest.raises(ClientError, match=r"^Decode: RESOURCE_EXHAUSTED: server busy") as err:
                round_trip(conn, header, blocks)
            assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert server.servicer.slots.wait_empty(120)  # the channel is still open
            conn.server_info()  # and usable
    finally:
        server.stop(0)
