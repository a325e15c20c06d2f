"""Writing records: framing, checksums and the record kinds (layout in docs/format.md).

::

    record = kind u8 | length uvarint | head-crc u8 | body (length bytes) | body-crc u32 (big-endian)

``head-crc`` (CRC-8 of kind and length) lets a reader refuse a corrupt length
before waiting for a body that will never come; ``body-crc`` is
``zlib.crc32(body)`` and covers every byte of the body, motion vectors included.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Union

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.bitstream.varint import uvarint
from codec.errors import BitstreamError

PREAMBLE = struct.Struct(">4sH")  # magic, version
CRC = struct.Struct(">I")
END_BODY = struct.Struct(">QI")  # num_planes, num_scenes
EXACT_TAIL = struct.Struct(">BI")  # coding, crc32 of the packed planes (after first plane and count)

KIND_HEADER, KIND_SCENE, KIND_END, KIND_EXACT = b"H"[0], b"S"[0], b"E"[0], b"X"[0]
KIND_NAMES = {KIND_HEADER: "header", KIND_SCENE: "scene", KIND_END: "end", KIND_EXACT: "exact"}
#: largest body a reader accepts (a scene payload is tens of KiB)
MAX_BODY_BYTES = 1 << 28
#: scene coding modes: intra; P, predicted from the nearest decoded scene before it (coded
#: vectors); B, predicted from the nearest decoded scenes on both sides (vectors the decoder
#: derives itself). A P or B scene without a residual is the prediction itself (skip).
MODE_INTRA, MODE_P, MODE_B = 0, 1, 2
MODE_NAMES = {MODE_INTRA: "intra", MODE_P: "P", MODE_B: "B"}
#: scene qualities travel as ``round((quality - QUALITY_FLOOR) * QUALITY_SCALE)`` in one byte
QUALITY_SCALE = 16
QUALITY_FLOOR = -4
#: exact record codings: the packed planes as they are, or the spike model's arithmetic code
#: (:mod:`codec.exact`), which is always smaller than the packed planes
CODING_RAW, CODING_MODEL = 0, 1
CODING_NAMES = {CODING_RAW: "raw", CODING_MODEL: "model"}
#: most planes one exact record may carry
MAX_EXACT_PLANES = 1024


@dataclass(frozen=True)
class SceneRecord:
    """One coded scene.

    Attributes:
        index: scene index ``i`` in time order (centre plane ``C0 + i*K``); records come
            in coding order.
        centre: centre plane of the scene.
        mode: :data:`MODE_INTRA`, :data:`MODE_P` or :data:`MODE_B`.
        quality: scene codec quality the payload was coded at (a multiple of 1/16, from -4).
        payload: the mode's payload (:mod:`codec.bitstream.payloads`).
        references: indexes of the decoded scenes it is predicted from (none for intra,
            one for P, the earlier and the later one for B; :class:`RecordParser` names them).
    """

    index: int
    centre: int
    mode: int
    quality: float
    payload: bytes
    references: tuple[int, ...] = ()


@dataclass(frozen=True)
class EndRecord:
    """Closes a stream: final plane count ``T`` and number of scenes."""

    num_planes: int
    num_scenes: int


@dataclass(frozen=True)
class ExactRecord:
    """A chunk of the exact spike layer: planes ``[first_plane, first_plane + num_planes)``
    coded as ``coding`` (:data:`CODING_RAW` or :data:`CODING_MODEL`); ``planes_crc`` is the
    ``zlib.crc32`` of those planes packed (:func:`codec.io.pack_planes`), which the decoder
    checks after decoding.

    Attributes:
        scene: the last scene index the planes are conditioned on (``None`` without a scene
            layer); :class:`RecordParser` checks that every scene up to it was read before,
            or, for the planes after the last scene's block, that no scene record follows.
    """

    first_plane: int
    num_planes: int
    coding: int
    planes_crc: int
    payload: bytes
    scene: int | None = None


Record = Union[StreamHeader, SceneRecord, ExactRecord, EndRecord]


def crc8(data: bytes) -> int:
    """CRC-8 (polynomial 0x07) of ``data``; guards a record's kind and length."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def frame(kind: int, body: bytes) -> bytes:
    """Wrap ``body`` as one record (layout in the module docstring)."""
    if len(body) > MAX_BODY_BYTES:
        raise BitstreamError(f"{KIND_NAMES[kind]} record of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    head = bytes([kind]) + uvarint(len(body))
    return head + bytes([crc8(head)]) + body + CRC.pack(zlib.crc32(body))


def header_record(header: StreamHeader) -> bytes:
    """The first bytes of a stream: preamble (magic, version) and the header record."""
    return PREAMBLE.pack(MAGIC, FORMAT_VERSION) + frame(KIND_HEADER, header.to_bytes())


def quality_code(quality: float) -> int:
    """The one-byte code of a scene quality (``round(16 * (quality + 4))``).

    Raises:
        BitstreamError: a quality outside ``[-4 + 1/16, -4 + 255/16]``.
    """
    code = round((float(quality) - QUALITY_FLOOR) * QUALITY_SCALE)
    if not 1 <= code <= 255:
        raise BitstreamError(f"scene quality {quality} is outside the coded range")
    return code


def quality_value(code: int) -> float:
    """Inverse of :func:`quality_code`."""
    return code / QUALITY_SCALE + QUALITY_FLOOR


def scene_record(index: int, mode: int, quality: float, payload: bytes) -> bytes:
    """Record of scene ``index`` coded in ``mode`` at ``quality`` (see :func:`quality_code`)."""
    if mode not in MODE_NAMES:
        raise BitstreamError(f"unknown scene mode {mode}")
    body = bytes([mode]) + uvarint(index) + bytes([quality_code(quality)]) + bytes(payload)
    return frame(KIND_SCENE, body)


def exact_record(first_plane: int, num_planes: int, coding: int, planes_crc: int, payload: bytes) -> bytes:
    """Record of an exact-layer chunk (see :class:`ExactRecord`)::

        body = first_plane uvarint | num_planes uvarint | coding u8 | planes_crc u32 | payload
    """
    head = uvarint(first_plane) + uvarint(num_planes) + EXACT_TAIL.pack(coding, planes_crc)
    return frame(KIND_EXACT, head + bytes(payload))


def end_record(num_planes: int, num_scenes: int) -> bytes:
    """The last record: final number of planes and of scenes."""
    return frame(KIND_END, END_BODY.pack(num_planes, num_scenes))
