"""How failures become gRPC status codes.

Handlers raise :class:`codec.errors.SpikecodecError` subclasses with a one-line
reason; :func:`status_of` picks the code. Anything else is a bug and becomes
``INTERNAL`` (logged with its traceback, never shown to the client).
"""

from __future__ import annotations

import grpc

from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from server.store import StoreDataLoss, StoreFull, StreamNotFound
from spikecodec_proto.wire import LimitExceeded


class StreamDeadlineExceeded(SpikecodecError):
    """A streaming call that ran past the server's per-stream deadline."""


class StreamCancelled(SpikecodecError):
    """The call was cancelled (client gone, or the shutdown grace period ended) before it could finish."""


class StreamPreempted(LimitExceeded):
    """A stream that waited on its client while the server was full gave its slot to a new call."""


class ServerDraining(SpikecodecError):
    """A new call while the server shuts down (health says ``NOT_SERVING``)."""


class StoredStreamUndecodable(SpikecodecError):
    """An intact stored stream this server cannot decode (its model weights are not installed)."""


#: most specific class first
_CODES: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (StoreFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (StreamDeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (StreamCancelled, grpc.StatusCode.CANCELLED),
    (ServerDraining, grpc.StatusCode.UNAVAILABLE),
    (StoredStreamUndecodable, grpc.StatusCode.FAILED_PRECONDITION),
    (StreamNotFound, grpc.StatusCode.NOT_FOUND),
    (StoreDataLoss, grpc.StatusCode.DATA_LOSS),
    (SpikeFormatError, grpc.StatusCode.INVALID_ARGUMENT),
    (BitstreamError, grpc.StatusCode.INVALID_ARGUMENT),
    (SpikecodecError, grpc.StatusCode.INVALID_ARGUMENT),
)


def status_of(error: BaseException) -> grpc.StatusCode:
    """The status code a handler failing with ``error`` returns."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL
