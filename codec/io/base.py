"""Reader and writer interfaces shared by every spike file format.

A reader serves planes in blocks so that a recording larger than memory streams
through; a writer appends blocks. Planes in memory are ``(t, H, W)`` uint8 0/1,
top row first; packed planes are ``(t, ceil(H*W/8))`` uint8 in the order of
:mod:`codec.io.packing` (row-major, top row first, LSB-first bytes, each plane's last byte zero-padded).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterator

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.packing import pack_planes, plane_bytes, unpack_planes
from codec.sensor import SensorParams

#: planes per block when iterating
DEFAULT_BLOCK_PLANES = 256


class SpikeReader(ABC):
    """A spike recording opened for reading.

    Attributes:
        path: the file.
        height, width: plane size in pixels.
        num_planes: number of planes ``T`` in the file.
        sensor: sensor parameters stored with the planes (defaults for ``.dat``).
    """

    path: Path
    height: int
    width: int
    num_planes: int
    sensor: SensorParams
    #: short name of the format, e.g. ``"dat"``
    format_name: str

    @property
    def plane_bytes(self) -> int:
        """Bytes of one packed plane."""
        return plane_bytes(self.height, self.width)

    @abstractmethod
    def read_packed(self, start: int, stop: int) -> np.ndarray:
        """Planes ``start..stop-1`` packed, ``(n, ceil(H*W/8))`` uint8 (``stop`` clipped to ``T``)."""

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Planes ``start..stop-1`` unpacked, ``(n, H, W)`` uint8 0/1 (``stop`` clipped to ``T``)."""
        start, stop = self._clip(start, stop)
        return unpack_planes(self.read_packed(start, stop), self.height, self.width)

    def iter_packed_blocks(self, block_planes: int = DEFAULT_BLOCK_PLANES) -> Iterator[np.ndarray]:
        """Yield the whole stream as packed blocks of at most ``block_planes`` planes."""
        if block_planes <= 0:
            raise ValueError(f"block_planes must be positive, got {block_planes}")
        for start in range(0, self.num_planes, block_planes):
            yield self.read_packed(start, min(start + block_planes, self.num_planes))

    def iter_blocks(self, block_planes: int = DEFAULT_BLOCK_PLANES) -> Iterator[np.ndarray]:
        """Yield the whole stream as ``(t, H, W)`` uint8 blocks of at most ``block_planes`` planes."""
        if block_planes <= 0:
            raise ValueError(f"block_planes must be positive, got {block_planes}")
        for start in range(0, self.num_planes, block_planes):
            yield self.read(start, min(start + block_planes, self.num_planes))

    def _clip(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.num_planes if stop is None else min(stop, self.num_planes)
        if start < 0 or start > stop:
            raise SpikeFormatError(f"plane range {start}..{stop} is outside 0..{self.num_planes}")
        return start, stop

    def close(self) -> None:
        """Release the file (idempotent)."""

    def __enter__(self) -> "SpikeReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_planes


class SpikeWriter(ABC):
    """A spike file opened for appending planes.

    Planes go to a hidden partial file beside ``path``; :meth:`close` renames it
    to ``path``, :meth:`abort` (or leaving the ``with`` block by an exception)
    deletes it, so a failed run never leaves a shortened file behind.

    Attributes:
        path, height, width, sensor: as for :class:`SpikeReader`.
        num_planes: planes written so far.
    """

    def __init__(self, path: str | Path, height: int, width: int, sensor: SensorParams) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(2, "No such directory", str(self.path.parent))
        self.height = int(height)
        self.width = int(width)
        self.plane_bytes = plane_bytes(self.height, self.width)
        self.sensor = sensor
        self.num_planes = 0
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self._done = False

    @abstractmethod
    def write_packed(self, packed: np.ndarray) -> None:
        """Append packed planes ``(t, ceil(H*W/8))`` uint8 (canonical order, see module doc)."""

    def write(self, planes: np.ndarray) -> None:
        """Append ``(t, H, W)`` bool/uint8 planes (any non-zero value is a spike)."""
        planes = np.asarray(planes)
        if planes.ndim != 3 or planes.shape[1:] != (self.height, self.width):
            raise SpikeFormatError(
                f"expected (t, {self.height}, {self.width}) planes for {self.path.name}, got {planes.shape}"
            )
        self.write_packed(pack_planes(planes))

    def _check_packed(self, packed: np.ndarray) -> np.ndarray:
        packed = np.asarray(packed)
        if packed.dtype != np.uint8 or packed.ndim != 2 or packed.shape[1] != self.plane_bytes:
            raise SpikeFormatError(
                f"expected (t, {self.plane_bytes}) uint8 packed planes, got {packed.dtype} {packed.shape}"
            )
        return packed

    @abstractmethod
    def _close_file(self) -> None:
        """Flush and close the partial file."""

    def close(self) -> None:
        """Finish the file: flush, close and rename it to ``path`` (idempotent)."""
        if not self._done:
            self._done = True
            self._close_file()
            os.replace(self._partial, self.path)

    def abort(self) -> None:
        """Discard the file (idempotent; no effect after :meth:`close`)."""
        if not self._done:
            self._done = True
            self._close_file()
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> "SpikeWriter":
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
