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
(one threshold fires every plane but for one plane in ``2**32``). :meth:`IntegrateAndFire.ramp`
feeds a linearly varying input (keyframes interpolated in time) this way without materialising it.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from codec.options import INIT_STATES, RESET_MECHANISMS, InitialState, ResetMechanism

# codec.simulate.kernels (numba, about 90 MB resident) is imported by the methods that fire
# neurons: SensorParams, which every stream header carries, imports this module. A process that
# does without numba fires codec.simulate.numpy_neuron's subclass (same spikes, in numpy).

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
        self._mem, self._fixed = np.ascontiguousarray(value, dtype=np.float64), None

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
            out: optional C-contiguous ``(n, H, W)`` uint8 array to fill.

        Returns:
            ``(n, H, W)`` uint8 binary spikes, as calling the neurons on the
            materialised ramp would give.
        """
        if out is None:
            out = np.empty((num_planes, *self.shape), dtype=np.uint8)
        for _ in self.ramp_blocks(start, step, num_planes, max(num_planes, 1), out=out):
            pass
        return out

    def ramp_blocks(self, start: np.ndarray, step: np.ndarray, num_planes: int, block_planes: int,
                    out: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """:meth:`ramp` in blocks, so a long ramp never needs ``num_planes`` planes of memory.

        Args:
            start, step, num_planes: as for :meth:`ramp`.
            block_planes: planes per block (the last one may be shorter).
            out: optional C-contiguous ``(num_planes, H, W)`` uint8 array the blocks are
                views of; otherwise each block is a new array.

        Yields:
            ``(b, H, W)`` uint8 spikes, ``b <= block_planes``, in order; the same
            planes :meth:`ramp` returns, bit for bit. The neuron state advances as
            blocks are taken.
        """
        start = np.ascontiguousarray(start, dtype=np.float64)
        step = np.ascontiguousarray(step, dtype=np.float64)
        if start.shape != self.shape or step.shape != self.shape:
            raise ValueError(f"start and step must be {self.shape}, got {start.shape} and {step.shape}")
        if block_planes < 1:
            raise ValueError(f"block_planes must be >= 1, got {block_planes}")
        if out is not None and (out.shape != (num_planes, *self.shape) or out.dtype != np.uint8
                                or not out.flags.c_contiguous):  # the kernels write through flat views
            raise ValueError(f"out must be C-contiguous uint8 {(num_planes, *self.shape)}, got {out.dtype} {out.shape}")
        if num_planes == 0:
            return
        scale = self.alpha / self.threshold
        fixed = self._fast_path_applies(*self._ramp_range(start, step, num_planes, scale))
        for b0 in range(0, num_planes, block_planes):
            b1 = min(b0 + block_planes, num_planes)
            block = np.empty((b1 - b0, *self.shape), dtype=np.uint8) if out is None else out[b0:b1]
            if fixed:
                self._ramp_fixed(start, step, scale, num_planes, b0, block)
            else:
                self._ramp_stepwise(start, step, b0, block)
            yield block

    def _check(self, intensity: np.ndarray) -> np.ndarray:
        intensity = np.asarray(intensity)
        if intensity.ndim != 3 or intensity.shape[1:] != self.shape:
            raise ValueError(f"expected (T, {self.shape[0]}, {self.shape[1]}) input, got {intensity.shape}")
        return intensity

    def _ramp_range(self, start: np.ndarray, step: np.ndarray, num_planes: int, scale: float) -> tuple[float, float]:
        """``(low, high)``: the extreme increments of a ramp in thresholds, 0 included (NaN: ``(nan, nan)``)."""
        from codec.simulate import kernels

        return kernels.ramp_range(start.reshape(-1), step.reshape(-1), num_planes, scale)

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
        from codec.simulate import kernels

        flat, dtype = _pixels(intensity)
        spikes = np.empty(flat.shape, dtype=np.uint8)
        kernels.fire_fixed(flat, dtype(scale * _FIXED), self._take_fixed().reshape(-1), spikes)
        return spikes.reshape(intensity.shape)

    def _ramp_fixed(self, start: np.ndarray, step: np.ndarray, scale: float, num_planes: int, first_plane: int,
                    out: np.ndarray) -> None:
        """Planes ``first_plane ..`` of the fixed-point ramp: ``A += x; spike = A < x; x += dx``.

        The increment is re-anchored every ``ANCHOR_PLANES`` planes (counted from the
        ramp's start, whatever the blocks), so rounding ``dx`` never drifts by more
        than ``ANCHOR_PLANES**2 / 2**33`` thresholds.
        """
        from codec.simulate import kernels

        kernels.ramp_fixed(start.reshape(-1), step.reshape(-1), scale, ANCHOR_PLANES, num_planes, first_plane,
                           self._take_fixed().reshape(-1), out.reshape(len(out), -1))

    def _leak(self) -> tuple[float, float]:
        """``(decay, gain)``: membrane factor per plane and membrane per unit input."""
        if self.tau is None:
            return 1.0, self.alpha
        decay = math.exp(-1.0 / self.tau)
        return decay, self.alpha * self.tau * (1.0 - decay)

    def _fire_stepwise(self, intensity: np.ndarray, counts: bool) -> np.ndarray:
        """Plane by plane in float64: leak, ``zero`` reset, increments above threshold, counts.

        Args:
            intensity: ``(T, H, W)`` input.
            counts: return released thresholds (:meth:`counts`) instead of binary spikes.
        """
        from codec.simulate import kernels

        flat, dtype = _pixels(intensity)
        spikes = np.empty(flat.shape, dtype=np.uint8)
        decay, gain = self._leak()
        mem = self.mem
        kernels.fire_planes(flat, dtype(gain), decay, self.threshold, kernels.RESET_CODES[self.reset_mechanism],
                            counts, mem.reshape(-1), spikes)
        return spikes.reshape(intensity.shape)

    def _ramp_stepwise(self, start: np.ndarray, step: np.ndarray, first_plane: int, out: np.ndarray) -> None:
        """:meth:`_fire_stepwise` of ramp plane ``k``'s input ``start + k*step`` into ``out``
        ``(b, H, W)``, planes ``first_plane .. first_plane + b - 1``."""
        from codec.simulate import kernels

        decay, gain = self._leak()
        kernels.fire_ramp(start.reshape(-1), step.reshape(-1), gain, decay, self.threshold,
                          kernels.RESET_CODES[self.reset_mechanism], first_plane, self.mem.reshape(-1),
                          out.reshape(len(out), -1))


def _pixels(intensity: np.ndarray) -> tuple[np.ndarray, type]:
    """``(T, H, W)`` input as ``(T, H*W)`` and the precision its products are taken in.

    numpy multiplies float32 planes by a Python float in float32 and everything else in
    float64; the kernels keep that so their output equals the numpy reference's.
    """
    dtype = np.float32 if intensity.dtype == np.float32 else np.float64
    return np.asarray(intensity, dtype=dtype).reshape(len(intensity), -1), dtype
