"""Motion vectors on the wire: block grid, range and their entropy coding (docs/format.md).

A field holds one ``(dy, dx)`` vector in half pixels per ``block`` x ``block`` block;
the encoder picks the block side per scene from :data:`BLOCKS` (large blocks for
smooth motion cost a fraction of the bits).
Each vector is predicted, component by component, by the median of its left, upper
and upper-right neighbours (H.264's predictor; missing neighbours count as the
left one, or zero in the first block). The second field of a B scene (towards
the later reference) is predicted from the first instead, assuming uniform motion:
``to_later ~ -to_earlier * (span - steps) / steps``. The prediction errors are
coded with rANS under a discretised Laplace distribution whose scale the encoder
picks from :data:`SCALES` (one byte), values beyond ``±SUPPORT`` escaping to
CompressAI's bypass code::

    motion   = log2(block) u8 | field
    field    = scale-index u8 | rANS string                          (P)
    bi-field = first-length uvarint | field | scale-index u8 | rANS  (B: the second field's errors)

A still or uniformly moving scene costs a few bytes, where one bit per
component (Exp-Golomb) cost at least 26.
"""

from __future__ import annotations

import functools

import numpy as np
from compressai._CXX import pmf_to_quantized_cdf
from compressai.ans import RansDecoder, RansEncoder

from codec.bitstream.varint import read_uvarint, uvarint
from codec.errors import BitstreamError

#: default block side in pixels (one vector per block), and the sides a stream may use
BLOCK = 32
BLOCKS = (16, 32, 64)
#: largest vector component a stream may hold, half pixels (about 150 pixels)
MAX_VECTOR = 301
#: Laplace scales (in half pixels) an encoder may choose for a field's prediction errors
SCALES = tuple(0.08 * 1.5**i for i in range(16))
#: prediction errors within ±SUPPORT have their own symbol; larger ones escape
SUPPORT = 64
_PRECISION = 16


def grid_shape(height: int, width: int, block: int = BLOCK) -> tuple[int, int]:
    """Blocks per column and per row of an ``height x width`` scene."""
    return -(-height // block), -(-width // block)


@functools.lru_cache(maxsize=None)
def _laplace(scale_index: int) -> tuple[list[int], np.ndarray]:
    """``(quantized CDF with an escape entry, bits of each in-support value)`` of a scale."""
    values = np.arange(-SUPPORT, SUPPORT + 1)
    pmf = np.exp(-np.abs(values) / SCALES[scale_index])
    pmf = pmf / pmf.sum() * (1 - 1e-6)
    cdf = pmf_to_quantized_cdf(list(pmf) + [1e-6], _PRECISION)
    freq = np.maximum(np.diff(np.asarray(cdf, dtype=np.float64)), 1)
    return cdf, -np.log2(freq[:-1] / 2**_PRECISION)


def _encode(errors: np.ndarray) -> bytes:
    """Prediction errors (int) -> scale index byte | rANS string, with the cheapest scale."""
    flat = errors.astype(np.int64).ravel()
    inside = np.clip(flat, -SUPPORT, SUPPORT) + SUPPORT
    escapes = int((np.abs(flat) > SUPPORT).sum())
    costs = [_laplace(i)[1][inside].sum() + escapes * 32 for i in range(len(SCALES))]
    best = int(np.argmin(costs))
    cdf, _ = _laplace(best)
    string = RansEncoder().encode_with_indexes(flat.tolist(), [0] * len(flat), [cdf], [len(cdf)], [-SUPPORT])
    return bytes([best]) + string


def _decode(data: bytes, count: int) -> np.ndarray:
    """Inverse of :func:`_encode`: ``count`` int64 prediction errors."""
    if not data or data[0] >= len(SCALES):
        raise BitstreamError("motion vectors are corrupt: " + ("empty" if not data else f"scale index {data[0]}"))
    cdf, _ = _laplace(data[0])
    values = RansDecoder().decode_with_indexes(bytes(data[1:]), [0] * count, [cdf], [len(cdf)], [-SUPPORT])
    return np.asarray(values, dtype=np.int64)


def _median_prediction(field: np.ndarray) -> np.ndarray:
    """``(hb, wb, 2)`` median-of-neighbours predictions (module docstring); each uses only blocks
    before it in raster order, so a decoder can form it as it goes."""
    out = np.zeros_like(field)
    for i in range(field.shape[0]):
        for j in range(field.shape[1]):
            out[i, j] = _median_prediction_at(field, i, j)
    return out


def _check(field: np.ndarray) -> np.ndarray:
    if np.abs(field).max(initial=0) > MAX_VECTOR:
        raise BitstreamError(f"motion vector beyond ±{MAX_VECTOR} half pixels")
    return field.astype(np.int16)


def _block_code(block: int) -> bytes:
    if block not in BLOCKS:
        raise BitstreamError(f"motion block side {block} is not one of {BLOCKS}")
    return bytes([block.bit_length() - 1])


def _read_block(data: bytes) -> int:
    if not data or 1 << data[0] not in BLOCKS:
        raise BitstreamError("motion vectors are corrupt: " + (f"block code {data[0]}" if data else "empty"))
    return 1 << data[0]


def _pack_field(field: np.ndarray) -> bytes:
    field = field.astype(np.int64)
    return _encode(field - _median_prediction(field))


def _unpack_field(data: bytes, height: int, width: int, block: int) -> np.ndarray:
    hb, wb = grid_shape(height, width, block)
    errors = _decode(data, hb * wb * 2).reshape(hb, wb, 2)
    if np.abs(errors).max(initial=0) > 2 * MAX_VECTOR:
        raise BitstreamError(f"motion vector beyond ±{MAX_VECTOR} half pixels")
    field = np.zeros_like(errors)
    for i in range(hb):  # the prediction needs the decoded neighbours: raster order
        for j in range(wb):
            field[i, j] = _median_prediction_at(field, i, j) + errors[i, j]
    return _check(field)


def pack_motion(field: np.ndarray, block: int = BLOCK) -> bytes:
    """A P scene's ``(hb, wb, 2)`` vectors on ``block``-pixel blocks -> bytes."""
    return _block_code(block) + _pack_field(field)


def unpack_motion(data: bytes, height: int, width: int) -> tuple[np.ndarray, int]:
    """Inverse of :func:`pack_motion` for an ``height x width`` scene: ``((hb, wb, 2) int16, block)``.

    Raises:
        BitstreamError: undecodable data or displacements out of range.
    """
    block = _read_block(data)
    return _unpack_field(data[1:], height, width, block), block


def _median_prediction_at(field: np.ndarray, i: int, j: int) -> np.ndarray:
    """The median prediction of block ``(i, j)`` from the blocks before it in raster order."""
    wb = field.shape[1]
    left = field[i, j - 1] if j else (field[i - 1, j] if i else np.zeros(2, field.dtype))
    if not i:
        return left
    up = field[i - 1, j]
    upright = field[i - 1, j + 1] if j + 1 < wb else field[i - 1, j - 1] if j else up
    return np.median(np.stack([left, up, upright]), axis=0).astype(field.dtype)


def mirrored(to_earlier: np.ndarray, steps: int, span: int) -> np.ndarray:
    """Prediction of a B scene's vectors towards its later reference from those towards the
    earlier one (uniform motion): ``round(-to_earlier * (span - steps) / steps)``, halves up,
    clamped to ``±MAX_VECTOR`` (so every prediction error of a valid field is within
    ``±2 * MAX_VECTOR``, inside the range :func:`unpack_bi_motion` accepts)."""
    prediction = -((2 * (span - steps) * to_earlier.astype(np.int64) + steps) // (2 * steps))
    return np.clip(prediction, -MAX_VECTOR, MAX_VECTOR)


def pack_bi_motion(to_earlier: np.ndarray, to_later: np.ndarray, steps: int, span: int, block: int = BLOCK) -> bytes:
    """A B scene's two fields -> bytes: the first coded like a P field, the second's errors
    against :func:`mirrored` in one more string."""
    first = _pack_field(to_earlier)
    second = _encode(to_later.astype(np.int64) - mirrored(to_earlier, steps, span))
    return _block_code(block) + uvarint(len(first)) + first + second


def unpack_bi_motion(data: bytes, height: int, width: int, steps: int,
                     span: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Inverse of :func:`pack_bi_motion`: ``(to_earlier, to_later, block)``.

    Raises:
        BitstreamError: undecodable data or displacements out of range.
    """
    block = _read_block(data)
    parsed = read_uvarint(data, 1)
    if parsed is None or sum(parsed) > len(data):
        raise BitstreamError(f"B motion truncated: {len(data)} bytes")
    length, start = parsed
    split = start + length
    to_earlier = _unpack_field(data[start:split], height, width, block)
    hb, wb = grid_shape(height, width, block)
    errors = _decode(data[split:], hb * wb * 2).reshape(hb, wb, 2)
    to_later = _check(mirrored(to_earlier, steps, span) + np.clip(errors, -4 * MAX_VECTOR, 4 * MAX_VECTOR))
    return to_earlier, to_later, block
