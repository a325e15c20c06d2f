"""TFI: texture from inter-spike intervals, the firing rate ``1/ISI`` at the centre plane."""

from __future__ import annotations

import numpy as np

from codec.io.packing import pad_bits
from codec.reconstruct.base import RateReconstructor, to_scene
from codec.reconstruct.packed import silence_lookup
from codec.reconstruct.windows import block_extent


def spike_neighbours(planes: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Last spike at or before plane ``t`` and first spike after it, per pixel.

    Args:
        planes: ``(n, H, W)`` 0/1 planes.
        t: plane index in ``[0, n)``.

    Returns:
        ``(prev, next)``, ``(H, W)`` int64 plane indices; ``prev = -1`` where no spike
        at or before ``t``, ``next = n`` where none after it (DESIGN.md, ISI map).
    """
    n = planes.shape[0]
    upto = planes[t::-1].astype(bool, copy=False)
    prev = t - np.argmax(upto, axis=0).astype(np.int64)
    prev[~upto.any(axis=0)] = -1
    after = planes[t + 1 :].astype(bool, copy=False)
    if after.shape[0] == 0:
        return prev, np.full(planes.shape[1:], n, dtype=np.int64)
    nxt = t + 1 + np.argmax(after, axis=0).astype(np.int64)
    nxt[~after.any(axis=0)] = n
    return prev, nxt


class TFI(RateReconstructor):
    """Scene = ``1 / ISI`` at the centre, ISI searched within the ``window``-plane block.

    ``ISI = next - prev`` with the DESIGN.md conventions inside the (clipped) block:
    a pixel without a spike on one side counts the block's edge (``-1`` or ``n``), so
    a silent pixel reads ``1/(n+1)`` and one firing every plane reads 1.

    Args:
        window: ``K`` planes (block ``[c - K//2, c - K//2 + K)``, clipped).
        gain: scene value per unit firing rate.
    """

    name = "tfi"

    @property
    def context(self) -> tuple[int, int]:
        return block_extent(self.window)

    def block_rate(self, block: np.ndarray, centre: int) -> np.ndarray:
        """``1/ISI`` at the centre in spikes/plane."""
        prev, nxt = spike_neighbours(block, centre)
        return (1.0 / (nxt - prev)).astype(np.float32)

    def packed_block_scene(self, packed: np.ndarray, centre: int, height: int, width: int) -> np.ndarray:
        """The scene from silence counts on the packed bytes (:mod:`codec.reconstruct.packed`),
        through a table of :meth:`block_rate`'s value for every count."""
        n = len(packed)
        table = to_scene((1.0 / np.arange(1, n + 2)).astype(np.float32), self.gain)
        out = np.empty(8 * packed.shape[1], dtype=np.float32)  # pad pixels of the last byte included
        silence_lookup(packed, centre, table, out, np.uint8(0xFF >> pad_bits(height, width)))
        return out[: height * width].reshape(height, width)
