"""``spikecodec_proto.wire`` on its own: what a writer sends, a reader gives back exactly;
limits and sensor parameters survive the trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream import MODE_INTRA, RecordParser, StreamHeader, end_record, header_record, scene_record
from codec.errors import SpikeFormatError
from codec.sensor import SensorParams
from spikecodec_proto.v1 import records_pb2, spikes_pb2
from spikecodec_proto.wire import (
    ChunkWriter,
    LimitExceeded,
    RecordTagger,
    SpikeStreamReader,
    WireLimits,
    header_message,
    parse_header,
    read_spikes,
    sensor_from_proto,
    sensor_to_proto,
    spike_messages,
    stream_header,
)

SENSOR = SensorParams(threshold=2.0, alpha=0.5, reset_mechanism="mod", tau=40.0, init="zero", seed=9, plane_rate=1e4)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(0, 9), min_size=1, max_size=6), chunk=st.integers(1, 7), seed=st.integers(0, 99))
def test_what_a_writer_sends_a_reader_gives_back(sizes, chunk, seed) -> None:
    rng = np.random.default_rng(seed)
    blocks = [(rng.random((n, 4, 6)) < 0.3).astype(np.uint8) for n in sizes]
    sent: list[spikes_pb2.SpikeChunk] = []
    messages = list(spike_messages(stream_header(4, 6, SENSOR, name="x"), blocks, chunk, sent.append))
    assert all(c.num_planes == chunk for c in sent[:-1]) and len(sent) == -(-sum(sizes) // chunk)
    got = list(read_spikes(messages))
    assert [first for first, _ in got] == [c.first_plane for c in sent]
    np.testing.assert_array_equal(np.concatenate([p for _, p in got] or [np.empty((0, 4, 6))]), np.concatenate(blocks))


def test_a_writer_keeps_no_view_of_the_blocks_pushed_and_refuses_another_size() -> None:
    writer = ChunkWriter(4, 6, 8)
    block = np.ones((21, 4, 6), np.uint8)
    assert [m.chunk.num_planes for m in writer.push(block)] == [8, 8]
    assert not np.shares_memory(writer._pending, block)  # the 5 left over are a copy: the block can go
    assert [m.chunk.num_planes for m in writer.push(block[:3])] == [8]
    assert len(writer._pending) == 0
    with pytest.raises(SpikeFormatError, match=r"planes of shape \(2, 6, 4\) pushed to a 4x6 stream"):
        writer.push(np.zeros((2, 6, 4), np.uint8))


def test_limits_are_enforced_by_the_reader() -> None:
    messages = list(spike_messages(stream_header(4, 6), [np.zeros((10, 4, 6), np.uint8)], 4))
    with pytest.raises(LimitExceeded, match="24 pixels per plane exceeds the server's max_pixels 16"):
        SpikeStreamReader(iter(messages), WireLimits(max_pixels=16))
    with pytest.raises(LimitExceeded, match="chunk 1: stream would reach 8 planes, over the server's max_planes 5"):
        list(SpikeStreamReader(iter(messages), WireLimits(max_planes=5)).chunks())


def test_sensor_parameters_survive_the_wire() -> None:
    header = parse_header(stream_header(8, 8, SENSOR), WireLimits())
    assert header.sensor == SENSOR
    assert sensor_from_proto(sensor_to_proto(SensorParams()), 20_000.0) == SensorParams()
    no_leak = sensor_to_proto(SensorParams(tau=None))
    assert not no_leak.HasField("tau")


def test_spkc_header_and_records_convert() -> None:
    spkc = StreamHeader(height=8, width=16, num_planes=40, window=20, offset=10, recon="tfp", attention="none",
                        model="spikecodec-base", model_sha256="ab" * 32, quality=2.0, sensor=SENSOR)
    message = header_message(spkc, name="cam")
    assert (message.header.height, message.header.width, message.header.num_planes, message.header.name) == (8, 16, 40, "cam")
    assert message.header.options.window == 20 and message.header.options.offset == 10
    assert parse_header(message, WireLimits()).sensor == SENSOR
    tagger = RecordTagger()
    data = [header_record(spkc), scene_record(0, MODE_INTRA, 2.0, b"p0"), scene_record(1, MODE_INTRA, 2.0, b"p1"), end_record(40, 2)]
    tagged = [tagger.tag(d, completed_by=i, arrived=0.0) for i, d in enumerate(data)]
    assert [t.kind for t in tagged] == [records_pb2.RECORD_KIND_HEADER, records_pb2.RECORD_KIND_SCENE,
                                        records_pb2.RECORD_KIND_SCENE, records_pb2.RECORD_KIND_END]
    assert [(t.sequence, t.scene_index, t.centre) for t in tagged] == [(0, -1, -1), (1, 0, 10), (2, 1, 30), (3, -1, -1)]
    assert len(RecordParser().feed(b"".join(t.data for t in tagged))) == 4
    assert spikes_pb2.BIT_ORDER_LSB_FIRST == message.header.bit_order
