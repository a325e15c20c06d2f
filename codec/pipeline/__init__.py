"""Spikes -> ``.spkc`` bitstream -> spikes: the one API the CLI and the server call.

::

    Encoder(config, H, W, sensor)          Decoder(on_scene=None)
      .header_record() -> bytes              .push(record bytes) -> (n,H,W) uint8 planes
      .push((t,H,W) planes) -> [records]     .finish() -> {"planes", "scenes", "bytes"}
      .finish() -> [records..., end]

    encode_file(src, dst, config, height=None, width=None) -> summary dict
    decode_file(src, dst, scenes_dir=None) -> summary dict

Records are self-contained ``bytes`` (:mod:`codec.bitstream`), so a transport
can send them one by one; the decoder accepts them one by one or as any split
of the byte stream.
"""

from codec.pipeline.config import EncoderConfig
from codec.pipeline.decoder import Decoder
from codec.pipeline.encoder import Encoder
from codec.pipeline.files import decode_file, encode_file
from codec.pipeline.prediction import quantize_scene, scene_values

__all__ = [
    "EncoderConfig", "Encoder", "Decoder", "quantize_scene", "scene_values", "encode_file", "decode_file",
]
