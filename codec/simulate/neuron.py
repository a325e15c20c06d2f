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

Seen as a quantizer, a plane may release several thresholds at once:
:meth:`IntegrateAndFire.counts` returns that multi-level spike value
(``zero``: ``floor(A/theta)`` then ``A = 0``; ``subtract``: 1 then
``A -= theta``; ``mod``: ``floor(A/theta)`` then ``A mod theta``); a camera plane
carries binary spikes, ``spike = count > 0``. Only ``mod`` keeps the running
quantization error ``sum(alpha*I/theta - count)`` within one threshold for any
input amplitude.

Fast path. Without leak, ``mod`` and ``subtract`` agree while every increment is
at most one threshold, and then the membrane runs in 32-bit fixed point (units of
``threshold / 2**32``): ``A mod theta`` is the wrap-around of ``uint32`` and a
spike is ``A_new < increment`` -- two vector operations per plane. Increments are
rounded to ``threshold / 2**32`` and clipped to ``[0, 1 - 2**-32]`` thresholds
(one threshold fires every plane but for one plane in ``2**32``). :meth:`IntegrateAndFire.ramp` feeds a linearly varying input
(keyframes interpolated in time) this way without materialising it.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np

from codec.options import INIT_STATES, RESET_MECHANISMS, InitialState, ResetMechanism

#: planes between re-anchored increments of the fixed-point ramp
ANCHOR_PLANES = 256
#: increments this close to [0, 1] threshold still take the fast path (clipped;
#: absorbs float32 rounding of interpolated scenes)
_SLACK = 1e-6
#: fixed-point scale: membrane and increments in units of threshold / 2**32
_FIXED = float(1 << 32)


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

    Attributes:
        mem: ``(H, W)`` float64 membrane after the last plane (between fast-path
            calls it is kept in fixed point and converted when read).
    """

    _mem: np.ndarray | None
    _fixed: np.ndarray | None

    def __init__(
        self,
        shape: tuple[int, int],
        threshold: float = 1.0,
        alpha: float = 1.0,
        reset_mechanism: ResetMechanism = "subtract",
        tau: float | None = None,
        init: InitialState = "zero",
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

    @property
    def mem(self) -> np.ndarray:
        if self._mem is None:
            assert self._fixed is not None
            self._mem, self._fixed = self._fixed * (self.threshold / _FIXED), None
        return self._mem

    @mem.setter
    def mem(self, value: np.ndarray) -> None:
        self._mem, self._fixed = np.asarray(value, dtype=np.float64), None

    def __call__(self, intensity: np.ndarray) -> np.ndarray:
        """Integrate ``T`` planes of input and fire.

        Args:
            intensity: ``(T, H, W)`` float array of input intensity per plane
                (non-negative, scene units).

        Returns:
            ``(T, H, W)`` uint8 spikes (0/1). ``self.mem`` holds the membrane
            after the last plane.
        """
        intensity = self._check(intensity)
        scale = self.alpha / self.threshold
        if self._fast_path_applies(intensity.min(initial=0.0) * scale, intensity.max(initial=0.0) * scale):
            return self._fire_fixed(intensity, scale)
        return self._fire_stepwise(intensity, counts=False)

    def counts(self, intensity: np.ndarray) -> np.ndarray:
        """Like calling the neurons, but return the multi-level spike value per plane.

        Returns:
            ``(T, H, W)`` uint8 number of thresholds released per plane (module
            docstring; saturates at 255). ``counts > 0`` are the binary spikes.
        """
        return self._fire_stepwise(self._check(intensity), counts=True)

    def ramp(self, start: np.ndarray, step: np.ndarray, num_planes: int, out: np.ndarray | None = None) -> np.ndarray:
        """Integrate a linear ramp of input: plane ``k`` receives ``start + k*step``.

        Args:
            start: ``(H, W)`` input of the first plane (scene units, >= 0).
            step: ``(H, W)`` change of input per plane.
            num_planes: number of planes ``n``.
            out: optional ``(n, H, W)`` uint8 array to fill.

        Returns:
            ``(n, H, W)`` uint8 binary spikes, as calling the neurons on the
            materialised ramp would give.
        """
        if out is None:
            out = np.empty((num_planes, *self.shape), dtype=np.uint8)
        elif out.shape != (num_planes, *self.shape) or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 {(num_planes, *self.shape)}, got {out.dtype} {out.shape}")
        for _ in self.ramp_blocks(start, step, num_planes, max(num_planes, 1), out=out):
            pass
        return out

    def ramp_blocks(self, start: np.ndarray, step: np.ndarray, num_planes: int, block_planes: int,
                    out: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """:meth:`ramp` in blocks, so a long ramp never needs ``num_planes`` planes of memory.

        Args:
            start, step, num_planes: as for :meth:`ramp`.
            block_planes: planes per block (the last one may be shorter).
            out: optional ``(num_planes, H, W)`` uint8 array the blocks are views of;
                otherwise each block is a new array.

        Yields:
            ``(b, H, W)`` uint8 spikes, ``b <= block_planes``, in order; the same
            planes :meth:`ramp` returns, bit for bit. The neuron state advances as
            blocks are taken.
        """
        start = np.asarray(start, dtype=np.float64)
        step = np.asarray(step, dtype=np.float64)
        if start.shape != self.shape or step.shape != self.shape:
            raise ValueError(f"start and step must be {self.shape}, got {start.shape} and {step.shape}")
        if block_planes < 1:
            raise ValueError(f"block_planes must be >= 1, got {block_planes}")
        if num_planes == 0:
            return

        def blocks() -> Iterator[tuple[int, np.ndarray]]:
            for b0 in range(0, num_planes, block_planes):
                b1 = min(b0 + block_planes, num_planes)
                yield b0, (np.empty((b1 - b0, *self.shape), dtype=np.uint8) if out is None else out[b0:b1])

        scale = self.alpha / self.threshold
        first, last = start * scale, (start + (num_planes - 1) * step) * scale
        low = min(first.min(initial=0.0), last.min(initial=0.0))
        high = max(first.max(initial=0.0), last.max(initial=0.0))
        if self._fast_path_applies(low, high):
            yield from self._ramp_fixed(first, last, num_planes, blocks())
            return
        for b0, block in blocks():
            yield self._fire_stepwise(_ramp_planes(start, step, b0, b0 + len(block)), counts=False, out=block)

    def _check(self, intensity: np.ndarray) -> np.ndarray:
        intensity = np.asarray(intensity)
        if intensity.ndim != 3 or intensity.shape[1:] != self.shape:
            raise ValueError(f"expected (T, {self.shape[0]}, {self.shape[1]}) input, got {intensity.shape}")
        return intensity

    def _fast_path_applies(self, low: float, high: float) -> bool:
        """Fixed point needs no leak, ``mod``/``subtract``, increments in [0, 1]
        threshold and a membrane in [0, threshold)."""
        return (
            self.tau is None
            and self.reset_mechanism != "zero"  # mod and subtract agree below one threshold
            and low >= -_SLACK
            and high <= 1.0 + _SLACK
            and (
                self._fixed is not None
                or (self.mem.min(initial=0.0) >= 0.0 and self.mem.max(initial=0.0) < self.threshold)
            )
        )

    def _take_fixed(self) -> np.ndarray:
        """The membrane in fixed point; the caller updates it in place and hands it back."""
        if self._fixed is None:
            assert self._mem is not None
            self._fixed = np.minimum(np.floor(self._mem * (_FIXED / self.threshold)), _FIXED - 1).astype(np.uint32)
            self._mem = None
        return self._fixed

    def _fire_fixed(self, intensity: np.ndarray, scale: float) -> np.ndarray:
        """Fixed-point integration of arbitrary input (module docstring)."""
        spikes = np.empty(intensity.shape, dtype=np.uint8)
        flags = spikes.view(np.bool_)
        mem = self._take_fixed()
        x = np.empty(self.shape, dtype=np.uint32)
        scaled = np.empty(self.shape, dtype=np.float64)
        for t, plane in enumerate(intensity):
            np.multiply(plane, scale * _FIXED, out=scaled)
            np.rint(scaled, out=scaled)
            np.clip(scaled, 0.0, _FIXED - 1, out=scaled)
            np.copyto(x, scaled, casting="unsafe")
            np.add(mem, x, out=mem)
            np.less(mem, x, out=flags[t])
        return spikes

    def _ramp_fixed(self, first: np.ndarray, last: np.ndarray, n: int,
                    blocks: Iterator[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
        """Fixed-point ramp of ``n`` planes: ``A += x; spike = A < x; x += dx``, filling and
        yielding the ``(first plane, array)`` blocks in turn.

        The increment is re-anchored every ``ANCHOR_PLANES`` planes (counted from the
        ramp's start, whatever the blocks), so rounding ``dx`` never drifts by more
        than ``ANCHOR_PLANES**2 / 2**33`` thresholds.
        """
        slope = (last - first) / max(n - 1, 1)
        b0, block = next(blocks)
        mem = self._take_fixed()
        for k0 in range(0, n, ANCHOR_PLANES):
            k1 = min(k0 + ANCHOR_PLANES, n)
            x0 = self._to_fixed(first + k0 * slope)
            x1 = self._to_fixed(first + (k1 - 1) * slope)
            # truncate toward zero so every increment stays between the two endpoints
            dx = np.trunc((x1 - x0) / max(k1 - k0 - 1, 1)).astype(np.int64)
            x = x0.astype(np.uint32)
            dx32 = dx.astype(np.uint32)  # two's complement: adding it wraps to x - |dx|
            moving = bool(dx.any())
            for k in range(k0, k1):
                if k > k0 and moving:
                    np.add(x, dx32, out=x)
                np.add(mem, x, out=mem)
                np.less(mem, x, out=block[k - b0].view(np.bool_))
                if k - b0 + 1 == len(block):
                    yield block
                    if k + 1 < n:
                        b0, block = next(blocks)
                        mem = self._take_fixed()  # the same array unless ``mem`` was read meanwhile

    @staticmethod
    def _to_fixed(value: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(value * _FIXED), 0.0, _FIXED - 1).astype(np.int64)

    def _fire_stepwise(self, planes: Iterable[np.ndarray], counts: bool, out: np.ndarray | None = None) -> np.ndarray:
        """Plane by plane in float64: leak, ``zero`` reset, increments above threshold, counts.

        Args:
            planes: ``(T, H, W)`` input, or any iterable of ``(H, W)`` planes.
            out: ``(T, H, W)`` uint8 output (allocated from ``planes.shape`` if omitted).
        """
        spikes = np.empty(np.shape(planes), dtype=np.uint8) if out is None else out
        mem = self.mem
        theta = self.threshold
        if self.tau is None:
            decay, gain = 1.0, self.alpha
        else:
            decay = math.exp(-1.0 / self.tau)
            gain = self.alpha * self.tau * (1.0 - decay)
        fired = np.empty(self.shape, dtype=np.bool_)
        scratch = np.empty(self.shape)
        for t, plane in enumerate(planes):
            if decay != 1.0:
                mem *= decay
            np.multiply(plane, gain, out=scratch)
            mem += scratch
            if self.reset_mechanism == "mod":  # release floor(A/theta) thresholds
                np.divide(mem, theta, out=scratch)
                np.floor(scratch, out=scratch)
                np.greater(scratch, 0.0, out=fired)
                if counts:
                    np.copyto(spikes[t], np.minimum(scratch, 255), casting="unsafe")
                scratch *= theta
                mem -= scratch
                np.maximum(mem, 0.0, out=mem)  # rounding of A/theta must not leave A < 0
            else:
                np.greater_equal(mem, theta, out=fired)
                if counts and self.reset_mechanism == "zero":
                    np.divide(mem, theta, out=scratch)
                    np.floor(scratch, out=scratch)
                    np.copyto(spikes[t], np.minimum(scratch, 255), casting="unsafe")
                if self.reset_mechanism == "subtract":
                    np.multiply(fired, theta, out=scratch)
                    mem -= scratch
                else:
                    np.logical_not(fired, out=fired)
                    mem *= fired
                    np.logical_not(fired, out=fired)
            if not counts or self.reset_mechanism == "subtract":
                np.copyto(spikes[t], fired)
        self.mem = mem
        return spikes


def _ramp_planes(start: np.ndarray, step: np.ndarray, first: int, stop: int) -> Iterator[np.ndarray]:
    """``start + k*step`` for ``first <= k < stop``, one reused ``(H, W)`` buffer."""
    plane = np.empty_like(start)
    for k in range(first, stop):
        np.multiply(step, k, out=plane)
        plane += start
        yield plane
