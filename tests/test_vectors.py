"""Motion vectors on the wire (codec.bitstream.vectors): round trips, cost, and damage.

The record CRC is what catches damaged motion bytes in a stream (test_bitstream.py and
test_pipeline.py flip them); here the vector coding itself: every field it accepts comes
back exactly, and the damage it can see is a BitstreamError.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from codec.bitstream.vectors import (
    BLOCKS,
    MAX_VECTOR,
    SUPPORT,
    grid_shape,
    mirrored,
    pack_bi_motion,
    pack_motion,
    unpack_bi_motion,
    unpack_motion,
)
from codec.errors import BitstreamError

#: component values: mostly small (in the Laplace support), some beyond it (escapes), the range ends
COMPONENTS = st.one_of(st.integers(-8, 8), st.integers(-MAX_VECTOR, MAX_VECTOR),
                       st.sampled_from([-MAX_VECTOR, MAX_VECTOR]))


@st.composite
def fields(draw, count: int = 1):
    """``(height, width, block, [fields])``: ``count`` random ``(hb, wb, 2)`` int16 fields of one scene."""
    height, width = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    block = draw(st.sampled_from(BLOCKS))
    shape = (*grid_shape(height, width, block), 2)
    made = [draw(hnp.arrays(np.int16, shape, elements=COMPONENTS)) for _ in range(count)]
    return height, width, block, made


@given(fields())
@settings(max_examples=150, deadline=None)
def test_p_fields_round_trip_with_escapes_beyond_the_laplace_support(case):
    height, width, block, (field,) = case
    vectors, found = unpack_motion(pack_motion(field, block), height, width)
    assert found == block and vectors.dtype == np.int16
    np.testing.assert_array_equal(vectors, field)


@given(fields(count=2), st.data())
@settings(max_examples=150, deadline=None)
def test_b_fields_round_trip_for_any_position_between_the_references(case, data):
    height, width, block, (to_earlier, to_later) = case
    span = data.draw(st.integers(2, 64), label="span")
    steps = data.draw(st.integers(1, span - 1), label="steps")
    first, second, found = unpack_bi_motion(pack_bi_motion(to_earlier, to_later, steps, span, block),
                                            height, width, steps, span)
    assert found == block
    np.testing.assert_array_equal(first, to_earlier)
    np.testing.assert_array_equal(second, to_later)


def test_a_far_off_mirrored_prediction_still_round_trips():
    """150 pixels towards a reference one scene back, none towards one 63 scenes ahead: the
    uniform-motion prediction of the second field (about -19,000 half pixels) is far outside
    what a field may hold; the second field must still come back exactly."""
    shape = (*grid_shape(96, 128), 2)
    to_earlier, to_later = np.full(shape, MAX_VECTOR, np.int16), np.zeros(shape, np.int16)
    first, second, _ = unpack_bi_motion(pack_bi_motion(to_earlier, to_later, 1, 64), 96, 128, 1, 64)
    np.testing.assert_array_equal(first, to_earlier)
    np.testing.assert_array_equal(second, to_later)


def test_one_large_vector_among_still_blocks_escapes_and_comes_back():
    field = np.zeros((*grid_shape(250, 400), 2), np.int16)
    field[3, 7] = (SUPPORT + 1, -MAX_VECTOR)
    vectors, block = unpack_motion(pack_motion(field), 250, 400)
    np.testing.assert_array_equal(vectors, field)


@pytest.mark.parametrize("steps, span, vector, expected", [
    (1, 2, (6, -4), (-6, 4)),      # midway: the same motion on the other side
    (1, 4, (2, -3), (-6, 9)),      # a quarter of the way: three times as far to the later one
    (3, 4, (6, -3), (-2, 1)),      # three quarters: a third as far
    (2, 4, (5, -5), (-5, 5)),
    (1, 3, (1, -1), (-2, 2)),
    (1, 64, (MAX_VECTOR, -MAX_VECTOR), (-MAX_VECTOR, MAX_VECTOR)),  # clamped to what a field holds
])
def test_mirrored_prediction_assumes_uniform_motion(steps, span, vector, expected):
    field = np.array([[vector]], dtype=np.int16)
    assert mirrored(field, steps, span)[0, 0].tolist() == list(expected)


def test_still_and_uniform_motion_cost_a_few_bytes():
    """The motion of a still or uniformly moving 250x400 scene (104 blocks of 32 pixels) costs a
    few bytes, where format 5 spent about 83 bytes a scene on vectors."""
    shape = (*grid_shape(250, 400), 2)
    still, pan = np.zeros(shape, np.int16), np.zeros(shape, np.int16)
    pan[:] = (3, -5)
    assert len(pack_motion(still)) <= 12
    assert len(pack_motion(pan)) <= 16
    assert len(pack_bi_motion(pan, -pan, 1, 2)) <= 2 * 16  # the second field is exactly its mirror
    rng = np.random.default_rng(0)
    noisy = pan + rng.integers(-1, 2, size=shape).astype(np.int16)
    assert len(pack_motion(noisy)) < 0.5 * len(pack_motion(rng.integers(-40, 41, size=shape).astype(np.int16)))


@pytest.mark.parametrize("data, message", [
    (b"", "motion vectors are corrupt: empty"),
    (b"\x07" + pack_motion(np.zeros((2, 3, 2), np.int16))[1:], "motion vectors are corrupt: block code 7"),
    (b"\x05\xc8\x00\x00", "motion vectors are corrupt: scale index 200"),
    (b"\x05", "motion vectors are corrupt: empty"),
    (pack_motion(np.full((2, 3, 2), MAX_VECTOR + 1, np.int16)), f"motion vector beyond ±{MAX_VECTOR} half pixels"),
])
def test_damaged_p_motion_is_a_bitstream_error(data, message):
    with pytest.raises(BitstreamError, match=message):
        unpack_motion(data, 64, 96)


def test_damaged_b_motion_is_a_bitstream_error():
    field = np.ones((2, 3, 2), np.int16)
    data = pack_bi_motion(field, -field, 1, 2)
    with pytest.raises(BitstreamError, match=f"B motion truncated: {len(data[:2])} bytes"):
        unpack_bi_motion(data[:2], 64, 96, 1, 2)  # the first field's length runs past the end
    with pytest.raises(BitstreamError, match="block code 0"):
        unpack_bi_motion(b"\x00" + data[1:], 64, 96, 1, 2)
    with pytest.raises(BitstreamError, match="motion vectors are corrupt: empty"):
        unpack_bi_motion(data[:2 + data[1]], 64, 96, 1, 2)  # no second field
    beyond = pack_bi_motion(field, np.full((2, 3, 2), MAX_VECTOR + 2, np.int16), 1, 2)
    with pytest.raises(BitstreamError, match="beyond"):
        unpack_bi_motion(beyond, 64, 96, 1, 2)


def test_a_block_side_the_format_does_not_know_is_refused():
    with pytest.raises(BitstreamError, match=r"motion block side 48 is not one of \(16, 32, 64\)"):
        pack_motion(np.zeros((2, 2, 2), np.int16), 48)


@given(st.binary(max_size=64), st.integers(1, 200), st.integers(1, 200))
@settings(max_examples=300, deadline=None)
def test_any_motion_bytes_decode_to_a_valid_field_or_a_bitstream_error(data, height, width):
    """Motion bytes carry no checksum of their own (the record's CRC covers them), so damage may
    decode to other vectors; but never to vectors a field cannot hold, nor to another exception."""
    try:
        vectors, block = unpack_motion(data, height, width)
    except BitstreamError:
        return
    assert block in BLOCKS and vectors.shape == (*grid_shape(height, width, block), 2)
    assert np.abs(vectors).max(initial=0) <= MAX_VECTOR
