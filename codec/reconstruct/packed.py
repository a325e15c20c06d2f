"""TFP and TFI scenes straight from bit-packed planes (numba, one core, no unpacking).

Packed planes are ``(n, B)`` uint8, ``B = ceil(H*W/8)``, pixel ``8*j + b`` in bit ``b`` of
byte ``j`` (:mod:`codec.io.packing`). Scenes come out as ``8*B`` values; when ``H*W`` is not a
multiple of 8 the caller drops the last byte's pad pixels.

Both count per pixel with byte-lane counters: adding the byte mask ``v`` of 8 pixels
is one 64-bit addition of ``spread_bits(v)`` (byte ``b`` = bit ``b`` of ``v``), so every
pixel counts in its own byte lane; after 255 additions the lanes are flushed into
wide counts before they can overflow. Counts then index a ``table`` of float32 scene
values, so the scene is one gather per pixel:

- TFP counts the spikes of the block: ``table[c] = scene(c / n)``.
- TFI counts the planes that separate the centre from its nearest spikes: going back
  from the centre, plane ``s`` counts for every pixel silent over ``[s, c]``; going
  forward, plane ``s`` counts for every pixel silent over ``(c, s]``. That count is
  ``next - prev - 1`` with the conventions of
  :func:`codec.reconstruct.tfi.spike_neighbours`, so ``table[c] = scene(1 / (c + 1))``.
  Each direction stops once every pixel of a tile has met a spike.

A table built by the reconstructor's own float32 operations on every possible count
makes the scenes bit-identical to those of the unpacked planes
(``tests/test_hot_paths.py`` compares them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from codec.io.kernels import spread_bits

#: bytes per tile: its counters (8 bytes of lanes + 64 bytes of wide counts each) stay in L2
TILE = 1024
#: additions a byte lane holds
_LANE_MAX = 255


@njit(cache=True, nogil=True, inline="always")
def _add(lanes: np.ndarray, mask: np.ndarray) -> None:
    """Count the pixels set in ``mask`` (``(w,)`` uint8) in ``lanes`` (``(w,)`` uint64)."""
    for j in range(len(mask)):
        lanes[j] += spread_bits(mask[j])


@njit(cache=True, nogil=True, inline="always")
def _flush(lanes: np.ndarray, counts: np.ndarray) -> None:
    """Move the byte lanes of ``lanes`` ``(w,)`` into ``counts`` ``(8*w,)`` and clear them."""
    low = lanes.view(np.uint8)
    for p in range(len(counts)):
        counts[p] += low[p]
    lanes[:] = 0


@njit(cache=True, nogil=True, inline="always")
def _gather(lanes: np.ndarray, counts: np.ndarray, flushed: bool, table: np.ndarray, out: np.ndarray) -> None:
    """``out[p] = table[count of pixel p]`` (lanes plus, if any were flushed, wide counts)."""
    low = lanes.view(np.uint8)
    if flushed:
        for p in range(len(out)):
            out[p] = table[counts[p] + low[p]]
    else:
        for p in range(len(out)):
            out[p] = table[low[p]]


@njit(cache=True, nogil=True)
def window_lookup(packed: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """TFP: ``out[p] = table[spikes of pixel p over all planes]``.

    Args:
        packed: ``(n, B)`` uint8 packed planes.
        table: ``(n + 1,)`` float32 scene value per count.
        out: ``(8*B,)`` float32.
    """
    planes, nbytes = packed.shape
    lanes = np.empty(TILE, dtype=np.uint64)
    counts = np.empty(8 * TILE, dtype=np.int64)
    for j0 in range(0, nbytes, TILE):
        width = min(TILE, nbytes - j0)
        tile_lanes, tile_counts = lanes[:width], counts[: 8 * width]
        tile_lanes[:] = 0
        tile_counts[:] = 0
        for t in range(planes):
            if t and t % _LANE_MAX == 0:
                _flush(tile_lanes, tile_counts)
            _add(tile_lanes, packed[t, j0 : j0 + width])
        _gather(tile_lanes, tile_counts, planes > _LANE_MAX, table, out[8 * j0 : 8 * (j0 + width)])


@njit(cache=True, nogil=True)
def silence_lookup(packed: np.ndarray, centre: int, table: np.ndarray, out: np.ndarray, last_mask: np.uint8) -> None:
    """TFI: ``out[p] = table[next - prev - 1]`` around plane ``centre`` (module docstring).

    Args:
        packed: ``(n, B)`` uint8 packed planes.
        centre: plane index in ``[0, n)``.
        table: ``(n + 1,)`` float32 scene value per count.
        out: ``(8*B,)`` float32.
        last_mask: the pixels of the last byte (``0xFF`` unless it holds pad bits): pad pixels
            never fire, so they start as met and do not keep the search going to the block's ends.
    """
    planes, nbytes = packed.shape
    lanes = np.empty(TILE, dtype=np.uint64)
    counts = np.empty(8 * TILE, dtype=np.int64)
    silent = np.empty(TILE, dtype=np.uint8)
    for j0 in range(0, nbytes, TILE):
        width = min(TILE, nbytes - j0)
        tile_lanes, tile_counts, tile_silent = lanes[:width], counts[: 8 * width], silent[:width]
        tile_lanes[:] = 0
        tile_counts[:] = 0
        added = 0
        for direction in (-1, 1):
            tile_silent[:] = 0xFF
            if j0 + width == nbytes:
                tile_silent[width - 1] = last_mask
            s = centre if direction < 0 else centre + 1
            while 0 <= s < planes:
                row = packed[s, j0 : j0 + width]
                any_silent = np.uint8(0)
                for j in range(width):
                    tile_silent[j] &= row[j] ^ np.uint8(0xFF)
                    any_silent |= tile_silent[j]
                if not any_silent:
                    break
                if added and added % _LANE_MAX == 0:
                    _flush(tile_lanes, tile_counts)
                _add(tile_lanes, tile_silent)
                added += 1
                s += direction
        _gather(tile_lanes, tile_counts, added > _LANE_MAX, table, out[8 * j0 : 8 * (j0 + width)])
