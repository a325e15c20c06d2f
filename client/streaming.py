"""Live round trip through a server: spikes -> Encode -> records -> Decode -> spikes.

::

    blocks (t,H,W) --wire.spike_messages--> SpikeMessage header, chunks, end --Encode-->
        EncodedRecord (as each scene completes) --forwarded at once--> Decode -->
        SpikeMessage header, chunks of regenerated planes, end --> on_planes(first, planes)

Both calls run at the same time: the records the Encode call returns are the
request stream of the Decode call (opened once the first scene record is ready), so
decoded planes come back while spikes are still going out. Every input chunk's send time is kept; its round-trip latency
is the time until the last of its planes came back decoded (which includes
waiting for the next scene centre: the codec decodes scene by scene).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from client.connection import ClientError, Connection, LiveCall
from codec.errors import SpikecodecError
from spikecodec_proto.v1 import records_pb2, spikes_pb2
from spikecodec_proto.wire import read_spikes, spike_messages

PlanesCallback = Callable[[int, np.ndarray], None]


@dataclass
class RoundTrip:
    """What a live round trip measured.

    Attributes:
        records: the ``.spkc`` records in order (their concatenation is the stream).
        chunk_sent: ``perf_counter`` time each input chunk went out, by sequence.
        chunk_last_plane: last plane (exclusive) of each input chunk.
        chunk_returned: time the last plane of each input chunk came back decoded.
        record_latency_s: per scene record, seconds from sending the chunk that
            completed it to receiving the record.
        num_planes: planes sent; ``decoded_planes``: planes received.
        started, finished: ``perf_counter`` bounds of the whole round trip.
    """

    records: list[bytes] = field(default_factory=list)
    chunk_sent: list[float] = field(default_factory=list)
    chunk_last_plane: list[int] = field(default_factory=list)
    chunk_returned: list[float] = field(default_factory=list)
    record_latency_s: list[float] = field(default_factory=list)
    num_planes: int = 0
    decoded_planes: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def bits(self) -> int:
        return 8 * sum(len(r) for r in self.records)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def chunk_latency_s(self) -> list[float]:
        """Round-trip latency of each input chunk, seconds."""
        return [back - sent for sent, back in zip(self.chunk_sent, self.chunk_returned)]


def round_trip(
    conn: Connection,
    header: spikes_pb2.SpikeMessage,
    blocks: Iterable[np.ndarray],
    chunk_planes: int = 32,
    on_planes: PlanesCallback | None = None,
) -> RoundTrip:
    """Stream ``blocks`` through the server's Encode and Decode at once.

    Args:
        conn: an open connection.
        header: from :func:`spikecodec_proto.wire.stream_header` (options choose the codec settings).
        blocks: ``(t, H, W)`` uint8 planes, in order.
        chunk_planes: planes per chunk sent.
        on_planes: called with ``(first_plane, planes)`` for each decoded chunk.

    Raises:
        ClientError: the server refused a call (the Encode error wins over the
            Decode error it causes). Whatever fails, neither call outlives this function.
        SpikeFormatError: the decoded stream came back malformed or short.
    """
    result = RoundTrip(started=time.perf_counter())
    encode_error: list[SpikecodecError] = []

    def sent(chunk: spikes_pb2.SpikeChunk) -> None:
        result.chunk_sent.append(time.perf_counter())
        result.chunk_last_plane.append(chunk.first_plane + chunk.num_planes)
        result.num_planes += chunk.num_planes

    encode_call = conn.encode(spike_messages(header, blocks, chunk_planes, sent))

    def forward() -> Iterator[records_pb2.EncodedRecord]:
        try:
            for record in encode_call:
                now = time.perf_counter()
                result.records.append(record.data)
                if record.kind == records_pb2.RECORD_KIND_SCENE and record.completed_by_chunk < len(result.chunk_sent):
                    result.record_latency_s.append(now - result.chunk_sent[record.completed_by_chunk])
                yield record
        except SpikecodecError as err:  # ends Decode's requests; raised in the caller's thread below
            encode_error.append(err)

    decode_call: LiveCall | None = None
    try:
        encoded = forward()
        # Decode opens with the first scene record in hand: until then (model loading, a random-access
        # GOP filling up) it would wait on us with nothing to send, against the server's idle timeout.
        opening = list(itertools.islice(encoded, 2))  # the header record and the first scene's (or the end)
        if encode_error:
            raise encode_error[0]
        decode_call = conn.decode(itertools.chain(opening, encoded))
        for first, block in read_spikes(decode_call):
            now = time.perf_counter()
            result.decoded_planes = first + len(block)
            while len(result.chunk_returned) < len(result.chunk_last_plane) and (
                result.chunk_last_plane[len(result.chunk_returned)] <= result.decoded_planes
            ):
                result.chunk_returned.append(now)
            if on_planes is not None:
                on_planes(first, block)
    except BaseException as err:
        cause = encode_error[:1]  # before the cancellations below fail Encode too
        # Neither call may outlive a failure of the other (or of on_planes): a running Encode keeps
        # its thread reading the source and its server slot until the channel closes.
        for call in (decode_call, encode_call):
            if call is not None:
                call.cancel()
        if cause and isinstance(err, SpikecodecError):
            raise cause[0] from None
        raise
    if encode_error:
        raise encode_error[0]
    if result.decoded_planes != result.num_planes:
        raise ClientError(f"server decoded {result.decoded_planes} planes of the {result.num_planes} sent")
    result.finished = time.perf_counter()
    return result
