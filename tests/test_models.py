"""The learned scene codec: round trips, rate control, robustness, registry."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from compressai.entropy_models import GaussianConditional
from compressai.models.base import get_scale_table
from PIL import Image

from codec.errors import BitstreamError, SpikecodecError
from codec.models import load_inter_codec, load_scene_codec
from codec.models.registry import WEIGHTS_DIR, file_sha256, load_model, weights_stem


@pytest.fixture(scope="module", params=["spikecodec-base", "spikecodec-ctx"])
def codec(request):
    """Each registered scene codec: the mean-scale hyperprior and the context model."""
    return load_scene_codec(request.param)


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> np.ndarray:
    """A real 250x400 scene: the REDS ground truth as firing rates (intensity / 425)."""
    img = Image.open(shared_data / "spikes" / "reds_203_part2_gt.png").convert("L")
    return np.asarray(img, dtype=np.float32) / 425.0


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    return 10 * math.log10(peak**2 / float(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("quality", [1, 2.5, 6])
@pytest.mark.parametrize("inter", [False, True])
def test_encoder_reconstruction_equals_the_decoder_output(codec, scene, quality, inter):
    """``encode_and_decode`` (the predictive encoder's reference) is the decoder's result bit for bit."""
    model = load_inter_codec() if inter else codec
    context = scene[38:175, 93:314] if inter else None  # the prediction (used if the inter codec is conditional)
    crop = (scene[40:177, 90:311] - context) if inter else scene[40:177, 90:311]
    payload, decoded = model.encode_and_decode(crop, quality, context=context)
    assert payload == model.encode_scene(crop, quality, context=context)
    assert np.array_equal(decoded, model.decode_scene(payload, *crop.shape, quality, context=context))


def test_vectorised_scale_indexes_match_compressai(codec):
    stock = GaussianConditional(None)
    stock.update_scale_table(get_scale_table())
    ours = codec.model.gaussian_conditional
    assert torch.equal(stock.scale_table, ours.scale_table)
    scales = torch.cat([torch.rand(5000) * 80, stock.scale_table, stock.scale_table + 1e-6, torch.tensor([0.0, 1e9])])
    assert torch.equal(ours.build_indexes(scales), stock.build_indexes(scales))


@pytest.mark.parametrize("height,width", [(250, 400), (37, 53), (64, 64), (1, 1), (130, 71)])
def test_round_trip_any_size(codec, scene, height, width):
    crop = scene[:height, :width]
    payload = codec.encode_scene(crop, quality=codec.qualities[-1])
    out = codec.decode_scene(payload, height, width, codec.qualities[-1])
    assert out.shape == (height, width) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    if height * width > 1000:  # clearly better than the best constant scene
        flat = np.full_like(crop, crop.mean())
        assert psnr(out, crop, peak=crop.max()) > psnr(flat, crop, peak=crop.max()) + 4.0


def test_rate_grows_and_distortion_falls_with_quality(codec, scene):
    qualities = [1, 1.5, 2, 3, 3.25, 4, 5, 6]
    sizes, errors = [], []
    for q in qualities:
        payload = codec.encode_scene(scene, q)
        sizes.append(len(payload))
        errors.append(float(np.mean((codec.decode_scene(payload, 250, 400, q) - scene) ** 2)))
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes), sizes
    integer = [e for q, e in zip(qualities, errors) if q == int(q)]
    assert integer == sorted(integer, reverse=True), errors


def test_qualities_cover_the_paper_points(codec):
    assert codec.qualities == tuple(range(1, len(codec.qualities) + 1))
    assert len(codec.qualities) >= 4
    for lam in (0.0067, 0.013, 0.025, 0.05):
        assert lam in codec.lambdas
    assert codec.quality_range == (1.0, float(codec.qualities[-1]))


@pytest.mark.parametrize("outside", [lambda low, high: low - 1, lambda low, high: low - 0.01,
                                     lambda low, high: high + 1, lambda low, high: float("nan")])
def test_quality_outside_range_is_refused(codec, scene, outside):
    with pytest.raises(SpikecodecError, match="quality"):
        codec.encode_scene(scene, outside(*codec.quality_range))


def test_bad_scene_is_refused(codec):
    with pytest.raises(SpikecodecError, match=r"\(H, W\)"):
        codec.encode_scene(np.zeros((2, 8, 8), np.float32), 3)
    with pytest.raises(SpikecodecError, match="NaN"):
        codec.encode_scene(np.full((8, 8), np.nan, np.float32), 3)


@pytest.fixture(scope="module")
def payload(codec, scene) -> bytes:
    return codec.encode_scene(scene[:64, :96], 3)


@pytest.fixture(scope="module")
def base():
    return load_scene_codec("spikecodec-base")


@pytest.mark.parametrize("damage", [lambda p: p[:5], lambda p: b"", lambda p: b"\xff" * 4])
def test_truncated_latent_strings_raise_bitstream_error(base, damage):
    """The hyperprior writes two strings, the first length-prefixed (the context model writes one)."""
    payload = base.encode_scene(np.linspace(0, 1, 64 * 96, dtype=np.float32).reshape(64, 96), 3)
    with pytest.raises(BitstreamError, match="truncated"):
        base.decode_scene(damage(payload), 64, 96, 3)


@pytest.mark.parametrize("seed", range(6))
def test_damaged_latents_decode_to_a_scene_or_raise_bitstream_error(codec, payload, seed):
    """The record CRC guards a payload's bytes (format 6); what gets past it anyway must
    still give a scene of the right shape and range or a BitstreamError, never another error."""
    rng = np.random.default_rng(seed)
    damaged = bytearray(payload)
    for at in rng.integers(0, len(damaged), size=1 + seed):
        damaged[at] ^= 1 << int(rng.integers(8))
    try:
        out = codec.decode_scene(bytes(damaged), 64, 96, 3)
    except BitstreamError:
        return
    assert out.shape == (64, 96) and out.dtype == np.float32
    assert codec.value_range[0] <= out.min() and out.max() <= codec.value_range[1]


def test_registry_checks_sha256_of_committed_weights(base, tmp_path):
    record = json.loads((WEIGHTS_DIR / "spikecodec-base.json").read_text())
    assert base.weights_sha256 == record["sha256"] == file_sha256(WEIGHTS_DIR / "spikecodec-base.pth")
    assert (WEIGHTS_DIR / "spikecodec-base.pth").stat().st_size <= 10 * 2**20
    assert record["steps"] > 0 and record["kodak_gray"]
    shutil.copy(WEIGHTS_DIR / "spikecodec-base.json", tmp_path)
    tampered = bytearray((WEIGHTS_DIR / "spikecodec-base.pth").read_bytes())
    tampered[-100] ^= 1
    (tmp_path / "spikecodec-base.pth").write_bytes(bytes(tampered))
    with pytest.raises(SpikecodecError, match="do not match"):
        load_model("spikecodec-base", weights_dir=tmp_path)


def test_weights_are_named_by_attention_and_role_and_records_agree(tmp_path):
    assert weights_stem("m") == "m" and weights_stem("m", "soam") == "m-soam"
    assert weights_stem("m", role="inter") == "m-inter"
    for path in WEIGHTS_DIR.glob("*.json"):
        record = json.loads(path.read_text())
        role = record.get("role", "intra")
        assert path.stem == weights_stem(record["name"], record["attention"], role)
    with pytest.raises(SpikecodecError, match="inter codec has no attention"):
        load_model("spikecodec-base", "soam", role="inter")
    with pytest.raises(SpikecodecError, match="unknown model role"):
        load_model("spikecodec-base", role="bi")
    # weights filed under the wrong name are refused by their record
    for suffix in (".pth", ".json"):
        shutil.copy(WEIGHTS_DIR / f"spikecodec-base-inter{suffix}", tmp_path / f"spikecodec-base{suffix}")
    with pytest.raises(SpikecodecError, match="role 'inter', not 'none', 'intra'"):
        load_model("spikecodec-base", weights_dir=tmp_path)


def test_unknown_model_or_attention_is_refused():
    with pytest.raises(SpikecodecError, match="unknown model"):
        load_scene_codec("no-such-model")
    with pytest.raises(SpikecodecError, match="unknown attention"):
        load_scene_codec("spikecodec-base", attention="lstm")
