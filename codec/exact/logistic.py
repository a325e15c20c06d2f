"""Integer logistic functions: ``squash`` (stretch domain -> 12-bit probability) and ``stretch``.

The model mixes predictions in the logistic ("stretch") domain,
``stretch(p) = ln(p / (1 - p))``, scaled by 256 and limited to ``[-2047, 2047]``;
probabilities are 12-bit integers (``p / 4096``). Both functions are integer
tables and integer interpolation so that every machine computes the same
probabilities: the encoder and the decoder must agree bit for bit, and floating
point (libm ``exp``, fused multiply-adds) may differ between machines.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: 4096 / (1 + exp(-(i - 16) / 2)) for i = 0..32, rounded and kept in [1, 4095]: the
#: logistic function at every 128th stretch value, fixed here as integers
_KNOTS = np.array(
    [1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048,
     2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095],
    dtype=np.int32,
)
#: stretch values are clipped to [-STRETCH_MAX, STRETCH_MAX]
STRETCH_MAX = 2047


@njit(cache=True)
def squash(d: int) -> int:
    """``4096 / (1 + exp(-d / 256))`` as an integer in ``[1, 4095]`` (``d`` in stretch units)."""
    if d > STRETCH_MAX:
        return 4095
    if d < -STRETCH_MAX:
        return 1
    w = d & 127
    i = (d >> 7) + 16
    return (_KNOTS[i] * (128 - w) + _KNOTS[i + 1] * w + 64) >> 7


def stretch_table() -> np.ndarray:
    """``int32[4096]``: for each 12-bit probability the smallest ``d`` whose
    :func:`squash` reaches it (the inverse of ``squash``)."""
    table = np.empty(4096, dtype=np.int32)
    filled = 0
    for d in range(-STRETCH_MAX, STRETCH_MAX + 1):
        p = squash(d)
        table[filled : p + 1] = d
        filled = max(filled, p + 1)
    table[filled:] = STRETCH_MAX
    return table


#: the inverse of :func:`squash`, indexed by a 12-bit probability
STRETCH = stretch_table()
