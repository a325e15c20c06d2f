"""Compiled inner loops of :class:`codec.simulate.neuron.IntegrateAndFire` (numba, one core).

Each kernel does pixel by pixel what the numpy code it replaced did plane by plane,
with the same IEEE-754 operations in the same order and precision (numba compiles
without fast-math, so no reassociation and no fused multiply-add): spikes, counts and
membranes are bit-identical to the numpy reference (``bench/reference.py``, compared
in ``tests/test_hot_paths.py``).

Arrays are flattened to pixels: planes ``(T, P)`` and membranes ``(P,)`` with
``P = H*W``. Loops run plane by plane over all pixels (vectorised); the fixed-point
ramp, bound by memory traffic, handles ``BLOCK`` planes per pass so a pixel's membrane
and increment stay in registers between them.

``cache=True`` keeps the machine code beside this file (or in numba's user cache when
the package folder is read-only): only the first call on a machine compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: reset mechanisms as the kernels' integer codes
ZERO, SUBTRACT, MOD = 0, 1, 2
RESET_CODES = {"zero": ZERO, "subtract": SUBTRACT, "mod": MOD}
#: planes per pass of the fixed-point ramp
BLOCK = 8
#: the largest fixed-point increment, ``2**32 - 1`` (one threshold minus one unit)
_FIXED_MAX = float((1 << 32) - 1)
_FIXED = float(1 << 32)
#: ``1.5 * 2**52``: for a whole float64 ``v`` with ``|v| < 2**51``, the low 32 bits of
#: ``v + _WRAP`` are ``v mod 2**32``. The ramp turns its increments into uint32 this way, in
#: a loop that vectorises (AVX2 has no vector float64 -> int64 conversion, and the scalar
#: one dominated the set-up of the short ramps the regenerator feeds).
_WRAP = float(3 << 51)


@njit(cache=True, nogil=True, inline="always")
def _to_fixed(value: float) -> float:
    """``clip(rint(value * 2**32), 0, 2**32 - 1)``: a fixed-point increment as a whole float64."""
    return min(max(np.rint(value * _FIXED), 0.0), _FIXED_MAX)


@njit(cache=True, nogil=True)
def ramp_range(start: np.ndarray, step: np.ndarray, planes: int, scale: float) -> tuple[float, float]:
    """``(low, high)``: the extreme increments of a ramp, in thresholds, 0 included.

    The ramp's first plane gets ``start * scale``, its last ``(start + (planes - 1) * step) * scale``;
    NaN anywhere gives ``(nan, nan)``.
    """
    low = high = 0.0
    for p in range(len(start)):
        first = start[p] * scale
        last = (start[p] + (planes - 1) * step[p]) * scale
        if first != first or last != last:
            return np.nan, np.nan
        low = min(low, first, last)
        high = max(high, first, last)
    return low, high


@njit(cache=True, nogil=True)
def fire_fixed(intensity: np.ndarray, factor, mem: np.ndarray, out: np.ndarray) -> None:
    """Fixed-point integration of arbitrary input: ``A += x; spike = A < x`` (wrapping).

    Args:
        intensity: ``(T, P)`` float input; ``x = clip(rint(intensity * factor), 0, 2**32 - 1)``
            with the product in the input's precision.
        factor: ``alpha / threshold * 2**32`` of the input's dtype.
        mem: ``(P,)`` uint32 membrane in units of ``threshold / 2**32``, updated in place.
        out: ``(T, P)`` uint8 spikes (0/1).
    """
    planes, pixels = intensity.shape
    for t in range(planes):
        source, row = intensity[t], out[t]
        for p in range(pixels):
            scaled = np.rint(np.float64(source[p] * factor))
            if scaled < 0.0:
                scaled = 0.0
            elif scaled > _FIXED_MAX:
                scaled = _FIXED_MAX
            x = np.uint32(scaled)
            total = np.uint32(mem[p] + x)
            mem[p] = total
            row[p] = total < x


@njit(cache=True, nogil=True, inline="always")
def _ramp_step(x: np.uint32, dx: np.uint32, m: np.uint32) -> tuple[np.uint32, np.uint32, np.bool_]:
    """One fixed-point ramp plane of one pixel: ``x += dx; A += x``; fired if ``A`` wrapped."""
    x = np.uint32(x + dx)
    m = np.uint32(m + x)
    return x, m, m < x


@njit(cache=True, nogil=True)
def ramp_fixed(start: np.ndarray, step: np.ndarray, scale: float, anchor: int, planes: int, first_plane: int,
               mem: np.ndarray, out: np.ndarray) -> None:
    """Planes ``first_plane ..`` of a fixed-point ramp of ``planes`` planes: ``A += x; spike = A < x;
    x += dx``, ``x`` re-anchored every ``anchor`` planes counted from the ramp's start.

    Plane ``k`` receives ``first + k * (last - first) / (n - 1)`` thresholds, ``first =
    start * scale`` and ``last = (start + (n - 1) * step) * scale``; at each anchor ``k0``
    the increment restarts from its exact value and steps by the truncated mean slope
    up to the anchor's last plane, so it never leaves the two endpoints. Increments are
    whole numbers below ``2**41`` held in float64 until they become uint32 (exact).

    Args:
        start, step: ``(P,)`` float64 input of the first plane and its change per plane.
        scale: thresholds per unit input (``alpha / threshold``).
        anchor: planes between re-anchored increments.
        planes: ``n``, the ramp's length.
        first_plane: the ramp plane of ``out[0]`` (a block of a longer ramp).
        mem: ``(P,)`` uint32 membrane (units of ``threshold / 2**32``), updated in place.
        out: ``(b, P)`` uint8 spikes of planes ``first_plane .. first_plane + b - 1``.
    """
    pixels = out.shape[1]
    stop = first_plane + out.shape[0]
    span = float(max(planes - 1, 1))
    x = np.empty(pixels, dtype=np.uint32)
    dx = np.empty(pixels, dtype=np.uint32)
    wide_x = np.empty(pixels, dtype=np.float64)
    wide_dx = np.empty(pixels, dtype=np.float64)
    bits_x, bits_dx = wide_x.view(np.uint64), wide_dx.view(np.uint64)
    for k0 in range(first_plane - first_plane % anchor, stop, anchor):
        k1 = min(k0 + anchor, planes)
        begin, end = max(k0, first_plane), min(k1, stop)
        steps = float(max(k1 - k0 - 1, 1))
        back = float(begin - k0 - 1)  # increments from the anchor to the plane before ``begin``
        for p in range(pixels):
            first = start[p] * scale
            slope = ((start[p] + (planes - 1) * step[p]) * scale - first) / span
            x0 = _to_fixed(first + k0 * slope)
            # truncated toward zero; as uint32 (two's complement) adding it wraps to x - |dx|
            delta = np.trunc((_to_fixed(first + (k1 - 1) * slope) - x0) / steps)
            wide_dx[p] = delta + _WRAP
            wide_x[p] = (x0 + back * delta) + _WRAP  # one step before ``begin``: it gets x0 + (begin - k0) dx
        for p in range(pixels):
            dx[p] = np.uint32(bits_dx[p] & 0xFFFFFFFF)
            x[p] = np.uint32(bits_x[p] & 0xFFFFFFFF)
        k = begin
        # BLOCK planes per pass over the pixels: increment and membrane stay in registers
        while k + BLOCK <= end:
            for p in range(pixels):
                xp, mp = x[p], mem[p]
                for j in range(BLOCK):
                    xp, mp, out[k - first_plane + j, p] = _ramp_step(xp, dx[p], mp)
                x[p], mem[p] = xp, mp
            k += BLOCK
        for k in range(k, end):
            for p in range(pixels):
                x[p], mem[p], out[k - first_plane, p] = _ramp_step(x[p], dx[p], mem[p])


@njit(cache=True, nogil=True, inline="always")
def _step(m: float, increment: float, decay: float, theta: float, reset: int, counts: bool) -> tuple[float, np.uint8]:
    """One plane of one pixel: leak, integrate, fire, reset. Returns ``(membrane, output)``.

    The output is the binary spike, or with ``counts`` the thresholds released
    (``zero``/``mod``: ``min(floor(A/theta), 255)``; ``subtract``: the spike).
    """
    m = m * decay + increment
    if reset == MOD:
        level = np.floor(m / theta)
        fired = level > 0.0
        m = m - level * theta
        if m < 0.0:  # rounding of A/theta must not leave A < 0
            m = 0.0
    else:
        fired = m >= theta
        level = np.floor(m / theta) if counts and reset == ZERO else 0.0
        if fired:
            m = m - theta if reset == SUBTRACT else m * 0.0
    if counts and reset != SUBTRACT:
        return m, np.uint8(min(max(level, 0.0), 255.0))
    return m, np.uint8(fired)


@njit(cache=True, nogil=True)
def fire_planes(intensity: np.ndarray, gain, decay: float, theta: float, reset: int, counts: bool,
                mem: np.ndarray, out: np.ndarray) -> None:
    """Plane by plane in float64: ``A = A*decay + intensity*gain``, fire and reset.

    Args:
        intensity: ``(T, P)`` float input.
        gain: membrane per unit input, of the input's dtype (the product is taken in
            the input's precision, then widened to float64).
        decay: leak factor per plane (1.0 without leak).
        theta: threshold.
        reset: ``ZERO``, ``SUBTRACT`` or ``MOD``.
        counts: write released thresholds instead of binary spikes (see :func:`_step`).
        mem: ``(P,)`` float64 membrane, updated in place.
        out: ``(T, P)`` uint8.
    """
    planes, pixels = intensity.shape
    for t in range(planes):
        source, row = intensity[t], out[t]
        for p in range(pixels):
            mem[p], row[p] = _step(mem[p], np.float64(source[p] * gain), decay, theta, reset, counts)


@njit(cache=True, nogil=True)
def fire_ramp(start: np.ndarray, step: np.ndarray, gain: float, decay: float, theta: float, reset: int,
              first_plane: int, mem: np.ndarray, out: np.ndarray) -> None:
    """:func:`fire_planes` (binary spikes) of plane ``k``'s input ``start + k*step``, never materialised.

    Args:
        start, step: ``(P,)`` float64 input of plane 0 and its change per plane.
        first_plane: the ramp plane of ``out[0]``.
        mem: ``(P,)`` float64 membrane, updated in place.
        out: ``(b, P)`` uint8 spikes of planes ``first_plane .. first_plane + b - 1``.
    """
    pixels = out.shape[1]
    for i in range(out.shape[0]):
        k, row = first_plane + i, out[i]
        for p in range(pixels):
            mem[p], row[p] = _step(mem[p], (step[p] * k + start[p]) * gain, decay, theta, reset, False)
