"""Bit packing of binary spike planes.

Planes travel and rest packed 8 pixels per byte, least-significant bit first
(the PKU ``.dat`` order), row-major within a plane. Everything else in the
project calls these two functions rather than ``numpy.packbits`` directly so the
bit order is decided in one place.
"""

from __future__ import annotations

import numpy as np

from codec.errors import SpikeFormatError

BIT_ORDER = "little"


def plane_bytes(height: int, width: int) -> int:
    """Bytes of one packed plane of ``height x width`` pixels.

    Raises:
        SpikeFormatError: if the plane is empty or ``height*width`` is not a
            multiple of 8 (packed planes never share a byte).
    """
    if height <= 0 or width <= 0:
        raise SpikeFormatError(f"plane size must be positive, got {height}x{width}")
    if (height * width) % 8:
        raise SpikeFormatError(
            f"height*width must be divisible by 8 for packed planes, got {height}x{width}"
        )
    return height * width // 8


def pack_planes(planes: np.ndarray) -> np.ndarray:
    """Pack binary planes.

    Args:
        planes: ``(T, H, W)`` bool or integer array; any non-zero value is a spike.

    Returns:
        ``(T, H*W/8)`` uint8 array, LSB-first within each byte.
    """
    if planes.ndim != 3:
        raise SpikeFormatError(f"expected (T, H, W) planes, got shape {planes.shape}")
    t, h, w = planes.shape
    plane_bytes(h, w)
    # packbits sets a bit for every non-zero element of an integer or bool array: no cast pass
    return np.packbits(planes.reshape(t, h * w), axis=1, bitorder=BIT_ORDER)


def unpack_planes(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_planes`.

    Args:
        packed: ``(T, H*W/8)`` uint8 array (or a flat buffer of whole planes).
        height, width: plane size in pixels.

    Returns:
        ``(T, H, W)`` uint8 array of 0/1.
    """
    nbytes = plane_bytes(height, width)
    flat = np.asarray(packed, dtype=np.uint8).reshape(-1)
    if flat.size % nbytes:
        raise SpikeFormatError(
            f"{flat.size} bytes is not a whole number of {height}x{width} planes ({nbytes} bytes each)"
        )
    # planes never share a byte, so one flat unpack is the same as per-plane unpacks (and faster)
    return np.unpackbits(flat, bitorder=BIT_ORDER).reshape(-1, height, width)


#: number of set bits of every byte value
_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


def count_spikes(packed: np.ndarray) -> int:
    """Number of spikes (set bits) in packed planes of any shape."""
    histogram = np.bincount(np.asarray(packed, dtype=np.uint8).reshape(-1), minlength=256)
    return int(histogram @ _POPCOUNT)
