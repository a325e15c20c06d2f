"""Scene fidelity: PSNR, gain-normalized PSNR, MS-SSIM (DESIGN.md, Metrics).

Scenes are float arrays in ``[0, 1]`` (peak 1) unless a peak is given.
"""

from __future__ import annotations

import math

import numpy as np

from codec.errors import SpikecodecError

#: MS-SSIM's 5 scales with an 11-pixel window need scenes larger than this on each side
MS_SSIM_MIN_SIDE = 160


def _pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if reference.shape != test.shape:
        raise SpikecodecError(f"shapes differ: {reference.shape} vs {test.shape}")
    if reference.size == 0:
        raise SpikecodecError("cannot compare empty arrays")
    return reference, test


def psnr_from_mse(mse: float, peak: float) -> float:
    """``10 log10(peak^2 / mse)`` in dB; ``inf`` when ``mse == 0``."""
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def psnr(reference: np.ndarray, test: np.ndarray, peak: float = 1.0) -> float:
    """PSNR in dB of ``test`` against ``reference`` (same shape), peak ``peak``."""
    reference, test = _pair(reference, test)
    return psnr_from_mse(float(np.mean((reference - test) ** 2)), peak)


def least_squares_gain(reference: np.ndarray, test: np.ndarray) -> float:
    """The global gain ``a`` minimising ``||a*test - reference||^2``: ``<test,ref> / <test,test>``."""
    reference, test = _pair(reference, test)
    energy = float(np.sum(test * test))
    if energy == 0:
        raise SpikecodecError("gain-normalized PSNR of an all-black scene is undefined")
    return float(np.sum(test * reference)) / energy


def gain_normalized_psnr(reference: np.ndarray, test: np.ndarray, peak: float = 1.0) -> float:
    """PSNR of ``a*test`` against ``reference`` with ``a`` the least-squares global gain.

    For comparing reconstructions (firing rates) with ground-truth images whose
    scale differs (e.g. 8-bit PNG vs rate ~ intensity/425); label it as such.
    """
    gain = least_squares_gain(reference, test)
    return psnr(reference, gain * np.asarray(test, dtype=np.float64), peak)


def ms_ssim(reference: np.ndarray, test: np.ndarray, peak: float = 1.0) -> float:
    """MS-SSIM (pytorch_msssim, 5 scales, Gaussian window 11) of two ``(H, W)`` scenes, or the
    mean over scenes of two ``(N, H, W)`` stacks.

    The standard 5 scales need ``min(H, W) > 160`` (:data:`MS_SSIM_MIN_SIDE`); smaller scenes raise.
    """
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim

    reference, test = _pair(reference, test)
    if reference.ndim not in (2, 3):
        raise SpikecodecError(f"MS-SSIM takes (H, W) scenes or (N, H, W) stacks, got {reference.shape}")
    if min(reference.shape[-2:]) <= MS_SSIM_MIN_SIDE:
        raise SpikecodecError(f"MS-SSIM needs scenes larger than {MS_SSIM_MIN_SIDE} px on each side, "
                              f"got {reference.shape}")
    ref = torch.from_numpy(reference.reshape(-1, 1, *reference.shape[-2:]).astype(np.float32))
    out = torch.from_numpy(test.reshape(-1, 1, *test.shape[-2:]).astype(np.float32))
    return float(_ms_ssim(ref, out, data_range=peak))
