"""Metrics with the definitions of DESIGN.md: bitrates, scene PSNR/MS-SSIM, ISI and firing-rate
fidelity of spike streams, Bjøntegaard deltas."""

from codec.metrics.bd import bd_psnr, bd_rate
from codec.metrics.bitrate import bpp, bpsp
from codec.metrics.scene import gain_normalized_psnr, least_squares_gain, ms_ssim, psnr
from codec.metrics.spikes import (
    StreamFidelity,
    fr_instant_psnr,
    fr_window_psnr,
    isi_map,
    isi_psnr,
    spike_count_error,
    stream_fidelity,
    windowed_rate,
)

__all__ = [
    "StreamFidelity", "bd_psnr", "bd_rate", "bpp", "bpsp", "fr_instant_psnr", "fr_window_psnr",
    "gain_normalized_psnr", "isi_map", "isi_psnr", "least_squares_gain", "ms_ssim", "psnr",
    "spike_count_error", "stream_fidelity", "windowed_rate",
]
