"""Learned scene codec: a variable-rate mean-scale hyperprior (CompressAI) whose
encoder may be steered by spike attention (SOAM / BiSOAM).

Example (what :mod:`codec.pipeline` does per scene)::

    from codec.models import load_scene_codec

    codec = load_scene_codec("spikecodec-base", attention="none")
    codec.qualities                # (1, 2, 3, 4, 5, 6); floats in between work too
    payload = codec.encode_scene(scene, quality=4)          # scene: (H, W) float32 in [0, 1]
    scene_hat = codec.decode_scene(payload, H, W, quality=4)  # (H, W) float32 in [0, 1]

    # SOAM/BiSOAM only change the encoder; decoding is identical and needs no spikes:
    soam = load_scene_codec(attention="bisoam")
    payload = soam.encode_scene(scene, 4, spikes_before=block[:c], spikes_after=block[c + 1:])

Store ``codec.name``, ``codec.attention``, ``codec.weights_sha256`` and the quality in
the stream header; the decoder needs the same weights (each attention variant has
its own file; replaced weights stay in ``weights/archive``) and the quality. Payloads carry
their own CRC and scene size.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

# compressai 1.2.8 decorates helpers with torch.jit.script, which torch 2.14 flags as
# deprecated on every import; the warning is about compressai's code, not ours.
warnings.filterwarnings("ignore", message=r"`torch.jit.script` is deprecated", category=FutureWarning)

from codec.device import CPU
from codec.models.registry import ATTENTIONS, CONFIGS, archived_version, first_quality, get_config, load_model
from codec.models.scene_codec import SceneCodec
from codec.options import DEFAULT_ATTENTION, DEFAULT_MODEL

__all__ = ["ATTENTIONS", "CONFIGS", "SceneCodec", "load_inter_codec", "load_scene_codec"]


def load_scene_codec(name: str = DEFAULT_MODEL, attention: str = DEFAULT_ATTENTION,
                     sha256: str | None = None, device: str = CPU) -> SceneCodec:
    """The named model with the committed weights for ``attention`` (cached per process and device);
    ``sha256``: a stream's weights, taken from the archive when they were replaced
    (:mod:`codec.models.registry`), else the installed ones; ``device``: where its analysis/synthesis
    transforms and attention compute (the entropy model stays on the CPU; :mod:`codec.device`).

    Raises:
        SpikecodecError: unknown name/attention, missing weights, or a weight file
            whose sha256 does not match its training record.
    """
    return _load_codec(name, attention, "intra", archived_version(name, attention, "intra", sha256), str(device))


def load_inter_codec(name: str = DEFAULT_MODEL, sha256: str | None = None, device: str = CPU) -> SceneCodec:
    """The named model's inter (residual) codec with its committed weights (cached per process and
    device; ``sha256`` and ``device`` as for :func:`load_scene_codec`).

    It codes ``scene - reference`` in [-1, 1] (see :mod:`codec.pipeline.prediction`);
    it has no attention.

    Raises:
        SpikecodecError: unknown name, missing weights or a sha256 mismatch.
    """
    return _load_codec(name, "none", "inter", archived_version(name, "none", "inter", sha256), str(device))


@lru_cache(maxsize=None)
def _load_codec(name: str, attention: str, role: str, archived: str | None, device: str) -> SceneCodec:
    """One loaded codec per ``(name, attention, role, weights, device)`` and process."""
    model, digest, record = load_model(name, attention, role=role, sha256=archived)
    return SceneCodec(model.place(device), name, attention, digest, record, residual=role == "inter",
                      first_quality=first_quality(get_config(name), role))
