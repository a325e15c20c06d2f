"""Reference anchors: real ffmpeg encoders/decoders, real bitstreams, exact lossless."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from codec.anchors import AnchorError, AnchorInput, get_anchor, import_vvc_outputs
from codec.anchors.count import window_counts
from codec.anchors.ffmpeg import require_encoder
from codec.anchors.frames import padded_size, scenes_to_yuv420p10
from codec.reconstruct.windows import scene_centres
from codec.sensor import SensorParams

WINDOW = 16


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def moving_scene(num: int, height: int, width: int) -> np.ndarray:
    """``(num, H, W)`` float32 smooth texture drifting right, values in [0.05, 0.65]."""
    yy, xx = np.mgrid[:height, :width]
    frames = [0.35 + 0.3 * np.sin((xx + 2 * k) / 9.0) * np.cos(yy / 13.0) for k in range(num)]
    return np.stack(frames).astype(np.float32)


@pytest.fixture(scope="module")
def source() -> AnchorInput:
    """64 planes of 48x64 simulated spikes and their windowed-rate scenes."""
    intensity = np.repeat(moving_scene(4, 48, 64), 16, axis=0)
    planes = SensorParams().neurons((48, 64))(intensity)
    centres = scene_centres(len(planes), WINDOW)
    counts, lengths = window_counts(planes, centres, WINDOW)
    scenes = (counts / lengths[:, None, None]).astype(np.float32)
    return AnchorInput(planes=planes, scenes=scenes, centres=centres, window=WINDOW)


def test_vvc_round_trip_and_rate_falls_with_qp() -> None:
    scenes = moving_scene(2, 48, 64)
    anchor = get_anchor("vvc", preset="faster")
    sizes, qualities = [], []
    for qp in (22, 32, 42):
        stream = anchor.encode(scenes, qp)
        assert b"warning" not in stream  # libvvenc's stdout chatter is not part of the rate
        decoded = anchor.decode(stream, 2, 48, 64)
        assert decoded.shape == scenes.shape and decoded.dtype == np.float32
        sizes.append(len(stream))
        qualities.append(psnr(decoded, scenes))
    assert sizes[0] > sizes[1] > sizes[2] > 0
    assert qualities[0] > qualities[1] > qualities[2] > 30.0


def test_padding_250_rows_is_cropped_back() -> None:
    scenes = moving_scene(1, 250, 40)
    raw, size = scenes_to_yuv420p10(scenes)
    assert size == padded_size(250, 40) == (256, 40)
    assert len(raw) == 2 * (256 * 40 + 2 * 128 * 20)
    anchor = get_anchor("vvc", preset="faster")
    decoded = anchor.decode(anchor.encode(scenes, 27), 1, 250, 40)
    assert decoded.shape == (1, 250, 40)
    assert psnr(decoded, scenes) > 40.0
    # the last rows are real content, not padding
    assert psnr(decoded[:, -8:], scenes[:, -8:]) > 35.0


@pytest.mark.parametrize("name", ["vvc-ra", "hevc", "hevc-intra"])
def test_other_video_anchors_round_trip(name: str, source: AnchorInput) -> None:
    out = get_anchor(name, preset="faster" if name.startswith("vvc") else "ultrafast").code(source, 32)
    assert len(out.payload) > 0
    assert out.scenes.shape == source.scenes.shape
    assert psnr(out.scenes, source.scenes) > 25.0


def test_count_step_one_is_exact_and_rate_falls_with_step(source: AnchorInput) -> None:
    anchor = get_anchor("count")
    exact = anchor.code(source, 1)
    np.testing.assert_allclose(exact.scenes, source.scenes, atol=1e-6)
    coarse = anchor.code(source, 4)
    assert len(coarse.payload) < len(exact.payload)
    assert 20.0 < psnr(coarse.scenes, source.scenes) < np.inf


def test_count_rejects_corrupt_payload(source: AnchorInput) -> None:
    payload = get_anchor("count").encode(source, 2)
    with pytest.raises(AnchorError, match="corrupt|expected"):
        get_anchor("count").decode(payload[:-5])
    with pytest.raises(AnchorError, match="shorter than its header"):
        get_anchor("count").decode(payload[:4])


@pytest.mark.parametrize("method", ["zstd", "xz"])
def test_lossless_is_exact(method: str, source: AnchorInput) -> None:
    out = get_anchor("lossless").code(source, method)
    np.testing.assert_array_equal(out.planes, source.planes)
    assert 0 < out.bits < source.planes.size


def test_import_vvc_outputs_bitstream_yuv_and_png(tmp_path, source: AnchorInput) -> None:
    anchor = get_anchor("vvc", preset="faster")
    n, h, w = source.scenes.shape
    stream = anchor.encode(source.scenes, 32)
    (tmp_path / "clip_qp32.266").write_bytes(stream)
    decoded = anchor.decode(stream, n, h, w)
    yuv, _ = scenes_to_yuv420p10(decoded)
    (tmp_path / "clip_qp37.yuv").write_bytes(yuv)
    (tmp_path / "clip_qp42").mkdir()
    for i, scene in enumerate(decoded):
        Image.fromarray(np.rint(scene * 255).astype(np.uint8)).save(tmp_path / "clip_qp42" / f"{i:03d}.png")
    (tmp_path / "sizes.json").write_text(json.dumps({"clip_qp37": 1000, "clip_qp42": 900}))
    (tmp_path / "other_qp32.266").write_bytes(b"not ours")

    imported = import_vvc_outputs(tmp_path, "clip", n, h, w)
    assert sorted(imported) == [32, 37, 42]
    assert imported[32].payload == stream
    np.testing.assert_array_equal(imported[32].scenes, decoded)
    assert len(imported[37].payload) == 1000
    np.testing.assert_allclose(imported[37].scenes, decoded, atol=1e-6)
    assert len(imported[42].payload) == 900
    np.testing.assert_allclose(imported[42].scenes, decoded, atol=0.5 / 255 + 1e-6)

    with pytest.raises(AnchorError, match="expected 5 scenes|not 5"):
        import_vvc_outputs(tmp_path, "clip", n + 1, h, w)
    (tmp_path / "sizes.json").unlink()
    with pytest.raises(AnchorError, match="sizes.json"):
        import_vvc_outputs(tmp_path, "clip", n, h, w)


def test_errors_are_clear(tmp_path) -> None:
    with pytest.raises(AnchorError, match="unknown anchor 'vp9'"):
        get_anchor("vp9")
    with pytest.raises(AnchorError, match="encoder libnothing is missing"):
        require_encoder("libnothing")
    with pytest.raises(AnchorError, match="vvc decode failed|frames"):
        get_anchor("vvc").decode(b"\x00\x00\x01garbage" * 10, 1, 48, 64)
    (tmp_path / "clip_qp32.266").write_bytes(b"\x00\x00\x00\x01" + bytes(50))
    with pytest.raises(AnchorError):
        import_vvc_outputs(tmp_path, "clip", 1, 48, 64)
    with pytest.raises(AnchorError, match="not a directory"):
        import_vvc_outputs(tmp_path / "missing", "clip", 1, 48, 64)


def test_vvc_decode_is_deterministic() -> None:
    """Regression: the threaded ffmpeg ``vvc`` decoder sometimes corrupted a frame."""
    anchor = get_anchor("vvc", preset="faster")
    scenes = moving_scene(2, 250, 40)
    stream = anchor.encode(scenes, 27)
    first = anchor.decode(stream, 2, 250, 40)
    for _ in range(15):
        np.testing.assert_array_equal(anchor.decode(stream, 2, 250, 40), first)
    assert psnr(first, scenes) > 40.0
