"""Batches of simulated spikes for the spike-driven stages (II joint, III attention).

Moving scene sequences come from the reconstruction engineer's sampler
(:class:`codec.train.recon_data.SceneSampler`: natural images on a moving path and
DAVIS training videos, ``n = 33`` planes centred on index 16); each sample gets a
random sensor gain and is fired through the camera's integrate-and-fire array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from codec.reconstruct.features import CONTEXT, temporal_features
from codec.sensor import SensorParams
from codec.train.recon_data import SceneSampler


@dataclass
class SpikeBatch:
    """One batch around the centre plane ``c = CONTEXT[0]``.

    Attributes:
        spikes: ``(B, n, h, w)`` uint8 planes.
        features: ``(B, F, h, w)`` reconstruction-network input for the centre.
        target: ``(B, 1, h, w)`` true firing rate of the centre plane (the scene).
    """

    spikes: torch.Tensor
    features: torch.Tensor
    target: torch.Tensor

    @property
    def before(self) -> np.ndarray:
        """``(B, c, h, w)`` planes before the centre, time order."""
        return self.spikes[:, : CONTEXT[0]].numpy()

    @property
    def after(self) -> np.ndarray:
        """``(B, n - c - 1, h, w)`` planes after the centre, time order."""
        return self.spikes[:, CONTEXT[0] + 1 :].numpy()


def fire(scenes: torch.Tensor, rng: np.random.Generator,
         gain: tuple[float, float] = (0.08, 1.0)) -> tuple[torch.Tensor, torch.Tensor]:
    """Fire ``(B, n, h, w)`` scene sequences in [0, 1] through a fresh sensor
    (uniform random membranes), each sample at a random gain.

    Returns:
        ``(spikes, rate)``: ``(B, n, h, w)`` uint8 planes and their float32 true
        firing rates (spikes/plane).
    """
    b, n, h, w = scenes.shape
    rate = scenes * torch.as_tensor(rng.uniform(*gain, size=b), dtype=torch.float32).view(b, 1, 1, 1)
    neurons = SensorParams(init="uniform", seed=int(rng.integers(2**31))).neurons((b * h, w))
    spikes = neurons(rate.permute(1, 0, 2, 3).reshape(n, b * h, w).numpy().astype(np.float64))
    return torch.from_numpy(spikes).view(n, b, h, w).permute(1, 0, 2, 3).contiguous(), rate


def spike_batch(sampler: SceneSampler, rng: np.random.Generator, batch: int, size: int,
                gain: tuple[float, float] = (0.08, 1.0)) -> SpikeBatch:
    """Draw scenes, fire them through a fresh sensor (uniform random membranes)."""
    spikes, rate = fire(sampler.scenes(rng, batch, size), rng, gain)
    c = CONTEXT[0]
    return SpikeBatch(spikes, temporal_features(spikes, c), rate[:, c : c + 1])
