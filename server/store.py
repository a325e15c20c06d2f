"""The stream store: ``.spkc`` files plus an SQLite index (:mod:`server.index`).

Layout under the store root::

    streams/<id>.spkc    complete, validated .spkc streams (``spikecodec decode`` reads them)
    tmp/<id>.part        uploads in progress (never visible)
    quarantine/          whatever start-up could not account for (moved here and logged, never deleted)
    index.sqlite3        one row per visible stream: id, created, shape, planes, bits, ...

A write is atomic: records go to ``tmp/``, the file is fsynced and renamed into
``streams/`` (and the directory fsynced), then its index row is inserted in a
transaction -- the row is the commit point (until then the id is noted as no
stream, so a crash between rename and row leaves nothing visible). A delete
removes the row and notes the id as deleted in one transaction, then unlinks
the file. A read verifies the file's sha256 against the index; a mismatch
raises :class:`StoreDataLoss`, never returns the bytes. A full volume raises :class:`StoreFull` and leaves the
store as it was.

Start-up (:meth:`StreamStore.reconcile`) trusts the stream files more than the
index, because each file is self-describing (header, CRCs, end record):

* an index SQLite cannot open is moved to ``quarantine/`` and a new one made;
* temp files (uploads never acknowledged) are deleted;
* a row whose file vanished is dropped; a damaged row whose file is intact is
  rebuilt from the file; a row whose id names no file (``../x``) is left alone
  and logged (listing skips it);
* a stream file without a row is indexed from the file -- so a lost index is
  rebuilt (rebuilt rows have an empty name and the file's mtime as ``created``)
  -- unless its id is noted as no stream (a delete or a commit interrupted by a
  crash: the file is removed);
  anything else in ``streams/`` is moved to ``quarantine/``.

One process owns a store at a time.
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from typing import cast

from codec.bitstream import EndRecord, RecordParser, StreamHeader, iter_file_records
from codec.errors import SpikecodecError
from server.index import (
    FULL_MESSAGE,
    INDEX_FILES,
    INDEX_NAME,
    STREAM_ID,
    Index,
    StoreDataLoss,
    StoredStream,
    StoreFull,
    row_to_stream,
)
from server.logs import get_logger

SUFFIX = ".spkc"
__all__ = ["PendingStream", "StoreDataLoss", "StoreFull", "StoredStream", "StreamNotFound", "StreamStore"]


class StreamNotFound(SpikecodecError):
    """No stream with that id in the store."""


def _disk_errors(err: OSError) -> Exception:
    """``StoreFull`` for a full volume, else ``err`` itself."""
    return StoreFull(FULL_MESSAGE) if err.errno in (errno.ENOSPC, errno.EDQUOT) else err


class PendingStream:
    """An upload being written: feed it ``.spkc`` records, then :meth:`commit` or :meth:`abort`.

    Records are validated as they arrive (:class:`codec.bitstream.RecordParser`);
    only a complete stream (end record included) can be committed. Use as a
    context manager: leaving the block without a commit aborts.

    Raises:
        StoreFull: (any method) the volume is full; the upload is then aborted.
    """

    def __init__(self, store: "StreamStore", name: str) -> None:
        self.id = uuid.uuid4().hex
        self.name = name
        self._store = store
        self._tmp = store.root / "tmp" / f"{self.id}.part"
        self._sha = hashlib.sha256()
        self._parser = RecordParser()
        self._end: EndRecord | None = None
        self._done = False
        try:
            self._file = open(self._tmp, "xb")
        except OSError as err:
            raise _disk_errors(err) from None

    def write(self, record: bytes) -> None:
        """Append one record (or any piece of the byte stream).

        Raises:
            BitstreamError: the bytes are not a valid continuation of the stream.
        """
        for parsed in self._parser.feed(record):
            if isinstance(parsed, EndRecord):
                self._end = parsed
        try:
            self._file.write(record)
        except OSError as err:
            raise _disk_errors(err) from None
        self._sha.update(record)

    def commit(self) -> StoredStream:
        """Make the stream visible: fsync, rename, directory fsync, index row.

        Raises:
            BitstreamError: the stream is incomplete (no end record).
        """
        self._parser.close()
        header = self._parser.header
        assert header is not None and self._end is not None
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as err:
            raise _disk_errors(err) from None
        self._file.close()
        final = self._store.path(self.id)
        # Until its row is in, the file is marked as no stream: a crash right after the rename must not
        # make an upload nobody acknowledged visible when start-up indexes files without rows.
        self._store._index.execute("INSERT OR REPLACE INTO deleted (id) VALUES (?)", (self.id,))
        os.replace(self._tmp, final)
        self._done = True
        stream = _row(self.id, self.name, time.time(), header, self._end, self._parser.bytes_read * 8,
                      self._sha.hexdigest())
        try:
            _fsync_dir(final.parent)
            self._store._index.insert(stream, ("DELETE FROM deleted WHERE id = ?", (self.id,)))
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return stream

    def abort(self) -> None:
        """Forget the upload: close and delete the temp file. Idempotent."""
        if self._done:
            return
        self._done = True
        try:
            self._file.close()
        except OSError:  # buffered bytes that no longer fit: the file goes anyway
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "PendingStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class StreamStore:
    """``.spkc`` files and their SQLite index under ``root`` (created if missing).

    Attributes:
        reconciled: what start-up did (:meth:`reconcile`).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        for folder in ("streams", "tmp"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        report: dict[str, list[str]] = {"index_quarantined": []}
        try:
            self._index = Index(self.root / INDEX_NAME)
        except sqlite3.DatabaseError as err:
            get_logger().error("store.index_unusable", extra={"fields": {"error": str(err)}})
            report["index_quarantined"] = self._quarantine(*(self.root / name for name in INDEX_FILES))
            self._index = Index(self.root / INDEX_NAME)
        self.reconciled = {**report, **self.reconcile()}

    def path(self, stream_id: str) -> Path:
        """Where the ``.spkc`` file of ``stream_id`` lives (whether or not it exists)."""
        if not STREAM_ID.fullmatch(stream_id):
            raise StreamNotFound(f"no stream {stream_id!r}: ids are 32 lowercase hex digits")
        return self.root / "streams" / f"{stream_id}{SUFFIX}"

    def reconcile(self) -> dict[str, list[str]]:
        """Bring files and index into agreement (run at start-up, before serving; module docstring).

        Returns:
            lists of file names or ids: ``temp_removed``, ``rows_dropped``, ``rows_rebuilt``,
            ``rows_unreadable``, ``deletes_finished``, ``quarantined``.
        """
        report: dict[str, list[str]] = {key: [] for key in (
            "temp_removed", "rows_dropped", "rows_rebuilt", "rows_unreadable", "deletes_finished", "quarantined")}
        for tmp in (self.root / "tmp").iterdir():
            if tmp.is_file() and tmp.suffix == ".part":
                tmp.unlink()
                report["temp_removed"].append(tmp.name)
            else:
                report["quarantined"] += self._quarantine(tmp)
        indexed = set()
        for row in self._index.rows():
            indexed.add(row["id"])
            self._reconcile_row(row, report)
        deleted = {row["id"] for row in self._index.execute("SELECT id FROM deleted")}
        for file in sorted((self.root / "streams").iterdir()):
            stream_id = file.stem if file.suffix == SUFFIX and file.is_file() else ""
            if not STREAM_ID.fullmatch(stream_id):
                report["quarantined"] += self._quarantine(file)
            elif stream_id in indexed:
                continue
            elif stream_id in deleted:
                file.unlink()
                report["deletes_finished"].append(stream_id)
            elif (stream := _row_from_file(stream_id, file)) is not None:
                self._index.insert(stream)
                report["rows_rebuilt"].append(stream_id)
            else:
                report["quarantined"] += self._quarantine(file)
        self._index.execute("DELETE FROM deleted")
        if any(report.values()):
            get_logger().warning("store.reconciled", extra={"fields": report})
        return report

    def _reconcile_row(self, row: sqlite3.Row, report: dict[str, list[str]]) -> None:
        log = get_logger()
        stream_id = row["id"]
        if not isinstance(stream_id, str) or not STREAM_ID.fullmatch(stream_id):
            report["rows_unreadable"].append(stream_id)
            log.error("store.row_unreadable", extra={"fields": {"seq": row["seq"], "id": repr(stream_id)}})
            return
        path = self.path(stream_id)
        if not path.is_file():
            self._index.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
            report["rows_dropped"].append(stream_id)
            log.error("store.row_without_file", extra={"fields": {"id": stream_id}})
            return
        try:
            row_to_stream(row)
            return
        except StoreDataLoss as err:
            log.error("store.row_damaged", extra={"fields": {"id": stream_id, "error": str(err)}})
        name, created = _kept(row["name"], str, ""), _kept(row["created"], float, None)
        rebuilt = _row_from_file(stream_id, path, cast(str, name), cast("float | None", created))
        if rebuilt is not None:  # else the row stays and answers DATA_LOSS
            self._index.update(row["seq"], rebuilt)
            report["rows_rebuilt"].append(stream_id)

    def _quarantine(self, *paths: Path) -> list[str]:
        """Move ``paths`` (those that exist) into ``quarantine/``; returns their names as moved."""
        moved = []
        folder = self.root / "quarantine"
        for path in paths:
            if not path.exists():
                continue
            folder.mkdir(exist_ok=True)
            target = folder / path.name
            if target.exists():
                target = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}-{path.name}"
            shutil.move(path, target)
            moved.append(path.name)
            get_logger().warning("store.quarantined", extra={"fields": {"file": str(path), "moved_to": str(target)}})
        return moved

    def begin(self, name: str = "") -> PendingStream:
        """Start writing a new stream; see :class:`PendingStream`."""
        return PendingStream(self, name)

    def get(self, stream_id: str) -> StoredStream:
        """The index row of ``stream_id``.

        Raises:
            StreamNotFound: no such stream.
            StoreDataLoss: its row is damaged.
        """
        self.path(stream_id)
        rows = list(self._index.rows("WHERE id = ?", (stream_id,)))
        if not rows:
            raise StreamNotFound(f"no stream {stream_id!r}")
        return row_to_stream(rows[0])

    def list(self, limit: int = 100, before_seq: int | None = None) -> tuple[list[StoredStream], int | None]:
        """Newest first, at most ``limit`` rows; pass the returned cursor as ``before_seq`` for the next page.

        Damaged rows are skipped (and logged): a page may hold fewer than ``limit`` streams.

        Returns:
            ``(streams, cursor)``; ``cursor`` is ``None`` on the last page.
        """
        where, params = ("WHERE seq < ?", (before_seq,)) if before_seq is not None else ("", ())
        rows = list(self._index.rows(f"{where} ORDER BY seq DESC LIMIT ?", (*params, limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        streams = []
        for row in rows:
            try:
                streams.append(row_to_stream(row))
            except StoreDataLoss as err:
                get_logger().warning("store.row_skipped", extra={"fields": {"seq": row["seq"], "error": str(err)}})
        return streams, (rows[-1]["seq"] if more else None)

    def count(self) -> int:
        return self._index.execute("SELECT COUNT(*) FROM streams")[0][0]

    def delete(self, stream_id: str) -> StoredStream | None:
        """Remove the row (commit point), then the file.

        Returns:
            the deleted stream, ``None`` if its row was damaged.

        Raises:
            StreamNotFound: no such stream.
        """
        try:
            stream: StoredStream | None = self.get(stream_id)
        except StoreDataLoss:
            stream = None
        path = self.path(stream_id)
        commit = (("DELETE FROM streams WHERE id = ?", (stream_id,)),
                  ("INSERT OR REPLACE INTO deleted (id) VALUES (?)", (stream_id,)))
        self._index.transaction(*commit)
        path.unlink(missing_ok=True)
        self._index.execute("DELETE FROM deleted WHERE id = ?", (stream_id,))
        return stream

    def read(self, stream_id: str) -> tuple[StoredStream, bytes]:
        """The row and the verified bytes of ``stream_id``.

        Raises:
            StreamNotFound: no such stream.
            StoreDataLoss: the row is damaged, the file is missing or its sha256 differs from the index.
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
        self._index.close()


def _row(stream_id: str, name: str, created: float, header: StreamHeader, end: EndRecord, bits: int,
         sha256: str) -> StoredStream:
    return StoredStream(
        id=stream_id, created=created, name=name, height=header.height, width=header.width,
        num_planes=end.num_planes, num_scenes=end.num_scenes, bits=bits, quality=float(header.quality),
        model=header.model, recon=header.recon, attention=header.attention, window=header.window,
        sensor=header.sensor.to_dict(), sha256=sha256,
    )


def _row_from_file(stream_id: str, path: Path, name: str = "", created: float | None = None) -> StoredStream | None:
    """The index row of a stream file, read from its own records; ``None`` if it is no complete ``.spkc``."""
    try:
        data = path.read_bytes()
        header, *_, end = list(iter_file_records(io.BytesIO(data)))
    except (SpikecodecError, OSError, ValueError):
        return None
    if not isinstance(header, StreamHeader) or not isinstance(end, EndRecord):
        return None
    when = path.stat().st_mtime if created is None else created
    return _row(stream_id, name, when, header, end, len(data) * 8, hashlib.sha256(data).hexdigest())


def _kept(value: object, kind: type, default: object) -> object:
    """``value`` if it is a valid ``kind`` (text that is UTF-8, a finite number), else ``default``."""
    if kind is float and isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if kind is str and isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            pass
    return default


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
