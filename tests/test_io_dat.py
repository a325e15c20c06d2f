"""PKU .dat reader/writer: the real recording, layout, round trips and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codec.errors import SpikeFormatError
from codec.io import convert, count_spikes, open_spikes, open_writer
from codec.io.dat import DatReader


def test_real_recording_shape_and_rate(reds_dat: Path) -> None:
    raw = np.fromfile(reds_dat, dtype=np.uint8)
    with open_spikes(reds_dat) as reader:
        assert (reader.num_planes, reader.height, reader.width) == (301, 250, 400)
        planes = reader.read()
        blocks = list(reader.iter_blocks(100))
    assert [len(b) for b in blocks] == [100, 100, 100, 1]
    assert np.array_equal(np.concatenate(blocks), planes)
    # independent decoding of the layout: LSB-first bits, row-major, bottom row first
    bits = np.unpackbits(raw.reshape(301, -1), axis=1, bitorder="little").reshape(301, 250, 400)[:, ::-1]
    assert np.array_equal(planes, bits)
    assert planes.sum() == count_spikes(raw) == 6262439


def test_layout_top_left_pixel_is_in_last_row_bytes(tmp_path: Path) -> None:
    planes = np.zeros((2, 4, 16), dtype=np.uint8)
    planes[0, 0, 0] = 1  # top-left of plane 0
    planes[1, 3, 9] = 1  # bottom row of plane 1, pixel 9
    path = tmp_path / "x.dat"
    with open_writer(path, 4, 16) as writer:
        writer.write(planes)
    raw = path.read_bytes()
    assert len(raw) == 2 * 8
    expected = bytearray(16)
    expected[6] = 0b0000_0001  # plane 0: top row is stored last (bytes 6-7), pixel 0 = bit 0
    expected[8 + 1] = 0b0000_0010  # plane 1: bottom row stored first, pixel 9 = byte 1 bit 1
    assert raw == bytes(expected)


@pytest.mark.parametrize("shape", [(4, 6), (3, 8), (5, 40), (250, 400)])
def test_write_read_round_trip_any_size(tmp_path: Path, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    planes = (rng.random((7, *shape)) < 0.4).astype(np.uint8)
    path = tmp_path / "x.dat"
    with open_writer(path, *shape) as writer:
        writer.write(planes[:3])
        writer.write(planes[3:])
    with open_spikes(path, *shape) as reader:
        assert reader.num_planes == 7
        assert np.array_equal(reader.read(), planes)
        assert np.array_equal(reader.read(2, 5), planes[2:5])


def test_dat_h5_dat_is_byte_identical(reds_dat: Path, tmp_path: Path) -> None:
    convert(reds_dat, tmp_path / "x.h5")
    convert(tmp_path / "x.h5", tmp_path / "x.dat")
    assert (tmp_path / "x.dat").read_bytes() == reds_dat.read_bytes()


def test_truncated_file_is_an_error(reds_dat: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dat"
    cut.write_bytes(reds_dat.read_bytes()[:-1000])
    with pytest.raises(SpikeFormatError, match=r"300 planes \+ 11500 bytes"):
        open_spikes(cut)


@pytest.mark.parametrize("height,width", [(256, 400), (250, 401), (200, 200)])
def test_wrong_size_is_an_error(reds_dat: Path, height: int, width: int) -> None:
    with pytest.raises(SpikeFormatError, match="not a whole number|cannot hold"):
        open_spikes(reds_dat, height, width)


@pytest.mark.parametrize("height,width", [(0, 400), (-250, 400), (3, 3)])
def test_impossible_size_is_an_error(reds_dat: Path, height: int, width: int) -> None:
    with pytest.raises(SpikeFormatError):
        DatReader(reds_dat, height, width)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "e.dat").write_bytes(b"")
    with pytest.raises(SpikeFormatError, match="empty"):
        open_spikes(tmp_path / "e.dat")


def test_file_shrinking_while_read_is_an_error(reds_dat: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.dat"
    path.write_bytes(reds_dat.read_bytes())
    with open_spikes(path) as reader:
        with open(path, "r+b") as f:
            f.truncate(12500 * 10)
        with pytest.raises(SpikeFormatError, match="expected"):
            list(reader.iter_packed_blocks(64))


def test_writer_rejects_wrong_shapes(tmp_path: Path) -> None:
    with open_writer(tmp_path / "x.dat", 4, 8) as writer:
        with pytest.raises(SpikeFormatError):
            writer.write(np.zeros((2, 8, 4), np.uint8))
        with pytest.raises(SpikeFormatError):
            writer.write_packed(np.zeros((2, 5), np.uint8))
    assert (tmp_path / "x.dat").stat().st_size == 0


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(SpikeFormatError, match="unknown spike file type"):
        open_spikes(tmp_path / "x.bin")
