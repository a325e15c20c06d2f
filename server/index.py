"""The store's SQLite index: one row per visible stream, read defensively.

A row is only trusted after :func:`row_to_stream` has checked every field, so a
damaged row (bad JSON, text that is not UTF-8, a negative size, an id that is no
stream id) is reported as such instead of failing whatever read it. Every SQLite
failure leaves as :class:`StoreFull` (no space) or :class:`StoreDataLoss`
(anything else: the index itself is damaged).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from codec.errors import SpikecodecError
from codec.sensor import SensorParams

INDEX_NAME = "index.sqlite3"
#: SQLite's own files of the index (write-ahead log, shared memory)
INDEX_FILES = (INDEX_NAME, INDEX_NAME + "-wal", INDEX_NAME + "-shm")
STREAM_ID = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS streams (
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
    )""",
    # ids whose file is no stream: deleted (the file may outlive the row: a crash before the unlink),
    # or renamed into streams/ but not yet committed (a crash before the row)
    "CREATE TABLE IF NOT EXISTS deleted (id TEXT PRIMARY KEY)",
)
COLUMNS = ("id", "created", "name", "height", "width", "num_planes", "num_scenes", "bits",
           "quality", "model", "recon", "attention", "window", "sensor", "sha256")


class StoreDataLoss(SpikecodecError):
    """A stored stream whose file or index row is missing, damaged or no longer matches its checksum."""


class StoreFull(SpikecodecError):
    """The store's volume has no space left (stream files or index)."""


FULL_MESSAGE = "store is full: no space left on its volume; delete streams or give the store more space"


@dataclass(frozen=True)
class StoredStream:
    """One index row.

    Attributes:
        id: 32 lowercase hex digits.
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


def row_to_stream(row: sqlite3.Row) -> StoredStream:
    """Check every field of an index row.

    Raises:
        StoreDataLoss: ``stream <id>: index row is damaged (<field>: <problem>)``.
    """
    values = {c: row[c] for c in COLUMNS}
    try:
        values["sensor"] = _check_row(values)
    except (ValueError, TypeError, SpikecodecError) as err:
        raise StoreDataLoss(f"stream {values['id']}: index row is damaged ({err})") from None
    return StoredStream(**values)


def _check_row(values: dict[str, Any]) -> dict[str, Any]:
    """Validate ``values`` in place; returns the parsed sensor dict."""
    for name in ("id", "name", "model", "recon", "attention", "sensor", "sha256"):
        if not isinstance(values[name], str):
            raise TypeError(f"{name}: not text")
        values[name].encode("utf-8")  # text that was not UTF-8 holds surrogates (see _text)
    if not STREAM_ID.fullmatch(values["id"]) or not _SHA256.fullmatch(values["sha256"]):
        raise ValueError("id or sha256: not hex digits of the right length")
    for name in ("height", "width", "window", "num_planes", "num_scenes", "bits"):
        value = values[name]
        if not isinstance(value, int) or value < (1 if name in ("height", "width", "window") else 0):
            raise ValueError(f"{name}: {value!r}")
    for name in ("created", "quality"):
        if not isinstance(values[name], (int, float)) or not math.isfinite(values[name]):
            raise ValueError(f"{name}: {values[name]!r}")
    sensor = json.loads(values["sensor"])
    if not isinstance(sensor, dict):
        raise ValueError("sensor: not an object")
    SensorParams.from_dict(sensor)
    return sensor


def _text(data: bytes) -> str:
    """SQLite text to ``str``; bytes that are not UTF-8 become surrogates, caught by :func:`_check_row`."""
    return data.decode("utf-8", "surrogateescape")


class Index:
    """The SQLite index under a store root, thread-safe (one connection, one lock).

    Args:
        path: the database file (created if missing).

    Raises:
        sqlite3.DatabaseError: the file is not a usable index (the store quarantines it).
    """

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.text_factory = _text
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # Fold the log into the database after every commit: the log's file then keeps the size of
            # one transaction and is reused, so a delete needs no new space on a full volume.
            self._db.execute("PRAGMA wal_autocheckpoint=1")
            verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict}")
            for statement in _SCHEMA:
                self._db.execute(statement)
            present = {row["name"] for row in self._db.execute("PRAGMA table_info(streams)")}
            if not {"seq", *COLUMNS} <= present:
                raise sqlite3.DatabaseError(f"table streams lacks columns {sorted({'seq', *COLUMNS} - present)}")
        except BaseException:
            self._db.close()
            raise

    def execute(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Run one statement (autocommit) and fetch its rows."""
        with self._lock, _errors():
            return self._db.execute(sql, params).fetchall()

    def transaction(self, *statements: tuple[str, tuple]) -> None:
        """Run ``(sql, params)`` statements in one transaction."""
        with self._lock, _errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(self, stream: StoredStream, *also: tuple[str, tuple]) -> None:
        """Insert the row of ``stream``, and run the statements ``also`` in the same transaction."""
        sql = f"INSERT INTO streams ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        self.transaction((sql, _values(stream)), *also)

    def update(self, seq: int, stream: StoredStream) -> None:
        """Overwrite the row at ``seq`` with ``stream`` (its place in the listing is kept)."""
        values = _values(stream)
        sql = f"UPDATE streams SET {', '.join(c + ' = ?' for c in COLUMNS)} WHERE seq = ?"
        self.transaction((sql, (*values, seq)))

    def rows(self, sql_tail: str = "", params: tuple = ()) -> Iterator[sqlite3.Row]:
        """Rows of ``SELECT seq, <columns> FROM streams <sql_tail>``."""
        yield from self.execute(f"SELECT seq, {', '.join(COLUMNS)} FROM streams {sql_tail}", params)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _values(stream: StoredStream) -> tuple:
    """Column values of ``stream`` in :data:`COLUMNS` order (the sensor as JSON)."""
    return tuple(json.dumps(stream.sensor, sort_keys=True) if c == "sensor" else getattr(stream, c) for c in COLUMNS)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn SQLite failures into :class:`StoreFull` or :class:`StoreDataLoss`."""
    try:
        yield
    except sqlite3.OperationalError as err:
        if err.sqlite_errorcode == sqlite3.SQLITE_FULL:
            raise StoreFull(FULL_MESSAGE) from None
        raise StoreDataLoss(f"the store's index failed: {err}") from None
    except sqlite3.DatabaseError as err:
        raise StoreDataLoss(f"the store's index failed: {err}") from None
