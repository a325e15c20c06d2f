"""Issue 14 findings against a real in-process server on loopback: a damaged store, wrong
data and hostile clients each get a clean status, and the server keeps serving."""

from __future__ import annotations

import sqlite3

import grpc
import pytest

from proto.spikecodec.v1 import service_pb2, service_pb2_grpc
from test_server import Code, expect_error, make_server, make_spikes, received_planes, spike_messages
from test_store import DAMAGED_ROWS


def _stub(server) -> service_pb2_grpc.SpikeCodecStub:
    return service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))


def test_restart_without_the_index_keeps_every_stream(tmp_path) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path) as server:
        stub = _stub(server)
        ids = [stub.Upload(iter(spike_messages(spikes, name=str(i)))).stream.id for i in range(3)]
        before = received_planes(stub.Fetch(service_pb2.FetchRequest(id=ids[0])))[1]
    (tmp_path / "store" / "index.sqlite3").unlink()
    with make_server(tmp_path) as server:
        stub = _stub(server)
        assert sorted(s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams) == sorted(ids)
        assert (received_planes(stub.Fetch(service_pb2.FetchRequest(id=ids[0])))[1] == before).all()


@pytest.mark.parametrize("damage", DAMAGED_ROWS)
def test_a_damaged_index_row_answers_data_loss_and_the_rest_stays_listable(tmp_path, damage) -> None:
    spikes = make_spikes(60)
    with make_server(tmp_path) as server:
        stub = _stub(server)
        ids = [stub.Upload(iter(spike_messages(spikes, name=str(i)))).stream.id for i in range(3)]
        bad = ids[1]
        sql, value = DAMAGED_ROWS[damage]
        with sqlite3.connect(tmp_path / "store" / "index.sqlite3") as db:
            db.execute(sql, (value, bad))
        for page_size in (1, 2, 100):
            listed, token = [], ""
            while True:
                page = stub.ListStreams(service_pb2.ListStreamsRequest(page_size=page_size, page_token=token))
                listed += [s.id for s in page.streams]
                if not (token := page.next_page_token):
                    break
            assert listed == [ids[2], ids[0]]
        match = f"stream {bad}: index row is damaged"
        expect_error(Code.DATA_LOSS, match, stub.GetStream, service_pb2.GetStreamRequest(id=bad))
        expect_error(Code.DATA_LOSS, match, stub.Fetch, service_pb2.FetchRequest(id=bad))
        assert stub.GetStream(service_pb2.GetStreamRequest(id=ids[0])).id == ids[0]
        assert stub.DeleteStream(service_pb2.DeleteStreamRequest(id=bad)).stream.id == bad


def test_a_row_with_a_bad_id_does_not_stop_the_server(tmp_path) -> None:
    with make_server(tmp_path) as server:
        keep = _stub(server).Upload(iter(spike_messages(make_spikes(60)))).stream.id
    with sqlite3.connect(tmp_path / "store" / "index.sqlite3") as db:
        db.execute("UPDATE streams SET id = '../../x'")
        db.execute("INSERT INTO streams SELECT NULL, ?, created, name, height, width, num_planes, num_scenes, bits, "
                   "quality, model, recon, attention, window, sensor, sha256 FROM streams", (keep,))
    with make_server(tmp_path) as server:
        stub = _stub(server)
        assert [s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams] == [keep]
        expect_error(Code.NOT_FOUND, "32 lowercase hex digits", stub.GetStream, service_pb2.GetStreamRequest(id="../../x"))


def test_a_full_disk_is_resource_exhausted_and_the_store_stays_consistent(small_disk) -> None:
    spikes = make_spikes(60)
    with make_server(small_disk) as server:
        stub = _stub(server)
        stored = []
        with pytest.raises(grpc.RpcError) as err:
            for _ in range(200):
                stored.append(stub.Upload(iter(spike_messages(spikes))).stream.id)
        assert err.value.code() == Code.RESOURCE_EXHAUSTED, err.value.details()
        assert "store is full: no space left on its volume" in err.value.details()
        assert stored
        assert sorted(s.id for s in stub.ListStreams(service_pb2.ListStreamsRequest()).streams) == sorted(stored)
        assert stub.DeleteStream(service_pb2.DeleteStreamRequest(id=stored[0])).stream.id == stored[0]
        received_planes(stub.Fetch(service_pb2.FetchRequest(id=stored[-1])))
