"""Gain units (Cui et al., "Asymmetric gained deep image compression", CVPR 2021).

One model serves every rate: each quality level ``i`` owns a per-channel gain
vector applied to the latent before quantization and an inverse-gain vector
applied after it. A non-integer quality interpolates exponentially between the
two neighbouring levels (linearly in log space), so any quality in
``[1, levels]`` is served from the same weights.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn


class GainUnit(nn.Module):
    """Per-level gain and inverse-gain vectors, stored as logs.

    Args:
        channels: latent channels ``C``.
        lambdas: rate-distortion lambdas of the levels, increasing; used only to
            initialise the gains at ``sqrt(lambda / lambda_mid)`` (the
            rate-distortion optimal quantizer step shrinks like ``1/sqrt(lambda)``).
    """

    def __init__(self, channels: int, lambdas: Sequence[float]):
        super().__init__()
        mid = math.sqrt(lambdas[0] * lambdas[-1])
        init = torch.tensor([0.5 * math.log(lam / mid) for lam in lambdas])
        self.log_gain = nn.Parameter(init[:, None].repeat(1, channels))
        self.log_inverse = nn.Parameter(-init[:, None].repeat(1, channels))

    @property
    def levels(self) -> int:
        return self.log_gain.shape[0]

    def _select(self, table: Tensor, level: Tensor | float) -> Tensor:
        """Rows of ``table`` for ``level``: ``(B,)`` int tensor of 0-based levels
        (training) or one float level in ``[0, levels-1]`` (coding).

        Returns ``(B, C, 1, 1)`` or ``(1, C, 1, 1)`` multipliers.
        """
        if isinstance(level, Tensor):
            return torch.exp(table[level])[:, :, None, None]
        if not 0.0 <= level <= self.levels - 1:
            raise ValueError(f"level {level} outside [0, {self.levels - 1}]")
        low = min(int(math.floor(level)), self.levels - 2)
        frac = level - low
        row = table[low] * (1.0 - frac) + table[low + 1] * frac
        return torch.exp(row)[None, :, None, None]

    def gain(self, level: Tensor | float) -> Tensor:
        return self._select(self.log_gain, level)

    def inverse(self, level: Tensor | float) -> Tensor:
        return self._select(self.log_inverse, level)
