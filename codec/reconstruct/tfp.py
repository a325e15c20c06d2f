"""TFP: texture from playback, the windowed firing rate."""

from __future__ import annotations

import numpy as np

from codec.reconstruct.base import check_block, check_gain, to_scene
from codec.reconstruct.windows import block_extent


class TFP:
    """Scene = spikes counted over the ``window``-plane block around the centre / planes counted.

    Args:
        window: ``K`` planes (block ``[c - K//2, c - K//2 + K)``, clipped).
        gain: scene value per unit firing rate (1.0 maps rate 1 to white).
    """

    name = "tfp"

    def __init__(self, window: int, gain: float = 1.0) -> None:
        self.window = window
        self.gain = check_gain(gain)
        self._context = block_extent(window)

    @property
    def context(self) -> tuple[int, int]:
        return self._context

    def rate(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """Firing rate (spikes/plane) over the available part of the block, ``(H, W)`` float32."""
        planes = check_block(planes, centre_index)
        before, after = self._context
        block = planes[max(0, centre_index - before) : centre_index + after + 1]
        return block.sum(axis=0, dtype=np.float32) / np.float32(len(block))

    def reconstruct(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """``(n, H, W)`` uint8 planes -> ``(H, W)`` float32 scene in ``[0, 1]``."""
        return to_scene(self.rate(planes, centre_index), self.gain)
