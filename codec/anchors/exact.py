"""The exact layer as a bench point: spikecodec's own lossless coder, next to zstd / xz.

Two points, each a whole ``.spkc`` stream coded and decoded by
:mod:`codec.pipeline` (bpsp counts every byte: header, records, end):

- ``alone``: the exact layer without scenes (``spikecodec encode --lossless``);
- ``scenes``: the scene layer at the model's lowest quality, all intra, plus the
  exact layer conditioned on its decoded scenes (``spikecodec encode --exact
  --quality <lowest> --intra-period 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codec.anchors.base import AnchorError, AnchorInput, AnchorOutput

#: planes pushed to the encoder at a time
_BLOCK = 256


@dataclass(frozen=True)
class ExactAnchor:
    """spikecodec's exact layer, alone and over the scene layer (``model``: the scene codec)."""

    name: str = "exact"
    default_params: tuple = ("alone", "scenes")
    model: str = "spikecodec-base"

    def label(self, param: object) -> str:
        return str(param)

    def code(self, inp: AnchorInput, param: object) -> AnchorOutput:
        from codec.models import load_scene_codec
        from codec.pipeline import Decoder, Encoder, EncoderConfig

        if param not in self.default_params:
            raise AnchorError(f"unknown exact point {param!r}; use alone or scenes")
        quality = load_scene_codec(self.model).quality_range[0]
        config = EncoderConfig(quality=quality, window=inp.window, offset=inp.centres[0], model=self.model,
                               intra_period=1, exact="alone" if param == "alone" else "scenes")
        encoder = Encoder(config, inp.height, inp.width, num_planes=inp.num_planes)
        records = [encoder.header_record()]
        for start in range(0, inp.num_planes, _BLOCK):
            records += encoder.push(inp.planes[start : start + _BLOCK])
        records += encoder.finish()
        decoder = Decoder()
        planes = np.concatenate([decoder.push(record) for record in records])
        decoder.finish()
        return AnchorOutput(payload=b"".join(records), planes=planes)
