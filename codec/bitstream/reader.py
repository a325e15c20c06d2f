"""Reading records incrementally from any split of a ``.spkc`` byte stream.

::

    parser = RecordParser()
    for chunk in chunks:                 # gRPC messages, file reads, single bytes...
        for record in parser.feed(chunk):
            ...                          # StreamHeader, then SceneRecord / ExactRecord..., then EndRecord
    parser.close()                       # raises if the stream stopped early
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO, Iterator, NoReturn

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.bitstream.records import (
    CODING_NAMES,
    CODING_RAW,
    CRC,
    END_BODY,
    EXACT_TAIL,
    KIND_END,
    KIND_EXACT,
    KIND_HEADER,
    KIND_NAMES,
    KIND_SCENE,
    MAX_BODY_BYTES,
    MAX_EXACT_PLANES,
    MODE_B,
    MODE_INTRA,
    MODE_NAMES,
    MODE_P,
    PREAMBLE,
    EndRecord,
    ExactRecord,
    Record,
    SceneRecord,
    crc8,
    quality_value,
)
from codec.bitstream.varint import read_uvarint
from codec.errors import BitstreamError
from codec.io.packing import plane_bytes


class RecordParser:
    """Validating, incremental parser of one ``.spkc`` stream.

    Scene records come in coding order. The parser checks that each scene is new,
    within ``gop_size`` scenes of the first scene not yet seen, and that its mode's
    references exist; it names them in :attr:`SceneRecord.references`: a P scene's is
    the nearest scene before it that was seen, a B scene's the nearest seen on each side.
    Exact records come in plane order without gaps, each after the scene records of every
    scene its planes are conditioned on (:attr:`ExactRecord.scene`); one of planes past the
    last scene's block comes after every scene record.

    Attributes:
        header: the stream header once its record was read, else ``None``.
        num_scenes: scene records read so far.
        next_index: the first scene index not yet seen (all below it were).
        exact_planes: planes the exact records read so far cover.
        ended: whether the end record was read.
        bytes_read: bytes of complete records consumed (the stream size once ended).
    """

    def __init__(self) -> None:
        self.header: StreamHeader | None = None
        self.num_scenes = 0
        self.next_index = 0
        self.exact_planes = 0
        self.ended = False
        self.bytes_read = 0
        self._pending: set[int] = set()  # seen indices above next_index
        self._past_scenes = False  # an exact record of planes past the last scene's block was read
        self._buf = bytearray()
        self._records = 0

    def feed(self, data: bytes) -> list[Record]:
        """Consume ``data`` (any number of bytes) and return the records it completed.

        Raises:
            BitstreamError: naming the record, for anything but a valid prefix of
                a stream.
        """
        self._buf += data
        out: list[Record] = []
        used = 0
        while True:
            record, size = self._next(memoryview(self._buf)[used:])
            if record is None:
                break
            used += size
            self.bytes_read += size
            self._records += 1
            out.append(record)
        del self._buf[:used]
        return out

    def close(self) -> None:
        """Declare the end of the input.

        Raises:
            BitstreamError: the stream is empty, stops inside a record, or has no
                end record.
        """
        if self._buf:
            raise BitstreamError(f"truncated in {self._where()}: {self._truncation()}")
        if self.header is None:
            raise BitstreamError("empty stream: no .spkc header")
        if not self.ended:
            count = self.num_scenes
            after = f"{count} scene record{'' if count == 1 else 's'}" if count else "the header"
            raise BitstreamError(f"missing end record: stream truncated after {after}")

    def _frame(self, buf: memoryview, start: int) -> tuple[int, int, int] | None:
        """``(kind, body length, body offset)`` of the record at ``buf[start:]``, None if incomplete."""
        if len(buf) <= start:
            return None
        kind = buf[start]
        self._check_kind(kind, start)
        parsed = self._uvarint(buf, start + 1, None, start, "record length")
        if parsed is None:
            return None
        length, at = parsed
        if len(buf) <= at:
            return None
        if crc8(bytes(buf[start:at])) != buf[at]:
            self._fail(None, start, "record head CRC mismatch (corrupt kind or length)")
        if length > MAX_BODY_BYTES:
            self._fail(kind, start, f"body of {length} bytes exceeds the {MAX_BODY_BYTES}-byte limit")
        return kind, length, at + 1

    def _next(self, buf: memoryview) -> tuple[Record | None, int]:
        """Parse one record at the start of ``buf``: ``(record, bytes)`` or ``(None, 0)`` if incomplete."""
        if self.ended:
            if len(buf):
                raise BitstreamError(f"{len(buf)} bytes of trailing data after the end record (byte {self.bytes_read})")
            return None, 0
        start = 0
        if self.header is None:
            if bytes(buf[: len(MAGIC)]) != MAGIC[: len(buf)]:
                raise BitstreamError(f"not a .spkc stream: bad magic {bytes(buf[:len(MAGIC)])!r}")
            if len(buf) < PREAMBLE.size:
                return None, 0
            _, version = PREAMBLE.unpack_from(buf)
            if version != FORMAT_VERSION:
                raise BitstreamError(f"unknown version {version} (this build reads version {FORMAT_VERSION})")
            start = PREAMBLE.size
        framed = self._frame(buf, start)
        if framed is None:
            return None, 0
        kind, length, body_start = framed
        stop = body_start + length + CRC.size
        if len(buf) < stop:
            return None, 0
        body = bytes(buf[body_start : body_start + length])
        (body_crc,) = CRC.unpack_from(buf, body_start + length)
        if zlib.crc32(body) != body_crc:
            self._fail(kind, start, "body CRC mismatch")
        return self._parse(kind, body, start), stop

    def _uvarint(self, data: bytes | memoryview, offset: int, kind: int | None, at: int,
                 what: str) -> tuple[int, int] | None:
        """:func:`read_uvarint`, with a malformed varint reported as a problem of the record at ``at``."""
        try:
            return read_uvarint(data, offset)
        except BitstreamError as err:
            self._fail(kind, at, f"{what}: {err}")

    def _check_kind(self, kind: int, at: int) -> None:
        if kind not in KIND_NAMES:
            self._fail(None, at, f"unknown record kind 0x{kind:02x}")
        if self.header is None and kind != KIND_HEADER:
            self._fail(None, at, f"expected the header record, got a {KIND_NAMES[kind]} record")
        if self.header is not None and kind == KIND_HEADER:
            self._fail(None, at, "second header record")
        if kind == KIND_EXACT and self.header is not None and self.header.exact == "none":
            self._fail(None, at, "exact record in a stream whose header has no exact layer")
        if kind == KIND_SCENE and self.header is not None and not self.header.has_scenes:
            self._fail(None, at, "scene record in a stream of the exact layer alone")
        if kind == KIND_SCENE and self._past_scenes:
            self._fail(None, at, f"scene record after the exact record that used scene {self.next_index - 1} "
                                 f"as the last one")

    def _parse(self, kind: int, body: bytes, at: int) -> Record:
        if kind == KIND_HEADER:
            try:
                self.header = StreamHeader.from_bytes(body)
            except BitstreamError as err:
                self._fail(kind, at, str(err))
            return self.header
        if kind == KIND_SCENE:
            return self._parse_scene(body, at)
        if kind == KIND_EXACT:
            return self._parse_exact(body, at)
        return self._parse_end(body, at)

    def _parse_scene(self, body: bytes, at: int) -> SceneRecord:
        header = self.header
        assert header is not None
        parsed = self._uvarint(body, 1, KIND_SCENE, at, "scene index") if body else None
        if parsed is None or parsed[1] >= len(body):
            self._fail(KIND_SCENE, at, f"scene body of {len(body)} bytes is shorter than its head")
        mode, (index, head_end) = body[0], parsed
        quality_byte = body[head_end]
        if mode not in MODE_NAMES:
            self._fail(KIND_SCENE, at, f"unknown scene mode {mode}")
        if quality_byte == 0:
            self._fail(KIND_SCENE, at, "scene quality code 0")
        if index < self.next_index or index in self._pending:
            self._fail(KIND_SCENE, at, f"scene {index} was already coded")
        if index >= self.next_index + header.gop_size:
            self._fail(KIND_SCENE, at, f"scene {index} comes more than {header.gop_size} scenes ahead of "
                                       f"scene {self.next_index}, which is still missing")
        centre = header.offset + index * header.window
        if header.num_planes and centre >= header.num_planes:
            self._fail(KIND_SCENE, at,
                       f"scene {index} (centre {centre}) is beyond the header's {header.num_planes} planes")
        references = self._references(mode, index, at)
        self._pending.add(index)
        while self.next_index in self._pending:
            self._pending.remove(self.next_index)
            self.next_index += 1
        self.num_scenes += 1
        return SceneRecord(index, centre, mode, quality_value(quality_byte), body[head_end + 1 :], references)

    def _references(self, mode: int, index: int, at: int) -> tuple[int, ...]:
        """The scenes a ``mode`` scene at ``index`` is predicted from (module docstring)."""
        header = self.header
        assert header is not None
        if mode == MODE_INTRA:
            return ()
        if index % header.intra_period == 0:
            self._fail(KIND_SCENE, at, f"scene {index} is {MODE_NAMES[mode]}, but the intra period "
                                       f"{header.intra_period} makes it intra")
        if not header.predicted or (mode == MODE_B and header.gop != "random-access"):
            self._fail(KIND_SCENE, at, f"{MODE_NAMES[mode]} scene {index} in a {header.gop} stream")
        below = [i for i in self._pending if i < index] + ([self.next_index - 1] if self.next_index else [])
        above = [i for i in self._pending if i > index]
        if not below or (mode == MODE_B and not above):
            self._fail(KIND_SCENE, at, f"{MODE_NAMES[mode]} scene {index} has no decoded reference "
                                       f"{'on both sides' if mode == MODE_B else 'before it'}")
        return (max(below),) if mode == MODE_P else (max(below), min(above))

    def _parse_exact(self, body: bytes, at: int) -> ExactRecord:
        header = self.header
        assert header is not None
        first_at = self._uvarint(body, 0, KIND_EXACT, at, "first plane")
        count_at = None if first_at is None else self._uvarint(body, first_at[1], KIND_EXACT, at, "plane count")
        if first_at is None or count_at is None or count_at[1] + EXACT_TAIL.size > len(body):
            self._fail(KIND_EXACT, at, f"exact body of {len(body)} bytes is shorter than its head")
        first, (count, head_end) = first_at[0], count_at
        coding, crc = EXACT_TAIL.unpack_from(body, head_end)
        payload = body[head_end + EXACT_TAIL.size :]
        if first != self.exact_planes:
            self._fail(KIND_EXACT, at, f"starts at plane {first}, expected plane {self.exact_planes}")
        if not 1 <= count <= MAX_EXACT_PLANES:
            self._fail(KIND_EXACT, at, f"{count} planes, expected 1 to {MAX_EXACT_PLANES}")
        if header.num_planes and first + count > header.num_planes:
            self._fail(KIND_EXACT, at,
                       f"planes {first}..{first + count - 1} go beyond the header's {header.num_planes}")
        if coding not in CODING_NAMES:
            self._fail(KIND_EXACT, at, f"unknown coding {coding}")
        raw = count * plane_bytes(header.height, header.width)
        if (coding == CODING_RAW) != (len(payload) == raw) or len(payload) > raw:
            relation = "exactly" if coding == CODING_RAW else "less than"
            self._fail(KIND_EXACT, at, f"{CODING_NAMES[coding]} payload of {len(payload)} bytes, "
                                       f"{count} packed planes take {relation} {raw}")
        scene = self._exact_scene(header.scene_of(first + count - 1), at) if header.has_scenes else None
        self.exact_planes += count
        return ExactRecord(first, count, coding, crc, payload, scene)

    def _exact_scene(self, needed: int, at: int) -> int:
        """The last scene an exact record reaching into scene ``needed``'s block is conditioned on.

        Scenes ``0..needed`` must have been read; or ``needed`` is past the last scene (every
        scene was read, none may follow) and the planes there use the last scene.
        """
        if needed < self.next_index:
            return needed
        if needed > self.next_index or self._pending or not self.next_index:
            self._fail(KIND_EXACT, at, f"planes of scene {needed}'s block come before scene {self.next_index} "
                                       "was read")
        self._past_scenes = True
        return needed - 1

    def _parse_end(self, body: bytes, at: int) -> EndRecord:
        header = self.header
        assert header is not None
        if len(body) != END_BODY.size:
            self._fail(KIND_END, at, f"end body has {len(body)} bytes, expected {END_BODY.size}")
        end = EndRecord(*END_BODY.unpack(body))
        if header.num_planes and end.num_planes != header.num_planes:
            self._fail(KIND_END, at, f"{end.num_planes} planes, but the header says {header.num_planes}")
        if header.exact != "none" and self.exact_planes != end.num_planes:
            self._fail(KIND_END, at, f"{end.num_planes} planes, but the exact records cover {self.exact_planes}")
        needed = len(range(header.offset, end.num_planes, header.window)) if header.has_scenes else 0
        if not header.has_scenes and not end.num_planes:
            self._fail(KIND_END, at, "a stream of no plane")
        if header.has_scenes and not needed:
            self._fail(KIND_END, at, f"no scene: {end.num_planes} planes end before the first centre {header.offset}")
        if self._pending:
            self._fail(KIND_END, at, f"scene {self.next_index} is missing")
        if end.num_scenes != self.num_scenes or needed != self.num_scenes:
            self._fail(
                KIND_END, at,
                f"{end.num_planes} planes need {needed} scenes; end record counts {end.num_scenes}, "
                f"stream has {self.num_scenes}",
            )
        self.ended = True
        return end

    def _fail(self, kind: int | None, at: int, problem: str) -> NoReturn:
        raise BitstreamError(f"{self._where(kind, at)}: {problem}")

    def _where(self, kind: int | None = None, at: int = 0) -> str:
        """``record N (what) at byte B`` for the record starting ``at`` bytes into the buffer."""
        byte = self.bytes_read + at
        if self.header is None:
            what = "header"
        elif kind == KIND_END:
            what = "end"
        elif kind == KIND_SCENE:
            what = f"scene record {self.num_scenes}"
        elif kind == KIND_EXACT:
            what = f"exact record of plane {self.exact_planes}"
        else:
            what = f"scene record {self.num_scenes}, or end"
        return f"record {self._records} ({what}) at byte {byte}"

    def _truncation(self) -> str:
        """Extent of the incomplete record at the start of the buffer."""
        have = len(self._buf)
        start = PREAMBLE.size if self.header is None else 0
        try:
            framed = self._frame(memoryview(self._buf), start) if have >= start else None
        except BitstreamError as err:
            return str(err)
        if framed is None:
            return f"stream ends inside the record head ({have} bytes)"
        _, length, body_start = framed
        return f"{have} of {body_start + length + CRC.size} bytes"


def iter_file_records(source: str | Path | BinaryIO, chunk_bytes: int = 1 << 16) -> Iterator[Record]:
    """Read and validate a whole ``.spkc`` file (path or binary file object), record by record.

    Raises:
        BitstreamError: corruption, truncation or a missing end record.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            yield from iter_file_records(f, chunk_bytes)
        return
    parser = RecordParser()
    while chunk := source.read(chunk_bytes):
        yield from parser.feed(chunk)
    parser.close()
