"""The conditional inter codec: the residual codec that also sees the prediction it corrects.

Its context paths start at zero, so warm-started from residual weights it codes exactly as they
do; once they are not zero the prediction changes the bits, the decoder needs the very same
prediction, and predicted scenes still decode to the encoder's mirror bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from codec.bitstream import MODE_B, MODE_INTRA, RecordParser, SceneRecord, StreamHeader, header_record
from codec.bitstream.records import scene_record
from codec.errors import SpikecodecError
from codec.models import SceneCodec, load_scene_codec
from codec.models.conditional import ConditionalResidualHyperprior
from codec.models.registry import ARCHIVE, WEIGHTS_DIR, build_model, get_config, load_model
from codec.pipeline.prediction import PredictiveEncoder, SceneReconstructor

SIZE = (96, 128)


def _codec(model: torch.nn.Module) -> SceneCodec:
    model.eval().update(force=True)
    return SceneCodec(model, "spikecodec-base", "none", "0" * 64, {}, residual=True)


@pytest.fixture(scope="module")
def residual_and_warm() -> tuple[SceneCodec, SceneCodec]:
    """A residual inter codec (random weights) and the conditional codec warm-started from it."""
    torch.manual_seed(0)
    config = get_config("spikecodec-base")
    residual = build_model(replace(config, conditional_inter=False), role="inter")
    conditional = build_model(replace(config, conditional_inter=True), role="inter")
    missing, unexpected = conditional.load_state_dict(residual.state_dict(), strict=False)
    assert not unexpected and {k.split(".")[0] for k in missing} == {"context_head", "context_prior", "refine"}
    return _codec(residual), _codec(conditional)


@pytest.fixture(scope="module")
def conditional(residual_and_warm) -> SceneCodec:
    """The warm-started codec with random weights in its context paths: the context matters."""
    model = ConditionalResidualHyperprior(64, 96, residual_and_warm[1].lambdas)
    model.load_state_dict(residual_and_warm[1].model.state_dict())
    torch.manual_seed(1)
    with torch.no_grad():
        for name in ("context_head", "context_prior", "refine"):
            for p in getattr(model, name).parameters():
                p.copy_(torch.randn_like(p) * 0.05)
    return _codec(model)


def _scene_and_prediction(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0 : SIZE[0], 0 : SIZE[1]] / 9.0
    rng = np.random.default_rng(seed)
    scene = (0.5 + 0.3 * np.sin(xx + seed) * np.cos(yy)).astype(np.float32)
    prediction = np.clip(scene + rng.normal(0, 0.04, SIZE), 0, 1).astype(np.float32)
    return scene, prediction


def test_warm_started_from_residual_weights_it_codes_as_they_do(residual_and_warm):
    residual, warm = residual_and_warm
    scene, prediction = _scene_and_prediction()
    assert not residual.conditional and warm.conditional
    for quality in (1, 3.5, 6):
        payload, decoded = residual.encode_and_decode(scene - prediction, quality)
        warm_payload, warm_decoded = warm.encode_and_decode(scene - prediction, quality, context=prediction)
        assert warm_payload == payload and np.array_equal(warm_decoded, decoded)


def test_the_decoder_needs_the_encoders_prediction(conditional):
    scene, prediction = _scene_and_prediction()
    payload, mirror = conditional.encode_and_decode(scene - prediction, 3, context=prediction)
    assert np.array_equal(conditional.decode_scene(payload, *SIZE, 3, context=prediction), mirror)
    other = np.clip(prediction + 0.1, 0, 1)
    assert not np.array_equal(conditional.decode_scene(payload, *SIZE, 3, context=other), mirror)
    assert payload != conditional.encode_scene(scene - prediction, 3, context=other)
    with pytest.raises(SpikecodecError, match=r"needs a \(96, 128\) prediction as context, got None"):
        conditional.decode_scene(payload, *SIZE, 3)
    with pytest.raises(SpikecodecError, match=r"got \(96, 127\)"):
        conditional.encode_and_decode(scene - prediction, 3, context=prediction[:, :-1])


def test_predicted_scenes_decode_to_the_encoders_mirror(conditional):
    """An anchor, a P scene and a B scene between them, framed as records and decoded."""
    intra = load_scene_codec()
    scenes = [_scene_and_prediction(seed)[0] for seed in (0, 1, 2)]
    header = StreamHeader(height=SIZE[0], width=SIZE[1], num_planes=0, window=16, offset=8, recon="tfp",
                          attention="none", model=intra.name, model_sha256=intra.weights_sha256, quality=3.0,
                          intra_period=1000, gop="random-access", gop_size=2, inter_sha256="0" * 64)
    encoder = PredictiveEncoder(intra, conditional, *SIZE)
    mirror: dict[int, np.ndarray] = {}
    encoder.on_coded = lambda index, scene: mirror.__setitem__(index, scene.copy())
    parser, decoder = RecordParser(), SceneReconstructor(intra, conditional, *SIZE)
    parser.feed(header_record(header))
    modes = []
    for index, references in ((0, ()), (2, (0,)), (1, (0, 2))):
        mode, quality, payload = encoder.encode(index, scenes[index], 4.0, references, allow_intra=False)
        (record,) = parser.feed(scene_record(index, mode, quality, payload))
        assert isinstance(record, SceneRecord)
        assert np.array_equal(decoder.decode(record), mirror[index])
        modes.append(mode)
    assert modes[0] == MODE_INTRA and modes[2] == MODE_B


def test_every_shipped_and_archived_inter_codec_loads_with_the_architecture_of_its_record():
    records = sorted(WEIGHTS_DIR.glob("*-inter.json")) + sorted((WEIGHTS_DIR / ARCHIVE).glob("*-inter-*.json"))
    assert records
    for path in records:
        record = json.loads(path.read_text())
        archived = path.parent.name == ARCHIVE
        model, digest, _ = load_model(record["name"], role="inter", sha256=record["sha256"] if archived else None)
        assert digest == record["sha256"]
        assert isinstance(model, ConditionalResidualHyperprior) == record["config"].get("conditional_inter", False)
