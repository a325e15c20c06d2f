"""``spikecodec serve`` as a real process: SIGKILL during uploads loses nothing that was
complete and shows nothing that was not; SIGTERM lets an in-flight upload finish; any
number of further signals still exits 0.

Start-up imports torch and loads the models: seconds per server process."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import grpc
import numpy as np
import pytest
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpc_health.v1.health_pb2_grpc import HealthStub
from test_server import T, make_spikes, offline, received_planes, spike_messages

from client.local_server import LocalServer
from server.store import StreamStore
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2

pytestmark = pytest.mark.slow

class ServeProcess(LocalServer):
    """``spikecodec serve`` on a free loopback port with one torch thread, and a stub for it."""

    def __init__(self, store: Path, *flags: str) -> None:
        super().__init__(store, *flags, env=dict(os.environ, SPIKECODEC_TORCH_THREADS="1"))
        self.stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{self.port}"))


@pytest.fixture(scope="module")
def spikes() -> np.ndarray:
    return make_spikes()


def stalled_upload(planes: np.ndarray, sent: threading.Event, release: threading.Event) -> Iterator[spikes_pb2.SpikeMessage]:
    """Half a stream, then wait for ``release`` before the rest."""
    messages = spike_messages(planes, num_planes=len(planes))
    half = len(messages) // 2
    yield from messages[:half]
    sent.set()
    release.wait(60)
    yield from messages[half:]


def sigkill_during_uploads(server: ServeProcess, planes: np.ndarray, uploads: int = 3) -> None:
    """Start ``uploads`` uploads of ``planes``, SIGKILL the server once each has sent half its
    stream, then let them go on: every one fails."""
    sent, release = [threading.Event() for _ in range(uploads)], threading.Event()
    calls = [server.stub.Upload.future(stalled_upload(planes, s, release)) for s in sent]
    assert all(s.wait(60) for s in sent)
    time.sleep(0.5)  # let the server take in the half streams
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(30)
    release.set()
    for call in calls:
        with pytest.raises(grpc.RpcError):
            call.result(30)


def drains(port: int, within: float = 30.0) -> bool:
    """Whether, within ``within`` seconds, health answers ``NOT_SERVING`` and a new upload is
    refused with ``UNAVAILABLE`` (other outcomes while the drain starts are retried)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                status = HealthStub(channel).Check(HealthCheckRequest(service=""), timeout=2).status
                if status == HealthCheckResponse.NOT_SERVING:
                    service_pb2_grpc.SpikeCodecStub(channel).Upload(iter([]), timeout=2)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNAVAILABLE and "shutting down" in (err.details() or ""):
                    return True
        time.sleep(0.1)
    return False


def test_sigkill_loses_no_completed_stream_and_sigterm_drains_in_flight_uploads(tmp_path, spikes) -> None:
    store = tmp_path / "store"
    first = ServeProcess(store)
    try:
        done = {first.stub.Upload(iter(spike_messages(spikes[: 60 + 30 * i], name=f"s{i}"))).stream.id: 60 + 30 * i
                for i in range(3)}
        before = {sid: received_planes(first.stub.Fetch(service_pb2.FetchRequest(id=sid)))[1] for sid in done}
        sigkill_during_uploads(first, spikes)
    finally:
        first.proc.kill()

    # restart on the same store: every completed stream, nothing of the interrupted ones
    second = ServeProcess(store, "--grace-s", "60")
    try:
        assert len(second.events("server.started")[0]["reconciled"]["temp_removed"]) == 3
        listed = second.stub.ListStreams(service_pb2.ListStreamsRequest())
        assert {s.id: s.num_planes for s in listed.streams} == done
        for sid in done:
            np.testing.assert_array_equal(received_planes(second.stub.Fetch(service_pb2.FetchRequest(id=sid)))[1], before[sid])
        _, decoded = offline(spikes[:60], tmp_path)
        np.testing.assert_array_equal(before[min(done, key=done.get)], decoded)

        # SIGTERM: no new calls, the in-flight upload finishes within the grace period, exit 0
        sent, release = threading.Event(), threading.Event()
        with ThreadPoolExecutor(1) as pool:
            upload = pool.submit(second.stub.Upload, stalled_upload(spikes, sent, release))
            assert sent.wait(30)
            second.proc.send_signal(signal.SIGTERM)
            try:
                assert drains(second.port), second.logs[-5:]
            finally:
                release.set()
            last = upload.result(60).stream
        assert last.num_planes == T
        assert second.wait_exit(60) == 0
        assert second.summary["stored_streams"] == 4
    finally:
        second.proc.kill()
    after = StreamStore(store)
    assert not any(after.reconciled.values())
    assert sorted(s.id for s in after.list()[0]) == sorted([*done, last.id])
    assert all(after.read(sid)[0].sha256 for sid in [*done, last.id])


@pytest.mark.parametrize("in_flight", [False, True], ids=["idle", "upload in flight"])
def test_repeated_signals_during_and_after_the_drain_still_exit_0(tmp_path, spikes, in_flight) -> None:
    server = ServeProcess(tmp_path / "store", "--grace-s", "1")
    sent, release = threading.Event(), threading.Event()
    try:
        with ThreadPoolExecutor(1) as pool:
            if in_flight:  # the drain waits for it: signals land while the handlers are still ours
                # an Encode call answers the header at once: once that answer is here the call is
                # surely running on the server (an Upload might still be queued on a loaded machine)
                records = server.stub.Encode(stalled_upload(spikes, sent, release))
                assert next(records).kind == records_pb2.RECORD_KIND_HEADER
                upload = pool.submit(list, records)
            server.proc.send_signal(signal.SIGTERM)
            signals, tic = 1, time.monotonic()
            # keep signalling, 0.05 s apart, until the process is gone: drain, shutdown, interpreter exit
            while server.proc.poll() is None and time.monotonic() - tic < 60:
                time.sleep(0.05)
                server.proc.send_signal(signal.SIGTERM if signals % 2 else signal.SIGINT)
                signals += 1
            assert server.wait_exit(60) == 0, server.logs[-5:]
            release.set()
            if in_flight:
                with pytest.raises(grpc.RpcError) as err:
                    upload.result(30)
                assert err.value.code() == grpc.StatusCode.CANCELLED, err.value.details()
        assert server.summary["stored_streams"] == 0
        handled = len(server.events("server.signal"))
        assert signals > handled >= (2 if in_flight else 1)  # some during the drain, some after it
    finally:
        release.set()
        server.proc.kill()
