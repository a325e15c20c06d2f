"""``SpikeCodecServicer``: the RPCs of ``proto/spikecodec_proto/v1/service.proto`` over
:mod:`codec.pipeline` and :mod:`server.store`.

Transport only: the servicer validates the wire (:mod:`spikecodec_proto.wire`), enforces
limits, and hands planes and records to one :class:`codec.pipeline.Encoder` or
:class:`codec.pipeline.Decoder` per call. The scene codec behind them is loaded
once and shared (``codec.models.load_scene_codec`` caches it; its numerically
sensitive parts take turns under ``codec.models.threads.fixed_threads``).

Every handler runs inside :func:`rpc`, which takes a stream slot for streaming
calls, logs one JSON line per call and turns exceptions into status codes
(:func:`server.status.status_of`).
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
import time
from typing import Callable, Iterator

import grpc

from codec.bitstream import EndRecord, ExactRecord, Record, RecordParser, SceneRecord, StreamHeader
from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from codec.io.packing import plane_bytes
from codec.pipeline import Decoder, Encoder
from codec.pipeline.workers import WorkerPool
from codec.sensor import SensorParams
from codec.version import VERSION
from server import codecs
from server.calls import StreamCall, StreamSlots, Watchdog, preempted
from server.config import ServerConfig
from server.logs import get_logger
from server.status import (
    LimitExceeded,
    ServerDraining,
    StoredStreamUndecodable,
    StreamCancelled,
    status_of,
)
from server.store import StoredStream, StreamStore
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2
from spikecodec_proto.wire import ChunkWriter, RecordTagger, SpikeStreamReader, header_message, sensor_to_proto

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: what ListStreams hands out as next_page_token: a row number, ASCII digits, within SQLite's int64
PAGE_TOKEN = re.compile(r"[1-9][0-9]{0,17}")
#: room left in a message for everything but the packed planes
MESSAGE_OVERHEAD_BYTES = 1024
#: bytes of a stored stream handed to the decoder at a time
FETCH_PIECE_BYTES = 1 << 16
#: bytes of a stored ``.spkc`` file per FetchBitstream message, unless the client asks otherwise
BITSTREAM_CHUNK_BYTES = 256 * 1024


class Call:
    """One RPC in progress: its bounds (streaming calls) and the fields of its log line."""

    def __init__(self, method: str, context: grpc.ServicerContext, stream: StreamCall | None) -> None:
        self.method = method
        self.stream = stream
        self.fields: dict[str, object] = {"method": method, "peer": context.peer()}
        self.start = time.perf_counter()


def rpc(streaming: bool, changes_store: bool = False) -> Callable:
    """Decorate a handler ``impl(self, request, context, call)`` as a servicer method.

    Args:
        streaming: the call takes one of ``max_streams`` slots and is bounded by a
            :class:`server.calls.StreamCall` (deadline, idle timeout, interruption).
        changes_store: refused like streaming calls once the server shuts down.
    """

    def decorate(impl: Callable) -> Callable:
        if inspect.isgeneratorfunction(impl):
            @functools.wraps(impl)
            def stream_handler(self: "SpikeCodecServicer", request, context):
                call = self._begin(impl.__name__, context, streaming, changes_store)
                try:
                    for response in impl(self, request, context, call):
                        with call.stream.blocked():  # a client that stops reading holds us here
                            yield response
                except GeneratorExit:  # the response stream was abandoned (client cancelled)
                    call.fields["abandoned"] = True
                    self._end(call, context, None)
                    raise
                except Exception as err:
                    self._end(call, context, err)
                else:
                    self._end(call, context, None)

            return stream_handler

        @functools.wraps(impl)
        def unary_handler(self: "SpikeCodecServicer", request, context):
            call = self._begin(impl.__name__, context, streaming, changes_store)
            try:
                result = impl(self, request, context, call)
            except Exception as err:
                self._end(call, context, err)  # aborts the call
                raise
            self._end(call, context, None)
            return result

        return unary_handler

    return decorate


def summary_proto(stream: StoredStream) -> records_pb2.StreamSummary:
    """The wire form of an index row."""
    sensor = SensorParams.from_dict(stream.sensor)
    return records_pb2.StreamSummary(
        id=stream.id, created_unix=stream.created, name=stream.name, height=stream.height, width=stream.width,
        num_planes=stream.num_planes, num_scenes=stream.num_scenes, bits=stream.bits, bpsp=stream.bpsp,
        quality=stream.quality, model=stream.model, recon=stream.recon, attention=stream.attention,
        window=stream.window, sha256=stream.sha256, plane_rate=sensor.plane_rate, sensor=sensor_to_proto(sensor),
    )


class SpikeCodecServicer(service_pb2_grpc.SpikeCodecServicer):
    """The service. One instance per server; thread-safe."""

    def __init__(self, config: ServerConfig, store: StreamStore, models: list[service_pb2.ModelInfo],
                 watchdog: Watchdog, pool: WorkerPool | None = None) -> None:
        self.config = config
        self.pool = pool
        self.store = store
        self.models = models
        self.watchdog = watchdog
        self.slots = StreamSlots(config.max_streams, config.preempt_idle_s, "streams", "max_streams",
                                 preempted("stream"))
        self.draining = threading.Event()

    @property
    def active_streams(self) -> int:
        """Streaming calls in progress."""
        return self.slots.active

    def drain(self, grace_s: float) -> int:
        """Refuse new calls, give streaming calls ``grace_s`` seconds to finish, then cancel the rest
        (``CANCELLED``, in-band where the call can still answer). Returns how many were cancelled."""
        self.draining.set()
        if self.slots.wait_empty(grace_s):
            return 0
        left = self.slots.calls()
        for call in left:
            call.interrupt(StreamCancelled(f"server shutting down: call cancelled at the end of the "
                                           f"{grace_s:g} s grace period"))
        self.slots.wait_empty(StreamSlots.HANDOVER_S)
        return len(left)

    # -- live coding -------------------------------------------------------------------

    @rpc(streaming=True)
    def Encode(self, request_iterator, context, call: Call) -> Iterator[records_pb2.EncodedRecord]:
        reader = SpikeStreamReader(call.stream.iterate(request_iterator), self.config.wire_limits)
        arrived = time.perf_counter()
        encoder = self._encoder(reader, call)
        tagger = RecordTagger()
        yield tagger.tag(encoder.header_record(), 0, arrived)
        for chunk in reader.chunks():
            for record in encoder.push_packed(chunk.packed):
                yield tagger.tag(record, chunk.sequence, chunk.arrived)
            call.stream.check()
        for record in encoder.finish():
            yield tagger.tag(record, reader.num_chunks, reader.end_arrived)
        call.fields.update(planes=encoder.num_planes, scenes=encoder.num_scenes)

    @rpc(streaming=True)
    def Decode(self, request_iterator, context, call: Call) -> Iterator[spikes_pb2.SpikeMessage]:
        guard = RecordParser()  # sees each record before the decoder acts on it

        def pieces() -> Iterator[bytes]:
            for expected, message in enumerate(call.stream.iterate(request_iterator)):
                if message.sequence != expected:
                    raise SpikeFormatError(f"record {message.sequence} out of order: expected record {expected}")
                for record in guard.feed(message.data):
                    self._check_decode_limits(record)
                yield message.data

        yield from self._decoded(pieces(), self.config.chunk_planes, call)

    # -- the store ---------------------------------------------------------------------

    @rpc(streaming=True)
    def Upload(self, request_iterator, context, call: Call) -> service_pb2.UploadResponse:
        start = time.perf_counter()
        reader = SpikeStreamReader(call.stream.iterate(request_iterator), self.config.wire_limits)
        encoder = self._encoder(reader, call)
        encode = store = 0.0
        with self.store.begin(reader.header.name) as pending:
            pending.write(encoder.header_record())
            for chunk in reader.chunks():
                tic = time.perf_counter()
                records = encoder.push_packed(chunk.packed)
                toc = time.perf_counter()
                for record in records:
                    pending.write(record)
                encode += toc - tic
                store += time.perf_counter() - toc
                call.stream.check()
            tic = time.perf_counter()
            records = encoder.finish()
            toc = time.perf_counter()
            for record in records:
                pending.write(record)
            if not context.is_active():
                raise StreamCancelled("upload cancelled before it was stored")
            stream = pending.commit()
            encode += toc - tic
            store += time.perf_counter() - toc
        total = time.perf_counter() - start
        call.fields.update(id=stream.id, planes=stream.num_planes, bits=stream.bits, bpsp=round(stream.bpsp, 5))
        return service_pb2.UploadResponse(
            stream=summary_proto(stream),
            timings=records_pb2.Timings(receive_s=total - encode - store, encode_s=encode, store_s=store,
                                        total_s=total),
        )

    @rpc(streaming=True)
    def Fetch(self, request, context, call: Call) -> Iterator[spikes_pb2.SpikeMessage]:
        call.fields["id"] = request.id
        stream, data = self.store.read(request.id)
        pieces = (data[i : i + FETCH_PIECE_BYTES] for i in range(0, len(data), FETCH_PIECE_BYTES))
        try:
            yield from self._decoded(pieces, request.chunk_planes or self.config.chunk_planes, call, stream)
        except BitstreamError as err:  # verified bytes: the server cannot decode them (e.g. other weights)
            raise StoredStreamUndecodable(f"stream {stream.id} cannot be decoded by this server: {err}") from None

    @rpc(streaming=True)
    def FetchBitstream(self, request, context, call: Call) -> Iterator[service_pb2.BitstreamPiece]:
        call.fields["id"] = request.id
        stream, data = self.store.read(request.id)  # verified against the index's sha256
        info = service_pb2.BitstreamInfo(stream=summary_proto(stream), size=len(data), sha256=stream.sha256)
        yield service_pb2.BitstreamPiece(info=info)
        step = min(request.chunk_bytes or BITSTREAM_CHUNK_BYTES,
                   self.config.max_message_bytes - MESSAGE_OVERHEAD_BYTES)
        for start in range(0, len(data), step):
            yield service_pb2.BitstreamPiece(data=data[start : start + step])
            call.stream.check()
        call.fields["bytes"] = len(data)

    @rpc(streaming=False)
    def GetStream(self, request, context, call: Call) -> records_pb2.StreamSummary:
        call.fields["id"] = request.id
        return summary_proto(self.store.get(request.id))

    @rpc(streaming=False)
    def ListStreams(self, request, context, call: Call) -> service_pb2.ListStreamsResponse:
        before = None
        if request.page_token:
            if not PAGE_TOKEN.fullmatch(request.page_token):
                raise SpikeFormatError(f"invalid page_token {request.page_token[:40]!r}: use a next_page_token as sent")
            before = int(request.page_token)
        streams, cursor = self.store.list(min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), before)
        return service_pb2.ListStreamsResponse(
            streams=[summary_proto(s) for s in streams], next_page_token="" if cursor is None else str(cursor)
        )

    @rpc(streaming=False, changes_store=True)
    def DeleteStream(self, request, context, call: Call) -> service_pb2.DeleteStreamResponse:
        call.fields["id"] = request.id
        deleted = self.store.delete(request.id)  # None: its index row was damaged
        return service_pb2.DeleteStreamResponse(stream=records_pb2.StreamSummary(id=request.id) if deleted is None
                                                else summary_proto(deleted))

    @rpc(streaming=False)
    def GetServerInfo(self, request, context, call: Call) -> service_pb2.ServerInfo:
        c = self.config
        return service_pb2.ServerInfo(
            version=VERSION, models=self.models, recon_methods=list(codecs.RECON_METHODS),
            defaults=codecs.default_options(c),
            limits=service_pb2.Limits(
                max_message_bytes=c.max_message_bytes, max_pixels=c.max_pixels, max_planes=c.max_planes,
                max_concurrent_streams=c.max_streams, stream_deadline_s=c.stream_deadline_s,
                recommended_chunk_planes=c.chunk_planes, max_window=c.max_window, idle_timeout_s=c.idle_timeout_s,
            ),
            auth_required=bool(c.token), tls=bool(c.tls_cert), stored_streams=self.store.count(),
        )

    # -- helpers -----------------------------------------------------------------------

    def _decoded(self, pieces: Iterator[bytes], chunk_planes: int, call: Call,
                 stored: StoredStream | None = None) -> Iterator[spikes_pb2.SpikeMessage]:
        """Decode ``.spkc`` bytes into a ``SpikeMessage`` stream: header, chunks, end."""
        decoder = Decoder(pool=self.pool)
        writer = None
        for piece in pieces:
            for planes in decoder.blocks(piece):
                if writer is None:
                    h = decoder.header
                    yield header_message(h, *((stored.name, stored.num_planes) if stored else ()))
                    chunk_planes = min(chunk_planes, self._max_chunk_planes(h.height, h.width))
                    writer = ChunkWriter(h.height, h.width, chunk_planes)
                yield from writer.push(planes)
                call.stream.check()
            call.stream.check()
        stats = decoder.finish()
        assert writer is not None  # finish() raised if no header came
        yield from writer.finish()
        call.fields.update(planes=stats["planes"], scenes=stats["scenes"])

    def _check_decode_limits(self, record: Record) -> None:
        """Refuse a stream to decode whose sizes exceed the server's limits, before anything is allocated."""
        c = self.config
        if isinstance(record, StreamHeader):
            if record.height * record.width > c.max_pixels:
                raise LimitExceeded(f"stream header: {record.height}x{record.width} = {record.height * record.width} "
                                    f"pixels per plane exceeds the server's max_pixels {c.max_pixels}")
            if record.window > c.max_window:
                raise LimitExceeded(
                    f"stream header: window {record.window} exceeds the server's max_window {c.max_window}")
        planes = {StreamHeader: lambda r: max(r.num_planes, r.offset + 1), SceneRecord: lambda r: r.centre + 1,
                  EndRecord: lambda r: r.num_planes,
                  ExactRecord: lambda r: r.first_plane + r.num_planes}[type(record)](record)
        if planes > c.max_planes:
            raise LimitExceeded(f"stream of {planes} planes, over the server's max_planes {c.max_planes}")

    def _max_chunk_planes(self, height: int, width: int) -> int:
        """Most planes of ``height x width`` one outgoing message can carry."""
        return max(1, (self.config.max_message_bytes - MESSAGE_OVERHEAD_BYTES) // plane_bytes(height, width))

    def _begin(self, method: str, context: grpc.ServicerContext, streaming: bool, changes_store: bool) -> Call:
        """Start a call: refuse it while shutting down, take a stream slot (or abort with RESOURCE_EXHAUSTED)."""
        stream = None
        try:
            if self.draining.is_set() and (streaming or changes_store):
                raise ServerDraining("server is shutting down: retry on another instance or after its restart")
            if streaming:
                c = self.config
                stream = StreamCall(method, context, c.stream_deadline_s, c.idle_timeout_s)
                self.slots.acquire(stream)
        except SpikecodecError as err:
            get_logger().info("rpc.rejected", extra={"fields": {"method": method, "code": status_of(err).name,
                                                                 "error": str(err), "peer": context.peer()}})
            context.abort(status_of(err), str(err))
        if stream is not None:
            self.watchdog.watch(stream)
        return Call(method, context, stream)

    def _end(self, call: Call, context: grpc.ServicerContext, error: BaseException | None) -> None:
        """Finish a call: release its slot, log it, and abort with the error's status if it failed."""
        if call.stream is not None:
            self.watchdog.forget(call.stream)
            self.slots.release(call.stream)
        self._log(call, error)
        if error is None:
            return
        if isinstance(error, grpc.RpcError):  # the client went away; nothing to answer
            context.abort(grpc.StatusCode.CANCELLED, "client cancelled")
        if isinstance(error, SpikecodecError):
            context.abort(status_of(error), str(error))
        context.abort(grpc.StatusCode.INTERNAL, f"internal error in {call.method} (see the server log)")

    def _encoder(self, reader: SpikeStreamReader, call: Call) -> Encoder:
        header = reader.header
        config = codecs.encoder_config(header.options, self.config)
        if config.window > self.config.max_window:
            raise LimitExceeded(
                f"header: window {config.window} exceeds the server's max_window {self.config.max_window}")
        call.fields.update(height=header.height, width=header.width, quality=config.quality,
                           window=config.window, recon=config.recon, attention=config.attention)
        pool = self.pool if self.pool is not None and self.pool.can_encode(config) else None
        return Encoder(config, header.height, header.width, header.sensor, num_planes=header.num_planes, pool=pool)

    def _log(self, call: Call, error: BaseException | None) -> None:
        fields = dict(call.fields, duration_s=round(time.perf_counter() - call.start, 4))
        log = get_logger()
        if error is None:
            log.info("rpc.ok", extra={"fields": dict(fields, code="OK")})
        elif isinstance(error, grpc.RpcError):
            log.info("rpc.cancelled", extra={"fields": dict(fields, code="CANCELLED")})
        elif isinstance(error, SpikecodecError):
            log.info("rpc.rejected", extra={"fields": dict(fields, code=status_of(error).name, error=str(error))})
        else:
            log.error("rpc.failed", exc_info=error, extra={"fields": dict(fields, code="INTERNAL")})

