"""Scene windows, TFP, TFI, the streaming scene builder and the reconstruction network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codec.errors import SpikecodecError, SpikeFormatError
from codec.reconstruct import SceneStream, get_reconstructor, scene_block, scene_centres
from codec.reconstruct.features import CONTEXT, RADII, temporal_features
from codec.reconstruct.net import NetReconstructor, ReconNet, predict_rate
from codec.reconstruct.tfi import TFI, spike_neighbours
from codec.reconstruct.tfp import TFP


def test_scene_centres_follow_c0_plus_ik():
    assert scene_centres(100, 32) == [16, 48, 80]
    assert scene_centres(100, 32, offset=0) == [0, 32, 64, 96]
    assert scene_centres(301, 8)[:3] == [4, 12, 20] and scene_centres(301, 8)[-1] == 300
    assert scene_centres(10, 32) == []  # C0 = 16 is past the end
    assert scene_centres(0, 4) == []


@pytest.mark.parametrize("window, offset", [(0, None), (-3, None), (8, -1), (2.5, None)])
def test_scene_centres_reject_bad_window_or_offset(window, offset):
    with pytest.raises(SpikecodecError):
        scene_centres(100, window, offset)


def test_scene_block_is_symmetric_and_clipped():
    assert scene_block(301, 150, 8) == (146, 154)  # 4 before, 3 after
    assert scene_block(301, 150, 9) == (146, 155)  # odd K: 4 on each side
    assert scene_block(301, 0, 8) == (0, 4)
    assert scene_block(301, 300, 8) == (296, 301)
    with pytest.raises(SpikecodecError):
        scene_block(301, 301, 8)


def _pixels(*columns: list[int]) -> np.ndarray:
    """``(T, 1, P)`` uint8 planes from per-pixel spike trains."""
    return np.array(columns, dtype=np.uint8).T[:, None, :]


def test_tfp_is_the_windowed_rate_hand_computed():
    planes = _pixels([1, 0, 1, 1, 0, 0, 1, 0], [0] * 8, [1] * 8)
    tfp = TFP(4)  # block [c-2, c+2)
    assert tfp.context == (2, 1)
    np.testing.assert_allclose(tfp.reconstruct(planes, 2)[0], [3 / 4, 0, 1])
    np.testing.assert_allclose(tfp.reconstruct(planes, 0)[0], [1 / 2, 0, 1])  # clipped: planes 0..1
    np.testing.assert_allclose(tfp.reconstruct(planes, 7)[0], [1 / 3, 0, 1])  # clipped: planes 5..7


def test_tfi_is_one_over_the_isi_around_the_centre():
    planes = _pixels([0, 1, 0, 0, 1, 0, 0, 0], [0] * 8, [1] * 8)
    tfi = TFI(8)  # block [c-4, c+4): the whole array for c = 4, planes 0..5 for c = 2
    np.testing.assert_allclose(tfi.reconstruct(planes, 2)[0], [1 / 3, 1 / 7, 1])
    np.testing.assert_allclose(tfi.reconstruct(planes, 4)[0], [1 / 4, 1 / 9, 1])
    prev, nxt = spike_neighbours(planes[:, 0], 5)
    assert prev.tolist() == [4, -1, 5] and nxt.tolist() == [8, 8, 6]


def test_gain_scales_and_clips():
    planes = _pixels([1, 0, 1, 0], [1, 0, 0, 0])
    np.testing.assert_allclose(TFP(4, gain=1.5).reconstruct(planes, 2)[0], [0.75, 0.375])
    np.testing.assert_allclose(TFP(4, gain=4.0).reconstruct(planes, 2)[0], [1.0, 1.0])
    with pytest.raises(SpikeFormatError):
        TFP(4, gain=0.0)


def test_bad_blocks_and_names_are_clear_errors():
    with pytest.raises(SpikeFormatError, match="centre index"):
        TFP(8).reconstruct(np.zeros((4, 2, 8), np.uint8), 4)
    with pytest.raises(SpikeFormatError, match=r"\(n, H, W\)"):
        TFI(8).reconstruct(np.zeros((4, 16), np.uint8), 0)
    with pytest.raises(SpikecodecError, match="unknown reconstruction method"):
        get_reconstructor("median", 8)


def test_features_agree_with_tfp_and_tfi():
    rng = np.random.default_rng(1)
    planes = (rng.random((40, 6, 7)) < 0.3).astype(np.uint8)
    c = 20
    feats = temporal_features(torch.from_numpy(planes), c).numpy()
    for k, r in enumerate(RADII):
        np.testing.assert_allclose(feats[k], TFP(2 * r + 1).rate(planes, c), rtol=1e-6)
    window = sum(CONTEXT) + 1
    block = planes[c - CONTEXT[0] : c + CONTEXT[1] + 1]
    np.testing.assert_allclose(feats[len(RADII)], TFI(window).rate(block, CONTEXT[0]), rtol=1e-6)


@pytest.mark.parametrize("method, window", [("tfp", 8), ("tfi", 5), ("net", 16)])
def test_scene_stream_matches_direct_reconstruction(method, window):
    rng = np.random.default_rng(2)
    planes = (rng.random((75, 6, 8)) < rng.random((1, 6, 8))).astype(np.uint8)
    recon = get_reconstructor(method, window)
    stream = SceneStream(recon, window, offset=3)
    got = []
    for start, stop in [(0, 1), (1, 17), (17, 18), (18, 60), (60, 75)]:
        got += stream.push(planes[start:stop])
    got += stream.finish()
    centres = scene_centres(75, window, 3)
    assert [c for c, _ in got] == centres
    before, after = recon.context
    for c, scene in got:
        start = max(0, c - before)
        np.testing.assert_array_equal(scene, recon.reconstruct(planes[start : c + after + 1], c - start))
        assert scene.dtype == np.float32 and scene.shape == (6, 8)


def test_net_output_is_a_scene_for_odd_sizes():
    rng = np.random.default_rng(3)
    planes = (rng.random((33, 7, 9)) < 0.4).astype(np.uint8)
    scene = get_reconstructor("net", 32).reconstruct(planes, 16)
    assert scene.shape == (7, 9) and scene.dtype == np.float32
    assert 0.0 <= scene.min() and scene.max() <= 1.0
    features = torch.rand(1, len(RADII) + 3, 7, 9)
    assert predict_rate(ReconNet(), features).shape == (1, 1, 7, 9)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(SpikecodecError, match="weights not found"):
        NetReconstructor(32, weights=tmp_path / "none.pth")
