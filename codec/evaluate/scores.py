"""Scores of a decoded spike stream (DESIGN.md, Metrics), as ``stream`` and ``bench`` report them.

Everything is computed by :mod:`codec.metrics`; this module only chooses what is
reported and names it. PSNRs are in dB; an exact reconstruction scores ``inf``,
written to JSON as ``null`` together with ``"exact": true``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from codec.errors import SpikecodecError
from codec.metrics import bpp, bpsp, psnr, stream_fidelity
from codec.options import DEFAULT_FR_WINDOW
from codec.reconstruct import SceneStream, get_reconstructor


def finite_or_none(value: float) -> float | None:
    """``value`` rounded to 4 decimals, or ``None`` if infinite/NaN (JSON has no ``inf``)."""
    return round(float(value), 4) if math.isfinite(value) else None


def scene_psnr(reference: Sequence[np.ndarray] | np.ndarray, test: Sequence[np.ndarray] | np.ndarray) -> float:
    """PSNR (peak 1) of all test scenes (``(N, H, W)``, or ``N`` arrays ``(H, W)``) against their
    references, pooled over scenes."""
    return psnr(np.stack(list(reference)), np.stack(list(test)))


def reference_scenes(planes: np.ndarray, recon: str, window: int, offset: int | None = None) -> tuple[list[int],
                                                                                                      np.ndarray]:
    """Centres and ``(N, H, W)`` float32 scenes of ``planes`` by reconstructor ``recon``: the
    reference decoded scenes are scored against when no ground truth is known.

    Raises:
        SpikecodecError: if no scene centre lies inside the planes.
    """
    stream = SceneStream(get_reconstructor(recon, window), window, offset)
    pairs = stream.push(planes) + stream.finish()
    if not pairs:
        raise SpikecodecError(f"{len(planes)} planes hold no scene centre (window {window})")
    return [c for c, _ in pairs], np.stack([s for _, s in pairs]).astype(np.float32)


def rate_fields(bits: int, num_planes: int, num_scenes: int, height: int, width: int) -> dict:
    """Bitstream size and rates: ``bits``, ``bpsp``, ``bpp``, ``compression_ratio`` vs raw 1 bit/spike-pixel."""
    rate = bpsp(bits, num_planes, height, width)
    return {
        "bits": bits,
        "bpsp": rate,
        "bpp": bpp(bits, num_scenes, height, width) if num_scenes else None,
        "compression_ratio": round(1.0 / rate, 3) if rate > 0 else None,
    }


def fidelity_fields(original: np.ndarray, decoded: np.ndarray, fr_window: int = DEFAULT_FR_WINDOW) -> dict:
    """ISI PSNR, instantaneous and windowed firing-rate PSNR, spike-count error.

    Args:
        original, decoded: ``(T, H, W)`` uint8 0/1 streams of equal size.
        fr_window: planes of the windowed firing rate (clipped to ``T``).
    """
    fid = stream_fidelity(original, decoded, window=min(fr_window, len(original)))
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
        "exact": bool(np.array_equal(original, decoded)),
    }
