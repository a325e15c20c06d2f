"""PKU ``.dat`` spike recordings.

Layout (DESIGN.md): planes back to back, no header. Each plane is ``H*W`` bits,
row-major and **vertically flipped** (the bottom image row comes first), packed 8
pixels per byte least-significant bit first. The plane count is ``file size / (H*W/8)``
and a trailing partial plane is an error. Nothing in the file records ``H`` and ``W``
(default 250x400, the Vidar camera).

The layout has no room for padding, so it holds only sizes with ``H*W`` a multiple of
8 (PKU tools read these files as whole bytes per plane); any other size (250x250 is
62,500 pixels, 7812.5 bytes) is refused with a message pointing to HDF5, which pads
each plane's last byte (:mod:`codec.io.packing`) and records the true size.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.base import SpikeReader, SpikeWriter
from codec.io.packing import pack_planes, pad_bits, plane_bytes, unpack_planes
from codec.options import DEFAULT_HEIGHT, DEFAULT_WIDTH
from codec.sensor import SensorParams


def check_dat_size(height: int, width: int) -> int:
    """Bytes of one ``.dat`` plane of ``height x width`` pixels.

    Raises:
        SpikeFormatError: an empty plane, or ``H*W`` not a multiple of 8 (the layout has no padding).
    """
    nbytes = plane_bytes(height, width)
    if pad_bits(height, width):
        raise SpikeFormatError(
            f".dat cannot hold {height}x{width} planes: the PKU layout packs planes back to back without "
            f"padding, so H*W must be a multiple of 8 ({height}x{width} = {height * width} pixels); "
            "use .h5, which holds any size"
        )
    return nbytes


def flip_packed(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """Flip packed planes vertically (``.dat`` order <-> top-down order; an involution).

    Args:
        packed: ``(t, H*W/8)`` uint8.

    Returns:
        a new contiguous ``(t, H*W/8)`` uint8 array.
    """
    t = packed.shape[0]
    if width % 8 == 0:  # whole rows are whole bytes: flip bytes, no unpacking
        return np.ascontiguousarray(packed.reshape(t, height, width // 8)[:, ::-1]).reshape(t, packed.shape[1])
    return pack_planes(unpack_planes(packed, height, width, flip=True))


class DatReader(SpikeReader):
    """Block reader of a PKU ``.dat`` file (see module docstring).

    Raises:
        SpikeFormatError: empty file, ``H*W`` not a multiple of 8, or a file size
            that is not a whole number of planes (truncated file or wrong H/W).
    """

    format_name = "dat"

    def __init__(self, path: str | Path, height: int | None = None, width: int | None = None) -> None:
        self.path = Path(path)
        self.height = DEFAULT_HEIGHT if height is None else int(height)
        self.width = DEFAULT_WIDTH if width is None else int(width)
        self.sensor = SensorParams()
        nbytes = check_dat_size(self.height, self.width)
        size = os.stat(self.path).st_size
        if size == 0:
            raise SpikeFormatError(f"{self.path.name} is empty")
        if size % nbytes:
            raise SpikeFormatError(
                f"{self.path.name}: {size} bytes is not a whole number of {self.height}x{self.width} planes "
                f"({nbytes} bytes each; {size // nbytes} planes + {size % nbytes} bytes): "
                "truncated file or wrong --height/--width"
            )
        self.num_planes = size // nbytes
        self._file = open(self.path, "rb")

    def read_packed(self, start: int, stop: int) -> np.ndarray:
        return flip_packed(self._read_raw(start, stop), self.height, self.width)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Planes ``start..stop-1`` unpacked and flipped in one pass (see :func:`unpack_planes`)."""
        return unpack_planes(self._read_raw(start, stop), self.height, self.width, flip=True)

    def _read_raw(self, start: int, stop: int | None) -> np.ndarray:
        """Planes ``start..stop-1`` as stored (flipped), ``(n, H*W/8)`` uint8."""
        start, stop = self._clip(start, stop)
        nbytes = self.plane_bytes
        raw = np.empty((stop - start, nbytes), dtype=np.uint8)
        self._file.seek(start * nbytes)
        got = self._file.readinto(raw.data.cast("B"))
        if got != raw.size:
            raise SpikeFormatError(
                f"{self.path.name}: expected {raw.size} bytes at plane {start}, read {got} "
                "(file changed while reading?)"
            )
        return raw

    def close(self) -> None:
        self._file.close()


class DatWriter(SpikeWriter):
    """Writes the exact PKU ``.dat`` layout (no header; sensor parameters are not stored)."""

    def __init__(self, path: str | Path, height: int, width: int, sensor: SensorParams = SensorParams()) -> None:
        check_dat_size(height, width)
        super().__init__(path, height, width, sensor)
        self._file = open(self._partial, "wb")

    def write_packed(self, packed: np.ndarray) -> None:
        packed = self._check_packed(packed)
        self._file.write(flip_packed(packed, self.height, self.width).data)
        self.num_planes += packed.shape[0]

    def _close_file(self) -> None:
        self._file.close()
