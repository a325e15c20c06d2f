"""Hostile and unlucky clients against a real server, bounded to a few minutes (issue 14).

Four parts, each counted into one tally printed at the end of the module (``make chaos``
runs it alone, ``make test`` with the rest)::

    chaos: N cases tried, N clean (a clean error or data intact), 0 unclean, 0 lost [parts]

* SIGKILL during uploads, the index removed or truncated between runs: every
  acknowledged stream is back, intact, after every restart; no partial one shows.
* Floods of idle reflection, health-watch and Encode streams: a health check and a
  small encode still answer within 2 s.
* Crafted headers (huge window, huge T, non-finite sensor values, ...) to Upload,
  Encode and Decode: a clean status, never INTERNAL or a hang.
* Single-byte flips in every field of a ``.spkc`` with P and B scenes, motion vectors
  included: a clean ``BitstreamError`` offline and ``INVALID_ARGUMENT`` from the
  server (format 6: the record CRC-32 covers every payload byte, issue 14 item 6).
  With the record CRC recomputed (a re-framing bug or an attacker), a flipped payload
  must still decode to planes or fail with ``BitstreamError``, never another error.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc
from test_server import Code, make_server, make_spikes, spike_messages
from test_server_process import ServeProcess, sigkill_during_uploads

from codec.bitstream import FORMAT_VERSION, MAGIC, RecordParser, end_record, header_record, iter_file_records
from codec.bitstream.records import KIND_END, KIND_HEADER, KIND_SCENE, MODE_INTRA, MODE_P, PREAMBLE, frame
from codec.bitstream.varint import read_uvarint
from codec.errors import BitstreamError
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import SensorParams
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2

pytestmark = pytest.mark.slow

CLEAN = {Code.INVALID_ARGUMENT, Code.RESOURCE_EXHAUSTED}


@dataclass
class Tally:
    """Outcomes of the suite, by part."""

    parts: dict[str, list[int]] = field(default_factory=dict)  # part -> [tried, clean]
    unclean: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def count(self, part: str, clean: bool, what: str, lost: bool = False) -> None:
        tried_clean = self.parts.setdefault(part, [0, 0])
        tried_clean[0] += 1
        tried_clean[1] += clean
        if not clean:
            (self.lost if lost else self.unclean).append(f"{part}: {what}")

    def assert_clean(self, part: str) -> None:
        problems = [p for p in self.unclean + self.lost if p.startswith(f"{part}: ")]
        assert part in self.parts and not problems, "\n".join(problems)

    def line(self) -> str:
        tried = sum(t for t, _ in self.parts.values())
        clean = sum(c for _, c in self.parts.values())
        parts = ", ".join(f"{name} {c}/{t}" for name, (t, c) in self.parts.items())
        return (f"chaos: {tried} cases tried, {clean} clean (a clean error or data intact), "
                f"{len(self.unclean)} unclean, {len(self.lost)} lost [{parts}]")


@pytest.fixture(scope="module")
def tally(request) -> Iterator[Tally]:
    result = Tally()
    yield result
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for line in [result.line(), *result.unclean, *result.lost]:
        reporter.write_line(line) if reporter else print(line)


# -- SIGKILL during uploads, index gone between runs -------------------------------------


def test_sigkill_during_uploads_with_the_index_removed_between_runs(tmp_path, tally) -> None:
    store = tmp_path / "store"
    planes = make_spikes(60)
    acked: dict[str, str] = {}  # id -> sha256 of every stream the server acknowledged and not deleted
    deleted: set[str] = set()
    for run, damage in enumerate(["removed", "truncated", None]):
        server = ServeProcess(store)
        try:
            listed = {s.id: s.sha256 for s in server.stub.ListStreams(service_pb2.ListStreamsRequest()).streams}
            for sid, sha in acked.items():
                intact = listed.get(sid) == sha
                if intact:
                    fetched = list(server.stub.Fetch(service_pb2.FetchRequest(id=sid)))
                    intact = fetched[-1].end.num_planes == len(planes)
                tally.count("sigkill", intact, f"run {run}: acknowledged stream {sid} missing or changed", lost=True)
            for sid in set(listed) - set(acked):
                tally.count("sigkill", False, f"run {run}: stream {sid} shows but was never acknowledged"
                            + (" (deleted)" if sid in deleted else ""))
            if damage is None:
                break
            for _ in range(2):
                summary = server.stub.Upload(iter(spike_messages(planes, name=f"run{run}"))).stream
                acked[summary.id] = summary.sha256
            victim = next(iter(acked))
            server.stub.DeleteStream(service_pb2.DeleteStreamRequest(id=victim))
            deleted.add(victim)
            del acked[victim]
            sigkill_during_uploads(server, planes)
        finally:
            server.proc.kill()
            server.proc.wait(30)
        for name in ("index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"):
            path = store / name
            if path.exists():
                path.unlink() if damage == "removed" else path.write_bytes(b"")
    tally.assert_clean("sigkill")


# -- floods ---------------------------------------------------------------------------------


def test_idle_floods_leave_health_and_a_small_encode_answering_within_2_s(tmp_path, tally) -> None:
    small = spike_messages(make_spikes(24, height=32, width=32),
                           options=spikes_pb2.CodecOptions(quality=3, window=16, recon="tfp", intra_period=1))
    with make_server(tmp_path, max_streams=4, max_aux_streams=2, preempt_idle_s=1.0) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        stub, health = service_pb2_grpc.SpikeCodecStub(channel), health_pb2_grpc.HealthStub(channel)
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        release = threading.Event()

        def held(*first) -> Iterator:
            yield from first
            release.wait(60)

        list(stub.Encode(iter(small)))  # warm: the first encode loads nothing later ones need
        flood = [reflection.ServerReflectionInfo(held()) for _ in range(24)]
        flood += [health.Watch(health_pb2.HealthCheckRequest(service="")) for _ in range(24)]
        flood += [stub.Encode(held(small[0])) for _ in range(8)]
        try:
            time.sleep(1.5)
            probes: dict[str, Callable[[], object]] = {
                "health Check": lambda: health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2),
                "GetServerInfo": lambda: stub.GetServerInfo(service_pb2.GetServerInfoRequest(), timeout=2),
                "small Encode": lambda: list(stub.Encode(iter(small), timeout=2)),
            }
            for name, probe in probes.items():
                tic = time.monotonic()
                try:
                    probe()
                    answered = time.monotonic() - tic < 2
                except grpc.RpcError as err:
                    answered = False
                    name += f" ({err.code().name}: {err.details()})"
                tally.count("floods", answered, f"{name} did not answer within 2 s under the floods")
        finally:
            release.set()
            for call in flood:
                call.cancel()
    tally.assert_clean("floods")


# -- crafted headers ------------------------------------------------------------------------


def _proto_cases() -> dict[str, spikes_pb2.SpikeMessage]:
    planes = make_spikes(60)
    cases = {}

    def case(name: str, change: Callable[[spikes_pb2.StreamHeader], None]) -> None:
        header = spike_messages(planes)[0]
        change(header.header)
        cases[name] = header

    case("huge window", lambda h: setattr(h.options, "window", 4_000_000_000))
    case("window over max_window", lambda h: setattr(h.options, "window", 1025))
    case("huge T announced", lambda h: setattr(h, "num_planes", 10_000_000_000))
    def huge_plane(h: spikes_pb2.StreamHeader) -> None:
        h.height = h.width = 1 << 20

    case("huge plane", huge_plane)
    case("bit order 7", lambda h: setattr(h, "bit_order", 7))
    case("huge offset", lambda h: setattr(h.options, "offset", 1 << 62))
    case("negative offset", lambda h: setattr(h.options, "offset", -5))
    for name in ("threshold", "alpha", "tau"):
        for value in (math.nan, math.inf):
            def bad_sensor(h: spikes_pb2.StreamHeader, n: str = name, v: float = value) -> None:
                setattr(h.sensor, n, v)

            case(f"{name} {value}", bad_sensor)
    case("plane rate nan", lambda h: setattr(h, "plane_rate", math.nan))
    case("plane rate -inf", lambda h: setattr(h, "plane_rate", -math.inf))
    case("quality nan", lambda h: setattr(h.options, "quality", math.nan))
    return cases


def _spkc_cases(stub) -> dict[str, list[bytes]]:
    planes = make_spikes(40)
    options = spikes_pb2.CodecOptions(quality=3, window=32, recon="tfp", intra_period=1)
    records = [r.data for r in stub.Encode(iter(spike_messages(planes, options=options)))]
    (header,) = RecordParser().feed(records[0])
    nan_sensor = bytearray(header.to_bytes())
    struct.pack_into(">d", nan_sensor, _HEADER_OFFSETS["threshold"], math.nan)

    def crafted(end_planes: int = 40, **changes) -> list[bytes]:
        return [header_record(replace(header, **changes)), records[1], end_record(end_planes, 1)]

    return {
        "spkc huge window": crafted(window=4_000_000_000),
        "spkc huge T": crafted(10_000_000, window=10_000_000),
        "spkc T over max_planes": crafted(1016, window=1000),
        "spkc huge declared T": crafted(num_planes=1 << 60),
        "spkc huge plane": crafted(height=1 << 16, width=1 << 16),
        "spkc huge offset": crafted(offset=4_000_000_000),
        "spkc nan threshold": [PREAMBLE.pack(MAGIC, FORMAT_VERSION) + frame(KIND_HEADER, bytes(nan_sensor)), *records[1:]],
    }


def test_crafted_headers_get_a_clean_status(tmp_path, tally) -> None:
    with make_server(tmp_path) as server:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        rest = spike_messages(make_spikes(60))[1:]
        for name, header in _proto_cases().items():
            for rpc in ("Upload", "Encode"):
                call = getattr(stub, rpc)
                try:
                    result = call(iter([header, *rest]), timeout=30)
                    list(result) if rpc == "Encode" else result
                    tally.count("crafted", False, f"{rpc} {name}: accepted")
                except grpc.RpcError as err:
                    tally.count("crafted", err.code() in CLEAN, f"{rpc} {name}: {err.code().name} {err.details()}")
        for name, records in _spkc_cases(stub).items():
            messages = [records_pb2.EncodedRecord(sequence=i, data=d) for i, d in enumerate(records)]
            try:
                list(stub.Decode(iter(messages), timeout=30))
                tally.count("crafted", False, f"Decode {name}: accepted")
            except grpc.RpcError as err:
                tally.count("crafted", err.code() in CLEAN, f"Decode {name}: {err.code().name} {err.details()}")
        assert stub.GetServerInfo(service_pb2.GetServerInfoRequest(), timeout=10).version
    tally.assert_clean("crafted")


# -- byte flips -----------------------------------------------------------------------------

_HEADER_FIELDS = [("height", 4), ("width", 4), ("num_planes", 8), ("window", 4), ("offset", 4), ("quality", 8),
                  ("intra_period", 4), ("gop", 1), ("gop_size", 2), ("threshold", 8), ("alpha", 8), ("reset", 1),
                  ("tau", 8), ("init", 1), ("seed", 8), ("plane_rate", 8)]
_HEADER_OFFSETS = {name: sum(size for _, size in _HEADER_FIELDS[:i]) for i, (name, _) in enumerate(_HEADER_FIELDS)}


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    """``(value, next position)`` of the well-formed uvarint at ``at``."""
    parsed = read_uvarint(data, at)
    assert parsed is not None, f"no uvarint at byte {at}"
    return parsed


def _record_head(data: bytes, at: int) -> tuple[int, int, int]:
    """``(kind, body length, body start)`` of the record at ``at`` (docs/format.md)."""
    length, after = _uvarint(data, at + 1)
    return data[at], length, after + 1


def spkc_fields(data: bytes) -> list[tuple[str, int, int, bool]]:
    """Every field of a ``.spkc`` stream: ``(name, start, stop, in a scene payload)``."""
    out = [("magic", 0, 4, False), ("version", 4, 6, False)]
    at, record = PREAMBLE.size, 0
    while at < len(data):
        kind, length, body = _record_head(data, at)
        where = f"record {record} ({chr(kind)})"
        out += [(f"{where} kind", at, at + 1, False), (f"{where} length", at + 1, body - 1, False),
                (f"{where} head crc", body - 1, body, False), (f"{where} body crc", body + length, body + length + 4, False)]
        if kind == KIND_HEADER:
            for name, size in _HEADER_FIELDS:
                out.append((f"{where} {name}", body + _HEADER_OFFSETS[name], body + _HEADER_OFFSETS[name] + size, False))
            pos = body + sum(size for _, size in _HEADER_FIELDS)
            for name in ("recon", "attention", "model"):
                out.append((f"{where} {name}", pos, pos + 1 + data[pos], False))
                pos += 1 + data[pos]
            out.append((f"{where} weight digests", pos, body + length, False))
        elif kind == KIND_SCENE:
            mode = data[body]
            _, quality_at = _uvarint(data, body + 1)
            out += [(f"{where} mode", body, body + 1, False), (f"{where} index", body + 1, quality_at, False),
                    (f"{where} quality", quality_at, quality_at + 1, False)]
            pos = quality_at + 1
            if mode != MODE_INTRA:  # motion length uvarint, motion vectors, residual latents (absent: skip)
                motion, vectors_at = _uvarint(data, pos)
                out.append((f"{where} {'P' if mode == MODE_P else 'B'} motion length", pos, vectors_at, True))
                if motion:
                    out.append((f"{where} motion vectors", vectors_at, vectors_at + motion, True))
                pos = vectors_at + motion
            if pos < body + length:
                out.append((f"{where} latent strings", pos, body + length, True))
        else:
            assert kind == KIND_END
            out += [(f"{where} num_planes", body, body + 8, False), (f"{where} num_scenes", body + 8, body + 12, False)]
        at, record = body + length + 4, record + 1
    return out


def _positions(start: int, stop: int, limit: int = 6) -> list[int]:
    """Every byte of a short field, ``limit`` spread over a long one."""
    return list(range(start, stop)) if stop - start <= limit else sorted(set(np.linspace(start, stop - 1, limit).astype(int)))


def _reframed(data: bytes, pos: int) -> bytes:
    """``data`` with the byte at ``pos`` flipped and its record's CRCs made valid again."""
    at = PREAMBLE.size
    while True:
        kind, length, start = _record_head(data, at)
        end = start + length + 4
        if pos < end:
            body = bytearray(data[start : start + length])
            body[pos - start] ^= 0xFF
            return data[:at] + frame(kind, bytes(body)) + data[end:]
        at = end


def _decode(data: bytes) -> np.ndarray:
    decoder = Decoder()
    planes = decoder.push(data)
    decoder.finish()
    return planes


def test_single_byte_flips_in_every_field_are_clean_errors(tmp_path, tally) -> None:
    planes = make_spikes(64, seed=4)
    _, height, width = planes.shape
    encoder = Encoder(EncoderConfig(quality=3, window=16, recon="tfp", gop_size=2), height, width,
                      SensorParams(seed=5))
    data = b"".join([encoder.header_record(), *encoder.push(planes), *encoder.finish()])
    fields = spkc_fields(data)
    assert any(name.endswith("motion vectors") for name, *_ in fields), "the stream needs coded motion"
    reference = _decode(data)
    for name, start, stop, in_payload in fields:
        for pos in _positions(start, stop):
            flipped = bytearray(data)
            flipped[pos] ^= 0xFF
            try:
                list(iter_file_records(io.BytesIO(bytes(flipped))))  # the records' own checks
                tally.count("flips", False, f"{name} byte {pos - start}: not detected")
            except BitstreamError:
                tally.count("flips", True, name)
            if not in_payload:
                continue
            try:  # record CRC recomputed: planes of the right shape, or a clean error
                decoded = _decode(_reframed(data, pos))
                tally.count("flips", decoded.shape == reference.shape and decoded.dtype == reference.dtype,
                            f"{name} byte {pos - start} (CRC recomputed): planes of shape {decoded.shape}")
            except BitstreamError:
                tally.count("flips", True, name)
            except Exception as err:  # anything else would be INTERNAL on the server
                tally.count("flips", False, f"{name} byte {pos - start} (CRC recomputed): {type(err).__name__}: {err}")
    with make_server(tmp_path) as server:  # one flip per field through the service
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        for name, start, _, _ in fields:
            flipped = bytearray(data)
            flipped[start] ^= 0xFF
            try:
                list(stub.Decode(iter([records_pb2.EncodedRecord(data=bytes(flipped))]), timeout=60))
                tally.count("flips via Decode", False, f"{name}: decoded")
            except grpc.RpcError as err:
                tally.count("flips via Decode", err.code() == Code.INVALID_ARGUMENT, f"{name}: {err.code().name}")
    tally.assert_clean("flips")
    tally.assert_clean("flips via Decode")
