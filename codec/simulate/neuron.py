"""Integrate-and-fire neuron array: the camera model and the spike regenerator.

One function of the project turns light into spikes, used by the simulator and
by regeneration on decode (DESIGN.md, "Integrate-and-fire")::

    A += alpha * I(t)                 (per plane, I in scene units, t in planes)
    spike = A >= threshold
    reset: zero      A = 0            (where spiking)
           subtract  A -= threshold
           mod       A = A mod threshold   (error stays below threshold for any I)

With a leak (time constant ``tau`` in planes) the integration follows the LIF
equation ``dA/dt = alpha*I - A/tau`` solved exactly over one plane with I held
constant: ``A = A*exp(-1/tau) + alpha*I*tau*(1 - exp(-1/tau))``. Its steady state
is ``alpha*I*tau``, so inputs below ``threshold/(alpha*tau)`` never fire (the
deadzone), and ``tau -> inf`` gives back ``A += alpha*I``.

Names follow snnTorch (``threshold``, ``reset_mechanism``); calls return spikes
and keep the membrane ``mem`` between calls, so a stream can be fed in blocks.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

ResetMechanism = Literal["zero", "subtract", "mod"]
RESET_MECHANISMS: tuple[str, ...] = ("zero", "subtract", "mod")
INIT_STATES: tuple[str, ...] = ("zero", "uniform")

#: planes integrated together in the closed-form path (bounds float64 scratch memory)
_CHUNK = 64


class IntegrateAndFire:
    """An ``(H, W)`` array of integrate-and-fire pixels with state across calls.

    Args:
        shape: ``(H, W)`` in pixels.
        threshold: firing threshold ``theta`` (> 0).
        alpha: gain from input intensity to membrane increment per plane.
        reset_mechanism: ``"zero"``, ``"subtract"`` or ``"mod"``.
        tau: leak time constant in planes; ``None`` for no leak.
        init: initial membrane, ``"zero"`` or ``"uniform"`` in ``[0, threshold)``.
        seed: seed of the uniform initial state.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        threshold: float = 1.0,
        alpha: float = 1.0,
        reset_mechanism: ResetMechanism = "subtract",
        tau: float | None = None,
        init: str = "zero",
        seed: int = 0,
    ) -> None:
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0, got {threshold}")
        if reset_mechanism not in RESET_MECHANISMS:
            raise ValueError(f"reset_mechanism must be one of {RESET_MECHANISMS}, got {reset_mechanism!r}")
        if init not in INIT_STATES:
            raise ValueError(f"init must be one of {INIT_STATES}, got {init!r}")
        if tau is not None and tau <= 0:
            raise ValueError(f"tau must be > 0 planes, got {tau}")
        self.shape = tuple(shape)
        self.threshold = float(threshold)
        self.alpha = float(alpha)
        self.reset_mechanism = reset_mechanism
        self.tau = tau
        if init == "uniform":
            self.mem = np.random.default_rng(seed).uniform(0.0, self.threshold, self.shape)
        else:
            self.mem = np.zeros(self.shape)

    def __call__(self, intensity: np.ndarray) -> np.ndarray:
        """Integrate ``T`` planes of input and fire.

        Args:
            intensity: ``(T, H, W)`` float array of input intensity per plane
                (non-negative, scene units).

        Returns:
            ``(T, H, W)`` uint8 spikes (0/1). ``self.mem`` holds the membrane
            after the last plane.
        """
        intensity = np.asarray(intensity)
        if intensity.ndim != 3 or intensity.shape[1:] != self.shape:
            raise ValueError(f"expected (T, {self.shape[0]}, {self.shape[1]}) input, got {intensity.shape}")
        if self._closed_form_applies(intensity):
            return self._fire_cumulative(intensity)
        return self._fire_stepwise(intensity)

    def _closed_form_applies(self, intensity: np.ndarray) -> bool:
        """Without leak, ``mod`` is exactly a floor of the running integral; so is
        ``subtract`` while no plane adds more than one threshold."""
        if self.tau is not None:
            return False
        if self.reset_mechanism == "mod":
            return True
        return self.reset_mechanism == "subtract" and self.alpha * float(intensity.max(initial=0.0)) <= self.threshold

    def _fire_cumulative(self, intensity: np.ndarray) -> np.ndarray:
        spikes = np.empty(intensity.shape, dtype=np.uint8)
        for start in range(0, intensity.shape[0], _CHUNK):
            block = intensity[start : start + _CHUNK].astype(np.float64) * (self.alpha / self.threshold)
            level = np.cumsum(block, axis=0)
            level += self.mem / self.threshold
            counts = np.floor(level)
            previous = np.concatenate([np.floor(self.mem / self.threshold)[None], counts[:-1]])
            np.greater(counts, previous, out=spikes[start : start + len(block)])
            self.mem = (level[-1] - counts[-1]) * self.threshold
        return spikes

    def _fire_stepwise(self, intensity: np.ndarray) -> np.ndarray:
        spikes = np.empty(intensity.shape, dtype=np.uint8)
        mem = self.mem
        theta = self.threshold
        if self.tau is None:
            decay, gain = 1.0, self.alpha
        else:
            decay = math.exp(-1.0 / self.tau)
            gain = self.alpha * self.tau * (1.0 - decay)
        for t, plane in enumerate(intensity):
            if decay != 1.0:
                mem *= decay
            mem += gain * plane
            fired = mem >= theta
            spikes[t] = fired
            if self.reset_mechanism == "zero":
                mem[fired] = 0.0
            elif self.reset_mechanism == "subtract":
                mem[fired] -= theta
            else:
                np.fmod(mem, theta, out=mem, where=fired)
        self.mem = mem
        return spikes
