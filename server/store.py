"""The stream store: ``.spkc`` files plus an SQLite index.

Layout under the store root::

    streams/<id>.spkc    complete, validated .spkc streams (``spikecodec decode`` reads them)
    tmp/<id>.part        uploads in progress (never visible)
    index.sqlite3        one row per visible stream: id, created, shape, planes, bits, ...

A write is atomic: records go to ``tmp/``, the file is fsynced and renamed into
``streams/`` (and the directory fsynced), then its index row is inserted in a
transaction -- the row is the commit point. Start-up reconciles the two: leftover
temp files and stream files without a row are deleted, rows without a file are
dropped (and logged). A read verifies the file's sha256 against the index;
a mismatch raises :class:`StoreDataLoss`, never returns the bytes.

One process owns a store at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codec.bitstream import EndRecord, RecordParser, StreamHeader
from codec.errors import SpikecodecError
from server.logs import get_logger

INDEX_NAME = "index.sqlite3"
SUFFIX = ".spkc"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    created REAL NOT NULL,
    name TEXT NOT NULL,
    height INTEGER NOT NULL,
    width INTEGER NOT NULL,
    num_planes INTEGER NOT NULL,
    num_scenes INTEGER NOT NULL,
    bits INTEGER NOT NULL,
    quality REAL NOT NULL,
    model TEXT NOT NULL,
    recon TEXT NOT NULL,
    attention TEXT NOT NULL,
    window INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    sha256 TEXT NOT NULL
)
"""
_COLUMNS = ("id", "created", "name", "height", "width", "num_planes", "num_scenes", "bits",
            "quality", "model", "recon", "attention", "window", "sensor", "sha256")


class StreamNotFound(SpikecodecError):
    """No stream with that id in the store."""


class StoreDataLoss(SpikecodecError):
    """A stored stream whose file is missing or no longer matches its checksum."""


@dataclass(frozen=True)
class StoredStream:
    """One index row.

    Attributes:
        id: 32 hex digits.
        created: seconds since the epoch (UTC) of the commit.
        name: the client's label.
        height, width: plane size in pixels.
        num_planes: ``T``; num_scenes: scene records.
        bits: size of the ``.spkc`` file in bits.
        quality, model, recon, attention, window: codec settings from the header.
        sensor: :class:`codec.sensor.SensorParams` fields as a dict.
        sha256: hex digest of the file.
    """

    id: str
    created: float
    name: str
    height: int
    width: int
    num_planes: int
    num_scenes: int
    bits: int
    quality: float
    model: str
    recon: str
    attention: str
    window: int
    sensor: dict[str, Any]
    sha256: str

    @property
    def bpsp(self) -> float:
        """Bits per spike-pixel: ``bits / (T*H*W)``."""
        return self.bits / max(1, self.num_planes * self.height * self.width)


class PendingStream:
    """An upload being written: feed it ``.spkc`` records, then :meth:`commit` or :meth:`abort`.

    Records are validated as they arrive (:class:`codec.bitstream.RecordParser`);
    only a complete stream (end record included) can be committed. Use as a
    context manager: leaving the block without a commit aborts.
    """

    def __init__(self, store: "StreamStore", name: str) -> None:
        self.id = uuid.uuid4().hex
        self.name = name
        self._store = store
        self._tmp = store.root / "tmp" / f"{self.id}.part"
        self._file = open(self._tmp, "xb")
        self._sha = hashlib.sha256()
        self._parser = RecordParser()
        self._end: EndRecord | None = None
        self._done = False

    def write(self, record: bytes) -> None:
        """Append one record (or any piece of the byte stream).

        Raises:
            BitstreamError: the bytes are not a valid continuation of the stream.
        """
        for parsed in self._parser.feed(record):
            if isinstance(parsed, EndRecord):
                self._end = parsed
        self._file.write(record)
        self._sha.update(record)

    def commit(self) -> StoredStream:
        """Make the stream visible: fsync, rename, directory fsync, index row.

        Raises:
            BitstreamError: the stream is incomplete (no end record).
        """
        self._parser.close()
        header = self._parser.header
        assert header is not None and self._end is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self._store.path(self.id)
        os.replace(self._tmp, final)
        _fsync_dir(final.parent)
        stream = _row_from_header(self.id, self.name, header, self._end, self._parser.bytes_read * 8, self._sha.hexdigest())
        self._done = True
        try:
            self._store._insert(stream)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return stream

    def abort(self) -> None:
        """Forget the upload: close and delete the temp file. Idempotent."""
        if self._done:
            return
        self._done = True
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "PendingStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class StreamStore:
    """``.spkc`` files and their SQLite index under ``root`` (created if missing)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "streams").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.root / INDEX_NAME, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        self.reconciled = self.reconcile()

    def path(self, stream_id: str) -> Path:
        """Where the ``.spkc`` file of ``stream_id`` lives (whether or not it exists)."""
        if not (len(stream_id) == 32 and all(c in "0123456789abcdef" for c in stream_id)):
            raise StreamNotFound(f"no stream {stream_id!r}: ids are 32 lowercase hex digits")
        return self.root / "streams" / f"{stream_id}{SUFFIX}"

    def reconcile(self) -> dict[str, list[str]]:
        """Bring files and index into agreement (run at start-up, before serving).

        Returns:
            ``{"temp_removed": [...], "orphans_removed": [...], "rows_dropped": [...]}``
            (file names or ids).
        """
        log = get_logger()
        report: dict[str, list[str]] = {"temp_removed": [], "orphans_removed": [], "rows_dropped": []}
        for tmp in (self.root / "tmp").iterdir():
            tmp.unlink()
            report["temp_removed"].append(tmp.name)
        with self._lock:
            ids = {row["id"] for row in self._db.execute("SELECT id FROM streams")}
        for file in (self.root / "streams").iterdir():
            if file.suffix != SUFFIX or file.stem not in ids:
                file.unlink()
                report["orphans_removed"].append(file.name)
        for stream_id in sorted(ids):
            if not self.path(stream_id).is_file():
                with self._lock:
                    self._db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
                report["rows_dropped"].append(stream_id)
                log.error("store.row_without_file", extra={"fields": {"id": stream_id}})
        if any(report.values()):
            log.warning("store.reconciled", extra={"fields": report})
        return report

    def begin(self, name: str = "") -> PendingStream:
        """Start writing a new stream; see :class:`PendingStream`."""
        return PendingStream(self, name)

    def get(self, stream_id: str) -> StoredStream:
        """The index row of ``stream_id``.

        Raises:
            StreamNotFound: no such stream.
        """
        self.path(stream_id)
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM streams WHERE id = ?", (stream_id,)).fetchone()
        if row is None:
            raise StreamNotFound(f"no stream {stream_id!r}")
        return _from_row(row)

    def list(self, limit: int = 100, before_seq: int | None = None) -> tuple[list[StoredStream], int | None]:
        """Newest first, at most ``limit``; pass the returned cursor as ``before_seq`` for the next page.

        Returns:
            ``(streams, cursor)``; ``cursor`` is ``None`` on the last page.
        """
        query = f"SELECT seq, {', '.join(_COLUMNS)} FROM streams"
        params: tuple[int, ...] = ()
        if before_seq is not None:
            query += " WHERE seq < ?"
            params = (before_seq,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq DESC LIMIT ?", (*params, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return [_from_row(row) for row in rows], (rows[-1]["seq"] if more else None)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM streams").fetchone()[0]

    def delete(self, stream_id: str) -> StoredStream:
        """Remove the row (commit point), then the file.

        Raises:
            StreamNotFound: no such stream.
        """
        stream = self.get(stream_id)
        with self._lock:
            self._db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
        self.path(stream_id).unlink(missing_ok=True)
        return stream

    def read(self, stream_id: str) -> tuple[StoredStream, bytes]:
        """The row and the verified bytes of ``stream_id``.

        Raises:
            StreamNotFound: no such stream.
            StoreDataLoss: the file is missing or its sha256 differs from the index.
        """
        stream = self.get(stream_id)
        try:
            data = self.path(stream_id).read_bytes()
        except FileNotFoundError:
            raise StoreDataLoss(f"stream {stream_id}: stored file is missing") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != stream.sha256 or len(data) * 8 != stream.bits:
            raise StoreDataLoss(
                f"stream {stream_id}: stored file is corrupt (sha256 {digest[:12]}..., "
                f"{len(data)} bytes; index says {stream.sha256[:12]}..., {stream.bits // 8} bytes)"
            )
        return stream, data

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert(self, stream: StoredStream) -> None:
        values = [getattr(stream, c) for c in _COLUMNS]
        values[_COLUMNS.index("sensor")] = json.dumps(stream.sensor, sort_keys=True)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"INSERT INTO streams ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def _row_from_header(stream_id: str, name: str, header: StreamHeader, end: EndRecord, bits: int, sha256: str) -> StoredStream:
    return StoredStream(
        id=stream_id, created=time.time(), name=name, height=header.height, width=header.width,
        num_planes=end.num_planes, num_scenes=end.num_scenes, bits=bits, quality=float(header.quality),
        model=header.model, recon=header.recon, attention=header.attention, window=header.window,
        sensor=header.sensor.to_dict(), sha256=sha256,
    )


def _from_row(row: sqlite3.Row) -> StoredStream:
    values = {c: row[c] for c in _COLUMNS}
    values["sensor"] = json.loads(values["sensor"])
    return StoredStream(**values)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

