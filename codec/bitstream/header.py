"""The stream header: everything a decoder needs before the first scene.

Serialized as a compact UTF-8 JSON object with sorted keys (so equal headers are
equal bytes), inside a CRC-checked record (see :mod:`codec.bitstream`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from codec.errors import BitstreamError, SpikecodecError
from codec.sensor import SensorParams

#: first four bytes of every ``.spkc`` stream
MAGIC = b"SPKC"
#: container format version written by this build (and the only one it reads)
FORMAT_VERSION = 3

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StreamHeader:
    """Header fields of a ``.spkc`` stream.

    Attributes:
        height, width: plane size in pixels.
        num_planes: planes in the stream, 0 while unknown (live encoding; the
            end record always carries the final count).
        window: planes per scene ``K``; scene ``i`` is centred on plane
            ``offset + i*window``.
        offset: centre ``C0`` of the first scene, in planes.
        sensor: integrate-and-fire parameters used to regenerate spikes.
        recon: reconstruction method of the encoder (``tfp``, ``tfi``, ``net``).
        attention: scene codec attention (``none``, ``soam``, ``bisoam``).
        model: scene codec name in the model registry.
        model_sha256: hex sha256 of the codec weights (decoders must match it).
        quality: scene codec quality.
        intra_period: scene ``i`` is intra coded when ``i % intra_period == 0``;
            the others may be inter coded (residual against the previous decoded
            scene). 1 = all intra.
        inter_sha256: hex sha256 of the inter codec weights; empty when
            ``intra_period`` is 1.
        inter_offset: inter scenes are coded at quality
            ``max(1, quality - inter_offset)`` (predicted scenes are cheaper to
            code coarser, like a video coder's QP offsets).
    """

    height: int
    width: int
    num_planes: int
    window: int
    offset: int
    recon: str
    attention: str
    model: str
    model_sha256: str
    quality: float
    sensor: SensorParams = field(default_factory=SensorParams)
    intra_period: int = 1
    inter_sha256: str = ""
    inter_offset: float = 0.0

    def __post_init__(self) -> None:
        for name in ("height", "width", "window", "intra_period"):
            value = getattr(self, name)
            if not _is_int(value) or value <= 0:
                raise BitstreamError(f"header field {name!r} must be a positive integer, got {value!r}")
        for name in ("num_planes", "offset"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise BitstreamError(f"header field {name!r} must be a non-negative integer, got {value!r}")
        for name in ("recon", "attention", "model"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise BitstreamError(f"header field {name!r} must be a non-empty string, got {value!r}")
        if not isinstance(self.model_sha256, str) or not _SHA256.fullmatch(self.model_sha256):
            raise BitstreamError(f"header field 'model_sha256' must be 64 lowercase hex digits, got {self.model_sha256!r}")
        if self.intra_period == 1 and self.inter_sha256 != "":
            raise BitstreamError("header field 'inter_sha256' must be empty when intra_period is 1")
        if self.intra_period > 1 and (not isinstance(self.inter_sha256, str) or not _SHA256.fullmatch(self.inter_sha256)):
            raise BitstreamError(f"header field 'inter_sha256' must be 64 lowercase hex digits, got {self.inter_sha256!r}")
        for name in ("quality", "inter_offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BitstreamError(f"header field {name!r} must be a finite number, got {value!r}")
        if self.inter_offset < 0:
            raise BitstreamError(f"header field 'inter_offset' must be >= 0, got {self.inter_offset!r}")
        if not isinstance(self.sensor, SensorParams):
            raise BitstreamError(f"header field 'sensor' must be SensorParams, got {type(self.sensor).__name__}")

    def to_json(self) -> bytes:
        """Compact, key-sorted UTF-8 JSON of all fields (sensor as a nested object)."""
        values = asdict(self)
        values["quality"] = float(self.quality)
        values["inter_offset"] = float(self.inter_offset)
        return json.dumps(values, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, body: bytes) -> "StreamHeader":
        """Parse :meth:`to_json` output; missing or unknown fields are an error.

        Raises:
            BitstreamError: not JSON, wrong fields or invalid values.
        """
        try:
            values = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BitstreamError(f"header is not valid JSON: {err}") from None
        if not isinstance(values, dict):
            raise BitstreamError("header is not a JSON object")
        expected = {f.name for f in fields(cls)}
        if set(values) != expected:
            missing, unknown = sorted(expected - set(values)), sorted(set(values) - expected)
            raise BitstreamError(f"header fields do not match version {FORMAT_VERSION}: missing {missing}, unknown {unknown}")
        if not isinstance(values["sensor"], dict):
            raise BitstreamError("header field 'sensor' must be an object")
        try:
            values["sensor"] = SensorParams.from_dict(values["sensor"])
        except (SpikecodecError, TypeError) as err:
            raise BitstreamError(f"header field 'sensor': {err}") from None
        return cls(**values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
