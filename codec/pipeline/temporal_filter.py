"""Motion-compensated temporal filtering of scenes before coding (the idea behind vvenc's MCTF).

A reconstructed scene is a noisy estimate of a slowly changing scene (TFP counts
a few spikes per pixel). Each scene is averaged with its neighbours moved onto
it by block motion, weighted per pixel by how well they match::

    filtered = (scene + sum_n w_n * moved_n) / (1 + sum_n w_n)
    w_n      = strength * exp(-e_n / (4 s2))      e_n: local (8x8) mean squared difference
                                                  s2: the scene's noise variance, estimated as
                                                      half the median e over all neighbours

Where a neighbour matches only up to noise (``e ~ 2 s2``) it gets a weight of
about 0.6; where motion failed (``e >> s2``) about none. The encoder codes the
filtered scenes, so bits are not spent on sampling noise; the decoder is not
involved.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from codec.pipeline.motion import compensate, estimate_motion

#: side of the window over which the match of a neighbour is measured, pixels
MATCH_WINDOW = 8


def _local_mean(values: np.ndarray) -> np.ndarray:
    """``(H, W)`` mean over the ``MATCH_WINDOW``-square around each pixel (edges replicated)."""
    t = torch.from_numpy(values)[None, None]
    pad = MATCH_WINDOW // 2
    t = F.pad(t, (pad, MATCH_WINDOW - 1 - pad, pad, MATCH_WINDOW - 1 - pad), mode="replicate")
    return F.avg_pool2d(t, MATCH_WINDOW, stride=1)[0, 0].numpy()


def filter_scene(scene: np.ndarray, neighbours: list[np.ndarray], strength: float) -> np.ndarray:
    """``scene`` (``(H, W)`` float32 in [0, 1]) averaged with ``neighbours`` moved onto it (module docstring)."""
    if not neighbours or strength <= 0:
        return scene
    moved, errors = [], []
    for other in neighbours:
        reference = np.rint(np.clip(other, 0.0, 1.0) * 255.0).astype(np.uint8)
        prediction = compensate(reference, estimate_motion(reference, scene)).astype(np.float32) / np.float32(255.0)
        moved.append(prediction)
        errors.append(_local_mean((prediction - scene) ** 2))
    noise = max(float(np.median(np.stack(errors))) / 2.0, 1e-8)
    total, weights = scene.astype(np.float32).copy(), np.ones_like(scene, dtype=np.float32)
    for prediction, error in zip(moved, errors):
        weight = (strength * np.exp(-error / (4.0 * noise))).astype(np.float32)
        total += weight * prediction
        weights += weight
    return total / weights


class TemporalFilter:
    """Streaming filter: scenes in by index, filtered scenes out once their neighbours are known.

    Args:
        radius: neighbours on each side (0 disables filtering).
        strength: weight of a neighbour that matches up to noise, before the match factor.
    """

    def __init__(self, radius: int = 1, strength: float = 1.0) -> None:
        self.radius, self.strength = radius, strength
        self._scenes: dict[int, np.ndarray] = {}
        self._next = 0  # first index not yet returned

    def push(self, index: int, scene: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add scene ``index`` (indices arrive in order); returns the ``(index, filtered)`` now ready."""
        self._scenes[index] = scene
        out = []
        while self._next + self.radius <= index:
            out.append(self._emit())
        return out

    def flush(self) -> list[tuple[int, np.ndarray]]:
        """The remaining scenes (the stream ended)."""
        out = []
        while self._next in self._scenes:
            out.append(self._emit())
        return out

    def _emit(self) -> tuple[int, np.ndarray]:
        index = self._next
        neighbours = [self._scenes[i] for i in range(index - self.radius, index + self.radius + 1)
                      if i != index and i in self._scenes]
        filtered = filter_scene(self._scenes[index], neighbours, self.strength)
        self._next += 1
        for old in [i for i in self._scenes if i < self._next - self.radius]:
            del self._scenes[old]
        return index, filtered
