"""The stream header: everything a decoder needs before the first scene.

A fixed binary layout (big-endian) inside a CRC-checked record; the byte layout
is specified in docs/format.md. Enumerations are indexes into :data:`GOP_CODES`,
:data:`codec.options.RESET_MECHANISMS`, :data:`~codec.options.INIT_STATES` and
:data:`~codec.options.EXACT_LAYERS`. The ``exact`` byte closes the header only when
the stream has an exact layer, so streams without one are unchanged by it; a stream
of the exact layer alone has no scene layer: empty names, no digests, all intra.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from codec.errors import BitstreamError, SpikecodecError
from codec.options import EXACT_LAYERS, GOP_STRUCTURES, INIT_STATES, MAX_GOP_SIZE, RESET_MECHANISMS
from codec.sensor import SensorParams

#: first four bytes of every ``.spkc`` stream
MAGIC = b"SPKC"
#: container format version written by this build (and the only one it reads)
FORMAT_VERSION = 8
#: scene structures in the order of their wire codes (a structure's code is its position in
#: :data:`codec.options.GOP_STRUCTURES`, which therefore only ever grows at its end): every
#: scene intra; a chain of P scenes (each from the one before); hierarchical B scenes between
#: anchors ``gop_size`` scenes apart
GOP_CODES = GOP_STRUCTURES

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIXED = struct.Struct(">IIQII" "dIBH" "ddBdBqd")
_DIGEST_BYTES = 32


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
        quality: the stream's nominal scene codec quality (each scene record carries the
            quality it was coded at).
        intra_period: scene ``i`` is intra coded when ``i % intra_period == 0``;
            the others may be predicted. 1 = all intra.
        gop: scene structure, one of :data:`codec.options.GOP_STRUCTURES`.
        gop_size: scenes from one anchor to the next (random access; 1 otherwise).
        inter_sha256: hex sha256 of the inter codec weights; empty for ``gop == "intra"``.
        exact: the exact spike layer (:data:`codec.options.EXACT_LAYERS`): ``"none"``,
            ``"scenes"`` (exact records beside the scene records, conditioned on the decoded
            scenes) or ``"alone"`` (exact records only; recon, attention, model and the
            digests empty, gop ``"intra"``).
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
    gop: str = "intra"
    gop_size: int = 1
    inter_sha256: str = ""
    exact: str = "none"

    @property
    def predicted(self) -> bool:
        """Whether scenes may be predicted (an inter codec is needed)."""
        return self.gop != "intra"

    @property
    def has_scenes(self) -> bool:
        """Whether the stream carries a scene layer (every stream but an exact layer alone)."""
        return self.exact != "alone"

    def scene_of(self, plane: int) -> int:
        """Index of the scene whose block holds ``plane``: ``max(0, (plane - C0 + K//2) div K)``
        (scene ``i``'s block is planes ``C0 + i*K - K//2 .. C0 + i*K + K - K//2 - 1``). Past the
        last scene's block it is the stream's scene count; the exact layer uses the last scene there."""
        return max(0, (plane - self.offset + self.window // 2) // self.window)

    def __post_init__(self) -> None:
        for name in ("height", "width", "window", "intra_period"):
            value = getattr(self, name)
            if not _is_int(value) or value <= 0:
                raise BitstreamError(f"header field {name!r} must be a positive integer, got {value!r}")
        for name in ("num_planes", "offset"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise BitstreamError(f"header field {name!r} must be a non-negative integer, got {value!r}")
        if self.exact not in EXACT_LAYERS:
            raise BitstreamError(f"header field 'exact' must be one of {', '.join(EXACT_LAYERS)}, got {self.exact!r}")
        if self.has_scenes:
            self._check_scene_layer()
        elif (self.recon, self.attention, self.model, self.model_sha256, self.inter_sha256, self.intra_period,
              self.gop, self.gop_size) != ("", "", "", "", "", 1, "intra", 1):
            raise BitstreamError("a stream without a scene layer has empty recon, attention, model and digests, "
                                 "gop intra and intra period 1")
        value = self.quality
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BitstreamError(f"header field 'quality' must be a finite number, got {value!r}")
        if not isinstance(self.sensor, SensorParams):
            raise BitstreamError(f"header field 'sensor' must be SensorParams, got {type(self.sensor).__name__}")

    def _check_scene_layer(self) -> None:
        """Raise unless the scene codec fields name a scene layer."""
        for name in ("recon", "attention", "model"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise BitstreamError(f"header field {name!r} must be a non-empty string, got {value!r}")
        if not isinstance(self.model_sha256, str) or not _SHA256.fullmatch(self.model_sha256):
            raise BitstreamError(
                f"header field 'model_sha256' must be 64 lowercase hex digits, got {self.model_sha256!r}")
        if self.gop not in GOP_CODES:
            raise BitstreamError(f"header field 'gop' must be one of {', '.join(GOP_CODES)}, got {self.gop!r}")
        largest = MAX_GOP_SIZE if self.gop == "random-access" else 1
        if not _is_int(self.gop_size) or not 1 <= self.gop_size <= largest:
            raise BitstreamError(
                f"header field 'gop_size' must be in 1..{largest} for {self.gop}, got {self.gop_size!r}")
        if not self.predicted and self.inter_sha256 != "":
            raise BitstreamError("header field 'inter_sha256' must be empty for an all-intra stream")
        if self.predicted and (not isinstance(self.inter_sha256, str) or not _SHA256.fullmatch(self.inter_sha256)):
            raise BitstreamError(
                f"header field 'inter_sha256' must be 64 lowercase hex digits, got {self.inter_sha256!r}")

    def to_bytes(self) -> bytes:
        """The binary header body (layout in the module docstring)."""
        sensor = self.sensor
        try:
            fixed = _FIXED.pack(self.height, self.width, self.num_planes, self.window, self.offset,
                                float(self.quality), self.intra_period, GOP_CODES.index(self.gop), self.gop_size,
                                sensor.threshold, sensor.alpha, RESET_MECHANISMS.index(sensor.reset_mechanism),
                                sensor.tau or 0.0, INIT_STATES.index(sensor.init), sensor.seed, sensor.plane_rate)
        except struct.error as err:
            raise BitstreamError(f"header field out of range: {err}") from None
        names = b"".join(_short_string(value) for value in (self.recon, self.attention, self.model))
        digests = bytes.fromhex(self.model_sha256) + bytes.fromhex(self.inter_sha256)
        exact = bytes([EXACT_LAYERS.index(self.exact)]) if self.exact != "none" else b""
        return fixed + names + digests + exact

    @classmethod
    def from_bytes(cls, body: bytes) -> "StreamHeader":
        """Parse :meth:`to_bytes` output.

        Raises:
            BitstreamError: wrong length, unknown enumeration, bad UTF-8 or invalid values.
        """
        if len(body) < _FIXED.size:
            raise BitstreamError(f"header of {len(body)} bytes is shorter than its {_FIXED.size}-byte fixed part")
        (height, width, num_planes, window, offset, quality, intra_period, gop, gop_size,
         threshold, alpha, reset, tau, init, seed, plane_rate) = _FIXED.unpack_from(body)
        if gop >= len(GOP_CODES):
            raise BitstreamError(f"header field 'gop': unknown structure {gop}")
        at, names = _FIXED.size, []
        for _ in range(3):
            value, at = _read_short_string(body, at)
            names.append(value)
        digests = (1 if GOP_CODES[gop] == "intra" else 2) if names[0] else 0  # no recon: no scene layer
        end = at + digests * _DIGEST_BYTES
        exact = body[end] if len(body) == end + 1 else 0  # written only when not "none"
        if len(body) not in (end, end + 1) or (len(body) == end + 1 and not exact):
            raise BitstreamError(f"header has {len(body)} bytes, its fields need {end}")
        if exact >= len(EXACT_LAYERS):
            raise BitstreamError(f"header field 'exact': unknown exact layer {exact}")
        model_sha256 = body[at : at + _DIGEST_BYTES].hex() if digests else ""
        inter_sha256 = body[at + _DIGEST_BYTES : end].hex()
        if reset >= len(RESET_MECHANISMS) or init >= len(INIT_STATES):
            raise BitstreamError(f"header field 'sensor': unknown reset mechanism {reset} or initial state {init}")
        try:
            sensor = SensorParams(threshold=threshold, alpha=alpha, reset_mechanism=RESET_MECHANISMS[reset],
                                  tau=tau or None, init=INIT_STATES[init], seed=seed, plane_rate=plane_rate)
        except SpikecodecError as err:
            raise BitstreamError(f"header field 'sensor': {err}") from None
        return cls(height=height, width=width, num_planes=num_planes, window=window, offset=offset,
                   recon=names[0], attention=names[1], model=names[2], model_sha256=model_sha256,
                   quality=quality, sensor=sensor, intra_period=intra_period, gop=GOP_CODES[gop],
                   gop_size=gop_size, inter_sha256=inter_sha256, exact=EXACT_LAYERS[exact])


def _short_string(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 255:
        raise BitstreamError(f"header string {value[:20]!r}... is longer than 255 bytes")
    return bytes([len(data)]) + data


def _read_short_string(body: bytes, at: int) -> tuple[str, int]:
    """The u8-length-prefixed UTF-8 string at ``body[at:]`` and the offset after it."""
    if at >= len(body) or at + 1 + body[at] > len(body):
        raise BitstreamError(f"header truncated inside its names (byte {at} of {len(body)})")
    end = at + 1 + body[at]
    try:
        return body[at + 1 : end].decode("utf-8"), end
    except UnicodeDecodeError as err:
        raise BitstreamError(f"header name is not valid UTF-8: {err}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
