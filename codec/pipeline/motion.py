"""Block motion: estimate and apply half-pixel motion vectors between two scenes.

A predicted scene is its reference (a decoded 8-bit scene) moved block by block,
one vector per ``BLOCK`` x ``BLOCK`` pixels, borders edge-replicated, with
overlapped blocks (:func:`compensate`): each pixel mixes the predictions of the
four nearest block vectors, so the prediction has no block seams for the learned
residual codec to spend bits on. Half-pixel samples are bilinear averages in
integer arithmetic (``(a + b + 1) >> 1``, ``(a + b + c + d + 2) >> 2``, as in
H.263), so encoder and decoder predict bit-identically; a half-pixel sample also
averages away some of the reference's noise.

Estimation searches plain blocks on a pyramid of average-pooled scenes: a full
search of ``±TOP_RADIUS`` pixels at ``1/2**LEVELS`` resolution (where each block is
matched over a window of at least ``MIN_WINDOW`` pixels around it, so small
coarse blocks still match reliably), then ``±REFINE_RADIUS`` around the doubled
vector at each finer level, then the eight half-pixel neighbours of the best
integer vector: displacements of more than a hundred pixels are found for the cost
of a few small searches. The vectors' wire format is in :mod:`codec.bitstream.vectors`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from codec.bitstream.vectors import BLOCK, MAX_VECTOR, grid_shape, pack_motion, unpack_motion

__all__ = ["BLOCK", "MAX_VECTOR", "compensate", "derive_motion", "estimate_motion", "grid_shape", "pack_motion",
           "unpack_motion"]

#: the searches whose per-block best is kept: (pyramid levels below full resolution, radius of
#: the full search at the coarsest level in its pixels); the first finds large displacements,
#: the second is more reliable for small ones
SEARCHES = ((3, 16), (1, 10))
#: search radius around the doubled vector at each finer level, pixels of that level
REFINE_RADIUS = 2
#: smallest matching window of a block at a coarse level, pixels of that level
MIN_WINDOW = 8
#: largest integer displacement the search finds, pixels
MAX_DISPLACEMENT = max(radius * 2**levels + REFINE_RADIUS * (2**levels - 1) for levels, radius in SEARCHES)
assert 2 * MAX_DISPLACEMENT + 1 <= MAX_VECTOR, "the search finds vectors the format cannot hold"
#: edge replication around the reference for compensation, pixels (covers MAX_VECTOR)
_MARGIN = MAX_VECTOR // 2 + 1
#: half-pixel steps tried around the integer vector, the integer vector first (it wins ties)
_HALF_STEPS = ((0, 0), (-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
#: overlapped compensation: weight (in 64ths) of the lower/right block for a pixel ``t`` pixels
#: past the centre of the block above/left of it, ``round(64 sin^2(pi (t + 0.5) / (2 BLOCK)))``;
#: the other block takes the rest
_RAMP_SCALE = 64


@functools.lru_cache(maxsize=None)
def _ramp(block: int) -> np.ndarray:
    """``(block,)`` int32 overlap weights in 64ths (see :func:`compensate`)."""
    return np.rint(_RAMP_SCALE * np.sin(np.pi * (np.arange(block) + 0.5) / (2 * block)) ** 2).astype(np.int32)
#: a displacement of ``d`` pixels (L1, half pixels count half) costs ``LENGTH_PENALTY * d`` in mean
#: absolute difference (8-bit units): only a tie-breaker towards short vectors (larger penalties
#: cost bits and PSNR on DAVIS and REDS)
LENGTH_PENALTY = 0.02


def _padded(reference: torch.Tensor, height: int, width: int, margin: int, block: int = BLOCK) -> torch.Tensor:
    """``(H, W)`` reference edge-padded by ``margin`` on every side plus the block remainder."""
    hb, wb = grid_shape(height, width, block)
    pad = (margin, margin + wb * block - width, margin, margin + hb * block - height)
    return F.pad(reference[None, None], pad, mode="replicate")[0, 0]


def _block_patches(image: torch.Tensor, origins: torch.Tensor, size: int) -> torch.Tensor:
    """``(n, size, size)`` patches of ``image`` whose top-left corners are ``origins`` ``(n, 2)``."""
    offs = torch.arange(size)
    rows = (origins[:, 0, None] + offs)[:, :, None]
    cols = (origins[:, 1, None] + offs)[:, None, :]
    return image[rows, cols]


def _best_offsets(cost: torch.Tensor, radius: int, scale: int = 1) -> torch.Tensor:
    """``(n, side, side)`` mean absolute differences of offsets ``0..2*radius`` -> ``(n, 2)`` best
    offsets after the length penalty (``scale`` full-resolution pixels per offset step); ties go to
    the first offset in raster order."""
    side = 2 * radius + 1
    steps = (torch.arange(side) - radius).abs()
    penalty = LENGTH_PENALTY * scale * (steps[:, None] + steps[None, :]).float()
    best = (cost + penalty).flatten(1).argmin(dim=1)
    return torch.stack([best // side, best % side], dim=1)


def _block_search(current: torch.Tensor, candidates: torch.Tensor, radius: int, scale: int = 1) -> torch.Tensor:
    """Best ``(n, 2)`` offsets in ``[0, 2*radius]`` of ``(n, w, w)`` windows inside their own
    ``(n, w + 2*radius, w + 2*radius)`` candidate areas (``scale``: as for :func:`_best_offsets`)."""
    window = current.shape[-1]
    views = candidates.unfold(1, window, 1).unfold(2, window, 1)  # (n, side, side, w, w) view
    cost = (views - current[:, None, None]).abs_().mean(dim=(3, 4))
    return _best_offsets(cost, radius, scale)


def _pyramid_search(reference: torch.Tensor, current: torch.Tensor, levels: int, top_radius: int,
                    block: int) -> torch.Tensor:
    """Integer vectors ``(n, 2)`` (pixels) of the blocks of ``current`` in ``reference`` found by one
    pyramid search (module docstring); arguments as for :func:`_integer_search`."""
    hb, wb = current.shape[0] // block, current.shape[1] // block
    ii, jj = torch.meshgrid(torch.arange(hb), torch.arange(wb), indexing="ij")
    centres = (torch.stack([ii.flatten(), jj.flatten()], dim=1) * block + block // 2).long()  # full-res pixels
    vectors = torch.zeros(hb * wb, 2, dtype=torch.long)
    for level in range(levels, -1, -1):
        scale = 2**level
        window = max(block // scale, MIN_WINDOW) if level else block
        radius = top_radius if level == levels else REFINE_RADIUS
        pad = window // 2 + MAX_DISPLACEMENT // scale + radius + 1
        ref = F.pad(reference[None, None], (pad * scale,) * 4, mode="replicate")
        cur = F.pad(current[None, None], (pad * scale,) * 4, mode="replicate")
        if scale > 1:
            ref, cur = F.avg_pool2d(ref, scale), F.avg_pool2d(cur, scale)
        corners = centres // scale - window // 2 + pad  # window top-left in the padded level
        best = _block_search(_block_patches(cur[0, 0], corners, window),
                             _block_patches(ref[0, 0], corners + vectors - radius, window + 2 * radius),
                             radius, scale)
        vectors = (vectors + best - radius) * (2 if level else 1)
    return vectors


def _integer_search(reference: torch.Tensor, current: torch.Tensor, block: int) -> np.ndarray:
    """Integer vectors ``(hb, wb, 2)`` (pixels) of the blocks of ``current`` (``(hb*block, wb*block)``)
    in ``reference`` (``(H, W)``), both float32 in 8-bit units: per block, the better of the
    :data:`SEARCHES` by mean absolute difference plus length penalty.

    With integer-valued inputs every sum is exact in float32, so the result does not
    depend on how torch splits the work across threads (the decoder relies on that).
    """
    hb, wb = current.shape[0] // block, current.shape[1] // block
    ii, jj = torch.meshgrid(torch.arange(hb), torch.arange(wb), indexing="ij")
    corners = (torch.stack([ii.flatten(), jj.flatten()], dim=1) * block).long()
    ref = F.pad(reference[None, None], (MAX_DISPLACEMENT,) * 4, mode="replicate")[0, 0]
    blocks = _block_patches(current, corners, block)
    found, costs = [], []
    for levels, radius in SEARCHES:
        vectors = _pyramid_search(reference, current, levels, radius, block)
        error = (_block_patches(ref, corners + vectors + MAX_DISPLACEMENT, block) - blocks).abs_().mean(dim=(1, 2))
        found.append(vectors)
        costs.append(error + LENGTH_PENALTY * vectors.abs().sum(dim=1).float())
    best = torch.stack(costs).argmin(dim=0)  # ties: the first search
    return torch.stack(found)[best, torch.arange(len(best))].view(hb, wb, 2).numpy()


@torch.no_grad()
def estimate_motion(reference: np.ndarray, scene: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Vectors that predict ``scene`` (``(H, W)`` float in [0, 1]) from ``reference`` (``(H, W)`` uint8).

    Returns:
        ``(hb, wb, 2)`` int16 ``(dy, dx)`` in half pixels per block: block ``(i, j)`` of the
        scene is predicted by the reference block at ``(i*block + dy/2, j*block + dx/2)``.
    """
    height, width = scene.shape
    ref = torch.from_numpy(np.asarray(reference, dtype=np.float32))
    cur = _padded(torch.from_numpy(np.asarray(scene, dtype=np.float32) * np.float32(255.0)), height, width, 0, block)
    return _half_pel_refine(reference, cur.numpy(), 2 * _integer_search(ref, cur, block), block)


@torch.no_grad()
def derive_motion(earlier: np.ndarray, later: np.ndarray, steps: int, span: int,
                  block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of a scene ``steps`` scenes after ``earlier`` and ``span - steps`` before ``later``
    (``(H, W)`` uint8 decoded scenes), derived from those two alone, so a decoder finds them too.

    The blocks of ``later`` are searched in ``earlier`` (``later(p) ~ earlier(p + v)``); with the
    motion taken as uniform in time, the scene between sees ``earlier`` at ``p + steps/span * v``
    and ``later`` at ``p - (span - steps)/span * v`` (rounded to half pixels in integer
    arithmetic). All arithmetic is exact, so encoder and decoder derive the same vectors.

    Returns:
        ``(to_earlier, to_later)``, each ``(hb, wb, 2)`` int16 half pixels as for :func:`estimate_motion`.
    """
    if not 0 < steps < span:
        raise ValueError(f"a scene between two references needs 0 < steps < span, got {steps}, {span}")
    height, width = later.shape
    ref = torch.from_numpy(earlier.astype(np.float32))
    cur = _padded(torch.from_numpy(later.astype(np.float32)), height, width, 0, block)
    field = _half_pel_refine(earlier, cur.numpy(), 2 * _integer_search(ref, cur, block), block).astype(np.int64)
    to_earlier = (2 * steps * field + span) // (2 * span)  # round(steps/span * v), halves up
    return to_earlier.astype(np.int16), (to_earlier - field).astype(np.int16)


def _half_pel_refine(reference: np.ndarray, current: np.ndarray, motion: np.ndarray, block: int) -> np.ndarray:
    """Best of ``motion`` (``(hb, wb, 2)`` half pixels, even) and its eight half-pixel neighbours for
    each block of ``current`` (``(hb*block, wb*block)`` float32 in 0..255) -> ``(hb, wb, 2)`` int16."""
    hb, wb, _ = motion.shape
    plane = _half_pel_plane(reference, hb, wb, block)
    steps = np.array(_HALF_STEPS)
    costs = []
    for step in steps:
        candidate = motion + step
        error = np.abs(_gather(plane, candidate, block) - current).reshape(hb, block, wb, block).mean(axis=(1, 3))
        costs.append(error + LENGTH_PENALTY * np.abs(candidate).sum(axis=-1) / 2.0)
    best = np.argmin(np.stack(costs), axis=0)  # (hb, wb): first minimum, so ties keep the integer vector
    return (motion + steps[best]).astype(np.int16)


def _half_pel_plane(reference: np.ndarray, hb: int, wb: int, block: int) -> np.ndarray:
    """int32 plane of the edge-padded uint8 reference at half-pixel spacing: pixel ``(y, x)`` of the
    reference is at ``(2*(y + _MARGIN), 2*(x + _MARGIN))``; odd positions are rounded bilinear averages."""
    height, width = reference.shape
    a = np.pad(reference, ((_MARGIN, _MARGIN + hb * block - height), (_MARGIN, _MARGIN + wb * block - width)),
               mode="edge").astype(np.int32)
    plane = np.empty((2 * a.shape[0] - 1, 2 * a.shape[1] - 1), dtype=np.int32)
    plane[0::2, 0::2] = a
    plane[0::2, 1::2] = (a[:, :-1] + a[:, 1:] + 1) >> 1
    plane[1::2, 0::2] = (a[:-1] + a[1:] + 1) >> 1
    plane[1::2, 1::2] = (a[:-1, :-1] + a[:-1, 1:] + a[1:, :-1] + a[1:, 1:] + 2) >> 2
    return plane


def _gather(plane: np.ndarray, motion: np.ndarray, block: int) -> np.ndarray:
    """``(hb*block, wb*block)`` prediction from a :func:`_half_pel_plane` moved by ``motion`` (half pixels)."""
    hb, wb, _ = motion.shape
    rows = 2 * (np.arange(hb)[:, None] * block + _MARGIN) + motion[..., 0].astype(np.int64)  # (hb, wb)
    cols = 2 * (np.arange(wb)[None, :] * block + _MARGIN) + motion[..., 1].astype(np.int64)
    offs = 2 * np.arange(block)
    r = rows[:, :, None, None] + offs[None, None, :, None]  # (hb, wb, B, 1)
    c = cols[:, :, None, None] + offs[None, None, None, :]  # (hb, wb, 1, B)
    return plane[r, c].transpose(0, 2, 1, 3).reshape(hb * block, wb * block)


def compensate(reference: np.ndarray, motion: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """``(H, W)`` uint8 overlapped-block prediction from the ``(H, W)`` uint8 reference and
    ``motion`` (``(hb, wb, 2)`` half pixels), borders edge-replicated.

    Each pixel mixes the half-pixel samples of the four blocks whose centres surround it, moved
    by their own vectors, with separable weights :func:`_ramp` (a sin^2 window over two blocks, in
    64ths; beyond the grid the edge blocks' vectors stand in): ``sum(wy * wx * sample) / 4096``,
    rounded. A block's centre pixel is its own vector's sample; a uniform field gives the plain
    shifted reference.
    """
    height, width = reference.shape
    hb, wb, _ = motion.shape
    plane = _half_pel_plane(reference, hb, wb, block)
    ramp = _ramp(block)
    stride = plane.shape[1]
    field = np.pad(motion.astype(np.int32), ((1, 1), (1, 1), (0, 0)), mode="edge")
    shifts = field[..., 0] * stride + field[..., 1]  # (hb + 2, wb + 2) vectors as flat plane offsets
    ys, xs = np.arange(height, dtype=np.int32), np.arange(width, dtype=np.int32)
    row_block, row_step = np.divmod(ys - block // 2, block)  # block centre above (-1: none), distance from it
    col_block, col_step = np.divmod(xs - block // 2, block)
    unmoved = 2 * (ys[:, None] + _MARGIN) * stride + 2 * (xs[None, :] + _MARGIN)  # flat plane index, (H, W)
    samples = plane.ravel()
    out = np.zeros((height, width), dtype=np.int32)
    for di, wy in enumerate((_RAMP_SCALE - ramp[row_step], ramp[row_step])):
        row_shifts = shifts[row_block + 1 + di]  # (H, wb + 2)
        for dj, wx in enumerate((_RAMP_SCALE - ramp[col_step], ramp[col_step])):
            out += np.outer(wy, wx) * samples[unmoved + row_shifts[:, col_block + 1 + dj]]
    return ((out + _RAMP_SCALE**2 // 2) // _RAMP_SCALE**2).astype(np.uint8)
