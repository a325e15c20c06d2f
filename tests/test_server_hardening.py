"""Issue 14 findings against a real in-process server on loopback: a damaged store, wrong
data and hostile clients each get a clean status, and the server keeps serving."""

from __future__ import annotations

import math
import sqlite3
import struct
import threading
import time
import tracemalloc
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from test_server import Code, expect_error, make_server, make_spikes, received_planes, spike_messages
from test_store import DAMAGED_ROWS

from codec.bitstream import FORMAT_VERSION, MAGIC, RecordParser, end_record, header_record
from codec.bitstream.records import KIND_HEADER, frame
from server.config import ServerConfig
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2


def _stub(server) -> service_pb2_grpc.SpikeCodecStub:
    return service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))


def test_restart_without_the_index_keeps_every_stream(tmp_path) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path) as server:
        stub = _stub(server)
        ids = [stub.Upload(iter(spike_messages(spikes, name=str(i)))).stream.id for i in range(3)]
        before = received_planes(stub.Fetch(service_pb2.FetchRequest(id=ids[0])))[1]
    (tmp_path / "store" / "index.sqlite3").unlink()
    with make_server(tmp_path) as server:
        stub = _stub(server)
        assert sorted(s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams) == sorted(ids)
        assert (received_planes(stub.Fetch(service_pb2.FetchRequest(id=ids[0])))[1] == before).all()


@pytest.mark.parametrize("damage", DAMAGED_ROWS)
def test_a_damaged_index_row_answers_data_loss_and_the_rest_stays_listable(tmp_path, damage) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path) as server:
        stub = _stub(server)
        ids = [stub.Upload(iter(spike_messages(spikes, name=str(i)))).stream.id for i in range(3)]
        bad = ids[1]
        sql, value = DAMAGED_ROWS[damage]
        with sqlite3.connect(tmp_path / "store" / "index.sqlite3") as db:
            db.execute(sql, (value, bad))
        for page_size in (1, 2, 100):
            listed, token = [], ""
            while True:
                page = stub.ListStreams(service_pb2.ListStreamsRequest(page_size=page_size, page_token=token))
                listed += [s.id for s in page.streams]
                if not (token := page.next_page_token):
                    break
            assert listed == [ids[2], ids[0]]
        match = f"stream {bad}: index row is damaged"
        expect_error(Code.DATA_LOSS, match, stub.GetStream, service_pb2.GetStreamRequest(id=bad))
        expect_error(Code.DATA_LOSS, match, stub.Fetch, service_pb2.FetchRequest(id=bad))
        assert stub.GetStream(service_pb2.GetStreamRequest(id=ids[0])).id == ids[0]
        assert stub.DeleteStream(service_pb2.DeleteStreamRequest(id=bad)).stream.id == bad


def test_a_row_with_a_bad_id_does_not_stop_the_server(tmp_path) -> None:
    with make_server(tmp_path) as server:
        keep = _stub(server).Upload(iter(spike_messages(make_spikes(60)))).stream.id
    with sqlite3.connect(tmp_path / "store" / "index.sqlite3") as db:
        db.execute("UPDATE streams SET id = '../../x'")
        db.execute("INSERT INTO streams SELECT NULL, ?, created, name, height, width, num_planes, num_scenes, bits, "
                   "quality, model, recon, attention, window, sensor, sha256 FROM streams", (keep,))
    with make_server(tmp_path) as server:
        stub = _stub(server)
        assert [s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams] == [keep]
        expect_error(Code.NOT_FOUND, "32 lowercase hex digits", stub.GetStream, service_pb2.GetStreamRequest(id="../../x"))


def test_a_full_disk_is_resource_exhausted_and_the_store_stays_consistent(small_disk) -> None:
    spikes = make_spikes(60)
    with make_server(small_disk) as server:
        stub = _stub(server)
        stored = []
        with pytest.raises(grpc.RpcError) as err:
            for _ in range(200):
                stored.append(stub.Upload(iter(spike_messages(spikes))).stream.id)
        assert err.value.code() == Code.RESOURCE_EXHAUSTED, err.value.details()
        assert "store is full: no space left on its volume" in err.value.details()
        assert stored
        assert sorted(s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams) == sorted(stored)
        assert stub.DeleteStream(service_pb2.DeleteStreamRequest(id=stored[0])).stream.id == stored[0]
        received_planes(stub.Fetch(service_pb2.FetchRequest(id=stored[-1])))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with make_server(tmp_path_factory.mktemp("hardening")) as server:
        yield server


@pytest.fixture(scope="module")
def stub(server) -> service_pb2_grpc.SpikeCodecStub:
    return _stub(server)


@pytest.mark.parametrize("rpc", ["Upload", "Encode"])
@pytest.mark.parametrize("field,value", [("threshold", math.nan), ("alpha", math.inf), ("tau", math.nan),
                                         ("plane_rate", math.inf), ("plane_rate", math.nan)])
def test_non_finite_sensor_values_on_the_wire_are_invalid_argument(stub, rpc, field, value) -> None:
    messages = spike_messages(make_spikes(60))
    header = messages[0].header
    if field == "plane_rate":
        header.plane_rate = value
    else:
        setattr(header.sensor, field, value)
    expect_error(Code.INVALID_ARGUMENT, f"header: sensor: {field} must be a finite number", _consume(stub, rpc),
                 iter(messages))


def _consume(stub, rpc: str):
    call = getattr(stub, rpc)
    return lambda messages: list(call(messages)) if rpc in ("Encode", "Decode") else call(messages)


def test_a_spkc_header_with_a_nan_sensor_is_invalid_argument(stub) -> None:
    records = list(stub.Encode(iter(spike_messages(make_spikes(60)))))
    (header,) = RecordParser().feed(records[0].data)
    body = bytearray(header.to_bytes())
    one = struct.pack(">d", 1.0)  # the sensor's threshold, then its alpha (docs/format.md)
    assert (header.sensor.threshold, header.sensor.alpha) == (1.0, 1.0) and body.count(one) == 2
    struct.pack_into(">d", body, body.rfind(one), math.nan)
    records[0] = records_pb2.EncodedRecord(data=header_record_bytes(bytes(body)))
    expect_error(Code.INVALID_ARGUMENT, "header field 'sensor': alpha must be a finite number", _consume(stub, "Decode"),
                 iter(records))


def header_record_bytes(body: bytes) -> bytes:
    """Preamble and a header record around ``body`` with valid CRCs."""
    return struct.pack(">4sH", MAGIC, FORMAT_VERSION) + frame(KIND_HEADER, body)


@pytest.mark.parametrize("rpc", ["Upload", "Encode"])
@pytest.mark.parametrize("bit_order", [2, 7, -1, 2**31 - 1])
def test_an_unknown_bit_order_is_invalid_argument(stub, rpc, bit_order) -> None:
    messages = spike_messages(make_spikes(60))
    messages[0].header.bit_order = bit_order
    expect_error(Code.INVALID_ARGUMENT, f"bit_order must be BIT_ORDER_LSB_FIRST, got {bit_order}",
                 _consume(stub, rpc), iter(messages))


@pytest.mark.parametrize("token", ["²", "٣", "9" * 20, "9" * 5000, "-1", " 1", "1.0", "0x10", "abc"])
def test_a_malformed_page_token_is_invalid_argument(stub, token) -> None:
    expect_error(Code.INVALID_ARGUMENT, "invalid page_token", stub.ListStreams,
                 service_pb2.ListStreamsRequest(page_token=token))
    assert stub.ListStreams(service_pb2.ListStreamsRequest(page_token="1")).streams == []


class Held:
    """Request streams that send ``first`` messages, then hold still until :meth:`release`."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def stream(self, *first):
        yield from first
        self.event.wait(60)

    def release(self) -> None:
        self.event.set()


def _answers_within(seconds: float, call) -> float:
    tic = time.monotonic()
    call()
    took = time.monotonic() - tic
    assert took < seconds, f"took {took:.2f} s"
    return took


def test_idle_reflection_and_health_watch_floods_cannot_starve_the_server(tmp_path) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path, max_streams=4, max_aux_streams=2, preempt_idle_s=0.5) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        stub, health = _stub(server), health_pb2_grpc.HealthStub(channel)
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        held = Held()
        flood = [reflection.ServerReflectionInfo(held.stream()) for _ in range(24)]
        flood += [health.Watch(health_pb2.HealthCheckRequest(service="")) for _ in range(24)]
        try:
            time.sleep(1.0)
            check = health_pb2.HealthCheckRequest(service="")
            _answers_within(2, lambda: health.Check(check, timeout=2))
            _answers_within(2, lambda: stub.GetServerInfo(service_pb2.GetServerInfoRequest(), timeout=2))
            _answers_within(10, lambda: stub.Upload(iter(spike_messages(spikes)), timeout=10))
            # the idle flood holds no more than its slots, and gives them up to a real reflection client
            assert "spikecodec.v1.SpikeCodec" in ProtoReflectionDescriptorDatabase(channel).get_services()
        finally:
            held.release()
            for call in flood:
                call.cancel()
        refused = 0
        for call in flood:
            with pytest.raises(grpc.RpcError) as err:
                list(call)
            refused += err.value.code() == Code.RESOURCE_EXHAUSTED
        assert refused >= 24  # most were never let in


def test_idle_encode_streams_give_way_to_a_new_call_and_time_out(tmp_path) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path, max_streams=4, preempt_idle_s=1.0, idle_timeout_s=3.0) as server:
        stub = _stub(server)
        held = Held()
        header = spike_messages(spikes)[0]
        idle = [stub.Encode(held.stream(header)) for _ in range(6)]
        time.sleep(1.5)
        _answers_within(5, lambda: stub.Upload(iter(spike_messages(spikes)), timeout=5))
        outcomes = []
        for call in idle:
            with pytest.raises(grpc.RpcError) as err:
                list(call)
            outcomes.append((err.value.code(), err.value.details()))
        held.release()
        codes = [code for code, _ in outcomes]
        assert codes.count(Code.RESOURCE_EXHAUSTED) >= 3  # 2 refused when full, 1 preempted for the upload
        assert any("gave its slot to a new call" in details for _, details in outcomes)
        assert any(code == Code.DEADLINE_EXCEEDED and "no message from the client for 3 s" in details
                   for code, details in outcomes)
        assert server.servicer.active_streams == 0


def test_a_client_that_stops_reading_is_cancelled_after_the_idle_timeout(tmp_path) -> None:
    with make_server(tmp_path, idle_timeout_s=1.0) as server:
        stub = _stub(server)
        planes = make_spikes(300, height=128, width=128)
        sid = stub.Upload(iter(spike_messages(planes))).stream.id
        # 300 messages of 2 KB, far beyond what the transport buffers for a client that never reads
        fetch = stub.Fetch(service_pb2.FetchRequest(id=sid, chunk_planes=1))
        next(fetch)
        deadline = time.monotonic() + 30
        while server.servicer.active_streams and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.servicer.active_streams == 0
        fetch.cancel()


def test_default_idle_timeout_is_much_shorter_than_the_stream_deadline() -> None:
    config = ServerConfig()
    assert config.idle_timeout_s * 60 <= config.stream_deadline_s
    assert config.thread_workers > config.max_streams + config.max_aux_streams


def test_drain_answers_not_serving_refuses_new_calls_and_cancels_the_rest(tmp_path) -> None:
    spikes = make_spikes(150)
    messages = spike_messages(spikes, num_planes=150)
    server = make_server(tmp_path, grace_s=2.0).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub, health = _stub(server), health_pb2_grpc.HealthStub(channel)
    held = Held()
    upload = stub.Upload.future(held.stream(*messages[:4]))
    while server.servicer.active_streams < 1:
        time.sleep(0.05)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    try:
        time.sleep(0.3)
        status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
        expect_error(Code.UNAVAILABLE, "server is shutting down", stub.Upload, iter(messages), timeout=5)
        with pytest.raises(grpc.RpcError) as err:
            upload.result(timeout=30)
        assert err.value.code() == Code.CANCELLED, err.value.details()
        assert "server shutting down: call cancelled at the end of the 2 s grace period" in err.value.details()
    finally:
        held.release()
        stopper.join(30)
    assert server.stored_streams == 0


@pytest.mark.parametrize("window", [1025, 4_000_000_000])
def test_a_huge_window_is_refused_before_any_plane_is_buffered(stub, window) -> None:
    options = spikes_pb2.CodecOptions(quality=3, window=window, recon="tfp")
    for rpc in ("Upload", "Encode"):
        expect_error(Code.RESOURCE_EXHAUSTED, f"window {window} exceeds the server's max_window 1024",
                     _consume(stub, rpc), iter(spike_messages(make_spikes(60), options=options)))


def _crafted_spkc(stub, height: int, width: int, **header_changes) -> list[records_pb2.EncodedRecord]:
    """A real one-scene stream of ``height x width`` with header fields and the end record's plane count changed
    (``num_planes`` in ``header_changes`` goes to the end record); every CRC valid."""
    planes = make_spikes(40, height=height, width=width)
    options = spikes_pb2.CodecOptions(quality=3, window=32, recon="tfp", intra_period=1)
    records = list(stub.Encode(iter(spike_messages(planes, options=options))))
    (header,) = RecordParser().feed(records[0].data)
    end_planes = header_changes.pop("num_planes", 40)
    data = [header_record(replace(header, **header_changes)), records[1].data, end_record(end_planes, 1)]
    return [records_pb2.EncodedRecord(sequence=i, data=d) for i, d in enumerate(data)]


def test_a_crafted_decode_request_allocates_as_planes_are_produced(tmp_path) -> None:
    with make_server(tmp_path, max_pixels=100_000, max_planes=10_000, max_window=10_000,
                     max_message_bytes=4 << 20) as server:
        stub = _stub(server)
        # one scene, then an end record 3000 planes on: 300 MB of planes if made at once
        records = _crafted_spkc(stub, 250, 400, window=4000, offset=16, num_planes=3000)
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            planes = sum(m.chunk.num_planes for m in stub.Decode(iter(records)) if m.HasField("chunk"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert planes == 3000
        assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize("changes,match", [
    ({"window": 4_000_000_000}, "window 4000000000 exceeds the server's max_window 1024"),
    ({"offset": 5000}, "stream of 5001 planes, over the server's max_planes 1000"),
    ({"window": 1000, "num_planes": 1016}, "stream of 1016 planes, over the server's max_planes 1000"),
])
def test_crafted_decode_headers_are_checked_against_the_limits_first(stub, changes, match) -> None:
    records = _crafted_spkc(stub, 64, 96, **changes)
    expect_error(Code.RESOURCE_EXHAUSTED, match, _consume(stub, "Decode"), iter(records))
