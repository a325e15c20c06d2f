"""The one hand-written wire module: spike streams, ``.spkc`` records and sensor parameters
to and from the messages of ``spikecodec.v1``. Server, client and benchmarks all use it.

A spike stream is a ``SpikeMessage`` header, chunks ``0, 1, 2, ...`` of whole
bit-packed planes, and an end marker with the totals the sender sent::

    header(H, W, sensor, bit order, options) -> chunk(seq 0, planes 0..31) -> chunk(seq 1, 32..63) -> ...
        -> end(n chunks, T planes)

Writing: :func:`stream_header` (or :func:`header_message` for a decoded ``.spkc``),
:class:`ChunkWriter` / :func:`spike_messages`. Reading: :class:`SpikeStreamReader`
(or :func:`read_spikes`) checks everything against a small :class:`WireLimits`;
every deviation raises :class:`codec.errors.SpikeFormatError`, or
:class:`LimitExceeded` for a limit, with a one-line message naming the message or
chunk. ``.spkc`` records travel one per ``EncodedRecord`` (:class:`RecordTagger`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from codec.bitstream import EndRecord, ExactRecord, RecordParser, SceneRecord, StreamHeader
from codec.errors import SpikecodecError, SpikeFormatError
from codec.io.packing import check_padding, pack_planes, plane_bytes, unpack_planes
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from spikecodec_proto.v1 import records_pb2, spikes_pb2

MAX_NAME_CHARS = 256


class LimitExceeded(SpikecodecError):
    """A message or stream over a configured limit (size, planes, streams); ``RESOURCE_EXHAUSTED``."""


@dataclass(frozen=True)
class WireLimits:
    """What a reader accepts: ``max_pixels`` per plane, ``max_planes`` per stream."""

    max_pixels: int = 1 << 62
    max_planes: int = 1 << 62


#: for streams whose sender enforced its own limits (a client reading what a server decoded)
NO_LIMITS = WireLimits()


@dataclass(frozen=True)
class IncomingHeader:
    """A validated stream header.

    Attributes:
        height, width: plane size in pixels.
        sensor: sensor parameters (plane rate included).
        options: the client's codec options, as sent (defaults not yet applied).
        name: the client's label.
        num_planes: announced stream length, 0 = unknown.
    """

    height: int
    width: int
    sensor: SensorParams
    options: spikes_pb2.CodecOptions
    name: str
    num_planes: int


@dataclass(frozen=True)
class Chunk:
    """A validated chunk of ``height x width`` planes starting at stream plane ``first_plane``:
    ``packed`` ``(t, ceil(H*W/8))`` uint8 as it travelled (:mod:`codec.io.packing`); ``arrived`` is
    ``time.perf_counter()`` when it was read."""

    sequence: int
    first_plane: int
    packed: np.ndarray
    arrived: float
    height: int
    width: int

    @property
    def planes(self) -> np.ndarray:
        """``(t, H, W)`` uint8 0/1, unpacked."""
        return unpack_planes(self.packed, self.height, self.width)


def sensor_from_proto(sensor: spikes_pb2.SensorParams, plane_rate: float) -> SensorParams:
    """Codec sensor parameters from the wire (every field required when the message is present)."""
    return SensorParams(
        threshold=sensor.threshold, alpha=sensor.alpha, reset_mechanism=sensor.reset_mechanism,
        tau=sensor.tau if sensor.HasField("tau") else None, init=sensor.init, seed=sensor.seed,
        plane_rate=plane_rate,
    )


def sensor_to_proto(sensor: SensorParams) -> spikes_pb2.SensorParams:
    """Wire form of the sensor parameters (the plane rate travels in the stream header)."""
    return spikes_pb2.SensorParams(
        threshold=sensor.threshold, alpha=sensor.alpha, reset_mechanism=sensor.reset_mechanism,
        tau=sensor.tau, init=sensor.init, seed=sensor.seed,
    )


def stream_header(height: int, width: int, sensor: SensorParams = SensorParams(),
                  options: spikes_pb2.CodecOptions | None = None, name: str = "",
                  num_planes: int = 0) -> spikes_pb2.SpikeMessage:
    """The first ``SpikeMessage`` of a stream of ``height x width`` LSB-first packed planes
    (``num_planes`` 0 = live, length unknown; empty ``options`` fields = the server's defaults)."""
    return spikes_pb2.SpikeMessage(header=spikes_pb2.StreamHeader(
        height=height, width=width, plane_rate=sensor.plane_rate, sensor=sensor_to_proto(sensor),
        bit_order=spikes_pb2.BIT_ORDER_LSB_FIRST, options=options or spikes_pb2.CodecOptions(), name=name,
        num_planes=num_planes,
    ))


def header_message(header: StreamHeader, name: str = "", num_planes: int = 0) -> spikes_pb2.SpikeMessage:
    """The header the server sends before the decoded spikes of a ``.spkc`` stream with ``header``."""
    options = spikes_pb2.CodecOptions(
        quality=header.quality, window=header.window, offset=header.offset, recon=header.recon,
        attention=header.attention, model=header.model, intra_period=header.intra_period,
        gop=header.gop, gop_size=header.gop_size, exact=header.exact,
    )
    return stream_header(header.height, header.width, header.sensor, options, name, num_planes or header.num_planes)


def parse_header(message: spikes_pb2.SpikeMessage, limits: WireLimits) -> IncomingHeader:
    """Validate the first message of a stream.

    Raises:
        SpikeFormatError: not a header, or a malformed one.
        LimitExceeded: planes larger than ``limits.max_pixels``.
    """
    kind = message.WhichOneof("kind")
    if kind != "header":
        got = "an empty message" if kind is None else "a " + kind
        raise SpikeFormatError(f"first message must be a header, got {got}")
    header = message.header
    h, w = header.height, header.width
    try:
        plane_bytes(h, w)
    except SpikeFormatError as err:
        raise SpikeFormatError(f"header: {err}") from None
    if h * w > limits.max_pixels:
        raise LimitExceeded(
            f"header: {h}x{w} = {h * w} pixels per plane exceeds the server's max_pixels {limits.max_pixels}")
    if header.bit_order != spikes_pb2.BIT_ORDER_LSB_FIRST:
        known = dict(spikes_pb2.BitOrder.items())
        name = next((n for n, v in known.items() if v == header.bit_order), str(header.bit_order))  # open enum
        raise SpikeFormatError(f"header: bit_order must be BIT_ORDER_LSB_FIRST, got {name}")
    if header.num_planes > limits.max_planes:
        raise LimitExceeded(
            f"header: {header.num_planes} planes announced, over the server's max_planes {limits.max_planes}")
    if len(header.name) > MAX_NAME_CHARS:
        raise SpikeFormatError(f"header: name is {len(header.name)} characters, at most {MAX_NAME_CHARS}")
    plane_rate = header.plane_rate or CAMERA_PLANE_RATE
    try:
        if header.HasField("sensor"):
            sensor = sensor_from_proto(header.sensor, plane_rate)
        else:
            sensor = SensorParams(plane_rate=plane_rate)
    except SpikecodecError as err:
        raise SpikeFormatError(f"header: sensor: {err}") from None
    return IncomingHeader(h, w, sensor, header.options, header.name, header.num_planes)


class SpikeStreamReader:
    """Validates one incoming ``SpikeMessage`` stream.

    Args:
        messages: the messages, in order (a server passes them through its idle and deadline checks).
        limits: ``max_pixels`` and ``max_planes`` to enforce (none by default).

    Attributes:
        header: the validated header (read on construction).
        num_chunks, num_planes: received so far.
    """

    def __init__(self, messages: Iterator[spikes_pb2.SpikeMessage], limits: WireLimits = NO_LIMITS) -> None:
        self._messages = iter(messages)
        self._limits = limits
        first = next(self._messages, None)
        if first is None:
            raise SpikeFormatError("empty stream: expected a header message first")
        self.header = parse_header(first, limits)
        self._plane_bytes = plane_bytes(self.header.height, self.header.width)
        self.num_chunks = 0
        self.num_planes = 0
        self.end_arrived = 0.0

    def chunks(self) -> Iterator[Chunk]:
        """The chunks, in order, up to and including the check of the end marker.

        Raises:
            SpikeFormatError: out-of-order, missing or mis-sized chunks, a second
                header, wrong end totals, anything after the end, or no end marker.
            LimitExceeded: more than ``max_planes`` planes.
        """
        for message in self._messages:
            kind = message.WhichOneof("kind")
            where = f"message {self.num_chunks + 1}"
            if kind == "chunk":
                yield self._chunk(message.chunk)
            elif kind == "end":
                self.end_arrived = time.perf_counter()
                self._end(message.end)
                return
            elif kind == "header":
                raise SpikeFormatError(f"{where}: second header (a stream has exactly one, first)")
            else:
                raise SpikeFormatError(f"{where}: empty message (no header, chunk or end)")
        raise SpikeFormatError(
            f"stream closed without an end marker after {self.num_chunks} chunks ({self.num_planes} planes)"
        )

    def _chunk(self, chunk: spikes_pb2.SpikeChunk) -> Chunk:
        arrived = time.perf_counter()
        seq = chunk.sequence
        if seq != self.num_chunks:
            if seq > self.num_chunks:
                raise SpikeFormatError(f"missing chunk {self.num_chunks}: got chunk {seq} next")
            raise SpikeFormatError(f"chunk {seq} out of order or repeated: expected chunk {self.num_chunks}")
        if chunk.first_plane != self.num_planes:
            raise SpikeFormatError(f"chunk {seq}: first_plane {chunk.first_plane}, expected {self.num_planes}")
        n = chunk.num_planes
        if n < 1:
            raise SpikeFormatError(f"chunk {seq}: num_planes must be >= 1, got {n}")
        h, w = self.header.height, self.header.width
        if len(chunk.packed) != n * self._plane_bytes:
            raise SpikeFormatError(
                f"chunk {seq}: {len(chunk.packed)} bytes for {n} planes of {h}x{w}, "
                f"expected {n * self._plane_bytes} ({self._plane_bytes} per plane)"
            )
        if self.num_planes + n > self._limits.max_planes:
            raise LimitExceeded(
                f"chunk {seq}: stream would reach {self.num_planes + n} planes, "
                f"over the server's max_planes {self._limits.max_planes}"
            )
        packed = np.frombuffer(chunk.packed, dtype=np.uint8).reshape(n, self._plane_bytes)
        try:
            check_padding(packed, h, w, self.num_planes)
        except SpikeFormatError as err:
            raise SpikeFormatError(f"chunk {seq}: {err}") from None
        result = Chunk(seq, self.num_planes, packed, arrived, h, w)
        self.num_chunks += 1
        self.num_planes += n
        return result

    def _end(self, end: spikes_pb2.StreamEnd) -> None:
        if (end.num_chunks, end.num_planes) != (self.num_chunks, self.num_planes):
            raise SpikeFormatError(
                f"end: sender counts {end.num_chunks} chunks / {end.num_planes} planes, "
                f"server received {self.num_chunks} / {self.num_planes}"
            )
        extra = next(self._messages, None)
        if extra is not None:
            raise SpikeFormatError(f"a {extra.WhichOneof('kind') or 'empty'} message after the end marker")


class ChunkWriter:
    """Re-chunks planes of any count into ``SpikeMessage`` chunks of ``chunk_planes`` planes.

    :meth:`push` returns the full chunks available; :meth:`finish` the remainder
    and the end marker.
    """

    def __init__(self, height: int, width: int, chunk_planes: int) -> None:
        self.height, self.width, self.chunk_planes = height, width, chunk_planes
        self._pending = np.empty((0, height, width), dtype=np.uint8)
        self.num_chunks = 0
        self.num_planes = 0

    def push(self, planes: np.ndarray) -> list[spikes_pb2.SpikeMessage]:
        """``planes``: ``(t, H, W)`` 0/1.

        Raises:
            SpikeFormatError: planes of another size than the writer's.
        """
        if planes.shape[1:] != (self.height, self.width):
            raise SpikeFormatError(f"planes of shape {planes.shape} pushed to a {self.height}x{self.width} stream")
        planes = planes.astype(np.uint8, copy=False)
        out = []
        # only the remainder of the previous push is ever copied (a block can be 256 full planes), and it is
        # copied out of the caller's block so that no view keeps the block alive
        if len(self._pending):
            take = self.chunk_planes - len(self._pending)
            self._pending = np.concatenate([self._pending, planes[:take]])
            planes = planes[take:]
            if len(self._pending) == self.chunk_planes:
                out.append(self._emit(self._pending))
                self._pending = self._pending[:0]
        while len(planes) >= self.chunk_planes:
            out.append(self._emit(planes[: self.chunk_planes]))
            planes = planes[self.chunk_planes :]
        if len(planes):
            self._pending = planes.copy()
        return out

    def finish(self) -> list[spikes_pb2.SpikeMessage]:
        out = [self._emit(self._pending)] if len(self._pending) else []
        self._pending = self._pending[:0]
        end = spikes_pb2.StreamEnd(num_chunks=self.num_chunks, num_planes=self.num_planes)
        out.append(spikes_pb2.SpikeMessage(end=end))
        return out

    def _emit(self, planes: np.ndarray) -> spikes_pb2.SpikeMessage:
        message = spikes_pb2.SpikeMessage(chunk=spikes_pb2.SpikeChunk(
            sequence=self.num_chunks, first_plane=self.num_planes, num_planes=len(planes),
            packed=pack_planes(planes).tobytes(),
        ))
        self.num_chunks += 1
        self.num_planes += len(planes)
        return message


def spike_messages(header: spikes_pb2.SpikeMessage, blocks: Iterable[np.ndarray], chunk_planes: int = 32,
                   on_chunk: Callable[[spikes_pb2.SpikeChunk], None] | None = None,
                   ) -> Iterator[spikes_pb2.SpikeMessage]:
    """``header``, then ``blocks`` (``(t, H, W)`` 0/1 planes) re-chunked to ``chunk_planes`` planes,
    then the end marker.

    ``on_chunk(chunk)`` is called just before each chunk is handed on (packed as it is sent).
    """
    yield header
    writer = ChunkWriter(header.header.height, header.header.width, chunk_planes)

    def handed_on(batch: list[spikes_pb2.SpikeMessage]) -> Iterator[spikes_pb2.SpikeMessage]:
        for message in batch:
            if on_chunk is not None and message.HasField("chunk"):
                on_chunk(message.chunk)
            yield message

    for block in blocks:  # lazily: a live source is sent as it comes
        yield from handed_on(writer.push(block))
    yield from handed_on(writer.finish())


def read_spikes(messages: Iterable[spikes_pb2.SpikeMessage],
                limits: WireLimits = NO_LIMITS) -> Iterator[tuple[int, np.ndarray]]:
    """Validate a spike stream (header, chunks without gaps, end totals) and yield
    ``(first_plane, (t, H, W) uint8 planes)`` per chunk.

    Raises:
        SpikeFormatError: malformed stream (missing header, gaps, wrong totals).
        LimitExceeded: a stream over ``limits``.
    """
    reader = SpikeStreamReader(iter(messages), limits)
    for chunk in reader.chunks():
        yield chunk.first_plane, chunk.planes


class RecordTagger:
    """Wraps ``.spkc`` records (as an encoder makes them, in order) as ``EncodedRecord`` messages,
    numbered and classified."""

    def __init__(self) -> None:
        self._parser = RecordParser()
        self._sequence = 0

    def tag(self, data: bytes, completed_by: int, arrived: float) -> records_pb2.EncodedRecord:
        """``data``: one record; ``completed_by``: the input chunk that completed it;
        ``arrived``: ``time.perf_counter()`` when that chunk arrived."""
        (record,) = self._parser.feed(data)
        kind, index, centre = records_pb2.RECORD_KIND_HEADER, -1, -1
        if isinstance(record, SceneRecord):
            kind, index, centre = records_pb2.RECORD_KIND_SCENE, record.index, record.centre
        elif isinstance(record, EndRecord):
            kind = records_pb2.RECORD_KIND_END
        elif isinstance(record, ExactRecord):
            kind = records_pb2.RECORD_KIND_EXACT
        message = records_pb2.EncodedRecord(
            sequence=self._sequence, kind=kind, data=data, scene_index=index, centre=centre,
            completed_by_chunk=completed_by, server_latency_s=time.perf_counter() - arrived,
        )
        self._sequence += 1
        return message
