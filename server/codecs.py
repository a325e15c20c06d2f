"""The server's only doorway to the codec: encoder settings from the wire, model facts.

Every codec decision lives in :mod:`codec.pipeline`; this module fills the
fields a client left empty with the server's defaults and describes the
installed models for ``GetServerInfo``.
"""

from __future__ import annotations

from codec.errors import SpikecodecError
from codec.models import load_scene_codec
from codec.models.registry import CONFIGS
from codec.options import ATTENTIONS, DEFAULT_OFFSET, RECONSTRUCTIONS
from codec.pipeline import EncoderConfig
from server.config import ServerConfig
from spikecodec_proto.v1 import service_pb2, spikes_pb2

RECON_METHODS = RECONSTRUCTIONS


def encoder_config(options: spikes_pb2.CodecOptions, defaults: ServerConfig) -> EncoderConfig:
    """``CodecOptions`` with zero/empty fields replaced by the server's defaults.

    Raises:
        SpikecodecError: a bad window, offset or exact layer (recon, attention, model
            and quality are checked when the :class:`codec.pipeline.Encoder` is made).
    """
    return EncoderConfig(
        quality=options.quality or defaults.quality,
        window=options.window or defaults.window,
        offset=options.offset if options.HasField("offset") else DEFAULT_OFFSET,  # the server has no other
        recon=options.recon or defaults.recon,
        attention=options.attention or defaults.attention,
        model=options.model or defaults.model,
        intra_period=options.intra_period if options.HasField("intra_period") else defaults.intra_period,
        gop=options.gop or defaults.gop,
        gop_size=options.gop_size if options.HasField("gop_size") else defaults.gop_size,
        exact=options.exact or defaults.exact,
    )


def default_options(defaults: ServerConfig) -> spikes_pb2.CodecOptions:
    """What empty ``CodecOptions`` fields mean on this server."""
    return spikes_pb2.CodecOptions(
        quality=defaults.quality, window=defaults.window, recon=defaults.recon,
        attention=defaults.attention, model=defaults.model, intra_period=defaults.intra_period,
        gop=defaults.gop, gop_size=defaults.gop_size, exact=defaults.exact,
    )


def model_infos() -> list[service_pb2.ModelInfo]:
    """Every registered model with the attention modes whose weights load (loading warms the cache)."""
    infos = []
    for name in CONFIGS:
        loaded = {}
        for attention in ATTENTIONS:
            try:
                loaded[attention] = load_scene_codec(name, attention=attention)
            except SpikecodecError:
                continue
        if not loaded:
            continue
        codec = loaded.get("none") or next(iter(loaded.values()))
        low, high = codec.quality_range
        infos.append(service_pb2.ModelInfo(
            name=codec.name, weights_sha256=codec.weights_sha256, qualities=list(codec.qualities),
            min_quality=low, max_quality=high, attention=list(loaded),
        ))
    return infos
