"""Scores of a decoded spike stream (DESIGN.md, Metrics), as ``stream`` and ``bench`` report them.

Everything is computed by :mod:`codec.metrics`; this module only chooses what is
reported and names it. PSNRs are in dB; an exact reconstruction scores ``inf``,
written to JSON as ``null`` together with ``"exact": true``.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator, Sequence

import numpy as np

from codec.errors import SpikecodecError
from codec.metrics import bpp, bpsp, ms_ssim, psnr, stream_fidelity
from codec.metrics.scene import MS_SSIM_MIN_SIDE
from codec.metrics.spikes import SpikeSource
from codec.options import DEFAULT_FR_WINDOW
from codec.reconstruct import SceneStream, get_reconstructor


def finite_or_none(value: float) -> float | None:
    """``value`` rounded to 4 decimals, or ``None`` if infinite/NaN (JSON has no ``inf``)."""
    return round(float(value), 4) if math.isfinite(value) else None


def scene_psnr(reference: Sequence[np.ndarray] | np.ndarray, test: Sequence[np.ndarray] | np.ndarray) -> float:
    """PSNR (peak 1) of all test scenes (``(N, H, W)``, or ``N`` arrays ``(H, W)``) against their
    references, pooled over scenes."""
    return psnr(np.stack(list(reference)), np.stack(list(test)))


def scene_msssim(reference: np.ndarray, test: np.ndarray) -> float | None:
    """MS-SSIM (:func:`codec.metrics.ms_ssim`, the standard 5 scales) of ``(N, H, W)`` test scenes
    against their references, averaged over scenes, 4 decimals; ``None`` for scenes too small
    for 5 scales (160 px or less on a side)."""
    if min(reference.shape[-2:]) <= MS_SSIM_MIN_SIDE:
        return None
    return round(ms_ssim(reference, test), 4)


def iter_reference_scenes(blocks: Iterable[np.ndarray], recon: str, window: int, offset: int | None = None,
                          gain: float = 1.0) -> Iterator[tuple[int, np.ndarray]]:
    """``(centre, (H, W) float32 scene)`` of ``(t, H, W)`` uint8 plane blocks by reconstructor
    ``recon``, as soon as each scene's context has arrived: the reference scenes decoded scenes
    are scored against when no ground truth is known. Each scene is reconstructed from the same
    planes however the stream is cut into blocks, so the bench (one block) and ``spikecodec
    reconstruct`` (blocks as read) get the same scenes. ``gain``: scene value per unit firing
    rate (the bench's scenes have gain 1)."""
    stream = SceneStream(get_reconstructor(recon, window, gain), window, offset)
    for block in blocks:
        yield from ((c, s.astype(np.float32)) for c, s in stream.push(block))
    yield from ((c, s.astype(np.float32)) for c, s in stream.finish())


def reference_scenes(planes: np.ndarray, recon: str, window: int, offset: int | None = None) -> tuple[list[int],
                                                                                                      np.ndarray]:
    """Centres and ``(N, H, W)`` float32 scenes of ``(T, H, W)`` planes (:func:`iter_reference_scenes`).

    Raises:
        SpikecodecError: if no scene centre lies inside the planes.
    """
    pairs = list(iter_reference_scenes([planes], recon, window, offset))
    if not pairs:
        raise SpikecodecError(f"{len(planes)} planes hold no scene centre (window {window})")
    return [c for c, _ in pairs], np.stack([s for _, s in pairs])


def rate_fields(bits: int, num_planes: int, num_scenes: int, height: int, width: int) -> dict:
    """Bitstream size and rates: ``bits``, ``bpsp``, ``bpp``, ``compression_ratio`` vs raw 1 bit/spike-pixel."""
    rate = bpsp(bits, num_planes, height, width)
    return {
        "bits": bits,
        "bpsp": rate,
        "bpp": bpp(bits, num_scenes, height, width) if num_scenes else None,
        "compression_ratio": round(1.0 / rate, 3) if rate > 0 else None,
    }


def fidelity_fields(original: SpikeSource, decoded: SpikeSource, fr_window: int = DEFAULT_FR_WINDOW) -> dict:
    """ISI PSNR, instantaneous and windowed firing-rate PSNR, spike-count error.

    Args:
        original, decoded: ``(T, H, W)`` uint8 0/1 streams of equal size, or packed sources
            read like a :class:`codec.io.SpikeReader` (``read_packed``; both of one kind).
        fr_window: planes of the windowed firing rate (clipped to ``T``).
    """
    fid = stream_fidelity(original, decoded, window=min(fr_window, fidelity_planes(original)))
    return {
        "isi_psnr": finite_or_none(fid.isi_psnr),
        "fr_instant_psnr": finite_or_none(fid.fr_instant_psnr),
        "fr_window_psnr": finite_or_none(fid.fr_window_psnr),
        "fr_window": fid.fr_window,
        "spike_count_mae": round(fid.count_mae, 4),
        "spike_count_max_abs": fid.count_max_abs,
        "spike_count_relative": finite_or_none(fid.count_relative),
        "original_rate": round(fid.original_rate, 5),
        "decoded_rate": round(fid.decoded_rate, 5),
        "exact": bool(np.array_equal(_array(original), _array(decoded))),
    }


def _array(source: SpikeSource) -> np.ndarray:
    """The array itself, or a packed source's packed planes."""
    return source if isinstance(source, np.ndarray) else source.read_packed(0, source.num_planes)


def fidelity_planes(source: SpikeSource) -> int:
    """Planes of a :func:`fidelity_fields` source."""
    return len(source) if isinstance(source, np.ndarray) else source.num_planes
