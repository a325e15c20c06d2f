"""A connection to a spikecodec server: the generated stub plus auth, TLS, retries, errors.

::

    with Connection("localhost:50051", token="...") as conn:
        info = conn.server_info()
        records = conn.encode(spike_messages(...))      # live, streaming both ways
        messages = conn.decode(records)
        summary = conn.upload(spike_messages(...)).stream
        messages = conn.fetch(summary.id)
        info = conn.download_bitstream(summary.id, "stream.spkc")   # the stored bytes, checked

Idempotent calls (``GetServerInfo``, ``GetStream``, ``ListStreams``, ``Fetch``,
``FetchBitstream``) are retried on ``UNAVAILABLE``/``DEADLINE_EXCEEDED`` (:mod:`client.retry`);
``Upload`` and ``DeleteStream`` change the store and live ``Encode``/``Decode``
consume a one-shot request stream, so they are never retried. Every failure
reaches the caller as :class:`ClientError` carrying the status code and the
server's one-line reason.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import grpc

from client.retry import RetryPolicy, call_with_retry, stream_with_retry
from codec.errors import SpikecodecError
from spikecodec_proto.v1 import records_pb2, service_pb2, service_pb2_grpc, spikes_pb2

T = TypeVar("T")

#: 4 MiB, the server's default message limit
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class ClientError(SpikecodecError):
    """A call the server refused or that could not reach it.

    Attributes:
        code: the gRPC status code (``None`` for client-side problems).
        details: the server's one-line reason (``""`` when there is none).
    """

    def __init__(self, message: str, code: grpc.StatusCode | None = None, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def _client_error(err: grpc.RpcError, what: str) -> ClientError:
    if isinstance(err, grpc.Call):
        lines = (err.details() or "").strip().splitlines()
        details = lines[0] if lines else ""
        return ClientError(f"{what}: {err.code().name}: {details or 'no details'}", err.code(), details)
    return ClientError(f"{what}: {err}")


def _translate_stream(responses: Iterator[T], what: str) -> Iterator[T]:
    try:
        yield from responses
    except grpc.RpcError as err:
        raise _client_error(err, what) from None


class LiveCall(Iterator[T]):
    """The responses of a live streaming call (``Encode``, ``Decode``), failures as :class:`ClientError`,
    and :meth:`cancel` to end it while the channel stays open.

    A caller that gives up on one call of a pair must cancel the other: otherwise it runs on --
    its request thread still reading the source, the server still holding its slot -- until
    the channel closes.
    """

    def __init__(self, call: grpc.Call, what: str) -> None:
        self._call = call
        self._responses = _translate_stream(call, what)

    def __next__(self) -> T:
        return next(self._responses)

    def cancel(self) -> None:
        """End the call (the server sees ``CANCELLED``); nothing happens if it has ended."""
        self._call.cancel()


class Connection:
    """One channel to a server.

    Args:
        target: ``HOST:PORT``.
        token: bearer token sent as ``authorization: Bearer <token>``; ``None`` for none.
        tls: use TLS (server certificate checked against ``root_certificates``,
            a PEM file, or the system roots when ``None``).
        root_certificates: path of a PEM CA bundle for ``tls``.
        timeout_s: deadline of each unary call, seconds (streams have none).
        retry: policy for idempotent calls.
        interceptors: gRPC client interceptors wrapped around the channel (each
            attempt of a retried call passes through them).
    """

    def __init__(
        self,
        target: str,
        token: str | None = None,
        tls: bool = False,
        root_certificates: str | Path | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        interceptors: Sequence[grpc.UnaryUnaryClientInterceptor | grpc.UnaryStreamClientInterceptor
                               | grpc.StreamUnaryClientInterceptor | grpc.StreamStreamClientInterceptor] = (),
    ) -> None:
        if ":" not in target:
            raise ClientError(f"server address must be HOST:PORT, got {target!r}")
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # reconnect quickly after a server restart so retries can succeed
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.enable_retries", 0),
        ]
        if tls:
            roots = Path(root_certificates).read_bytes() if root_certificates else None
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(roots), options=options)
        else:
            self.channel = grpc.insecure_channel(target, options=options)
        self.target = target
        self.stub = service_pb2_grpc.SpikeCodecStub(grpc.intercept_channel(self.channel, *interceptors))
        self.timeout_s = timeout_s
        self.retry = retry
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        """Block until the channel is connected.

        Raises:
            ClientError: no server answered at ``target`` within ``timeout_s``.
        """
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout_s)
        except grpc.FutureTimeoutError:
            raise ClientError(f"no spikecodec server reachable at {self.target} within {timeout_s:g} s") from None

    # -- unary calls -----------------------------------------------------

    def _unary(self, method: Callable, request: object, what: str, retry: bool) -> object:
        call = functools.partial(method, request, timeout=self.timeout_s, metadata=self._metadata)
        try:
            return call_with_retry(call, self.retry) if retry else call()
        except grpc.RpcError as err:
            raise _client_error(err, what) from None

    def server_info(self) -> service_pb2.ServerInfo:
        """Models, defaults and limits of the server (retried)."""
        return self._unary(self.stub.GetServerInfo, service_pb2.GetServerInfoRequest(), "GetServerInfo", True)

    def get_stream(self, stream_id: str) -> service_pb2.StreamSummary:
        """Summary of a stored stream (retried)."""
        return self._unary(self.stub.GetStream, service_pb2.GetStreamRequest(id=stream_id), f"GetStream {stream_id}",
                           True)

    def list_streams(self, page_size: int = 100) -> Iterator[service_pb2.StreamSummary]:
        """Every stored stream, newest first, page after page (each page retried)."""
        token = ""
        while True:
            request = service_pb2.ListStreamsRequest(page_size=page_size, page_token=token)
            page = self._unary(self.stub.ListStreams, request, "ListStreams", True)
            yield from page.streams
            token = page.next_page_token
            if not token:
                return

    def delete_stream(self, stream_id: str) -> service_pb2.StreamSummary:
        """Delete a stored stream (not retried: a second try would say NOT_FOUND)."""
        request = service_pb2.DeleteStreamRequest(id=stream_id)
        return self._unary(self.stub.DeleteStream, request, f"DeleteStream {stream_id}", False).stream

    # -- streaming calls -------------------------------------------------

    def upload(self, messages: Iterable[spikes_pb2.SpikeMessage]) -> service_pb2.UploadResponse:
        """Send a spike stream to be encoded and stored (not retried)."""
        try:
            return self.stub.Upload(iter(messages), metadata=self._metadata)
        except grpc.RpcError as err:
            raise _client_error(err, "Upload") from None

    def fetch(self, stream_id: str, chunk_planes: int = 0) -> Iterator[spikes_pb2.SpikeMessage]:
        """Decoded spikes of a stored stream (retried until its first message)."""
        request = service_pb2.FetchRequest(id=stream_id, chunk_planes=chunk_planes)
        start = functools.partial(self.stub.Fetch, request, metadata=self._metadata)
        return _translate_stream(stream_with_retry(start, self.retry), f"Fetch {stream_id}")

    def fetch_bitstream(self, stream_id: str, chunk_bytes: int = 0) -> Iterator[service_pb2.BitstreamPiece]:
        """The stored ``.spkc`` file of a stream as sent: its ``info`` (size, sha256), then ``data``
        pieces (retried until the first message). :meth:`download_bitstream` checks and writes them."""
        request = service_pb2.FetchBitstreamRequest(id=stream_id, chunk_bytes=chunk_bytes)
        start = functools.partial(self.stub.FetchBitstream, request, metadata=self._metadata)
        return _translate_stream(stream_with_retry(start, self.retry), f"FetchBitstream {stream_id}")

    def download_bitstream(self, stream_id: str, path: str | Path, chunk_bytes: int = 0) -> service_pb2.BitstreamInfo:
        """Write the stored ``.spkc`` file of ``stream_id`` to ``path``, byte for byte.

        The bytes go to ``<path>.part`` first; ``path`` appears only once their size and
        sha256 equal what the server announced, and is left alone otherwise.

        Returns:
            what the server announced: the stream's summary, size and sha256.

        Raises:
            ClientError: the call failed, or the bytes that arrived are not the announced
                ones (code ``DATA_LOSS``).
        """
        what = f"FetchBitstream {stream_id}"
        pieces = self.fetch_bitstream(stream_id, chunk_bytes)
        first = next(pieces, None)
        if first is None or first.WhichOneof("piece") != "info":
            raise ClientError(f"{what}: the server sent no size and sha256 before the bytes",
                              grpc.StatusCode.DATA_LOSS)
        info = first.info
        path = Path(path)
        part = path.with_name(path.name + ".part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(part, "wb") as out:
                for piece in pieces:
                    if piece.WhichOneof("piece") != "data":
                        raise ClientError(f"{what}: a second size and sha256 among the bytes",
                                          grpc.StatusCode.DATA_LOSS)
                    out.write(piece.data)
                    digest.update(piece.data)
                    size += len(piece.data)
            if size != info.size or digest.hexdigest() != info.sha256:
                raise ClientError(
                    f"{what}: download corrupt: {size} bytes with sha256 {digest.hexdigest()[:16]}... arrived, "
                    f"the server announced {info.size} bytes with sha256 {info.sha256[:16]}...; {path} not written",
                    grpc.StatusCode.DATA_LOSS)
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
        return info

    def encode(self, messages: Iterable[spikes_pb2.SpikeMessage]) -> LiveCall[records_pb2.EncodedRecord]:
        """Live encode: spike messages in, ``.spkc`` records out as they are ready."""
        return LiveCall(self.stub.Encode(iter(messages), metadata=self._metadata), "Encode")

    def decode(self, records: Iterable[records_pb2.EncodedRecord]) -> LiveCall[spikes_pb2.SpikeMessage]:
        """Live decode: ``.spkc`` records in, regenerated spike messages out."""
        return LiveCall(self.stub.Decode(iter(records), metadata=self._metadata), "Decode")
