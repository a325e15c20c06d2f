"""Writing records: framing, CRCs and the three record kinds (see :mod:`codec.bitstream`)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Union

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.errors import BitstreamError

PREAMBLE = struct.Struct(">4sH")  # magic, version
FRAME = struct.Struct(">BII")  # kind, body length, crc32(kind | length)
CRC = struct.Struct(">I")
SCENE_HEAD = struct.Struct(">IQB")  # scene index, centre plane, mode
END_BODY = struct.Struct(">QI")  # num_planes, num_scenes

KIND_HEADER, KIND_SCENE, KIND_END = b"H"[0], b"S"[0], b"E"[0]
KIND_NAMES = {KIND_HEADER: "header", KIND_SCENE: "scene", KIND_END: "end"}
#: largest body a reader accepts (a scene payload is tens of KiB)
MAX_BODY_BYTES = 1 << 28
#: scene coding modes: the payload is the scene (intra) or its residual against
#: the previous decoded scene (inter)
MODE_INTRA, MODE_INTER = 0, 1
MODE_NAMES = {MODE_INTRA: "intra", MODE_INTER: "inter"}


@dataclass(frozen=True)
class SceneRecord:
    """One coded scene: its index ``i``, centre plane ``C0 + i*K``, codec payload and
    mode (:data:`MODE_INTRA` or :data:`MODE_INTER`)."""

    index: int
    centre: int
    payload: bytes
    mode: int = MODE_INTRA


@dataclass(frozen=True)
class EndRecord:
    """Closes a stream: final plane count ``T`` and number of scenes."""

    num_planes: int
    num_scenes: int


Record = Union[StreamHeader, SceneRecord, EndRecord]


def frame(kind: int, body: bytes) -> bytes:
    """Wrap ``body`` as one record: ``kind | length | frame-crc | body | body-crc``."""
    if len(body) > MAX_BODY_BYTES:
        raise BitstreamError(f"{KIND_NAMES[kind]} record of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    head = struct.pack(">BI", kind, len(body))
    return head + CRC.pack(zlib.crc32(head)) + body + CRC.pack(zlib.crc32(body))


def header_record(header: StreamHeader) -> bytes:
    """The first bytes of a stream: preamble (magic, version) and the header record."""
    return PREAMBLE.pack(MAGIC, FORMAT_VERSION) + frame(KIND_HEADER, header.to_bytes())


def scene_record(index: int, centre: int, payload: bytes, mode: int = MODE_INTRA) -> bytes:
    """Record of scene ``index`` centred on plane ``centre`` with the codec's ``payload``."""
    return frame(KIND_SCENE, SCENE_HEAD.pack(index, centre, mode) + bytes(payload))


def end_record(num_planes: int, num_scenes: int) -> bytes:
    """The last record: final number of planes and of scenes."""
    return frame(KIND_END, END_BODY.pack(num_planes, num_scenes))
