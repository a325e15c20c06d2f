"""The compiled model kernel (numba): one pass over planes that predicts, codes and learns.

The model it implements is described in :mod:`codec.exact.model`, which owns the
state and the tuning knobs (kept out of this file so that tuning them does not
invalidate numba's compiled cache). Structural constants live here: they shape
the contexts, and changing them changes every stream.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from codec.exact.arith import decode_bit, encode_bit
from codec.exact.logistic import squash

#: levels of :func:`quantise` (planes 0..31 exactly, then 8-plane steps; 47 = 160 and above)
LEVELS = 48
#: levels of the quantised mean interval (:func:`mean_level`) and of the phase
MEAN_LEVELS, PHASE_LEVELS = 80, 25
#: planes since the last spike saturate here (keeps the state small on endless streams)
SINCE_CAP = 1 << 16
#: levels of s - i1 (-8..7 and unknown) and of s - m (quarter planes, -4..3.75, and unknown)
LAG_LEVELS, DRIFT_LEVELS = 17, 33
#: planes of the per-pixel spike history the neighbour rate counts, and levels of that rate
#: (spikes of the 8 neighbours in those planes, halved, 28 = 56 and above)
HISTORY_PLANES, RATE_LEVELS = 7, 29
#: sizes of the context tables c0..c10 (see :mod:`codec.exact.model`)
CONTEXT_SIZES = (LEVELS * LEVELS, LEVELS * LEVELS * 8, LEVELS * LEVELS * 64, LEVELS * LEVELS * 50,
                 LEVELS * LEVELS * 8, LEVELS * MEAN_LEVELS, LEVELS * (MEAN_LEVELS // 2) * PHASE_LEVELS,
                 LAG_LEVELS * LEVELS * 8, DRIFT_LEVELS * MEAN_LEVELS, LEVELS * LEVELS * RATE_LEVELS,
                 DRIFT_LEVELS * MEAN_LEVELS)
#: the context a first-seen context takes its probability from
PARENTS = (0, 0, 1, 0, 0, 0, 5, 0, 5, 0, 5)
#: spikes among the low HISTORY_PLANES bits of a history
_SPIKE_COUNTS = np.array([bin(v).count("1") for v in range(1 << HISTORY_PLANES)], dtype=np.int64)
#: mixer weight steps are ``input * error * rate >> MIXER_SHIFT``
MIXER_SHIFT = 14
#: knots of an APM curve (every 128 stretch units)
APM_KNOTS = 33
#: weight sets of the first mixer: 7 x 8 by (s - i1 in -3..3, i1 up to 7), 7 by s with one
#: interval unknown, 1 before the first spike
MIXER_SETS = 64
#: weight sets of the second mixer: 5 x 10 by (spikes among the 4 causal neighbours, spikes in
#: the previous 3x3); the third mixer's are the LEVELS of the scene ISI (with scenes) or of s
NEIGHBOUR_SETS = 50
#: first-layer mixers, and the rows of their weight sets (the three tables one after another)
MIXERS, MIXER_ROWS = 3, MIXER_SETS + NEIGHBOUR_SETS + LEVELS


@njit(cache=True)
def quantise(v: int) -> int:
    """Planes ``v >= 0`` -> level ``0..LEVELS-1``: ``v`` below 32, then ``32 + (v - 32) // 8``."""
    if v < 32:
        return v
    level = 32 + ((v - 32) >> 3)
    return LEVELS - 1 if level >= LEVELS else level


@njit(cache=True)
def mean_level(mean: int) -> int:
    """Mean interval in 1/16 planes -> level: quarter planes below 16 planes, then 4-plane steps."""
    if mean < 256:
        return mean >> 2
    return 64 + min((mean - 256) >> 6, MEAN_LEVELS - 65)


@njit(cache=True)
def _clip(v: int, low: int, high: int) -> int:
    return low if v < low else (high if v > high else v)


@njit(cache=True)
def _drift(since: int, mean: int) -> int:
    """``s - m`` in quarter planes (``m`` in 1/16 planes), -4..3.75 -> 0..31; DRIFT_LEVELS-1 if unknown."""
    return _clip(((since << 4) - mean) >> 2, -16, 15) + 16 if since and mean else DRIFT_LEVELS - 1


@njit(cache=True)
def _learn_apm(apm, curve, knot, frac, target, rate):
    """Move the two knots of ``apm[curve]`` around the input towards ``target`` (16-bit)."""
    apm[curve, knot] += ((target - apm[curve, knot]) >> rate) * (4096 - frac) >> 12
    apm[curve, knot + 1] += ((target - apm[curve, knot + 1]) >> rate) * frac >> 12


@njit(cache=True)
def code_planes(planes, scenes, use_scenes, decoding, coder, buffer, pixels, previous, probs, counts, weights,
                final_weights, apm, apm2, offsets, stretch, reciprocals, params):
    """Predict, code (or decode) and learn every bit of ``planes``; see :mod:`codec.exact.model`.

    Args:
        planes: ``(n, H, W)`` uint8, read when encoding, written when decoding.
        scenes: ``(n, H, W)`` uint8 scene values (read only if ``use_scenes``).
        decoding: decode with ``coder`` from ``buffer`` instead of encoding into it.
        pixels, previous, probs, counts, weights, final_weights, apm, apm2: the model state (updated).
        offsets: ``int64[models]`` start of every context table in ``probs``/``counts``.
        stretch, reciprocals: :data:`codec.exact.logistic.STRETCH`, ``65536 / (n + 1.6)``.
        params: ``int64[5]``: context mask, mixer rate (in 2**-MIXER_SHIFT), APM rate (shift),
            count limit, final mixer rate (in 2**-MIXER_SHIFT).
    """
    n, height, width = planes.shape
    models = len(offsets)
    bias = models
    mask, mixer_rate, apm_rate, count_limit, final_rate = params[0], params[1], params[2], params[3], params[4]
    if not use_scenes:
        mask &= ~(1 << 4)
    ctx = np.zeros(models, dtype=np.int64)
    inputs = np.zeros(models + 1, dtype=np.int32)
    rows = np.zeros(MIXERS, dtype=np.int64)
    mixed = np.zeros(MIXERS, dtype=np.int64)  # each mixer's output, stretch units
    p_mixers = np.zeros(MIXERS, dtype=np.int64)
    for t in range(n):
        for r in range(height):
            for c in range(width):
                p_index = r * width + c
                since = pixels[0, p_index]
                i1, i2, i3, mean = pixels[1, p_index], pixels[2, p_index], pixels[3, p_index], pixels[4, p_index]
                qs, qa = quantise(since), quantise(i1)
                d2 = _clip(i2 - i1, -3, 3) + 3 if i2 > 0 else 7
                d3 = _clip(i3 - i1, -3, 3) + 3 if i3 > 0 else 7
                above = planes[t, r - 1, c] if r > 0 else 0
                left = planes[t, r, c - 1] if c > 0 else 0
                above_left = planes[t, r - 1, c - 1] if r > 0 and c > 0 else 0
                above_right = planes[t, r - 1, c + 1] if r > 0 and c < width - 1 else 0
                before = 0  # spikes of the 3x3 block in the previous plane
                rate = 0  # spikes of the 8 neighbours in their last HISTORY_PLANES planes
                expect, known = 0, 0  # sum and number of the neighbours' max(i1, s)
                for rr in range(max(r - 1, 0), min(r + 2, height)):
                    for cc in range(max(c - 1, 0), min(c + 2, width)):
                        before += previous[rr, cc]
                        q = rr * width + cc
                        if q != p_index:
                            rate += _SPIKE_COUNTS[pixels[5, q]]
                            if pixels[1, q]:
                                expect += max(pixels[1, q], pixels[0, q])
                                known += 1
                base = qs * LEVELS + qa
                ctx[0] = base
                ctx[1] = offsets[1] + base * 8 + d2
                ctx[2] = offsets[2] + (base * 8 + d2) * 8 + d3
                near = (above + left + above_left + above_right) * 10 + before
                ctx[3] = offsets[3] + base * 50 + near
                scene_isi = qs  # without scenes, the third mixer's sets go by s
                if use_scenes:
                    value = np.int64(scenes[t, r, c])
                    scene_isi = quantise((255 + value // 2) // value) if value else LEVELS - 1
                    ctx[4] = offsets[4] + (qs * LEVELS + scene_isi) * 8 + min(qa, 7)
                level = mean_level(mean)
                ctx[5] = offsets[5] + qs * MEAN_LEVELS + level
                phase = _clip(((since + i1 + i2) * 16 - 3 * mean) >> 2, -12, 11) + 12 if i2 and mean else 24
                ctx[6] = offsets[6] + (qs * (MEAN_LEVELS // 2) + (level >> 1)) * PHASE_LEVELS + phase
                lag = _clip(since - i1, -8, 7) + 8 if since and i1 else LAG_LEVELS - 1
                ctx[7] = offsets[7] + (lag * LEVELS + qa) * 8 + d2
                ctx[8] = offsets[8] + _drift(since, mean) * MEAN_LEVELS + level
                ctx[9] = offsets[9] + base * RATE_LEVELS + min(rate >> 1, RATE_LEVELS - 1)
                expect = (expect << 4) // known if known else 0
                ctx[10] = offsets[10] + _drift(since, expect) * MEAN_LEVELS + mean_level(expect)
                for m in range(models):
                    if mask >> m & 1:
                        k = ctx[m]
                        if m and counts[k] == 0:
                            probs[k] = probs[ctx[PARENTS[m]]]
                        inputs[m] = stretch[probs[k] >> 4]
                    else:
                        inputs[m] = 0
                inputs[bias] = 256
                if since:
                    rows[0] = (_clip(since - i1, -3, 3) + 3) * 8 + min(qa, 7) if i1 else 56 + min(qs, 6)
                else:
                    rows[0] = 63
                rows[1] = MIXER_SETS + near
                rows[2] = MIXER_SETS + NEIGHBOUR_SETS + scene_isi
                final_dot = 0
                for j in range(MIXERS):
                    dot = 0
                    for m in range(models + 1):
                        dot += inputs[m] * weights[rows[j], m]
                    mixed[j] = _clip(dot >> 16, -2047, 2047)
                    p_mixers[j] = squash(mixed[j])
                    final_dot += mixed[j] * final_weights[lag, j]
                p_mix = squash(final_dot >> 16)
                z = (stretch[p_mix] + 2048) * 32
                knot, frac = z >> 12, z & 4095
                p_apm = (apm[base, knot] * (4096 - frac) + apm[base, knot + 1] * frac) >> 16
                curve = lag * 50 + near
                p_apm2 = (apm2[curve, knot] * (4096 - frac) + apm2[curve, knot + 1] * frac) >> 16
                p = _clip((2 * p_mix + 3 * p_apm + 3 * p_apm2) >> 3, 1, 4095)
                if decoding:
                    bit = decode_bit(coder, buffer, p)
                    planes[t, r, c] = bit
                else:
                    bit = np.int64(planes[t, r, c])
                    encode_bit(coder, buffer, bit, p)
                # learn
                for j in range(MIXERS):
                    err = ((bit << 12) - p_mixers[j]) * mixer_rate
                    for m in range(models + 1):
                        weights[rows[j], m] += (inputs[m] * err) >> MIXER_SHIFT
                err = ((bit << 12) - p_mix) * final_rate
                for j in range(MIXERS):
                    final_weights[lag, j] += (mixed[j] * err) >> MIXER_SHIFT
                target = bit << 16
                _learn_apm(apm, base, knot, frac, target, apm_rate)
                _learn_apm(apm2, curve, knot, frac, target, apm_rate)
                for m in range(models):
                    if mask >> m & 1:
                        k = ctx[m]
                        probs[k] += ((target - probs[k]) * reciprocals[counts[k]]) >> 16
                        if counts[k] < count_limit:
                            counts[k] += 1
                pixels[5, p_index] = ((pixels[5, p_index] << 1) | bit) & ((1 << HISTORY_PLANES) - 1)
                if bit:
                    if since:
                        pixels[3, p_index], pixels[2, p_index], pixels[1, p_index] = i2, i1, since
                        pixels[4, p_index] = since << 4 if mean == 0 else mean + ((since << 4) - mean >> 2)
                    pixels[0, p_index] = 1
                elif since:
                    pixels[0, p_index] = min(since + 1, SINCE_CAP)
        previous[:, :] = planes[t]
