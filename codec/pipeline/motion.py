"""Block motion: estimate, code and apply integer motion vectors between two scenes.

The inter mode predicts a scene from the previous decoded scene moved block by
block (``BLOCK`` x ``BLOCK`` pixels, integer displacements, edge-replicated
borders). Estimation is a two-level full search on the sum of absolute
differences: ``±COARSE_RADIUS`` coarse pixels on ``COARSE``-times
average-pooled scenes, then ``±FINE_RADIUS`` pixels around that at full
resolution, so displacements up to ``±(COARSE * COARSE_RADIUS + FINE_RADIUS)``
pixels are found. Compensation copies 8-bit reference pixels, so encoder and
decoder predict bit-identically.

Vectors are coded as differences from the left neighbour (the first column
from the block above), as int8, deflated with zlib.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch
import torch.nn.functional as F

from codec.errors import BitstreamError

BLOCK = 32
COARSE = 2
COARSE_RADIUS = 10
FINE_RADIUS = 2
#: largest displacement a vector may hold, pixels
MAX_DISPLACEMENT = COARSE * COARSE_RADIUS + FINE_RADIUS
#: a displacement of ``d`` pixels (L1) costs ``LENGTH_PENALTY * d`` in mean absolute difference
#: (scene units): keeps vectors of flat and noisy blocks short and cheap; 0.2 / 255 gave the
#: smallest residuals on the REDS recordings (TFP and net scenes) among 1e-4..2 / 255
LENGTH_PENALTY = 0.2 / 255.0


def grid_shape(height: int, width: int) -> tuple[int, int]:
    """Blocks per column and per row of an ``height x width`` scene."""
    return -(-height // BLOCK), -(-width // BLOCK)


def _padded(reference: torch.Tensor, height: int, width: int, margin: int) -> torch.Tensor:
    """``(H, W)`` reference edge-padded by ``margin`` on every side plus the block remainder."""
    hb, wb = grid_shape(height, width)
    pad = (margin, margin + wb * BLOCK - width, margin, margin + hb * BLOCK - height)
    return F.pad(reference[None, None], pad, mode="replicate")[0, 0]


def _block_patches(image: torch.Tensor, origins: torch.Tensor, size: int) -> torch.Tensor:
    """``(n, size, size)`` patches of ``image`` whose top-left corners are ``origins`` ``(n, 2)``."""
    offs = torch.arange(size)
    rows = (origins[:, 0, None] + offs)[:, :, None]
    cols = (origins[:, 1, None] + offs)[:, None, :]
    return image[rows, cols]


def _best_offsets(cost: torch.Tensor, radius: int) -> torch.Tensor:
    """``(n, side, side)`` mean absolute differences of offsets ``0..2*radius`` -> ``(n, 2)`` best
    offsets after the length penalty; ties go to the first offset in raster order."""
    side = 2 * radius + 1
    steps = (torch.arange(side) - radius).abs()
    penalty = LENGTH_PENALTY * (steps[:, None] + steps[None, :]).float()
    best = (cost + penalty).flatten(1).argmin(dim=1)
    return torch.stack([best // side, best % side], dim=1)


def _frame_search(current: torch.Tensor, reference: torch.Tensor, radius: int, block: int) -> torch.Tensor:
    """Full search of every ``block``-sized block of ``current`` ``(hb*block, wb*block)`` in
    ``reference`` (the same area with ``radius`` more on every side): ``(hb*wb, 2)`` best offsets.

    Differences are taken whole-frame per vertical offset (contiguous rows), then summed per block.
    """
    height, width = current.shape
    hb, wb, side = height // block, width // block, 2 * radius + 1
    shifted = reference.unfold(1, width, 1)  # (height + 2r, side, width): column offsets
    cost = torch.empty(hb, wb, side, side)
    for dy in range(side):
        diff = (shifted[dy : dy + height] - current[:, None, :]).abs_()  # (height, side, width)
        sums = diff.view(hb, block, side, wb, block).sum(dim=(1, 4))  # (hb, side, wb)
        cost[:, :, dy] = sums.permute(0, 2, 1)
    return _best_offsets(cost.view(hb * wb, side, side) / block**2, radius)


def _block_search(current: torch.Tensor, candidates: torch.Tensor, radius: int, block: int) -> torch.Tensor:
    """Best ``(n, 2)`` offsets in ``[0, 2*radius]`` of ``(n, block, block)`` blocks inside their own
    ``(n, block + 2*radius, block + 2*radius)`` candidate areas."""
    windows = candidates.unfold(1, block, 1).unfold(2, block, 1)  # (n, side, side, block, block) view
    cost = (windows - current[:, None, None]).abs_().mean(dim=(3, 4))
    return _best_offsets(cost, radius)


@torch.no_grad()
def estimate_motion(reference: np.ndarray, scene: np.ndarray) -> np.ndarray:
    """Displacements that predict ``scene`` from ``reference`` (both ``(H, W)`` float scenes in [0, 1]).

    Returns:
        ``(hb, wb, 2)`` int8 ``(dy, dx)`` per block: block ``(i, j)`` of the scene is
        predicted by the reference block at ``(i*BLOCK + dy, j*BLOCK + dx)``.
    """
    height, width = scene.shape
    hb, wb = grid_shape(height, width)
    ref = torch.from_numpy(np.asarray(reference, dtype=np.float32))
    cur = _padded(torch.from_numpy(np.asarray(scene, dtype=np.float32)), height, width, 0)
    # coarse: pooled scenes, blocks of BLOCK // COARSE
    ref_c = F.avg_pool2d(_padded(ref, height, width, COARSE * COARSE_RADIUS)[None, None], COARSE)[0, 0]
    cur_c = F.avg_pool2d(cur[None, None], COARSE)[0, 0]
    coarse = (_frame_search(cur_c, ref_c, COARSE_RADIUS, BLOCK // COARSE) - COARSE_RADIUS) * COARSE
    # fine: full resolution around the coarse vector
    ii, jj = torch.meshgrid(torch.arange(hb), torch.arange(wb), indexing="ij")
    corners = torch.stack([ii.flatten(), jj.flatten()], dim=1) * BLOCK
    margin = MAX_DISPLACEMENT
    ref_f = _padded(ref, height, width, margin)
    origins = corners + coarse + margin - FINE_RADIUS
    fine = _block_search(_block_patches(cur, corners, BLOCK),
                         _block_patches(ref_f, origins, BLOCK + 2 * FINE_RADIUS), FINE_RADIUS, BLOCK)
    motion = coarse + fine - FINE_RADIUS
    return motion.view(hb, wb, 2).numpy().astype(np.int8)


def compensate(reference: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Prediction ``(H, W)`` of the reference's dtype: each block copied from its displaced position
    in the edge-replicated ``(H, W)`` reference."""
    height, width = reference.shape
    hb, wb, _ = motion.shape
    margin = MAX_DISPLACEMENT
    padded = np.pad(reference, ((margin, margin + hb * BLOCK - height), (margin, margin + wb * BLOCK - width)),
                    mode="edge")
    rows = (np.arange(hb)[:, None] * BLOCK + motion[..., 0].astype(np.int64) + margin)  # (hb, wb)
    cols = (np.arange(wb)[None, :] * BLOCK + motion[..., 1].astype(np.int64) + margin)
    offs = np.arange(BLOCK)
    r = rows[:, :, None, None] + offs[None, None, :, None]  # (hb, wb, B, 1)
    c = cols[:, :, None, None] + offs[None, None, None, :]  # (hb, wb, 1, B)
    blocks = padded[r, c]  # (hb, wb, B, B)
    return blocks.transpose(0, 2, 1, 3).reshape(hb * BLOCK, wb * BLOCK)[:height, :width]


def pack_motion(motion: np.ndarray) -> bytes:
    """``(hb, wb, 2)`` int8 vectors -> bytes (left-neighbour differences, zlib)."""
    m = motion.astype(np.int16)
    diff = np.diff(m, axis=1, prepend=0)
    diff[:, 0] = np.diff(m[:, 0], axis=0, prepend=0)
    return zlib.compress(diff.astype(np.int8).tobytes(), 9)


def unpack_motion(data: bytes, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_motion` for an ``height x width`` scene.

    Raises:
        BitstreamError: undecodable data, wrong size or displacements out of range.
    """
    hb, wb = grid_shape(height, width)
    try:
        raw = zlib.decompress(data)
    except zlib.error as err:
        raise BitstreamError(f"motion vectors are corrupt: {err}") from None
    if len(raw) != hb * wb * 2:
        raise BitstreamError(f"motion vectors hold {len(raw)} bytes, a {height}x{width} scene needs {hb * wb * 2}")
    diff = np.frombuffer(raw, dtype=np.int8).reshape(hb, wb, 2).astype(np.int16)
    diff[:, 0] = np.cumsum(diff[:, 0], axis=0)
    motion = np.cumsum(diff, axis=1)
    if np.abs(motion).max(initial=0) > MAX_DISPLACEMENT:
        raise BitstreamError(f"motion vector beyond ±{MAX_DISPLACEMENT} pixels")
    return motion.astype(np.int8)
