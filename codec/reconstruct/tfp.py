"""TFP: texture from playback, the windowed firing rate."""

from __future__ import annotations

import numpy as np

from codec.reconstruct.base import RateReconstructor, to_scene
from codec.reconstruct.packed import window_lookup
from codec.reconstruct.windows import block_extent


class TFP(RateReconstructor):
    """Scene = spikes counted over the ``window``-plane block around the centre / planes counted.

    Args:
        window: ``K`` planes (block ``[c - K//2, c - K//2 + K)``, clipped).
        gain: scene value per unit firing rate (1.0 maps rate 1 to white).
    """

    name = "tfp"

    @property
    def context(self) -> tuple[int, int]:
        return block_extent(self.window)

    def block_rate(self, block: np.ndarray, centre: int) -> np.ndarray:
        """Firing rate (spikes/plane) over the available part of the block."""
        return block.sum(axis=0, dtype=np.float32) / np.float32(len(block))

    def packed_block_scene(self, packed: np.ndarray, centre: int, height: int, width: int) -> np.ndarray:
        """The scene from spike counts on the packed bytes (:mod:`codec.reconstruct.packed`),
        through a table of :meth:`block_rate`'s value for every count."""
        n = len(packed)
        table = to_scene(np.arange(n + 1, dtype=np.float32) / np.float32(n), self.gain)
        out = np.empty(8 * packed.shape[1], dtype=np.float32)  # pad pixels of the last byte included
        window_lookup(packed, table, out)
        return out[: height * width].reshape(height, width)
