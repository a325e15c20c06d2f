"""Reading records incrementally from any split of a ``.spkc`` byte stream.

::

    parser = RecordParser()
    for chunk in chunks:                 # gRPC messages, file reads, single bytes...
        for record in parser.feed(chunk):
            ...                          # StreamHeader, then SceneRecord..., then EndRecord
    parser.close()                       # raises if the stream stopped early
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO, Iterator, NoReturn

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.bitstream.records import (
    CRC,
    END_BODY,
    FRAME,
    KIND_END,
    KIND_HEADER,
    KIND_NAMES,
    KIND_SCENE,
    MAX_BODY_BYTES,
    MODE_INTER,
    MODE_NAMES,
    PREAMBLE,
    SCENE_HEAD,
    EndRecord,
    Record,
    SceneRecord,
)
from codec.errors import BitstreamError


class RecordParser:
    """Validating, incremental parser of one ``.spkc`` stream.

    Attributes:
        header: the stream header once its record was read, else ``None``.
        num_scenes: scene records read so far.
        ended: whether the end record was read.
        bytes_read: bytes of complete records consumed (the stream size once ended).
    """

    def __init__(self) -> None:
        self.header: StreamHeader | None = None
        self.num_scenes = 0
        self.ended = False
        self.bytes_read = 0
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
            kind, detail = self._truncation()
            raise BitstreamError(f"truncated in {self._where(kind)}: {detail}")
        if self.header is None:
            raise BitstreamError("empty stream: no .spkc header")
        if not self.ended:
            after = f"scene {self.num_scenes - 1}" if self.num_scenes else "the header"
            raise BitstreamError(f"missing end record: stream truncated after {after}")

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
        if len(buf) < start + FRAME.size:
            return None, 0
        kind, length, frame_crc = FRAME.unpack_from(buf, start)
        if zlib.crc32(buf[start : start + 5]) != frame_crc:
            self._fail(None, start, "frame CRC mismatch (corrupt kind or length)")
        self._check_kind(kind, start)
        if length > MAX_BODY_BYTES:
            self._fail(kind, start, f"body of {length} bytes exceeds the {MAX_BODY_BYTES}-byte limit")
        body_start = start + FRAME.size
        stop = body_start + length + CRC.size
        if len(buf) < stop:
            return None, 0
        body = bytes(buf[body_start : body_start + length])
        (body_crc,) = CRC.unpack_from(buf, body_start + length)
        if zlib.crc32(body) != body_crc:
            self._fail(kind, start, "body CRC mismatch")
        return self._parse(kind, body, start), stop

    def _check_kind(self, kind: int, at: int) -> None:
        if kind not in KIND_NAMES:
            self._fail(None, at, f"unknown record kind 0x{kind:02x}")
        if self.header is None and kind != KIND_HEADER:
            self._fail(None, at, f"expected the header record, got a {KIND_NAMES[kind]} record")
        if self.header is not None and kind == KIND_HEADER:
            self._fail(None, at, "second header record")

    def _parse(self, kind: int, body: bytes, at: int) -> Record:
        if kind == KIND_HEADER:
            try:
                self.header = StreamHeader.from_bytes(body)
            except BitstreamError as err:
                self._fail(kind, at, str(err))
            return self.header
        if kind == KIND_SCENE:
            return self._parse_scene(body, at)
        return self._parse_end(body, at)

    def _parse_scene(self, body: bytes, at: int) -> SceneRecord:
        header = self.header
        assert header is not None
        if len(body) < SCENE_HEAD.size:
            self._fail(KIND_SCENE, at, f"scene body of {len(body)} bytes is shorter than its {SCENE_HEAD.size}-byte head")
        index, centre, mode = SCENE_HEAD.unpack_from(body)
        expected = header.offset + self.num_scenes * header.window
        if index != self.num_scenes or centre != expected:
            self._fail(KIND_SCENE, at, f"got scene {index} at centre {centre}, expected scene {self.num_scenes} at centre {expected}")
        if mode not in MODE_NAMES:
            self._fail(KIND_SCENE, at, f"unknown scene mode {mode}")
        if mode == MODE_INTER and index % header.intra_period == 0:
            self._fail(KIND_SCENE, at, f"scene {index} is inter coded, but the intra period {header.intra_period} makes it intra")
        if header.num_planes and centre >= header.num_planes:
            self._fail(KIND_SCENE, at, f"centre {centre} is beyond the header's {header.num_planes} planes")
        self.num_scenes += 1
        return SceneRecord(index, centre, body[SCENE_HEAD.size :], mode)

    def _parse_end(self, body: bytes, at: int) -> EndRecord:
        header = self.header
        assert header is not None
        if len(body) != END_BODY.size:
            self._fail(KIND_END, at, f"end body has {len(body)} bytes, expected {END_BODY.size}")
        end = EndRecord(*END_BODY.unpack(body))
        if header.num_planes and end.num_planes != header.num_planes:
            self._fail(KIND_END, at, f"{end.num_planes} planes, but the header says {header.num_planes}")
        needed = len(range(header.offset, end.num_planes, header.window))
        if not needed:
            self._fail(KIND_END, at, f"no scene: {end.num_planes} planes end before the first centre {header.offset}")
        if end.num_scenes != self.num_scenes or needed != self.num_scenes:
            self._fail(
                KIND_END, at,
                f"{end.num_planes} planes need {needed} scenes; end record counts {end.num_scenes}, stream has {self.num_scenes}",
            )
        self.ended = True
        return end

    def _fail(self, kind: int | None, at: int, problem: str) -> NoReturn:
        raise BitstreamError(f"{self._where(kind, at)}: {problem}")

    def _where(self, kind: int | None = None, at: int = 0) -> str:
        """``record N (what) at byte B`` for the record starting ``at`` bytes into the buffer."""
        header = self.header
        byte = self.bytes_read + at
        if header is None:
            what = "header"
        else:
            centre = header.offset + self.num_scenes * header.window
            scene = f"scene {self.num_scenes}, centre {centre}"
            if kind is None and header.num_planes:
                kind = KIND_SCENE if centre < header.num_planes else KIND_END
            what = {KIND_SCENE: scene, KIND_END: "end"}.get(kind, f"{scene}, or end")  # type: ignore[arg-type]
        return f"record {self._records} ({what}) at byte {byte}"

    def _truncation(self) -> tuple[int | None, str]:
        """Kind (once its frame was read and checked) and extent of the incomplete record."""
        have = len(self._buf)
        start = PREAMBLE.size if self.header is None else 0
        if have < start + FRAME.size:
            return None, f"stream ends inside the record frame ({have} bytes)"
        kind, length, _ = FRAME.unpack_from(self._buf, start)
        return kind, f"{have} of {start + FRAME.size + length + CRC.size} bytes"


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
