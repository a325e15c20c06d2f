"""Clips tiled into one spike stream, and back.

The task benchmark codes a whole labelled set as one stream: clip ``i`` of ``(N, T, h, w)``
is tile ``(i // cols, i % cols)`` of a ``(T, rows*h, cols*w)`` mosaic. One stream per point
instead of ``N`` keeps a stream header and an ffmpeg process per clip out of the figures
(they would dominate the rate of 16x16 clips) and lets every codec see a camera-sized
picture. Coding sees across tile borders as it sees across any edge in a scene; the
classifier sees each clip alone. The grid is exact when ``N`` has a divisor near
``sqrt(N)``; otherwise the last row ends in blank tiles (no spikes), coded with the rest.
"""

from __future__ import annotations

import math

import numpy as np


def grid(n: int) -> tuple[int, int]:
    """``(rows, cols)`` for ``n`` tiles: an exact grid with ``cols`` the divisor of ``n`` nearest
    ``sqrt(n)`` if that is within a factor 2 of it, else ``ceil(sqrt(n))`` columns and blanks."""
    root = math.sqrt(n)
    divisors = [c for c in range(1, n + 1) if n % c == 0 and root / 2 <= c <= 2 * root]
    if divisors:
        cols = min(divisors, key=lambda c: (abs(c - root), c))
        return n // cols, cols
    cols = math.ceil(root)
    return math.ceil(n / cols), cols


def tile(clips: np.ndarray) -> np.ndarray:
    """``(N, T, h, w)`` -> ``(T, rows*h, cols*w)`` mosaic (:func:`grid`; blank tiles are zeros)."""
    n, t, h, w = clips.shape
    rows, cols = grid(n)
    padded = np.zeros((rows * cols, t, h, w), dtype=clips.dtype)
    padded[:n] = clips
    return np.ascontiguousarray(padded.reshape(rows, cols, t, h, w).transpose(2, 0, 3, 1, 4)).reshape(
        t, rows * h, cols * w)


def untile(planes: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """Inverse of :func:`tile`: ``(T, rows*h, cols*w)`` -> the ``(N, T, h, w)`` clips."""
    rows, cols = grid(n)
    t = planes.shape[0]
    if planes.shape[1:] != (rows * h, cols * w):
        raise ValueError(f"a mosaic of {n} tiles of {h}x{w} is {rows * h}x{cols * w}, got {planes.shape[1:]}")
    clips = planes.reshape(t, rows, h, cols, w).transpose(1, 3, 0, 2, 4).reshape(rows * cols, t, h, w)
    return np.ascontiguousarray(clips[:n])
