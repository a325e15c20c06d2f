"""Byte layout of one coded scene (the payload the container stores per scene).

::

    offset  size  field
    0       1     version (1)
    1       4     CRC-32 of everything after this field (little endian)
    5       2     scene height H (little endian u16)
    7       2     scene width W (u16)
    9       4     length of the z string in bytes
    13      Lz    z string (hyper-latent, EntropyBottleneck)
    13+Lz   ...   y string (latent, GaussianConditional) up to the end

The latent shapes follow from H and W (padded to multiples of 64), so the
payload is self-delimiting given its total length. Any damage is reported as a
:class:`codec.errors.BitstreamError` before the entropy decoder sees the bytes.
"""

from __future__ import annotations

import struct
import zlib

from codec.errors import BitstreamError

VERSION = 1
_HEAD = struct.Struct("<BI")
_BODY = struct.Struct("<HHI")
HEADER_BYTES = _HEAD.size + _BODY.size


def pack_payload(height: int, width: int, y: bytes, z: bytes) -> bytes:
    """Frame the y and z strings of an ``height x width`` scene."""
    body = _BODY.pack(height, width, len(z)) + z + y
    return _HEAD.pack(VERSION, zlib.crc32(body)) + body


def unpack_payload(payload: bytes, height: int, width: int) -> tuple[bytes, bytes]:
    """Check and split a payload; returns ``(y, z)``.

    Raises:
        BitstreamError: truncated, unknown version, CRC mismatch, or coded for
            another scene size.
    """
    if len(payload) < HEADER_BYTES:
        raise BitstreamError(f"scene payload truncated: {len(payload)} bytes < {HEADER_BYTES}-byte header")
    version, crc = _HEAD.unpack_from(payload)
    if version != VERSION:
        raise BitstreamError(f"scene payload version {version} is not supported (expected {VERSION})")
    body = memoryview(payload)[_HEAD.size:]
    if zlib.crc32(body) != crc:
        raise BitstreamError("scene payload is corrupt (CRC-32 mismatch)")
    coded_h, coded_w, z_len = _BODY.unpack_from(body)
    if (coded_h, coded_w) != (height, width):
        raise BitstreamError(f"scene payload was coded for {coded_h}x{coded_w}, not {height}x{width}")
    if HEADER_BYTES + z_len > len(payload):
        raise BitstreamError(f"scene payload truncated: z string of {z_len} bytes does not fit")
    z = bytes(payload[HEADER_BYTES : HEADER_BYTES + z_len])
    return bytes(payload[HEADER_BYTES + z_len :]), z
