"""The spike model: per-pixel history -> probability of a spike, mixed from adaptive contexts.

For every plane ``t`` and pixel (raster order) the model predicts the bit from
what the decoder already has::

    per-pixel state: s = planes since the last spike, i1, i2, i3 = the last three
                     inter-spike intervals (integrate-and-fire with a steady input
                     fires about every i1 planes; i2, i3 tell jitter from a change),
                     m = running mean interval (1/16 planes, weight 1/4 per spike)
    neighbours:      up, left, up-left, up-right in this plane; the 3x3 block around
                     the pixel in the previous plane
    scene (optional): the decoded scene's value at the pixel (enhancement layer)

    contexts (adaptive probabilities, 16-bit, rate 1/(n + 1.6) up to COUNT_LIMIT):
      c0 = (s, i1)  c1 = (s, i1, i2 - i1)  c2 = (s, i1, i2 - i1, i3 - i1)
      c3 = (s, i1, spikes among the 4 causal neighbours, spikes in the previous 3x3)
      c4 = (s, scene ISI, i1 coarse)                      [scene layer only]
      c5 = (s, m)   c6 = (s, m coarse, phase = s + i1 + i2 - 3m in 1/4 planes)
           (reset by subtraction keeps the phase: a late spike is followed by an early one)
      c7 = (s - i1, i1, i2 - i1)   c8 = (s - m in 1/4 planes, m)
           (the time to the expected spike, exact also where s and i1 are coarse)
      c9 = (s, i1, spikes of the 8 neighbours in their last 7 planes)
      c10 = (s - n in 1/4 planes, n), n = the 8 neighbours' mean of max(i1, s)
           (a moving scene changes a pixel's rate after its neighbours': their latest
           intervals, and how long they have been silent, say what its next interval will be)
    mixers: three logistic mixes of stretch(p_c), trained online, each with weights chosen by
           its own context: (s - i1, i1); (causal neighbour spikes, previous 3x3 spikes);
           the scene ISI (with scenes) or s
    final mixer: mixes the three outputs (in the stretch domain) with weights chosen by s - i1
    APMs:  refine the final mix, one per (s, i1), one per (s - i1, neighbour spikes, previous
           3x3 spikes); p = (2 p_mix + 3 p_apm1 + 3 p_apm2) / 8
    -> binary arithmetic coder (:mod:`codec.exact.arith`)

A context seen for the first time starts from the probability of its parent
(``c1``, ``c3``, ``c4``, ``c5``, ``c7``, ``c9`` from ``c0``; ``c2`` from ``c1``; ``c6``, ``c8``, ``c10``
from ``c5``),
so the large contexts cost little to learn on short recordings. Everything is integer arithmetic
(:mod:`codec.exact.logistic`): encoder and decoder compute the same
probabilities on every machine. Times and intervals are quantised by
:func:`codec.exact.kernel.quantise` (exact below 32 planes, then in steps of 8 up to 160).
The compiled pass is :func:`codec.exact.kernel.code_planes`.
"""

from __future__ import annotations

import numpy as np

from codec.exact.kernel import (
    APM_KNOTS,
    CONTEXT_SIZES,
    LAG_LEVELS,
    LEVELS,
    MIXER_ROWS,
    MIXERS,
    NEIGHBOUR_SETS,
    code_planes,
)
from codec.exact.logistic import STRETCH, squash

#: adaptation of a context's probability slows as 1/(n + 1.6) until n reaches this
COUNT_LIMIT = 255
#: mixer learning rate (weight step per unit of error times input, in 2**-MIXER_SHIFT)
MIXER_RATE = 8
#: APM adaptation: 1 / 2**APM_RATE of the error per update
APM_RATE = 6
#: final mixer learning rate (as MIXER_RATE)
FINAL_RATE = 2
#: contexts in use (bit m = context m; c4 only with scenes)
CONTEXT_MASK = 0b11111111111
#: the knobs the kernel reads; changing them changes the code, so encoder and decoder must agree
PARAMS = np.array([CONTEXT_MASK, MIXER_RATE, APM_RATE, COUNT_LIMIT, FINAL_RATE], dtype=np.int64)
#: initial mixer weight (1/4 in 1/65536)
INITIAL_WEIGHT = 1 << 14
_OFFSETS = np.cumsum((0,) + CONTEXT_SIZES[:-1]).astype(np.int64)
_RECIPROCALS = np.array([int(65536 / (n + 1.6)) for n in range(1024)], dtype=np.int32)


class SpikeModel:
    """Adaptive state of the model for ``(H, W)`` planes; encoder and decoder each keep one.

    Args:
        height, width: plane size in pixels.
        scenes: whether predictions are conditioned on decoded scenes.

    Attributes:
        pixels: ``(6, H*W)`` int32 per-pixel history: planes since the last spike
            (0 = none yet), the last three inter-spike intervals (0 = unknown), their
            running mean in 1/16 planes (0 = unknown), the pixel's bits of the last
            ``HISTORY_PLANES`` planes (newest in bit 0).
        previous: ``(H, W)`` uint8, the last plane coded.
        probs, counts: int32 context tables (probability of a spike in 1/65536, uses).
        weights: ``(MIXER_ROWS, contexts + 1)`` int32 weights of the three mixers in 1/65536
            (the last: bias).
        final_weights: ``(LAG_LEVELS, MIXERS)`` int32 weights of the final mixer in 1/65536.
        apm, apm2: ``(LEVELS*LEVELS, 33)`` and ``(LAG_LEVELS*NEIGHBOUR_SETS, 33)`` int32 APM
            curves in 1/65536.
    """

    def __init__(self, height: int, width: int, scenes: bool = False) -> None:
        self.height, self.width, self.scenes = height, width, scenes
        self.pixels = np.zeros((6, height * width), dtype=np.int32)
        self.previous = np.zeros((height, width), dtype=np.uint8)
        total = sum(CONTEXT_SIZES)
        self.probs = np.full(total, 1 << 15, dtype=np.int32)
        self.counts = np.zeros(total, dtype=np.int32)
        self.weights = np.full((MIXER_ROWS, len(CONTEXT_SIZES) + 1), INITIAL_WEIGHT, dtype=np.int32)
        self.final_weights = np.full((LAG_LEVELS, MIXERS), 65536 // MIXERS, dtype=np.int32)
        knots = np.array([squash((j - 16) * 128) << 4 for j in range(APM_KNOTS)], dtype=np.int32)
        self.apm = np.tile(knots, (LEVELS * LEVELS, 1))
        self.apm2 = np.tile(knots, (LAG_LEVELS * NEIGHBOUR_SETS, 1))

    def code(self, planes: np.ndarray, scenes: np.ndarray, coder: np.ndarray, buffer: np.ndarray,
             decoding: bool, params: np.ndarray | None = None) -> None:
        """Run the model over ``planes`` (``(n, H, W)`` uint8 0/1), coding each bit.

        Args:
            planes: encoding: the planes to code; decoding: filled with the decoded planes.
            scenes: ``(n, H, W)`` uint8 decoded scene values per plane when the model
                is conditioned on scenes, else ignored (any uint8 3-d array).
            coder: :func:`codec.exact.arith.encoder_state` or ``decoder_state``.
            buffer: the encoder's output buffer, or the decoder's payload.
            decoding: decode the bits instead of encoding them.
            params: :data:`PARAMS` (the default) or a variant of it, for tuning.
        """
        code_planes(planes, scenes, self.scenes, decoding, coder, buffer, self.pixels, self.previous, self.probs,
                    self.counts, self.weights, self.final_weights, self.apm, self.apm2, _OFFSETS, STRETCH, _RECIPROCALS,
                    PARAMS if params is None else params)
