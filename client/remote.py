"""What the commands that talk to a server share: a connection made from their flags
(:func:`client.arguments.add_server_arguments`), errors a user can act on, and the
text form of a stored stream.

::

    with connected(args) as conn:       # reachable, a spikecodec server, our token accepted
        summary = conn.get_stream(args.stream_id)
    print(summary_dict(summary))
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import grpc

from client.connection import ClientError, Connection
from codec.errors import SpikeFormatError
from spikecodec_proto.v1 import records_pb2, spikes_pb2

if TYPE_CHECKING:
    from codec.evaluate.sources import SpikeInput

#: where the token comes from when ``--token`` is not given
TOKEN_ENV = "SPIKECODEC_TOKEN"


def explained(err: ClientError, args: argparse.Namespace) -> ClientError:
    """``err`` reworded for the command line where the flags are the fix (token, TLS, stream id)."""
    if err.code == grpc.StatusCode.UNAUTHENTICATED:
        if args.token:
            reason = f"the server at {args.server} refused the token given (--token or ${TOKEN_ENV})"
        else:
            reason = (f"the server at {args.server} requires a bearer token: pass --token TOKEN "
                      f"or set ${TOKEN_ENV}")
        return ClientError(reason, err.code, err.details)
    if err.code == grpc.StatusCode.NOT_FOUND:
        return ClientError(f"{err.details or 'no such stream'} on {args.server} "
                           f"(spikecodec list --server {args.server} shows the stored streams)", err.code, err.details)
    return err


@contextmanager
def connected(args: argparse.Namespace) -> Iterator[Connection]:
    """A connection to ``args.server`` that answered ``GetServerInfo``, so a missing token or
    a protocol mismatch is reported before any data goes out; every :class:`ClientError`
    inside the block leaves it reworded by :func:`explained`.

    Raises:
        ClientError: no server answered within ``args.timeout`` seconds (with ``--tls``: the
            TLS handshake failed, named as such), or a call failed.
    """
    with Connection(args.server, token=args.token, tls=args.tls, root_certificates=args.ca_cert) as conn:
        try:
            try:
                conn.wait_ready(args.timeout)
            except ClientError:
                if args.tls and _accepts_tcp(args.server):
                    raise ClientError(
                        f"TLS handshake with {args.server} failed: the server speaks plaintext (drop --tls) "
                        f"or its certificate is not signed by the CA given (--ca-cert)") from None
                raise
            conn.server_info()
            yield conn
        except ClientError as err:
            raise explained(err, args) from None


def _accepts_tcp(target: str) -> bool:
    """Whether something listens at ``HOST:PORT`` (a TCP connect succeeds within a second)."""
    import socket

    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def open_source(args: argparse.Namespace) -> SpikeInput:
    """The ``SOURCE`` of ``stream``/``upload`` opened with its flags
    (:func:`client.arguments.add_source_arguments`), read or simulated a chunk
    (``--chunk-planes``) at a time: what the client holds of it is one chunk, unpacked.
    Neither reading nor simulating imports numba (the same spikes as the compiled simulator).

    Raises:
        SpikeFormatError: a bad ``--chunk-planes`` or source (see :func:`codec.evaluate.sources.open_input`).
    """
    from codec.evaluate.sources import open_input
    from codec.simulate.numpy_neuron import NumpySensor

    if args.chunk_planes <= 0:
        raise SpikeFormatError(f"--chunk-planes must be positive, got {args.chunk_planes}")
    # simulated in numpy: numba and scipy would double the client's memory, for a source
    # that is simulated faster than a server codes it either way
    return open_input(args.source, args.height, args.width, args.planes, None, args.fps, args.seed,
                      sensor=NumpySensor(), dataset=args.dataset, block_planes=args.chunk_planes)


def source_header(source: SpikeInput, args: argparse.Namespace, name: str | None = None) -> spikes_pb2.SpikeMessage:
    """The stream header that sends ``source`` with the codec flags (:func:`codec_options`), named
    ``name`` (default: the source's)."""
    from spikecodec_proto.wire import stream_header

    return stream_header(source.height, source.width, source.sensor, codec_options(args),
                         source.name if name is None else name, source.num_planes)


def codec_options(args: argparse.Namespace) -> spikes_pb2.CodecOptions:
    """The codec flags of ``stream``/``upload`` (:func:`client.arguments.add_codec_arguments`,
    ``add_scene_arguments`` and ``add_exact_arguments`` with ``inherit=True``); a flag left out stays
    empty: the server's default."""
    return spikes_pb2.CodecOptions(quality=args.quality, window=args.window, offset=args.offset, recon=args.recon,
                                   attention=args.attention, model=args.model, intra_period=args.intra_period,
                                   gop=args.gop, gop_size=args.gop_size, exact=args.exact)


def summary_dict(summary: records_pb2.StreamSummary) -> dict:
    """A stored stream's summary as a command's result (plain values, creation time in UTC ISO 8601)."""
    return {
        "id": summary.id,
        "name": summary.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(summary.created_unix)),
        "planes": summary.num_planes,
        "height": summary.height,
        "width": summary.width,
        "scenes": summary.num_scenes,
        "bytes": summary.bits // 8,
        "bits": summary.bits,
        "bpsp": summary.bpsp,
        "quality": summary.quality,
        "model": summary.model,
        "recon": summary.recon,
        "attention": summary.attention,
        "window": summary.window,
        "plane_rate_hz": summary.plane_rate,
        "sha256": summary.sha256,
    }
