"""Binary arithmetic coder (carry-less, 32-bit, 12-bit probabilities), compiled with numba.

The coder keeps an interval ``[x1, x2]`` of 32-bit integers; a bit with
probability ``p/4096`` of being 1 takes the lower part ``[x1, xmid]`` of the
interval (1) or the upper part (0), and leading bytes that ``x1`` and ``x2``
share are shifted out. Integer arithmetic only, so encoder and decoder agree on
every machine. The state lives in a small ``int64`` array so that the compiled
model kernels can share one coder::

    enc = encoder_state()                 dec = decoder_state(payload)
    encode_bit(enc, out, bit, p)          bit = decode_bit(dec, payload, p)
    n = flush(enc, out)   # bytes of out used, or -1 when out was too small

An encoder writes into a preallocated buffer; running past its end does not
raise but marks the state as overflowed (the caller then stores the data raw).
A decoder reads zeros past the end of its payload.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: probabilities are integers in [1, PROB_ONE - 1], P(bit = 1) = p / PROB_ONE
PROB_BITS = 12
PROB_ONE = 1 << PROB_BITS
_MASK = 0xFFFFFFFF
_TOP = 0xFF000000

# encoder state slots: low, high, bytes written, overflow flag
_X1, _X2, _POS, _OVER = 0, 1, 2, 3
# decoder state slots: low, high, bytes read, code value
_X = 3


def encoder_state() -> np.ndarray:
    """A fresh encoder: ``int64[4]`` (low, high, bytes written, overflowed)."""
    return np.array([0, _MASK, 0, 0], dtype=np.int64)


@njit(cache=True)
def _put(state: np.ndarray, out: np.ndarray, byte: int) -> None:
    pos = state[_POS]
    if pos < out.size:
        out[pos] = byte
    else:
        state[_OVER] = 1
    state[_POS] = pos + 1


@njit(cache=True)
def encode_bit(state: np.ndarray, out: np.ndarray, bit: int, p: int) -> None:
    """Code ``bit`` (0/1) whose probability of being 1 is ``p / PROB_ONE``."""
    x1, x2 = state[_X1], state[_X2]
    xmid = x1 + ((x2 - x1) >> PROB_BITS) * p
    if bit:
        x2 = xmid
    else:
        x1 = xmid + 1
    while ((x1 ^ x2) & _TOP) == 0:
        _put(state, out, x2 >> 24)
        x1 = (x1 << 8) & _MASK
        x2 = ((x2 << 8) & _MASK) | 255
    state[_X1], state[_X2] = x1, x2


@njit(cache=True)
def flush(state: np.ndarray, out: np.ndarray) -> int:
    """Write the final four bytes; returns the payload size, or -1 if ``out`` overflowed."""
    x1 = state[_X1]
    for shift in (24, 16, 8, 0):
        _put(state, out, (x1 >> shift) & 255)
    return -1 if state[_OVER] else state[_POS]


@njit(cache=True)
def _get(state: np.ndarray, data: np.ndarray) -> int:
    pos = state[_POS]
    state[_POS] = pos + 1
    return data[pos] if pos < data.size else 0


@njit(cache=True)
def _start(state: np.ndarray, data: np.ndarray) -> None:
    for _ in range(4):
        state[_X] = ((state[_X] << 8) & _MASK) | _get(state, data)


def decoder_state(data: np.ndarray) -> np.ndarray:
    """A decoder positioned at the start of ``data`` (``uint8`` payload of :func:`flush`)."""
    state = np.array([0, _MASK, 0, 0], dtype=np.int64)
    _start(state, data)
    return state


@njit(cache=True)
def decode_bit(state: np.ndarray, data: np.ndarray, p: int) -> int:
    """The next bit, coded with probability ``p / PROB_ONE`` of being 1."""
    x1, x2, x = state[_X1], state[_X2], state[_X]
    xmid = x1 + ((x2 - x1) >> PROB_BITS) * p
    if x <= xmid:
        bit = 1
        x2 = xmid
    else:
        bit = 0
        x1 = xmid + 1
    while ((x1 ^ x2) & _TOP) == 0:
        x1 = (x1 << 8) & _MASK
        x2 = ((x2 << 8) & _MASK) | 255
        x = ((x << 8) & _MASK) | _get(state, data)
    state[_X1], state[_X2], state[_X] = x1, x2, x
    return bit
