"""The interface every reconstructor follows (see the contract, ``codec/reconstruct``)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.packing import plane_bytes, unpack_planes


class Reconstructor(Protocol):
    """Turns a block of spike planes around a centre plane into a scene.

    ``context = (before, after)``: planes wanted before and after the centre.
    ``reconstruct(planes, centre_index)`` takes ``(n, H, W)`` uint8 planes (possibly
    clipped at the stream's edges) and the centre's index inside them and returns an
    ``(H, W)`` float32 scene in ``[0, 1]``: firing rate (spikes/plane) times ``gain``.
    ``reconstruct_packed(packed, centre_index, height, width)`` does the same from
    ``(n, ceil(H*W/8))`` bit-packed planes and returns the same scene.
    """

    name: str
    gain: float

    @property
    def context(self) -> tuple[int, int]: ...

    def reconstruct(self, planes: np.ndarray, centre_index: int) -> np.ndarray: ...

    def reconstruct_packed(self, packed: np.ndarray, centre_index: int, height: int, width: int) -> np.ndarray: ...


def check_block(planes: np.ndarray, centre_index: int) -> np.ndarray:
    """Validate a ``(n, H, W)`` block and a centre index into it; returns the planes as an array."""
    planes = np.asarray(planes)
    if planes.ndim != 3 or planes.shape[0] == 0:
        raise SpikeFormatError(f"expected a non-empty (n, H, W) block of planes, got shape {planes.shape}")
    if not 0 <= centre_index < planes.shape[0]:
        raise SpikeFormatError(f"centre index {centre_index} outside a block of {planes.shape[0]} planes")
    return planes


def check_packed_block(packed: np.ndarray, centre_index: int, height: int, width: int) -> np.ndarray:
    """Validate a ``(n, ceil(H*W/8))`` uint8 packed block and a centre index into it."""
    packed = np.asarray(packed)
    nbytes = plane_bytes(height, width)
    if packed.ndim != 2 or packed.shape[0] == 0 or packed.shape[1] != nbytes or packed.dtype != np.uint8:
        raise SpikeFormatError(
            f"expected a non-empty (n, {nbytes}) uint8 block of packed {height}x{width} planes, "
            f"got {packed.dtype} {packed.shape}"
        )
    if not 0 <= centre_index < packed.shape[0]:
        raise SpikeFormatError(f"centre index {centre_index} outside a block of {packed.shape[0]} planes")
    return packed


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

    Subclasses set ``name`` and :attr:`context` and implement :meth:`block_rate`, and
    may implement :meth:`packed_block_scene` on bit-packed planes (by default it unpacks).

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

    def packed_block_scene(self, packed: np.ndarray, centre: int, height: int, width: int) -> np.ndarray:
        """The scene of the context ``packed`` ``(n, ceil(H*W/8))`` (here: unpacked, then :meth:`block_rate`)."""
        return to_scene(self.block_rate(unpack_planes(packed, height, width), centre), self.gain)

    def _context(self, centre_index: int) -> tuple[int, int]:
        """``(start, stop)``: the context's planes inside a block whose centre is at ``centre_index``."""
        before, after = self.context
        return max(0, centre_index - before), centre_index + after + 1

    def rate(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """Firing rate at the centre, ``(H, W)`` float32 spikes/plane."""
        planes = check_block(planes, centre_index)
        start, stop = self._context(centre_index)
        return self.block_rate(planes[start:stop], centre_index - start)

    def reconstruct(self, planes: np.ndarray, centre_index: int) -> np.ndarray:
        """``(n, H, W)`` uint8 planes -> ``(H, W)`` float32 scene in ``[0, 1]``."""
        return to_scene(self.rate(planes, centre_index), self.gain)

    def reconstruct_packed(self, packed: np.ndarray, centre_index: int, height: int, width: int) -> np.ndarray:
        """``(n, ceil(H*W/8))`` packed planes -> the scene :meth:`reconstruct` gives on them unpacked."""
        packed = check_packed_block(packed, centre_index, height, width)
        start, stop = self._context(centre_index)
        return self.packed_block_scene(packed[start:stop], centre_index - start, height, width)
