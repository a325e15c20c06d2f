"""What the classifier sees of a spike clip: a view turns ``(N, T, H, W)`` spikes into
``(N, C, H, W)`` float32 network inputs.

- ``tfp`` (the default, one channel): the TFP scene (:class:`codec.reconstruct.tfp.TFP`,
  the windowed firing rate) over the middle ``window`` planes of the clip (``0``: all of
  them). It is the same reconstruction for every curve, applied to whatever spikes a
  decoder returns, and it is what a user's recognition network for a spike camera
  usually starts from (a scene), so the accuracy measures what the codec keeps of the
  scene content. The shipped digits classifier reads this view.
- ``planes``: the spike planes themselves, as the firing rate in ``window`` equal time
  bins (one channel per bin) -- the input of a small convolutional network on the spikes,
  which also sees timing; train one with ``spikecodec train --stage classifier --view planes``.

A new view is one function in :data:`VIEWS`; the classifier records which it was trained on.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from codec.errors import SpikecodecError
from codec.reconstruct import get_reconstructor
from codec.task.options import View


def tfp_view(spikes: np.ndarray, window: int) -> np.ndarray:
    """``(N, 1, H, W)`` TFP scenes of the middle ``window`` planes (``0``: all ``T``), centre plane ``T // 2``."""
    n, t, h, w = spikes.shape
    k = t if window == 0 else min(window, t)
    # TFP works pixel by pixel: the clips side by side in one (T, N*H, W) block give the same scenes at once
    side_by_side = np.ascontiguousarray(spikes.transpose(1, 0, 2, 3)).reshape(t, n * h, w)
    scenes = get_reconstructor("tfp", k).reconstruct(side_by_side, t // 2)
    return scenes.reshape(n, 1, h, w)


def planes_view(spikes: np.ndarray, window: int) -> np.ndarray:
    """``(N, window, H, W)`` firing rates in ``window`` equal time bins of the clip (``0``: 4 bins)."""
    n, t, h, w = spikes.shape
    bins = min(window or 4, t)
    edges = np.linspace(0, t, bins + 1).round().astype(int)
    return np.stack([spikes[:, a:b].mean(axis=1, dtype=np.float32) for a, b in zip(edges, edges[1:])], axis=1)


#: view name -> ``view(spikes (N, T, H, W) uint8, window) -> (N, C, H, W) float32``
VIEWS: dict[View, Callable[[np.ndarray, int], np.ndarray]] = {"tfp": tfp_view, "planes": planes_view}


def apply_view(view: str, spikes: np.ndarray, window: int) -> np.ndarray:
    """``VIEWS[view](spikes, window)``.

    Raises:
        SpikecodecError: unknown view or negative window.
    """
    if view not in VIEWS:
        raise SpikecodecError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    if window < 0:
        raise SpikecodecError(f"view window must be >= 0 planes, got {window}")
    return VIEWS[view](np.asarray(spikes, dtype=np.uint8), window)
