"""Streaming exact layer: planes in, chunks out (:class:`ExactEncoder`); chunks in, planes out
(:class:`ExactDecoder`).

::

    planes (t,H,W) [+ scene values (t,H,W)] --push--> buffer --(chunk_planes full, or finish)-->
        SpikeModel + arithmetic coder -> payload; smaller than the packed planes? coding "model"
                                                  else coding "raw" (the packed planes)
        -> ExactChunk(first_plane, num_planes, coding, crc32 of the packed planes, payload)

The model keeps learning across chunks (a raw chunk still teaches it), so chunks
must be decoded in order; each chunk's arithmetic code is flushed at its end and
its planes are checked against the CRC after decoding. Memory is the model
(about 4 MB plus 25 bytes per pixel) and one chunk of planes. Chunking does not
depend on how the planes were split into pushes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from codec.bitstream import CODING_MODEL, CODING_RAW
from codec.errors import BitstreamError, SpikeFormatError
from codec.exact.arith import decoder_state, encoder_state, flush
from codec.exact.model import SpikeModel
from codec.io.packing import pack_planes, plane_bytes, unpack_planes

#: planes per chunk by default
DEFAULT_CHUNK_PLANES = 32
_NO_SCENES = np.zeros((1, 1, 1), dtype=np.uint8)


@dataclass(frozen=True)
class ExactChunk:
    """Planes ``[first_plane, first_plane + num_planes)``, coded as ``coding``
    (``codec.bitstream.CODING_RAW`` or ``CODING_MODEL``); ``planes_crc`` is the
    ``zlib.crc32`` of the packed planes."""

    first_plane: int
    num_planes: int
    coding: int
    planes_crc: int
    payload: bytes


def _scene_values(scenes: np.ndarray | None, planes: np.ndarray, model: SpikeModel) -> np.ndarray:
    """The scene values array the model reads: ``(t, H, W)`` uint8 with scenes, a dummy without."""
    if not model.scenes:
        if scenes is not None:
            raise SpikeFormatError("scene values given to an exact layer without scenes")
        return _NO_SCENES
    if scenes is None or scenes.shape != planes.shape:
        shape = None if scenes is None else scenes.shape
        raise SpikeFormatError(f"expected scene values shaped like the planes {planes.shape}, got {shape}")
    return np.ascontiguousarray(scenes, dtype=np.uint8)


class ExactEncoder:
    """Code spike planes losslessly, chunk by chunk.

    Args:
        height, width: plane size in pixels (any).
        scenes: condition the model on decoded scene values (passed with every push).
        chunk_planes: planes per chunk (the last one may have fewer).

    Attributes:
        num_planes: planes coded into chunks so far.
    """

    def __init__(self, height: int, width: int, scenes: bool = False,
                 chunk_planes: int = DEFAULT_CHUNK_PLANES) -> None:
        plane_bytes(height, width)
        if chunk_planes < 1:
            raise SpikeFormatError(f"chunk_planes must be >= 1, got {chunk_planes}")
        self.model = SpikeModel(height, width, scenes)
        self.chunk_planes = chunk_planes
        self.num_planes = 0
        self._planes = np.empty((0, height, width), dtype=np.uint8)
        self._scenes = np.empty((0, height, width) if scenes else (0, 1, 1), dtype=np.uint8)

    @property
    def buffered_planes(self) -> int:
        """Planes waiting for their chunk to fill."""
        return len(self._planes)

    def push(self, planes: np.ndarray, scenes: np.ndarray | None = None) -> list[ExactChunk]:
        """Add ``(t, H, W)`` 0/1 planes (and, with scenes, their ``(t, H, W)`` uint8 scene
        values); returns the chunks now full."""
        planes = np.asarray(planes, dtype=np.uint8)
        model = self.model
        if planes.ndim != 3 or planes.shape[1:] != (model.height, model.width):
            raise SpikeFormatError(f"expected (t, {model.height}, {model.width}) planes, got shape {planes.shape}")
        values = _scene_values(scenes, planes, model)
        self._planes = np.concatenate([self._planes, planes])
        if model.scenes:
            self._scenes = np.concatenate([self._scenes, values])
        chunks = []
        while len(self._planes) >= self.chunk_planes:
            chunks.append(self._code(self.chunk_planes))
        return chunks

    def finish(self) -> list[ExactChunk]:
        """Code the planes left (a last, shorter chunk)."""
        return [self._code(len(self._planes))] if len(self._planes) else []

    def _code(self, count: int) -> ExactChunk:
        planes = np.ascontiguousarray(self._planes[:count])
        scenes = np.ascontiguousarray(self._scenes[:count]) if self.model.scenes else _NO_SCENES
        self._planes, self._scenes = self._planes[count:], self._scenes[count:]
        raw = pack_planes(planes).tobytes()
        out = np.empty(len(raw) - 1, dtype=np.uint8)  # a model payload must be shorter than raw
        coder = encoder_state()
        self.model.code(planes, scenes, coder, out, decoding=False)
        size = flush(coder, out)
        coding, payload = (CODING_MODEL, out[:size].tobytes()) if size >= 0 else (CODING_RAW, raw)
        chunk = ExactChunk(self.num_planes, count, coding, zlib.crc32(raw), payload)
        self.num_planes += count
        return chunk


class ExactDecoder:
    """Decode the chunks of one :class:`ExactEncoder`, in order.

    Args:
        height, width, scenes: as the encoder's.

    Attributes:
        num_planes: planes decoded so far.
    """

    def __init__(self, height: int, width: int, scenes: bool = False) -> None:
        plane_bytes(height, width)
        self.model = SpikeModel(height, width, scenes)
        self.num_planes = 0

    def decode(self, chunk: ExactChunk, scenes: np.ndarray | None = None) -> np.ndarray:
        """The ``(num_planes, H, W)`` uint8 planes of ``chunk`` (``scenes``: their scene values).

        Raises:
            BitstreamError: the chunk is out of order, its payload has the wrong
                size for raw planes, or the decoded planes fail the CRC.
        """
        model = self.model
        if chunk.first_plane != self.num_planes:
            raise BitstreamError(f"exact chunk starts at plane {chunk.first_plane}, expected {self.num_planes}")
        shape = (chunk.num_planes, model.height, model.width)
        values = _scene_values(scenes, np.empty(shape, dtype=np.uint8), model)
        if chunk.coding == CODING_RAW:
            if len(chunk.payload) != chunk.num_planes * plane_bytes(model.height, model.width):
                raise BitstreamError(f"raw exact chunk of {len(chunk.payload)} bytes for {chunk.num_planes} planes")
            planes = unpack_planes(np.frombuffer(chunk.payload, dtype=np.uint8), model.height, model.width)
            planes = np.ascontiguousarray(planes)
            model.code(planes, values, encoder_state(), np.empty(0, dtype=np.uint8), decoding=False)  # learn only
        elif chunk.coding == CODING_MODEL:
            planes = np.zeros(shape, dtype=np.uint8)
            payload = np.frombuffer(chunk.payload, dtype=np.uint8).copy()  # writable: one compiled kernel
            model.code(planes, values, decoder_state(payload), payload, decoding=True)
        else:
            raise BitstreamError(f"unknown exact chunk coding {chunk.coding}")
        if zlib.crc32(pack_planes(planes).tobytes()) != chunk.planes_crc:
            last = chunk.first_plane + chunk.num_planes - 1
            raise BitstreamError(f"exact chunk of planes {chunk.first_plane}..{last}: decoded planes fail their CRC "
                                 "(corrupt payload, or scenes that differ from the encoder's)")
        self.num_planes += chunk.num_planes
        return planes
