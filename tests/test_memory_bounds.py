"""Memory of one stream follows the planes produced, not the sizes a stream declares:
regeneration comes in blocks (bit-identical to whole ramps), the encoder buffers packed planes."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream import RecordParser, end_record, header_record
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import SensorParams
from codec.simulate.neuron import IntegrateAndFire


def _peak(run) -> float:
    """Peak bytes ``run()`` allocated (numpy arrays included), beyond what existed before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 700), block=st.integers(1, 600), seed=st.integers(0, 2**16),
       reset=st.sampled_from(["subtract", "mod", "zero"]), leak=st.booleans(), steep=st.booleans())
def test_ramp_blocks_equal_the_whole_ramp(n, block, seed, reset, leak, steep) -> None:
    rng = np.random.default_rng(seed)
    start, step = rng.uniform(0, 0.9, (4, 6)), rng.uniform(-1e-3, 1e-3, (4, 6)) * (50 if steep else 1)
    kwargs = dict(reset_mechanism=reset, tau=40.0 if leak else None, init="uniform", seed=seed)
    whole, blocked = IntegrateAndFire((4, 6), **kwargs), IntegrateAndFire((4, 6), **kwargs)
    expected = [whole.ramp(start, step, n), whole.ramp(start + 0.1, -step, 37)]
    got = [list(blocked.ramp_blocks(start, step, n, block)), list(blocked.ramp_blocks(start + 0.1, -step, 37, block))]
    for want, blocks in zip(expected, got):
        assert all(len(b) <= block for b in blocks)
        np.testing.assert_array_equal(np.concatenate(blocks) if blocks else np.empty((0, 4, 6), np.uint8), want)
    np.testing.assert_array_equal(whole.mem, blocked.mem)


@pytest.fixture(scope="module")
def one_scene_stream() -> tuple[EncoderConfig, list[bytes]]:
    """A real one-scene 250x400 stream (K = 32, 40 planes)."""
    config = EncoderConfig(quality=3, window=32, intra_period=1)
    planes = SensorParams().neurons((250, 400))(np.full((40, 250, 400), 0.3))
    encoder = Encoder(config, 250, 400)
    return config, [encoder.header_record(), *encoder.push(planes), *encoder.finish()]


def test_decoder_blocks_hold_memory_whatever_the_end_record_says(one_scene_stream) -> None:
    _, records = one_scene_stream
    (header,) = RecordParser().feed(records[0])
    header = header.__class__(**{**header.__dict__, "window": 4000})
    crafted = [header_record(header), records[1], end_record(3000, 1)]  # 300 MB of planes if made at once
    decoder, counted = Decoder(), list[int]()

    def decode() -> None:
        for record in crafted:
            counted.extend(len(block) for block in decoder.blocks(record))

    peak = _peak(decode)
    assert sum(counted) == 3000 and max(counted) <= 256
    assert peak < 80e6, f"peak {peak / 1e6:.0f} MB"  # two 25.6 MB blocks at a time; at once it was 300 MB
    whole = Decoder()
    assert sum(len(whole.push(record)) for record in crafted) == 3000  # push still returns everything at once


def test_the_encoder_buffers_planes_packed() -> None:
    encoder = Encoder(EncoderConfig(quality=3, window=4000, recon="tfp"), 250, 400)
    chunk = (np.random.default_rng(0).random((32, 250, 400)) < 0.2).astype(np.uint8)

    def push() -> None:
        for _ in range(3000 // 32):  # no scene completes: every plane stays buffered
            assert encoder.push(chunk) == []

    peak = _peak(push)
    assert encoder.buffered_planes == 3000 // 32 * 32
    # 37 MB packed plus the last copy while appending; unpacked it was 300 MB (and 600 MB while appending)
    assert peak < 90e6, f"peak {peak / 1e6:.0f} MB"
