"""Property tests: packing and files round trip at any size (padded or not); readers never fail
except with SpikeFormatError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from codec.errors import SpikeFormatError
from codec.io import count_spikes, open_spikes, open_writer, pack_planes, plane_bytes, unpack_planes


@st.composite
def plane_stacks(draw: st.DrawFn, max_side: int = 40) -> np.ndarray:
    """``(T, H, W)`` uint8 0/1 of any size (``H*W`` a multiple of 8 or not)."""
    height, width, t = draw(st.integers(1, max_side)), draw(st.integers(1, max_side)), draw(st.integers(0, 6))
    return draw(arrays(np.uint8, (t, height, width), elements=st.integers(0, 1)))


@settings(max_examples=200, deadline=None)
@given(plane_stacks())
def test_pack_round_trip(planes: np.ndarray) -> None:
    t, h, w = planes.shape
    packed = pack_planes(planes)
    assert packed.shape == (t, plane_bytes(h, w)) == (t, -(-h * w // 8)) and packed.dtype == np.uint8
    assert np.array_equal(unpack_planes(packed, h, w), planes)
    assert np.array_equal(unpack_planes(packed, h, w, flip=True), planes[:, ::-1])
    assert np.array_equal(pack_planes(planes.astype(bool)), packed)
    assert count_spikes(packed) == int(planes.sum())  # pad bits are zero
    if t:  # pixel k is bit k % 8 of byte k // 8, in every plane
        k = int(np.random.default_rng(h * w).integers(h * w))
        assert np.array_equal((packed[:, k // 8] >> (k % 8)) & 1, planes.reshape(t, -1)[:, k])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(planes=plane_stacks(max_side=16), suffix=st.sampled_from([".dat", ".h5"]))
def test_file_round_trip(planes: np.ndarray, suffix: str) -> None:
    t, h, w = planes.shape
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{suffix}"
        if suffix == ".dat" and (h * w) % 8:  # the PKU layout has no padding
            with pytest.raises(SpikeFormatError, match=f".dat cannot hold {h}x{w} planes"):
                open_writer(path, h, w)
            return
        with open_writer(path, h, w) as writer:
            writer.write(planes)
        if t == 0 and suffix == ".dat":  # nothing written: an empty .dat is not a recording
            try:
                open_spikes(path, h, w)
            except SpikeFormatError:
                return
            raise AssertionError("empty .dat accepted")
        with open_spikes(path, h, w) as reader:
            assert np.array_equal(reader.read(), planes.reshape(t, h, w))


def _read_all(path: Path, height: int | None, width: int | None) -> tuple[int, int]:
    """Read every plane; return (planes, bytes per plane)."""
    with open_spikes(path, height, width) as reader:
        planes = sum(len(block) for block in reader.iter_blocks(3))
        assert planes == reader.num_planes
        return planes, reader.plane_bytes


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), height=st.integers(-2, 12), width=st.integers(-2, 12))
def test_random_bytes_as_dat(data: bytes, height: int, width: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.dat"
        path.write_bytes(data)
        try:
            planes, nbytes = _read_all(path, height, width)
        except SpikeFormatError:
            return
        assert planes * nbytes == len(data) and planes > 0


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=3000), prefix=st.booleans())
def test_random_bytes_as_h5(data: bytes, prefix: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.h5"
        # with the HDF5 signature in front the library gets further into parsing
        path.write_bytes((b"\x89HDF\r\n\x1a\n" if prefix else b"") + data)
        try:
            _read_all(path, None, None)
        except SpikeFormatError:
            return
        raise AssertionError("random bytes parsed as a spikecodec HDF5 file")
