"""The integrate-and-fire inner loops in numpy, array by array: for a process that does without numba.

:class:`NumpyIntegrateAndFire` fires, counts and ramps bit for bit as
:class:`~codec.simulate.neuron.IntegrateAndFire`, whose loops are the numba kernels of
:mod:`codec.simulate.kernels` (``tests/test_hot_paths.py`` compares them: every reset, with
and without leak, fixed-point and stepwise paths, the simulator and the regenerator). It is
the numpy code those kernels replaced (commit 2c4bc63), kept for two uses: the thin client
simulates its ``synthetic`` and video sources with it (:class:`NumpySensor`), since numba and
the scipy it imports would add about 100 MB to a process that otherwise holds one chunk of
planes; and ``bench.bench_hot_paths`` times it as the "before" figures.

Its fixed-point ramp, the path of a simulated source without leak or noise, runs at about
the speed the client can send at; the leaky and the noisy paths are several times slower
than the kernels. Coding, regeneration and the server stay on the kernels.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np

from codec.sensor import SensorParams
from codec.simulate.neuron import _FIXED, ANCHOR_PLANES, IntegrateAndFire


class NumpyIntegrateAndFire(IntegrateAndFire):
    """:class:`IntegrateAndFire` with its inner loops in numpy, array by array (module docstring)."""

    def _ramp_range(self, start: np.ndarray, step: np.ndarray, num_planes: int, scale: float) -> tuple[float, float]:
        first = start * scale
        last = (start + (num_planes - 1) * step) * scale
        if np.isnan(first).any() or np.isnan(last).any():
            return math.nan, math.nan
        return (min(float(first.min(initial=0.0)), float(last.min(initial=0.0))),
                max(float(first.max(initial=0.0)), float(last.max(initial=0.0))))

    def _fire_fixed(self, intensity: np.ndarray, scale: float) -> np.ndarray:
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

    def _ramp_fixed(self, start: np.ndarray, step: np.ndarray, scale: float, num_planes: int, first_plane: int,
                    out: np.ndarray) -> None:
        n, stop = num_planes, first_plane + len(out)
        first, last = start * scale, (start + (n - 1) * step) * scale
        slope = (last - first) / max(n - 1, 1)
        mem = self._take_fixed()
        flags = out.view(np.bool_)
        for k0 in range(first_plane - first_plane % ANCHOR_PLANES, stop, ANCHOR_PLANES):
            k1 = min(k0 + ANCHOR_PLANES, n)
            x0 = _to_fixed(first + k0 * slope)
            x1 = _to_fixed(first + (k1 - 1) * slope)
            dx = np.trunc((x1 - x0) / max(k1 - k0 - 1, 1)).astype(np.int64)
            begin = max(k0, first_plane)
            x = (x0 + (begin - k0) * dx).astype(np.uint32)
            dx32 = dx.astype(np.uint32)
            moving = bool(dx.any())
            for k in range(begin, min(k1, stop)):
                if k > begin and moving:
                    np.add(x, dx32, out=x)
                np.add(mem, x, out=mem)
                np.less(mem, x, out=flags[k - first_plane])

    def _ramp_stepwise(self, start: np.ndarray, step: np.ndarray, first_plane: int, out: np.ndarray) -> None:
        self._fire_stepwise(_ramp_planes(start, step, first_plane, first_plane + len(out)), counts=False, out=out)

    def _fire_stepwise(self, planes: Iterable[np.ndarray], counts: bool, out: np.ndarray | None = None) -> np.ndarray:
        """As the base class's; ``planes`` may be an iterator of ``(H, W)`` planes when ``out`` is given."""
        if out is None:
            assert isinstance(planes, np.ndarray)  # only a ramp passes an iterator, with its out
            out = np.empty(planes.shape, dtype=np.uint8)
        spikes = out
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
            if self.reset_mechanism == "mod":
                np.divide(mem, theta, out=scratch)
                np.floor(scratch, out=scratch)
                np.greater(scratch, 0.0, out=fired)
                if counts:
                    np.copyto(spikes[t], np.minimum(scratch, 255), casting="unsafe")
                scratch *= theta
                mem -= scratch
                np.maximum(mem, 0.0, out=mem)
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


class NumpySensor(SensorParams):
    """Sensor parameters whose neurons are :class:`NumpyIntegrateAndFire` (the simulator and
    the regenerator build their neurons from the sensor); the same parameters, so the same
    stream header, as :class:`~codec.sensor.SensorParams`."""

    neuron_type = NumpyIntegrateAndFire


def _to_fixed(value: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(value * _FIXED), 0.0, _FIXED - 1).astype(np.int64)


def _ramp_planes(start: np.ndarray, step: np.ndarray, first: int, stop: int) -> Iterator[np.ndarray]:
    plane = np.empty_like(start)
    for k in range(first, stop):
        np.multiply(step, k, out=plane)
        plane += start
        yield plane
