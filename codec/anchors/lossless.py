"""Lossless anchors: general-purpose compressors on packed spike planes (bpsp only, exact)."""

from __future__ import annotations

import lzma
from dataclasses import dataclass

import numpy as np
import zstandard

from codec.anchors.base import AnchorError, AnchorInput, AnchorOutput
from codec.io.packing import pack_planes, unpack_planes

#: zstd level (the strongest regular level) and xz preset used by the anchor
ZSTD_LEVEL = 19
XZ_PRESET = 9


def compress(packed: bytes, method: str) -> bytes:
    """Compress packed planes with ``method`` (``zstd`` or ``xz``)."""
    if method == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(packed)
    if method == "xz":
        return lzma.compress(packed, preset=XZ_PRESET)
    raise AnchorError(f"unknown lossless method {method!r}; use zstd or xz")


def decompress(payload: bytes, method: str) -> bytes:
    """Inverse of :func:`compress`."""
    try:
        if method == "zstd":
            return zstandard.ZstdDecompressor().decompress(payload)
        if method == "xz":
            return lzma.decompress(payload)
    except (zstandard.ZstdError, lzma.LZMAError) as err:
        raise AnchorError(f"{method} payload is corrupt: {err}") from err
    raise AnchorError(f"unknown lossless method {method!r}; use zstd or xz")


@dataclass(frozen=True)
class LosslessAnchor:
    """zstd / xz on the LSB-first packed planes; each method is one exact point."""

    name: str = "lossless"
    default_params: tuple = ("zstd", "xz")

    def label(self, param: object) -> str:
        return str(param)

    def code(self, inp: AnchorInput, param: object) -> AnchorOutput:
        payload = compress(pack_planes(inp.planes).tobytes(), str(param))
        raw = np.frombuffer(decompress(payload, str(param)), dtype=np.uint8)
        planes = unpack_planes(raw, inp.height, inp.width)
        return AnchorOutput(payload=payload, planes=planes)
