"""The count-of-spikes code: spikes counted per pixel per scene window, quantized, zstd-coded.

The LIF view of the camera: over a window of ``n`` planes a pixel's spike count
is a quantized firing rate, and ``rate = count / n`` inverts it (the scene value,
as everywhere in the project: :mod:`codec.regenerate` turns it back into spikes). Coding counts
with a uniform quantizer of step ``s`` (``index = round(count / s)``) is the
simplest reference a scene codec must beat; ``s = 1`` is the exact TFP scene.

Payload (little-endian): ``H, W`` (uint16), ``T`` (uint32), ``K, C0`` (uint16),
``s`` (uint8), then a zstd frame of the ``(N, H, W)`` indices (uint8, or uint16
when ``K / s >= 256``). Decoding recomputes the scene blocks from ``T, K, C0``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import zstandard

from codec.anchors.base import AnchorError, AnchorInput, AnchorOutput
from codec.reconstruct.windows import scene_block, scene_centres

_HEADER = struct.Struct("<HHIHHB")
#: zstd level of the index planes
ZSTD_LEVEL = 19


def window_counts(planes: np.ndarray, centres: list[int], window: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts over each scene's block.

    Args:
        planes: ``(T, H, W)`` uint8 0/1.
        centres: scene centre planes.
        window: ``K``.

    Returns:
        ``(counts (N, H, W) uint16, lengths (N,) int)``: spikes per pixel and the
        number of planes in each (edge-clipped) block.
    """
    t = planes.shape[0]
    blocks = [scene_block(t, c, window) for c in centres]
    counts = np.stack([planes[a:b].sum(axis=0, dtype=np.uint16) for a, b in blocks])
    return counts, np.array([b - a for a, b in blocks])


@dataclass(frozen=True)
class CountAnchor:
    """Count-of-spikes code at quantization steps ``default_params``."""

    name: str = "count"
    default_params: tuple = (1, 2, 3, 4, 6, 8)

    def label(self, param: Any) -> str:
        return f"step{int(param)}"

    def encode(self, inp: AnchorInput, step: int) -> bytes:
        if not 1 <= int(step) <= 255:
            raise AnchorError(f"count step must be in 1..255, got {step}")
        if inp.window > 0xFFFF or inp.height > 0xFFFF or inp.width > 0xFFFF or not inp.centres:
            raise AnchorError("count code needs at least one scene and sizes below 65536")
        counts, _ = window_counts(inp.planes, inp.centres, inp.window)
        index = np.rint(counts / float(step))
        dtype = np.uint8 if inp.window // int(step) < 256 else np.uint16
        header = _HEADER.pack(inp.height, inp.width, inp.num_planes, inp.window, inp.centres[0], int(step))
        body = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(index.astype(dtype).tobytes())
        return header + body

    def decode(self, payload: bytes) -> np.ndarray:
        """Payload -> ``(N, H, W)`` float32 scenes, ``rate = count / planes in the block``."""
        if len(payload) < _HEADER.size:
            raise AnchorError(f"count payload of {len(payload)} bytes is shorter than its header")
        h, w, t, window, offset, step = _HEADER.unpack_from(payload)
        centres = scene_centres(t, window, offset)
        dtype = np.uint8 if window // step < 256 else np.uint16
        try:
            raw = zstandard.ZstdDecompressor().decompress(payload[_HEADER.size :])
        except zstandard.ZstdError as err:
            raise AnchorError(f"count payload is corrupt: {err}") from err
        if len(raw) != len(centres) * h * w * np.dtype(dtype).itemsize:
            raise AnchorError(f"count payload holds {len(raw)} bytes, expected {len(centres)} scenes of {h}x{w}")
        index = np.frombuffer(raw, dtype=dtype).reshape(len(centres), h, w)
        lengths = np.array([b - a for a, b in (scene_block(t, c, window) for c in centres)], dtype=np.float64)
        counts = np.minimum(index.astype(np.float64) * step, lengths[:, None, None])
        return np.clip(counts / lengths[:, None, None], 0.0, 1.0).astype(np.float32)

    def code(self, inp: AnchorInput, param: Any) -> AnchorOutput:
        payload = self.encode(inp, int(param))
        return AnchorOutput(payload=payload, scenes=self.decode(payload))


