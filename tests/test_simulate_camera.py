"""Scene sources and the simulated camera: rates, interpolation, noise, Poisson rate coding."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codec.sensor import SensorParams
from codec.simulate import (
    ImageFolderSource,
    IntegrateAndFire,
    SourceError,
    SyntheticSource,
    VideoSource,
    open_source,
    poisson_spikes,
    simulate,
)

H, W = 16, 24


def _save(folder: Path, images: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image.astype(np.uint8)).save(folder / f"frame_{i:03d}.png")
    return folder


def _bands(values: list[int]) -> np.ndarray:
    """An ``H x W`` gray image of vertical bands with the given 8-bit values."""
    return np.repeat(np.array(values, dtype=np.uint8), W // len(values))[None, :].repeat(H, axis=0)


@pytest.fixture
def frames() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (H, W)).astype(np.uint8) for _ in range(4)]


def test_image_folder_interpolates_linearly(tmp_path: Path, frames: list[np.ndarray]) -> None:
    source = ImageFolderSource(_save(tmp_path / "f", frames), H, W, frame_period=100.0)
    assert source.num_frames == 4 and source.num_planes == 301
    assert np.array_equal(source.scene_at(200), frames[2] / np.float32(255))
    middle = (frames[1].astype(np.float32) + frames[2]) / 2 / 255
    assert np.allclose(source.scene_at(150), middle, atol=1e-6)
    assert np.array_equal(source.scene_at(10_000), frames[3] / np.float32(255))  # holds after the end


def test_image_folder_scales_to_cover_and_crops(tmp_path: Path) -> None:
    wide = np.zeros((40, 120), np.uint8)
    wide[:, 40:80] = 200  # bright centre third
    source = ImageFolderSource(_save(tmp_path / "f", [wide]), 20, 20, 10.0)
    scene = source.scene_at(0)
    assert scene.shape == (20, 20)
    assert np.all(scene[:, 3:17] > 0.7)  # the crop keeps the centre


def test_bad_sources(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path / "empty", H, W, 10.0)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"not a png")
    with pytest.raises(SourceError, match="cannot read image x.png"):
        ImageFolderSource(tmp_path / "bad", H, W, 10.0).frame(0)
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(SourceError, match="cannot decode video"):
        open_source(tmp_path / "clip.mp4", H, W, 20000.0)
    with pytest.raises(FileNotFoundError):
        open_source(tmp_path / "nothing", H, W, 20000.0)


def test_video_source_decodes_frames_losslessly(tmp_path: Path, frames: list[np.ndarray]) -> None:
    import imageio_ffmpeg

    _save(tmp_path / "f", frames)
    video = tmp_path / "clip.mkv"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-framerate", "50", "-i",
         str(tmp_path / "f" / "frame_%03d.png"),
         "-c:v", "ffv1", "-pix_fmt", "gray", str(video)],
        check=True,
    )  # fmt: skip
    source = open_source(video, H, W, 20000.0)
    assert isinstance(source, VideoSource) and source.frame_period == pytest.approx(400.0)
    assert np.array_equal(source.frame(2), frames[2] / np.float32(255))
    assert np.array_equal(source.frame(0), frames[0] / np.float32(255))  # going back restarts the decoder
    assert np.array_equal(source.frame(9), frames[3] / np.float32(255))  # holds after the end
    assert source.num_frames == 4
    assert np.allclose(source.scene_at(600), (frames[1] / 255 + frames[2] / 255) / 2, atol=1e-6)
    source.close()


def test_synthetic_source_is_seeded_smooth_and_moving() -> None:
    a, b = SyntheticSource(60, 80, seed=1), SyntheticSource(60, 80, seed=1)
    assert np.array_equal(a.scene_at(1234.5), b.scene_at(1234.5))
    assert not np.array_equal(a.frame(0), SyntheticSource(60, 80, seed=2).frame(0))
    first, later = a.frame(0), a.frame(30)
    assert 0.0 <= first.min() and first.max() <= 1.0 and first.std() > 0.05
    assert np.abs(later - first).mean() > 0.01  # the camera moved
    assert np.abs(a.frame(1) - first).mean() < np.abs(later - first).mean()  # smoothly


def test_simulated_rate_is_the_scene(tmp_path: Path) -> None:
    values = [0, 26, 77, 128, 204, 255]
    source = ImageFolderSource(_save(tmp_path / "f", [_bands(values)]), H, W, 100.0)
    sensor = SensorParams(init="zero")
    spikes = np.concatenate(list(simulate(source, 1000, sensor, block_planes=300)))
    assert spikes.shape == (1000, H, W)
    rate = spikes[:, 0, :: W // len(values)].mean(axis=0)
    expected = np.floor(1000 * np.array(values, dtype=np.float32) / 255) / 1000
    assert np.allclose(rate, expected, atol=1.5e-3)


def test_simulation_integrates_the_interpolated_scene(tmp_path: Path, frames: list[np.ndarray]) -> None:
    source = ImageFolderSource(_save(tmp_path / "f", frames), H, W, frame_period=333.3)
    sensor = SensorParams(alpha=0.7, reset_mechanism="mod", seed=4)
    planes = 1200
    spikes = np.concatenate(list(simulate(source, planes, sensor, block_planes=256)))
    again = np.concatenate(list(simulate(source, planes, sensor, block_planes=97)))
    assert np.array_equal(spikes, again)  # block size does not matter
    scenes = np.stack([source.scene_at(p) for p in range(planes)])
    reference = sensor.neurons((H, W))(scenes)  # the neuron core on ground-truth scenes
    assert np.mean(spikes != reference) < 1e-3
    charge = 0.7 * scenes.sum(axis=0, dtype=np.float64)
    assert np.all(np.abs(spikes.sum(axis=0) - charge) <= 1.0 + 1e-6)


def test_dark_current_and_shot_noise(tmp_path: Path) -> None:
    source = ImageFolderSource(_save(tmp_path / "f", [np.full((H, W), 102, np.uint8)]), H, W, 100.0)
    sensor = SensorParams()
    clean = np.concatenate(list(simulate(source, 2000, sensor)))
    dark = np.concatenate(list(simulate(source, 2000, sensor, dark_current=0.1)))
    noisy = np.concatenate(list(simulate(source, 2000, sensor, shot_noise=True, electrons_per_threshold=50.0)))
    assert clean.mean() == pytest.approx(0.4, abs=1e-3)
    assert dark.mean() == pytest.approx(0.5, abs=1e-3)
    # shot noise keeps the mean, jitters the spike times: inter-spike intervals vary
    assert noisy.mean() == pytest.approx(0.4, abs=0.01)
    counts_per_200 = noisy.reshape(10, 200, H, W).sum(axis=1)
    assert counts_per_200.std() > 2 * clean.reshape(10, 200, H, W).sum(axis=1).std()


def test_poisson_rate_within_three_sigma(tmp_path: Path) -> None:
    values = [13, 51, 128, 230]
    source = ImageFolderSource(_save(tmp_path / "f", [_bands(values)]), H, W, 100.0)
    planes = 3000
    spikes = np.concatenate(list(poisson_spikes(source, planes, SensorParams(), seed=11)))
    band = W // len(values)
    for i, value in enumerate(values):
        p = value / 255
        count = spikes[:, :, i * band : (i + 1) * band].sum()
        n = planes * H * band
        assert abs(count - n * p) < 3 * np.sqrt(n * p * (1 - p)), (value, count, n * p)
    # rate coding has no phase: counts per pixel spread like a binomial, not within +-1 like IF
    per_pixel = spikes[:, :, :band].sum(axis=0)
    assert per_pixel.std() > 3


def test_ramp_fast_path_and_neuron_agree_on_stepwise_reset(tmp_path: Path, frames: list[np.ndarray]) -> None:
    source = ImageFolderSource(_save(tmp_path / "f", frames), H, W, frame_period=50.0)
    sensor = SensorParams(reset_mechanism="zero", seed=2)
    spikes = np.concatenate(list(simulate(source, 160, sensor)))
    reference = IntegrateAndFire((H, W), reset_mechanism="zero", init="uniform", seed=2)(
        np.stack([source.scene_at(p) for p in range(160)])
    )
    assert np.mean(spikes != reference) < 1e-3


def test_shot_noise_charge_statistics() -> None:
    from codec.simulate.camera import shot_noise_charge

    rng = np.random.default_rng(5)
    for mean in (0.3, 5.0, 63.0, 64.0, 500.0):
        draws = shot_noise_charge(rng, np.full(200_000, mean, np.float32))
        assert np.all(draws == np.rint(draws)) and draws.min() >= 0
        # Poisson: mean and variance both equal the expectation (3-sigma bounds on both)
        assert abs(draws.mean() - mean) < 3 * np.sqrt(mean / draws.size)
        assert abs(draws.var() / mean - 1) < 3 * np.sqrt(2 / draws.size) + 1 / (12 * mean) * (mean >= 64)
