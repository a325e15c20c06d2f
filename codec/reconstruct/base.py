"""The interface every reconstructor follows (see the contract, ``codec/reconstruct``)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from codec.errors import SpikeFormatError


class Reconstructor(Protocol):
    """Turns a block of spike planes around a centre plane into a scene.

    ``context = (before, after)``: planes wanted before and after the centre.
    ``reconstruct(planes, centre_index)`` takes ``(n, H, W)`` uint8 planes (possibly
    clipped at the stream's edges) and the centre's index inside them and returns an
    ``(H, W)`` float32 scene in ``[0, 1]``: firing rate (spikes/plane) times ``gain``.
    """

    name: str
    gain: float

    @property
    def context(self) -> tuple[int, int]: ...

    def reconstruct(self, planes: np.ndarray, centre_index: int) -> np.ndarray: ...


def check_block(planes: np.ndarray, centre_index: int) -> np.ndarray:
    """Validate a ``(n, H, W)`` block and a centre index into it; returns the planes as an array."""
    planes = np.asarray(planes)
    if planes.ndim != 3 or planes.shape[0] == 0:
        raise SpikeFormatError(f"expected a non-empty (n, H, W) block of planes, got shape {planes.shape}")
    if not 0 <= centre_index < planes.shape[0]:
        raise SpikeFormatError(f"centre index {centre_index} outside a block of {planes.shape[0]} planes")
    return planes


def check_gain(gain: float) -> float:
    """A sensor gain (scene value per unit firing rate) must be positive."""
    if not gain > 0:
        raise SpikeFormatError(f"gain must be > 0, got {gain}")
    return float(gain)


def to_scene(rate: np.ndarray, gain: float) -> np.ndarray:
    """Firing rate (spikes/plane) -> scene: ``clip(rate * gain, 0, 1)`` as float32."""
    return np.clip(np.asarray(rate, dtype=np.float32) * np.float32(gain), 0.0, 1.0)


class RateReconstructor:
    """Common frame of the reconstructors: estimate a firing rate from the planes of
    :attr:`context` around the centre, then scale it by ``gain`` into a scene.

    Subclasses set ``name`` and :attr:`context` and implement :meth:`block_rate`.

    Args:
        window: the scene spacing ``K`` in planes.
        gain: scene value per unit firing rate (1.0 maps rate 1 to white).
    """

    name: str

    def __init__(self, window: int, gain: float = 1.0) -> None:
        self.window = window
        self.gain = check_gain(gain)

    @property
    def context(self) -> tuple[int, int]:
        """``(before, after)``: planes wanted before and after the centre."""
        raise NotImplementedError

    def block_rate(self, block: np.ndarray, centre: int) -> np.ndarray:
        """Firing rate (spikes/plane), ``(H, W)`` float32, from ``block`` ``(n, H, W)``
        (the context, clipped at the stream's edges) with the centre at index ``centre``."""
        raise NotImplementedError

    def rate(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """Firing rate at the centre, ``(H, W)`` float32 spikes/plane."""
        planes = check_block(planes, centre_index)
        before, after = self.context
        start = max(0, centre_index - before)
        return self.block_rate(planes[start : centre_index + after + 1], centre_index - start)

    def reconstruct(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """``(n, H, W)`` uint8 planes -> ``(H, W)`` float32 scene in ``[0, 1]``."""
        return to_scene(self.rate(planes, centre_index), self.gain)
