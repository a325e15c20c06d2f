"""The numpy implementations the compiled hot paths replaced, kept as their reference.

Tests compare the compiled paths with these bit for bit (``tests/test_hot_paths.py``)
and ``bench.bench_hot_paths`` times them as the "before" figures. Bodies are those of
``codec/io`` before numba (commit 2c4bc63); the integrate-and-fire reference is
:mod:`codec.simulate.numpy_neuron`, which the thin client runs.
"""

from __future__ import annotations

import numpy as np

from codec.io.packing import BIT_ORDER, pack_planes, plane_bytes


def unpack_planes(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(T, H*W/8)`` LSB-first packed planes -> ``(T, H, W)`` uint8 0/1 (``numpy.unpackbits``)."""
    plane_bytes(height, width)
    return np.unpackbits(np.asarray(packed, dtype=np.uint8).reshape(-1), bitorder=BIT_ORDER).reshape(-1, height, width)


def flip_packed(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """Packed planes flipped vertically (the ``.dat`` row order)."""
    t = packed.shape[0]
    if width % 8 == 0:
        return np.ascontiguousarray(packed.reshape(t, height, width // 8)[:, ::-1]).reshape(t, packed.shape[1])
    return pack_planes(unpack_planes(packed, height, width)[:, ::-1])
