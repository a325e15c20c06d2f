"""The numpy implementations the compiled hot paths replaced, kept as their reference.

Tests compare the compiled paths with these bit for bit (``tests/test_hot_paths.py``)
and ``bench.bench_hot_paths`` times them as the "before" figures. Bodies are those of
``codec/simulate/neuron.py`` and ``codec/io`` before numba (commit 2c4bc63), unchanged
but for the method split of the integrate-and-fire inner loops.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np

from codec.io.packing import BIT_ORDER, pack_planes, plane_bytes
from codec.sensor import SensorParams
from codec.simulate.neuron import _FIXED, ANCHOR_PLANES, IntegrateAndFire


class ReferenceIntegrateAndFire(IntegrateAndFire):
    """:class:`IntegrateAndFire` with its inner loops in numpy, array by array."""

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


class ReferenceSensor(SensorParams):
    """Sensor parameters whose neurons are :class:`ReferenceIntegrateAndFire` (the simulator and
    the regenerator build their neurons from the sensor)."""

    neuron_type = ReferenceIntegrateAndFire


def _to_fixed(value: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(value * _FIXED), 0.0, _FIXED - 1).astype(np.int64)


def _ramp_planes(start: np.ndarray, step: np.ndarray, first: int, stop: int) -> Iterator[np.ndarray]:
    plane = np.empty_like(start)
    for k in range(first, stop):
        np.multiply(step, k, out=plane)
        plane += start
        yield plane


def unpack_planes(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(T, H*W/8)`` LSB-first packed planes -> ``(T, H, W)`` uint8 0/1 (``numpy.unpackbits``)."""
    plane_bytes(height, width)
    return np.unpackbits(np.asarray(packed, dtype=np.uint8).reshape(-1), bitorder=BIT_ORDER).reshape(-1, height, width)


def flip_packed(packed: np.ndarray, height: int, width: int) -> np.ndarray:
    """Packed planes flipped vertically (the ``.dat`` row order)."""
    t = packed.shape[0]
    if width % 8 == 0:
        return np.ascontiguousarray(packed.reshape(t, height, width // 8)[:, ::-1]).reshape(t, packed.shape[1])
    return pack_planes(unpack_planes(packed, height, width)[:, ::-1])
