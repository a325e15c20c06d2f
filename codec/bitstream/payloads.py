"""Scene payloads: what follows a scene record's head, per mode (docs/format.md).

::

    intra   latents                                       the scene codec's strings
    P       motion-length uvarint | motion | latents?     one coded field (codec.bitstream.vectors),
                                                          then the residual (absent: skip)
    B       motion-length uvarint | motion | latents?     two coded fields, or none (length 0): the
                                                          decoder derives them from the references;
                                                          then the residual (absent: skip)
    latents = (length uvarint | string)* | last string    a model's entropy-coded strings

The record's CRC covers every byte of a payload.
"""

from __future__ import annotations

from codec.bitstream.varint import read_uvarint, uvarint
from codec.errors import BitstreamError


def pack_latents(strings: list[bytes]) -> bytes:
    """A model's strings as one payload: every string but the last prefixed by its length."""
    return b"".join(uvarint(len(s)) + s for s in strings[:-1]) + strings[-1]


def unpack_latents(payload: bytes, count: int) -> list[bytes]:
    """Inverse of :func:`pack_latents` for a model that writes ``count`` strings.

    Raises:
        BitstreamError: a length running past the payload.
    """
    strings: list[bytes] = []
    at = 0
    for _ in range(count - 1):
        parsed = read_uvarint(payload, at)
        if parsed is None or parsed[1] + parsed[0] > len(payload):
            raise BitstreamError(
                f"latent strings truncated: string {len(strings)} does not fit in {len(payload)} bytes")
        length, at = parsed
        strings.append(bytes(payload[at : at + length]))
        at += length
    return strings + [bytes(payload[at:])]


def pack_predicted(motion: bytes, residual: bytes) -> bytes:
    """A P or B payload: coded vectors, then the residual's latents (empty for skip)."""
    return uvarint(len(motion)) + motion + residual


def unpack_predicted(payload: bytes) -> tuple[bytes, bytes]:
    """Inverse of :func:`pack_predicted`: ``(motion, residual latents or b"")``.

    Raises:
        BitstreamError: the motion length runs past the payload.
    """
    parsed = read_uvarint(payload, 0)
    if parsed is None or parsed[1] + parsed[0] > len(payload):
        raise BitstreamError(f"predicted payload truncated: its motion does not fit in {len(payload)} bytes")
    length, at = parsed
    return bytes(payload[at : at + length]), bytes(payload[at + length :])
