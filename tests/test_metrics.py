"""Metrics pinned on hand-worked arrays (definitions: DESIGN.md, Metrics)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from codec.errors import SpikecodecError
from codec.io import open_spikes, open_writer
from codec.metrics import (
    bd_psnr,
    bd_rate,
    bpp,
    bpsp,
    fr_instant_psnr,
    fr_window_psnr,
    gain_normalized_psnr,
    isi_map,
    isi_psnr,
    least_squares_gain,
    ms_ssim,
    psnr,
    spike_count_error,
    stream_fidelity,
    windowed_rate,
)
from codec.metrics import spikes as spike_metrics

ORIG = [0, 1, 0, 0, 1, 0, 0, 0]
#: the same pixel decoded with its first spike one plane late
LATE = [0, 0, 1, 0, 1, 0, 0, 0]


def _stream(*trains: list[int]) -> np.ndarray:
    """``(T, 1, P)`` uint8 from per-pixel spike trains."""
    return np.array(trains, dtype=np.uint8).T[:, None, :]


def test_design_worked_isi_example():
    assert isi_map(np.array(ORIG)).tolist() == [2, 3, 3, 3, 4, 4, 4, 4]


def test_isi_of_silent_and_saturated_pixels():
    isi = isi_map(_stream([0] * 8, [1] * 8, [0] * 7 + [1], [1] + [0] * 7))
    assert isi[:, 0, 0].tolist() == [9] * 8  # never fires: T+1
    assert isi[:, 0, 1].tolist() == [1] * 8  # fires every plane
    assert isi[:, 0, 2].tolist() == [8] * 7 + [1]  # prev=-1, next=7; then prev=7, next=T
    assert isi[:, 0, 3].tolist() == [8] * 8  # prev=0, next=T


def test_isi_map_in_chunks_matches_a_direct_loop(monkeypatch):
    monkeypatch.setattr(spike_metrics, "CHUNK_ELEMENTS", 64)  # forces many pixel chunks
    rng = np.random.default_rng(0)
    spikes = (rng.random((23, 5, 7)) < 0.2).astype(np.uint8)
    expected = np.empty(spikes.shape, dtype=np.int64)
    t_count = spikes.shape[0]
    for t in range(t_count):
        for y in range(5):
            for x in range(7):
                before = [s for s in range(t + 1) if spikes[s, y, x]]
                after = [s for s in range(t + 1, t_count) if spikes[s, y, x]]
                expected[t, y, x] = (after[0] if after else t_count) - (before[-1] if before else -1)
    np.testing.assert_array_equal(isi_map(spikes), expected)


def test_isi_psnr_hand_computed():
    # ISI orig 2 3 3 3 4 4 4 4, decoded 3 3 2 2 4 4 4 4: MSE 3/8, peak 4
    assert isi_psnr(_stream(ORIG), _stream(LATE)) == pytest.approx(10 * math.log10(16 / (3 / 8)))
    assert isi_psnr(_stream(ORIG), _stream(ORIG)) == math.inf


def test_isi_psnr_silent_against_saturated():
    # orig never fires (ISI 9, the peak), decoded fires every plane (ISI 1): error 8 everywhere
    assert isi_psnr(_stream([0] * 8), _stream([1] * 8)) == pytest.approx(20 * math.log10(9 / 8))


def test_instantaneous_firing_rate_psnr_hand_computed():
    # 1/ISI differ by 1/6 on three planes: MSE = 3/36/8 = 1/96
    assert fr_instant_psnr(_stream(ORIG), _stream(LATE)) == pytest.approx(10 * math.log10(96))


def test_windowed_firing_rate_hand_computed():
    assert windowed_rate(_stream(ORIG), 2)[:, 0, 0].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert windowed_rate(_stream(ORIG), 3)[:, 0, 0].tolist() == [1 / 3, 1 / 3]  # trailing 2 planes left out
    # rates .5 0 .5 0 vs 0 .5 .5 0: MSE = 0.125
    assert fr_window_psnr(_stream(ORIG), _stream(LATE), 2) == pytest.approx(10 * math.log10(8))
    assert fr_window_psnr(_stream(ORIG), _stream(LATE), 4) == math.inf
    with pytest.raises(SpikecodecError, match="window"):
        fr_window_psnr(_stream(ORIG), _stream(LATE), 9)


def test_spike_count_error_per_pixel():
    orig = _stream(ORIG, [0] * 8, [1] * 8)
    dec = _stream(LATE, [1] * 8, [1, 0] * 4)
    assert spike_count_error(orig, dec).tolist() == [[0, 8, -4]]
    fid = stream_fidelity(orig, dec, window=4)
    assert fid.count_mae == pytest.approx(12 / 3) and fid.count_max_abs == 8
    assert fid.count_relative == pytest.approx(12 / 10)
    assert fid.original_rate == pytest.approx(10 / 24) and fid.decoded_rate == pytest.approx(14 / 24)


def test_streams_of_different_size_are_rejected():
    with pytest.raises(SpikecodecError, match="differ"):
        stream_fidelity(np.zeros((8, 2, 4), np.uint8), np.zeros((9, 2, 4), np.uint8))


def test_reader_path_equals_array_path(tmp_path):
    rng = np.random.default_rng(4)
    a = (rng.random((50, 8, 16)) < 0.3).astype(np.uint8)
    b = (rng.random((50, 8, 16)) < 0.3).astype(np.uint8)
    for name, planes in (("a.dat", a), ("b.h5", b)):
        with open_writer(tmp_path / name, 8, 16) as writer:
            writer.write(planes)
    with open_spikes(tmp_path / "a.dat", 8, 16) as ra, open_spikes(tmp_path / "b.h5") as rb:
        assert stream_fidelity(ra, rb, window=8) == stream_fidelity(a, b, window=8)


def test_stream_metrics_memory_is_bounded_by_chunks():
    """ISI of a 2,000-plane stream: peak extra memory stays at chunk scale, not T*H*W."""
    rng = np.random.default_rng(5)
    a = (rng.random((2000, 32, 128)) < 0.2).astype(np.uint8)  # 8 MB each, 2 chunks
    b = np.roll(a, 1, axis=0)
    tracemalloc.start()
    stream_fidelity(a, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # a chunk is 4M plane-pixels: a few int32/float64 arrays of it, independent of H*W
    assert peak < 200e6


def test_psnr_and_gain_normalized_psnr_hand_computed():
    assert psnr(np.array([1.0, 0.0]), np.array([0.5, 0.0])) == pytest.approx(10 * math.log10(8))
    assert psnr(np.array([10.0, 0.0]), np.array([5.0, 0.0]), peak=10) == pytest.approx(10 * math.log10(8))
    # least-squares gain of [1,1] onto [1,0] is 1/2: [.5,.5] vs [1,0], MSE 0.25
    assert least_squares_gain(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert gain_normalized_psnr(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(10 * math.log10(4))
    assert gain_normalized_psnr(np.array([0.5, 0.25]), np.array([0.25, 0.125])) == math.inf
    with pytest.raises(SpikecodecError, match="all-black"):
        gain_normalized_psnr(np.ones(4), np.zeros(4))
    with pytest.raises(SpikecodecError, match="shapes differ"):
        psnr(np.ones(4), np.ones(5))


def test_ms_ssim():
    rng = np.random.default_rng(6)
    scene = rng.random((176, 200))
    assert ms_ssim(scene, scene) == pytest.approx(1.0, abs=1e-6)
    assert ms_ssim(scene, np.clip(scene + rng.normal(0, 0.2, scene.shape), 0, 1)) < 0.9
    with pytest.raises(SpikecodecError, match="160"):
        ms_ssim(scene[:100], scene[:100])


def test_bitrates():
    assert bpsp(1000, 10, 5, 4) == 5.0
    assert bpsp(10 * 250 * 400, 10, 250, 400) == 1.0  # raw
    assert bpp(800, 2, 10, 4) == 10.0
    with pytest.raises(SpikecodecError):
        bpsp(100, 0, 5, 4)


def test_bjontegaard_deltas():
    rate = [0.01, 0.02, 0.04, 0.08]
    quality = [30.0, 33.0, 36.0, 39.0]
    assert bd_rate(rate, quality, [r * 0.9 for r in rate], quality) == pytest.approx(-10.0, abs=1e-6)
    assert bd_psnr(rate, quality, rate, [q + 1 for q in quality]) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(SpikecodecError, match="at least 4"):
        bd_rate(rate[:3], quality[:3], rate, quality)
