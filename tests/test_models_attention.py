"""SOAM / BiSOAM: shapes, spike binning, and decoding without spikes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codec.errors import SpikecodecError, SpikeFormatError
from codec.models.attention import SpikeAttention, bin_spikes
from codec.models.registry import build_model, get_config, load_model
from codec.models.scene_codec import SceneCodec
from codec.simulate.neuron import IntegrateAndFire


def test_bin_spikes_averages_rates_per_bin():
    spikes = np.zeros((8, 2, 3), np.uint8)
    spikes[:4] = 1
    np.testing.assert_array_equal(bin_spikes(spikes, 2)[:, 0, 0], [1.0, 0.0])
    np.testing.assert_array_equal(bin_spikes(spikes, 2, reverse=True)[:, 0, 0], [0.0, 1.0])
    assert bin_spikes(spikes[:0], 4).shape == (4, 2, 3)
    assert bin_spikes(spikes[:3], 4)[3].sum() == 0  # fewer planes than bins: empty bin is zero


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_attention_map_shape(bidirectional, layers):
    module = SpikeAttention(32, hidden=8, layers=layers, steps=3, bidirectional=bidirectional)
    before, after = torch.rand(2, 3, 64, 128), torch.rand(2, 3, 64, 128)
    attn = module(before, after)
    assert attn.shape == (2, 32, 32, 64)
    assert torch.equal(attn, torch.zeros_like(attn))  # zero-initialised head: identity at start
    torch.nn.init.normal_(module.head.weight)
    attn = module(before, after)
    assert attn.abs().max() < 1 and attn.abs().max() > 0
    if bidirectional:
        with pytest.raises(ValueError, match="after"):
            module(before)


def spike_block(scene: np.ndarray, planes: int, seed: int) -> np.ndarray:
    neurons = IntegrateAndFire(scene.shape, threshold=1.0, alpha=1.0, reset_mechanism="subtract",
                               tau=None, init="uniform", seed=seed)
    return neurons(np.repeat(scene[None], planes, axis=0))


@pytest.fixture(scope="module")
def bisoam_codec():
    """BiSOAM around the committed base codec with a random (non-zero) attention head."""
    base, digest, record = load_model("spikecodec-base")
    model = build_model(get_config("spikecodec-base"), "bisoam")
    model.load_state_dict(base.state_dict(), strict=False)
    torch.manual_seed(0)
    torch.nn.init.normal_(model.attention.head.weight, std=0.5)
    model = model.eval().to(memory_format=torch.channels_last)  # as load_model returns it
    return SceneCodec(model, "spikecodec-base", "bisoam", digest, record), base


def test_bisoam_steers_the_encoder_and_decodes_without_spikes(bisoam_codec):
    codec, base = bisoam_codec
    rng = np.random.default_rng(0)
    scene = np.clip(rng.normal(0.3, 0.1, (70, 90)), 0, 1).astype(np.float32)
    before, after = spike_block(scene, 16, 1), spike_block(scene, 16, 2)
    payload = codec.encode_scene(scene, 3, spikes_before=before, spikes_after=after)
    plain = SceneCodec(base, "spikecodec-base", "none", codec.weights_sha256, codec.record)
    assert payload != plain.encode_scene(scene, 3)
    out = codec.decode_scene(payload, 70, 90, 3)
    assert out.shape == (70, 90)
    assert np.array_equal(out, plain.decode_scene(payload, 70, 90, 3))  # same g_s, no spikes


def test_attention_requires_matching_spikes(bisoam_codec):
    codec, _ = bisoam_codec
    scene = np.full((32, 48), 0.4, np.float32)
    block = spike_block(scene, 8, 0)
    with pytest.raises(SpikecodecError, match="spike planes"):
        codec.encode_scene(scene, 3, spikes_before=block)
    with pytest.raises(SpikeFormatError, match="do not match"):
        codec.encode_scene(scene, 3, spikes_before=block[:, :16], spikes_after=block)


def test_committed_soam_codes_with_the_same_block_on_both_sides():
    from codec.models import load_scene_codec

    codec = load_scene_codec("spikecodec-base", "soam")
    scene = np.full((40, 64), 0.3, np.float32)
    block = spike_block(scene, 8, 3)
    payload = codec.encode_scene(scene, 2, spikes_before=block, spikes_after=block)
    assert payload == codec.encode_scene(scene, 2, spikes_before=block)  # SOAM ignores the after side
    assert codec.decode_scene(payload, 40, 64, 2).shape == (40, 64)
