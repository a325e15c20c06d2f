"""The stream store: atomic commits, reconciliation at start-up, checksum verification."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codec.bitstream import MODE_INTRA, StreamHeader, end_record, header_record, iter_file_records, scene_record
from codec.errors import BitstreamError
from server.store import StoreDataLoss, StreamNotFound, StreamStore


def spkc_records(num_planes: int = 100, window: int = 20, payload: bytes = b"scene-payload") -> list[bytes]:
    """A valid .spkc stream (header, one scene per centre, end) with placeholder scene payloads."""
    header = StreamHeader(
        height=8, width=16, num_planes=0, window=window, offset=window // 2, recon="tfp",
        attention="none", model="spikecodec-base", model_sha256="ab" * 32, quality=2.0,
    )
    centres = range(window // 2, num_planes, window)
    return [header_record(header), *(scene_record(i, MODE_INTRA, 2.0, payload + bytes([i])) for i in range(len(centres))),
            end_record(num_planes, len(centres))]


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
    assert again.reconciled == {
        "temp_removed": [f"{pending.id}.part"],
        "orphans_removed": [orphan.name],
        "rows_dropped": [lost],
    }
    assert [s.id for s in again.list()[0]] == [keep]
    assert again.read(keep)[1] == b"".join(spkc_records())


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
