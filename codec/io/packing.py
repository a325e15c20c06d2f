"""Bit packing of binary spike planes.

Planes travel and rest packed 8 pixels per byte, least-significant bit first
(the PKU ``.dat`` order), row-major within a plane: pixel ``k`` of a plane is bit
``k % 8`` of byte ``k // 8``. A packed plane is ``ceil(H*W/8)`` bytes; when ``H*W`` is
not a multiple of 8 the plane's last byte is padded with zero bits, so any ``H x W``
packs and every plane starts on a byte.

Why pad the plane and not each row: for every size that packed before (``H*W`` a
multiple of 8) the bytes stay exactly as they were, so existing ``.h5``, ``.spkc`` and
wire streams keep their layout without a version change; ``pixel k -> bit k`` stays one
formula (column slices of packed planes, the numba kernels over bytes); and a plane
costs at most one extra byte (row padding would cost up to ``H`` bytes, and it would
change the layout of sizes such as 4x250 that pack today).

Pad bits are written as zero and readers of packed bytes refuse planes whose pad bits
are set (:func:`check_padding`), so counting set bits always counts spikes.
Everything else in the project calls these functions rather than ``numpy.packbits``
directly so the bit order and padding are decided in one place.

Unpacking with a vertical flip (reading ``.dat``) is one pass (:func:`unpack_flipped_rows`):
numba's kernel in a process that has numba loaded (the codec stack), one ``numpy.unpackbits``
of the flipped packed rows otherwise, so the thin client reads a ``.dat`` without numba.
"""

from __future__ import annotations

import sys
from typing import Literal

import numpy as np

from codec.errors import SpikeFormatError

BIT_ORDER: Literal["little"] = "little"


def plane_bytes(height: int, width: int) -> int:
    """Bytes of one packed plane of ``height x width`` pixels: ``ceil(H*W/8)``.

    Raises:
        SpikeFormatError: if the plane is empty.
    """
    if height <= 0 or width <= 0:
        raise SpikeFormatError(f"plane size must be positive, got {height}x{width}")
    return -(-height * width // 8)


def pad_bits(height: int, width: int) -> int:
    """Zero bits at the end of every packed ``height x width`` plane (0..7)."""
    return -(height * width) % 8


def check_padding(packed: np.ndarray, height: int, width: int, first: int = 0) -> None:
    """Refuse packed planes ``(t, ceil(H*W/8))`` whose pad bits (the high bits of each plane's
    last byte when ``H*W`` is not a multiple of 8) are not all zero; ``first`` numbers the
    planes in the message.

    Raises:
        SpikeFormatError: a plane with a pad bit set.
    """
    pad = pad_bits(height, width)
    if not pad or not packed.size:
        return
    last = np.asarray(packed).reshape(-1, plane_bytes(height, width))[:, -1]
    bad = np.flatnonzero(last >> np.uint8(8 - pad))
    if bad.size:
        raise SpikeFormatError(
            f"packed {height}x{width} plane {first + bad[0]} has pad bits set (the last {pad} bits of each plane "
            "must be zero)"
        )


def pack_planes(planes: np.ndarray) -> np.ndarray:
    """Pack binary planes.

    Args:
        planes: ``(T, H, W)`` bool or integer array; any non-zero value is a spike.

    Returns:
        ``(T, ceil(H*W/8))`` uint8 array, LSB-first within each byte, pad bits zero.
    """
    if planes.ndim != 3:
        raise SpikeFormatError(f"expected (T, H, W) planes, got shape {planes.shape}")
    t, h, w = planes.shape
    plane_bytes(h, w)
    # packbits sets a bit for every non-zero element of an integer or bool array: no cast pass;
    # along axis 1 it zero-pads each plane's last byte
    return np.packbits(planes.reshape(t, h * w), axis=1, bitorder=BIT_ORDER)


def unpack_planes(packed: np.ndarray, height: int, width: int, flip: bool = False) -> np.ndarray:
    """Inverse of :func:`pack_planes`.

    Args:
        packed: ``(T, ceil(H*W/8))`` uint8 array (or a flat buffer of whole planes).
        height, width: plane size in pixels.
        flip: reverse the rows of every plane (the ``.dat`` order) while unpacking.

    Returns:
        ``(T, H, W)`` uint8 array of 0/1.

    Raises:
        SpikeFormatError: not a whole number of planes, or pad bits set.
    """
    nbytes = plane_bytes(height, width)
    flat = np.asarray(packed, dtype=np.uint8).reshape(-1)
    if flat.size % nbytes:
        raise SpikeFormatError(
            f"{flat.size} bytes is not a whole number of {height}x{width} planes ({nbytes} bytes each)"
        )
    if flip and width % 8 == 0:  # whole rows are whole bytes: reverse them while unpacking
        return unpack_flipped_rows(flat.reshape(-1, height, width // 8), compiled="numba" in sys.modules)
    if pad_bits(height, width):  # each plane's last byte is partly padding: unpack plane by plane
        check_padding(flat, height, width)
        pixels = height * width
        planes = np.unpackbits(flat.reshape(-1, nbytes), axis=1, count=pixels, bitorder=BIT_ORDER)
        planes = planes.reshape(-1, height, width)
    else:  # planes fill whole bytes, so one flat unpack is the same as per-plane unpacks (and faster)
        planes = np.unpackbits(flat, bitorder=BIT_ORDER).reshape(-1, height, width)
    return np.ascontiguousarray(planes[:, ::-1]) if flip else planes


def unpack_flipped_rows(rows: np.ndarray, compiled: bool) -> np.ndarray:
    """``(T, H, W/8)`` packed rows -> ``(T, H, W)`` uint8 pixels (0/1), rows reversed, in one pass.

    Args:
        rows: packed planes whose rows are whole bytes (``W % 8 == 0``).
        compiled: spread the bytes with numba (:func:`codec.io.kernels.unpack_flipped`), about
            10 % less CPU than the numpy pass at 250x400. :func:`unpack_planes` takes it where numba
            is loaded already (encoder, decoder, server: their kernels need it anyway), and the
            numpy pass elsewhere: a thin client reading a ``.dat`` would otherwise import numba,
            and scipy with it, for about 100 MB. Both give the same bytes.
    """
    if compiled:
        from codec.io.kernels import unpack_flipped

        out = np.empty(rows.shape, dtype=np.uint64)
        unpack_flipped(rows, out)
        return out.view(np.uint8).reshape(*rows.shape[:2], rows.shape[2] * 8)
    return np.unpackbits(rows[:, ::-1], axis=2, bitorder=BIT_ORDER)


#: number of set bits of every byte value
_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


def count_spikes(packed: np.ndarray) -> int:
    """Number of spikes (set bits) in packed planes of any shape (pad bits are zero)."""
    histogram = np.bincount(np.asarray(packed, dtype=np.uint8).reshape(-1), minlength=256)
    return int(histogram @ _POPCOUNT)
