"""Compiled (numba) loops over packed spike bytes (:mod:`codec.io.packing` for the layout)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def spread_bits(byte: np.uint8) -> np.uint64:
    """A packed byte's 8 pixels as the 8 bytes of a uint64, 0 or 1 each: byte ``b`` of the
    result (little-endian, so in memory order) is bit ``b`` of ``byte``.

    Arithmetic instead of a 256-entry table so that loops over bytes vectorise: the byte is
    copied into every lane, lane ``b`` keeps bit ``b`` only, and adding ``0x7F`` carries a
    non-zero lane into its top bit, which becomes the 0/1 pixel.
    """
    lanes = (np.uint64(byte) * np.uint64(0x0101010101010101)) & np.uint64(0x8040201008040201)
    return ((lanes + np.uint64(0x7F7F7F7F7F7F7F7F)) >> np.uint64(7)) & np.uint64(0x0101010101010101)


@njit(cache=True, nogil=True)
def unpack_flipped(packed: np.ndarray, out: np.ndarray) -> None:
    """``(T, H, W/8)`` packed bytes -> ``(T, H, W/8)`` uint64 (8 pixel bytes each), rows reversed."""
    planes, rows, row_bytes = packed.shape
    for t in range(planes):
        for r in range(rows):
            source, target = packed[t, r], out[t, rows - 1 - r]
            for c in range(row_bytes):
                target[c] = spread_bits(source[c])
