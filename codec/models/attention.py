"""Spike-oriented attention: SOAM and BiSOAM.

The encoder of a scene may look at the spike planes around the scene's centre.
A ConvLSTM runs over ``steps`` temporal bins of the ``K`` planes before the
centre (SOAM) and, with the same weights, over the planes after the centre in
reversed time (BiSOAM); its last hidden state becomes an attention map ``A``
that modulates the features after the first analysis layer, ``f + f * A``.
Only the encoder uses it: decoding needs no spikes.

::

    spikes (K,H,W) --bin--> (steps,H,W) rates --embed (stride 4)--> ConvLSTM --h_last
    [BiSOAM: after-planes reversed --same embed/ConvLSTM--> h_last']
    h_last [, h_last'] --1x1 conv--> tanh --upsample x2--> A (N, H/2, W/2)

The head is zero-initialised, so an untrained attention is the identity
(``A = 0``) and stage III starts from the pre-trained codec.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


def bin_spikes(spikes: np.ndarray | None, steps: int, reverse: bool = False) -> np.ndarray:
    """Average spike planes into ``steps`` temporal bins of firing rate.

    Args:
        spikes: ``(K, H, W)`` uint8/bool planes in time order (``K`` may be 0 at a
            stream edge; a bin with no planes is all zeros).
        steps: number of bins ``S``.
        reverse: bin the planes in reversed time (for the planes after a centre,
            so that the last bin is the one nearest the centre).

    Returns:
        ``(S, H, W)`` float32 rates in [0, 1] (spikes per plane).
    """
    if spikes.ndim != 3:
        raise ValueError(f"spikes must be (K, H, W), got shape {spikes.shape}")
    if reverse:
        spikes = spikes[::-1]
    out = np.zeros((steps, *spikes.shape[1:]), dtype=np.float32)
    for i, chunk in enumerate(np.array_split(np.arange(spikes.shape[0]), steps)):
        if chunk.size:
            out[i] = spikes[chunk[0] : chunk[-1] + 1].mean(axis=0, dtype=np.float32)
    return out


class ConvLSTMCell(nn.Module):
    """One ConvLSTM layer (Shi et al. 2015): all four gates from one convolution."""

    def __init__(self, in_channels: int, hidden: int, kernel: int = 3):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 4 * hidden, kernel, padding=kernel // 2)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class ConvLSTM(nn.Module):
    """Stacked ConvLSTM layers over a sequence; returns the top layer's last hidden state."""

    def __init__(self, channels: int, layers: int = 1, kernel: int = 3):
        super().__init__()
        self.cells = nn.ModuleList(ConvLSTMCell(channels, channels, kernel) for _ in range(layers))

    def forward(self, seq: Tensor) -> Tensor:
        """``seq`` ``(B, S, C, h, w)`` -> ``(B, C, h, w)``."""
        b, _, c, h, w = seq.shape
        states = [(seq.new_zeros(b, c, h, w), seq.new_zeros(b, c, h, w)) for _ in self.cells]
        top = seq.new_zeros(b, c, h, w)
        for t in range(seq.shape[1]):
            top = seq[:, t]
            for k, cell in enumerate(self.cells):
                states[k] = cell(top, states[k])
                top = states[k][0]
        return top


class SpikeAttention(nn.Module):
    """SOAM (``bidirectional=False``) or BiSOAM attention map from binned spikes.

    Args:
        out_channels: channels ``N`` of the analysis features it modulates.
        hidden: ConvLSTM channels.
        layers: ConvLSTM layers.
        steps: temporal bins ``S`` the spike planes are averaged into.
        bidirectional: also run over the planes after the centre (weights shared)
            and fuse both hidden states with a 1x1 convolution.
    """

    def __init__(self, out_channels: int, hidden: int = 16, layers: int = 1, steps: int = 4,
                 bidirectional: bool = False):
        super().__init__()
        self.steps = steps
        self.bidirectional = bidirectional
        self.embed = nn.Sequential(
            nn.Conv2d(1, hidden, 5, stride=2, padding=2), nn.LeakyReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride=2, padding=1), nn.LeakyReLU(inplace=True),
        )
        self.lstm = ConvLSTM(hidden, layers)
        self.head = nn.Conv2d(hidden * (2 if bidirectional else 1), out_channels, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def _run(self, rates: Tensor) -> Tensor:
        b, s, h, w = rates.shape
        feats = self.embed(rates.reshape(b * s, 1, h, w))
        return self.lstm(feats.reshape(b, s, *feats.shape[1:]))

    def forward(self, before: Tensor, after: Tensor | None = None) -> Tensor:
        """Attention map.

        Args:
            before: ``(B, S, H, W)`` binned rates before the centre (time order).
            after: ``(B, S, H, W)`` binned rates after the centre (reversed time);
                required when bidirectional.

        Returns:
            ``(B, N, H/2, W/2)`` map in (-1, 1).
        """
        hidden = self._run(before)
        if self.bidirectional:
            if after is None:
                raise ValueError("BiSOAM needs the spike planes after the centre")
            hidden = torch.cat([hidden, self._run(after)], dim=1)
        attn = torch.tanh(self.head(hidden))
        return F.interpolate(attn, scale_factor=2, mode="bilinear", align_corners=False)
