"""``SpikeCodecServicer``: the RPCs of ``proto/spikecodec/v1/service.proto`` over
:mod:`codec.pipeline` and :mod:`server.store`.

Transport only: the servicer validates the wire (:mod:`server.spikes`), enforces
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
import importlib.metadata
import inspect
import threading
import time
from typing import Callable, Iterator

import grpc

from codec.bitstream import EndRecord, Record, RecordParser, SceneRecord, StreamHeader
from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from codec.io.packing import plane_bytes
from codec.pipeline import Decoder, Encoder
from codec.sensor import SensorParams
from proto.spikecodec.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2
from server import codecs
from server.config import ServerConfig
from server.deadline import Deadline
from server.logs import get_logger
from server.spikes import ChunkWriter, SpikeStreamReader, header_message, sensor_to_proto
from server.status import LimitExceeded, StoredStreamUndecodable, StreamCancelled, status_of
from server.store import StoredStream, StreamStore

try:
    VERSION = importlib.metadata.version("spikecodec")
except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "unknown"
DEFAULT_PAGE_SIZE = 100
#: room left in a message for everything but the packed planes
MESSAGE_OVERHEAD_BYTES = 1024
#: bytes of a stored stream handed to the decoder at a time
FETCH_PIECE_BYTES = 1 << 16


class Call:
    """One RPC in progress: its deadline (streaming calls) and the fields of its log line."""

    def __init__(self, method: str, context: grpc.ServicerContext, deadline: Deadline | None) -> None:
        self.method = method
        self.deadline = deadline
        self.fields: dict[str, object] = {"method": method, "peer": context.peer()}
        self.start = time.perf_counter()


def rpc(streaming: bool) -> Callable:
    """Decorate a handler ``impl(self, request, context, call)`` as a servicer method.

    Args:
        streaming: the call takes one of ``max_streams`` slots and gets a
            :class:`Deadline` of ``stream_deadline_s``.
    """

    def decorate(impl: Callable) -> Callable:
        if inspect.isgeneratorfunction(impl):
            @functools.wraps(impl)
            def stream_handler(self: "SpikeCodecServicer", request, context):
                call = self._begin(impl.__name__, context, streaming)
                try:
                    yield from impl(self, request, context, call)
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
            call = self._begin(impl.__name__, context, streaming)
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


class RecordTagger:
    """Wraps the encoder's records as ``EncodedRecord`` messages, numbered and classified."""

    def __init__(self) -> None:
        self._parser = RecordParser()
        self._sequence = 0

    def tag(self, data: bytes, completed_by: int, arrived: float) -> records_pb2.EncodedRecord:
        (record,) = self._parser.feed(data)
        kind, index, centre = records_pb2.RECORD_KIND_HEADER, -1, -1
        if isinstance(record, SceneRecord):
            kind, index, centre = records_pb2.RECORD_KIND_SCENE, record.index, record.centre
        elif isinstance(record, EndRecord):
            kind = records_pb2.RECORD_KIND_END
        message = records_pb2.EncodedRecord(
            sequence=self._sequence, kind=kind, data=data, scene_index=index, centre=centre,
            completed_by_chunk=completed_by, server_latency_s=time.perf_counter() - arrived,
        )
        self._sequence += 1
        return message


class SpikeCodecServicer(service_pb2_grpc.SpikeCodecServicer):
    """The service. One instance per server; thread-safe."""

    def __init__(self, config: ServerConfig, store: StreamStore, models: list[service_pb2.ModelInfo]) -> None:
        self.config = config
        self.store = store
        self.models = models
        self._lock = threading.Lock()
        self._active = 0

    @property
    def active_streams(self) -> int:
        """Streaming calls in progress."""
        return self._active

    # -- live coding -------------------------------------------------------------------

    @rpc(streaming=True)
    def Encode(self, request_iterator, context, call: Call) -> Iterator[records_pb2.EncodedRecord]:
        reader = SpikeStreamReader(call.deadline.iterate(request_iterator), self.config)
        arrived = time.perf_counter()
        encoder = self._encoder(reader, call)
        tagger = RecordTagger()
        yield tagger.tag(encoder.header_record(), 0, arrived)
        for chunk in reader.chunks():
            for record in encoder.push(chunk.planes):
                yield tagger.tag(record, chunk.sequence, chunk.arrived)
            call.deadline.check()
        for record in encoder.finish():
            yield tagger.tag(record, reader.num_chunks, reader.end_arrived)
        call.fields.update(planes=encoder.num_planes, scenes=encoder.num_scenes)

    @rpc(streaming=True)
    def Decode(self, request_iterator, context, call: Call) -> Iterator[spikes_pb2.SpikeMessage]:
        guard = RecordParser()  # sees each record before the decoder acts on it

        def pieces() -> Iterator[bytes]:
            for expected, message in enumerate(call.deadline.iterate(request_iterator)):
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
        reader = SpikeStreamReader(call.deadline.iterate(request_iterator), self.config)
        encoder = self._encoder(reader, call)
        encode = store = 0.0
        with self.store.begin(reader.header.name) as pending:
            pending.write(encoder.header_record())
            for chunk in reader.chunks():
                tic = time.perf_counter()
                records = encoder.push(chunk.planes)
                toc = time.perf_counter()
                for record in records:
                    pending.write(record)
                encode += toc - tic
                store += time.perf_counter() - toc
                call.deadline.check()
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
            timings=records_pb2.Timings(receive_s=total - encode - store, encode_s=encode, store_s=store, total_s=total),
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

    @rpc(streaming=False)
    def GetStream(self, request, context, call: Call) -> records_pb2.StreamSummary:
        call.fields["id"] = request.id
        return summary_proto(self.store.get(request.id))

    @rpc(streaming=False)
    def ListStreams(self, request, context, call: Call) -> service_pb2.ListStreamsResponse:
        before = None
        if request.page_token:
            if not request.page_token.isdigit():
                raise SpikeFormatError(f"invalid page_token {request.page_token!r}")
            before = int(request.page_token)
        streams, cursor = self.store.list(request.page_size or DEFAULT_PAGE_SIZE, before)
        return service_pb2.ListStreamsResponse(
            streams=[summary_proto(s) for s in streams], next_page_token="" if cursor is None else str(cursor)
        )

    @rpc(streaming=False)
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
                recommended_chunk_planes=c.chunk_planes,
            ),
            auth_required=bool(c.token), tls=bool(c.tls_cert), stored_streams=self.store.count(),
        )

    # -- helpers -----------------------------------------------------------------------

    def _decoded(self, pieces: Iterator[bytes], chunk_planes: int, call: Call,
                 stored: StoredStream | None = None) -> Iterator[spikes_pb2.SpikeMessage]:
        """Decode ``.spkc`` bytes into a ``SpikeMessage`` stream: header, chunks, end."""
        decoder = Decoder()
        writer = None
        for piece in pieces:
            planes = decoder.push(piece)
            if writer is None and decoder.header is not None:
                h = decoder.header
                yield header_message(h, *((stored.name, stored.num_planes) if stored else ()))
                writer = ChunkWriter(h.height, h.width, min(chunk_planes, self._max_chunk_planes(h.height, h.width)))
            if writer is not None:
                yield from writer.push(planes)
            call.deadline.check()
        stats = decoder.finish()
        assert writer is not None  # finish() raised if no header came
        yield from writer.finish()
        call.fields.update(planes=stats["planes"], scenes=stats["scenes"])

    def _check_decode_limits(self, record: Record) -> None:
        """Refuse a stream to decode whose planes exceed ``max_pixels`` or ``max_planes``."""
        limits = self.config
        if isinstance(record, StreamHeader) and record.height * record.width > limits.max_pixels:
            raise LimitExceeded(f"stream header: {record.height}x{record.width} = {record.height * record.width} "
                                f"pixels per plane exceeds the server's max_pixels {limits.max_pixels}")
        planes = record.num_planes if isinstance(record, (StreamHeader, EndRecord)) else 0
        if planes > limits.max_planes:
            raise LimitExceeded(f"stream of {planes} planes, over the server's max_planes {limits.max_planes}")

    def _max_chunk_planes(self, height: int, width: int) -> int:
        """Most planes of ``height x width`` one outgoing message can carry."""
        return max(1, (self.config.max_message_bytes - MESSAGE_OVERHEAD_BYTES) // plane_bytes(height, width))

    def _begin(self, method: str, context: grpc.ServicerContext, streaming: bool) -> Call:
        """Start a call: take a stream slot (or abort with RESOURCE_EXHAUSTED)."""
        if streaming:
            try:
                self._take_slot()
            except LimitExceeded as err:
                get_logger().info("rpc.rejected", extra={"fields": {"method": method, "code": "RESOURCE_EXHAUSTED",
                                                                     "error": str(err), "peer": context.peer()}})
                context.abort(status_of(err), str(err))
        return Call(method, context, Deadline(self.config.stream_deadline_s) if streaming else None)

    def _end(self, call: Call, context: grpc.ServicerContext, error: BaseException | None) -> None:
        """Finish a call: release its slot, log it, and abort with the error's status if it failed."""
        if call.deadline is not None:
            self._release_slot()
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
        call.fields.update(height=header.height, width=header.width, quality=config.quality,
                           window=config.window, recon=config.recon, attention=config.attention)
        return Encoder(config, header.height, header.width, header.sensor, num_planes=header.num_planes)

    def _take_slot(self) -> None:
        with self._lock:
            if self._active >= self.config.max_streams:
                raise LimitExceeded(
                    f"server busy: {self._active} streams in progress (max_streams {self.config.max_streams}); retry later"
                )
            self._active += 1

    def _release_slot(self) -> None:
        with self._lock:
            self._active -= 1

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

