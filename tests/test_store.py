"""The stream store: atomic commits, reconciliation at start-up, checksum verification."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from codec.bitstream import MODE_INTRA, StreamHeader, end_record, header_record, iter_file_records, scene_record
from codec.errors import BitstreamError
from server.store import StoreDataLoss, StoreFull, StreamNotFound, StreamStore


def spkc_records(num_planes: int = 100, window: int = 20, payload: bytes = b"scene-payload") -> list[bytes]:
    """A valid .spkc stream (header, one scene per centre, end) with placeholder scene payloads."""
    header = StreamHeader(
        height=8, width=16, num_planes=0, window=window, offset=window // 2, recon="tfp",
        attention="none", model="spikecodec-base", model_sha256="ab" * 32, quality=2.0,
    )
    centres = range(window // 2, num_planes, window)
    scenes = [scene_record(i, MODE_INTRA, 2.0, payload + bytes([i])) for i in range(len(centres))]
    return [header_record(header), *scenes, end_record(num_planes, len(centres))]


def store_stream(store: StreamStore, records: list[bytes], name: str = "s") -> str:
    with store.begin(name) as pending:
        for record in records:
            pending.write(record)
        return pending.commit().id


def test_committed_stream_is_a_spkc_file_with_its_index_row(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    records = spkc_records()
    sid = store_stream(store, records, name="cam-1")
    row = store.get(sid)
    assert (row.name, row.height, row.width, row.num_planes, row.num_scenes) == ("cam-1", 8, 16, 100, 5)
    assert row.bits == 8 * sum(map(len, records))
    assert row.bpsp == pytest.approx(row.bits / (100 * 8 * 16))
    assert (row.recon, row.window, row.quality) == ("tfp", 20, 2.0)
    _, data = store.read(sid)
    assert data == b"".join(records)
    assert len(list(iter_file_records(store.path(sid)))) == 7  # readable offline as .spkc
    assert list((tmp_path / "tmp").iterdir()) == []


def test_incomplete_or_invalid_streams_leave_nothing(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    records = spkc_records()
    with pytest.raises(BitstreamError, match="missing end record"):
        store_stream(store, records[:-1])
    with pytest.raises(BitstreamError, match=r"record 2 \(scene record 1\) at byte \d+: scene 0 was already coded"):
        store_stream(store, [records[0], records[1], records[1]])
    with store.begin() as pending:  # interrupted: never committed
        pending.write(records[0])
    assert store.count() == 0
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "streams").iterdir()) == []


def test_corrupt_or_missing_file_is_data_loss_not_data(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    sid = store_stream(store, spkc_records())
    path = store.path(sid)
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StoreDataLoss, match=f"stream {sid}: stored file is corrupt"):
        store.read(sid)
    path.unlink()
    with pytest.raises(StoreDataLoss, match="stored file is missing"):
        store.read(sid)


def test_start_up_reconciles_files_and_index(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    keep = store_stream(store, spkc_records())
    lost = store_stream(store, spkc_records(60))
    pending = store.begin()  # a crash mid-upload leaves a temp file...
    pending.write(spkc_records()[0])
    orphan = tmp_path / "streams" / ("f" * 32 + ".spkc")  # ...or a renamed file whose row never committed
    orphan.write_bytes(b"".join(spkc_records()))
    store.path(lost).unlink()
    store.close()

    again = StreamStore(tmp_path)
    assert {key: value for key, value in again.reconciled.items() if value} == {
        "temp_removed": [f"{pending.id}.part"],
        "rows_rebuilt": ["f" * 32],  # a complete stream file is never thrown away
        "rows_dropped": [lost],
    }
    assert [s.id for s in again.list()[0]] == ["f" * 32, keep]
    assert again.get("f" * 32).name == "" and again.read(keep)[1] == b"".join(spkc_records())


def test_list_pages_newest_first_and_delete(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    ids = [store_stream(store, spkc_records(), name=str(i)) for i in range(5)]
    first, cursor = store.list(limit=2)
    second, cursor2 = store.list(limit=2, before_seq=cursor)
    third, cursor3 = store.list(limit=2, before_seq=cursor2)
    assert [s.id for s in first + second + third] == ids[::-1]
    assert cursor3 is None
    assert store.delete(ids[0]).id == ids[0]
    assert not store.path(ids[0]).exists()
    with pytest.raises(StreamNotFound, match="no stream"):
        store.get(ids[0])
    with pytest.raises(StreamNotFound, match="32 lowercase hex digits"):
        store.get("../index")
    assert store.count() == 4


def test_index_is_a_plain_sqlite_table(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    sid = store_stream(store, spkc_records())
    store.close()
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:
        row = db.execute("SELECT id, height, width, num_planes, bits, quality, model, sha256 FROM streams").fetchone()
    assert row[:4] == (sid, 8, 16, 100) and row[6] == "spikecodec-base" and len(row[7]) == 64


def _index_files(root: Path) -> list[Path]:
    return [root / name for name in ("index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm")]


@pytest.mark.parametrize("damage", ["removed", "truncated", "garbage"])
def test_lost_or_damaged_index_is_rebuilt_from_the_stream_files(tmp_path: Path, damage: str) -> None:
    store = StreamStore(tmp_path)
    ids = {store_stream(store, spkc_records(40 + 20 * i), name=f"n{i}"): 40 + 20 * i for i in range(3)}
    store.close()
    for path in _index_files(tmp_path):
        if damage == "removed":
            path.unlink(missing_ok=True)
        elif damage == "truncated" and path.exists():
            path.write_bytes(b"")
        elif damage == "garbage" and path.name.endswith("sqlite3"):
            path.write_bytes(b"not an index " * 500)

    again = StreamStore(tmp_path)
    assert {s.id: s.num_planes for s in again.list()[0]} == ids
    assert sorted(again.reconciled["rows_rebuilt"]) == sorted(ids)
    for sid, planes in ids.items():
        assert again.read(sid)[1] == b"".join(spkc_records(planes))
    if damage == "garbage":  # the damaged index is kept for inspection, not deleted
        (kept,) = (tmp_path / "quarantine").glob("*index.sqlite3")
        assert kept.read_bytes().startswith(b"not an index")


def test_files_the_store_cannot_account_for_are_quarantined_never_deleted(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    keep = store_stream(store, spkc_records())
    store.close()
    junk = {
        "a" * 32 + ".spkc": b"SPKC garbage that is no stream",  # a stream name, unreadable bytes
        "b" * 32 + ".spkc": b"".join(spkc_records())[:-10],  # a truncated stream
        "notes.txt": b"an operator's file",  # not a stream name at all
    }
    for name, data in junk.items():
        (tmp_path / "streams" / name).write_bytes(data)

    again = StreamStore(tmp_path)
    assert sorted(again.reconciled["quarantined"]) == sorted(junk)
    for name, data in junk.items():
        assert (tmp_path / "quarantine" / name).read_bytes() == data
    assert [s.id for s in again.list()[0]] == [keep]


def test_a_deleted_stream_does_not_come_back_when_its_file_outlived_the_row(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    sid = store_stream(store, spkc_records())
    store.close()
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:  # what a delete commits before it unlinks the file
        db.execute("DELETE FROM streams WHERE id = ?", (sid,))
        db.execute("INSERT INTO deleted (id) VALUES (?)", (sid,))
    again = StreamStore(tmp_path)
    assert again.count() == 0 and not again.path(sid).exists()


CRASH_AT_COMMIT = """
import os, sys
from pathlib import Path
from server.index import Index
from server.store import StreamStore
store = StreamStore(sys.argv[1])
Index.transaction = lambda self, *statements: os._exit(9)  # the process dies as the row goes in
pending = store.begin()
pending.write(Path(sys.argv[2]).read_bytes())
pending.commit()
"""


def test_a_crash_between_rename_and_row_shows_no_unacknowledged_stream(tmp_path: Path) -> None:
    (tmp_path / "stream.spkc").write_bytes(b"".join(spkc_records()))
    crashed = subprocess.run([sys.executable, "-c", CRASH_AT_COMMIT, str(tmp_path / "store"), str(tmp_path / "stream.spkc")])
    assert crashed.returncode == 9
    (renamed,) = (tmp_path / "store" / "streams").iterdir()  # the rename happened, the row did not
    again = StreamStore(tmp_path / "store")
    assert again.reconciled["deletes_finished"] == [renamed.stem]
    assert again.count() == 0 and not renamed.exists()


def _corrupt_row(root: Path, sid: str, sql: str, *params) -> None:
    with sqlite3.connect(root / "index.sqlite3") as db:
        db.execute(sql, (*params, sid))


DAMAGED_ROWS = {
    "sensor json": ("UPDATE streams SET sensor = ? WHERE id = ?", "{not json"),
    "sensor values": ("UPDATE streams SET sensor = ? WHERE id = ?", '{"threshold": -1}'),
    "name not utf-8": ("UPDATE streams SET name = CAST(? AS TEXT) WHERE id = ?", b"\xff\xfe name"),
    "negative height": ("UPDATE streams SET height = ? WHERE id = ?", -8),
    "height not a number": ("UPDATE streams SET height = ? WHERE id = ?", "tall"),
}


@pytest.mark.parametrize("damage", DAMAGED_ROWS)
def test_a_damaged_row_is_data_loss_and_every_other_stream_stays_listable(tmp_path: Path, damage: str) -> None:
    store = StreamStore(tmp_path)
    ids = [store_stream(store, spkc_records(), name=str(i)) for i in range(4)]
    bad = ids[1]
    _corrupt_row(tmp_path, bad, *DAMAGED_ROWS[damage])  # damaged while the store is open
    first, cursor = store.list(limit=2)
    second, _ = store.list(limit=2, before_seq=cursor)
    assert [s.id for s in first + second] == [ids[3], ids[2], ids[0]]
    with pytest.raises(StoreDataLoss, match=f"stream {bad}: index row is damaged"):
        store.get(bad)
    with pytest.raises(StoreDataLoss, match=f"stream {bad}: index row is damaged"):
        store.read(bad)
    store.close()

    again = StreamStore(tmp_path)  # start-up rebuilds the row from its intact file
    assert again.reconciled["rows_rebuilt"] == [bad]
    assert again.read(bad)[1] == b"".join(spkc_records())
    assert sorted(s.id for s in again.list()[0]) == sorted(ids)


def test_a_damaged_row_can_be_deleted(tmp_path: Path) -> None:
    store = StreamStore(tmp_path)
    sid = store_stream(store, spkc_records())
    _corrupt_row(tmp_path, sid, *DAMAGED_ROWS["sensor json"])
    assert store.delete(sid) is None
    assert store.count() == 0 and not store.path(sid).exists()


@pytest.mark.parametrize("bad_id", ["../../x", "", "A" * 32, "0" * 31 + "/"])
def test_start_up_survives_a_row_with_a_bad_id(tmp_path: Path, bad_id: str) -> None:
    store = StreamStore(tmp_path)
    keep = store_stream(store, spkc_records())
    store.close()
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:
        db.execute("INSERT INTO streams SELECT NULL, ?, created, name, height, width, num_planes, num_scenes, bits, "
                    "quality, model, recon, attention, window, sensor, sha256 FROM streams WHERE id = ?", (bad_id, keep))
    again = StreamStore(tmp_path)
    assert again.reconciled["rows_unreadable"] == [bad_id]
    assert [s.id for s in again.list()[0]] == [keep]
    assert again.read(keep)[1] == b"".join(spkc_records())


def test_a_full_disk_is_store_full_and_leaves_the_store_consistent(small_disk: Path) -> None:
    store = StreamStore(small_disk)
    kept: list[str] = []
    for size in (2000, 3000, 4000):  # streams of other sizes run out at other steps (index, flush, write)
        with pytest.raises(StoreFull, match="store is full: no space left on its volume"):
            for _ in range(1000):
                kept.append(store_stream(store, spkc_records(payload=bytes(size)), name="x" * 200))
        assert sorted(s.id for s in store.list(limit=1000)[0]) == sorted(kept)
        assert {p.stem for p in (small_disk / "streams").iterdir()} == set(kept)  # no file without its row
        assert list((small_disk / "tmp").iterdir()) == []
        assert store.read(kept[-1])[0].id == kept[-1]
        for sid in kept[:3]:  # deleting makes room again
            assert store.delete(sid).id == sid
        del kept[:3]
    store.close()
    assert not any(StreamStore(small_disk).reconciled.values())
