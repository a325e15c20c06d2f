"""Scenes from a stream of spike planes, emitted as soon as their context has arrived."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.packing import plane_bytes
from codec.options import DEFAULT_RECONSTRUCTION, DEFAULT_WINDOW
from codec.reconstruct.base import Reconstructor
from codec.reconstruct.registry import get_reconstructor
from codec.reconstruct.windows import default_offset, scene_centres


class SceneStream:
    """Incremental scene reconstruction: ``push`` blocks of planes, get ``(centre, scene)`` pairs.

    Scene ``i`` is centred on ``C0 + i*K`` and is emitted once the planes
    ``reconstructor.context[1]`` after its centre have arrived, or at :meth:`finish`
    (block clipped at the stream's end). Only the planes still needed are kept.

    Args:
        reconstructor: anything following :class:`codec.reconstruct.base.Reconstructor`.
        window: ``K``, planes between scene centres.
        offset: ``C0``; ``None`` for ``K//2``.
        packed: ``(H, W)`` to push bit-packed ``(t, ceil(H*W/8))`` planes instead of ``(t, H, W)``
            ones (TFP and TFI then never unpack them); the scenes are the same.
    """

    def __init__(self, reconstructor: Reconstructor, window: int, offset: int | None = None,
                 packed: tuple[int, int] | None = None) -> None:
        scene_centres(0, window, offset)  # validates window and offset
        self.reconstructor = reconstructor
        self.window = window
        self.next_centre = default_offset(window) if offset is None else offset
        self.packed = packed
        self._plane_shape: tuple[int, ...] | None = (plane_bytes(*packed),) if packed else None
        self._buffer: np.ndarray | None = None
        self._buffer_start = 0  # stream index of the buffer's first plane
        self.num_planes = 0

    def push(self, planes: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add ``(t, H, W)`` uint8 planes (``(t, ceil(H*W/8))`` packed ones if ``packed``); returns
        the scenes whose context is now complete."""
        planes = np.asarray(planes)
        if planes.ndim != (2 if self.packed else 3):
            raise SpikeFormatError(f"expected {'(t, ceil(H*W/8)) packed' if self.packed else '(t, H, W)'} planes, "
                                   f"got shape {planes.shape}")
        if self._plane_shape is not None and planes.shape[1:] != self._plane_shape:
            raise SpikeFormatError(f"plane size changed from {self._plane_shape} to {planes.shape[1:]}")
        self._plane_shape = planes.shape[1:]
        self._buffer = planes if self._buffer is None else np.concatenate([self._buffer, planes])
        self.num_planes += planes.shape[0]
        return self._emit(final=False)

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """The remaining scenes (centres inside the stream, blocks clipped at its end)."""
        return self._emit(final=True)

    def _reconstruct(self, block: np.ndarray, centre_index: int) -> np.ndarray:
        if self.packed:
            return self.reconstructor.reconstruct_packed(block, centre_index, *self.packed)
        return self.reconstructor.reconstruct(block, centre_index)

    def _emit(self, final: bool) -> list[tuple[int, np.ndarray]]:
        before, after = self.reconstructor.context
        out = []
        while self.next_centre < self.num_planes and (final or self.next_centre + after < self.num_planes):
            c = self.next_centre
            start = max(0, c - before)
            block = self._buffer[start - self._buffer_start : c + after + 1 - self._buffer_start]
            out.append((c, self._reconstruct(block, c - start)))
            self.next_centre += self.window
        if self._buffer is not None:
            keep_from = max(self._buffer_start, self.next_centre - before)
            self._buffer = self._buffer[keep_from - self._buffer_start :]
            self._buffer_start = keep_from
        return out


def iter_scenes(reader, method: str = DEFAULT_RECONSTRUCTION, window: int = DEFAULT_WINDOW, offset: int | None = None,
                gain: float = 1.0, block_planes: int = 256) -> Iterator[tuple[int, np.ndarray]]:
    """``(centre, scene)`` for every scene of an open :class:`codec.io.SpikeReader`.

    The planes stay packed (:meth:`SceneStream` with ``packed``): TFP and TFI work on
    the bytes, the network unpacks each context itself.

    Args:
        reader: open spike reader (``iter_packed_blocks``).
        method: one of :data:`codec.options.RECONSTRUCTIONS`.
        window, offset: ``K`` and ``C0``.
        gain: scene value per unit firing rate.

    Yields:
        ``(centre plane, (H, W) float32 scene in [0, 1])`` in centre order.
    """
    stream = SceneStream(get_reconstructor(method, window, gain), window, offset, packed=(reader.height, reader.width))
    for block in reader.iter_packed_blocks(block_planes):
        yield from stream.push(block)
    yield from stream.finish()


def reconstruct_at(reader, reconstructor: Reconstructor, plane: int) -> np.ndarray:
    """The scene of an open spike reader centred on ``plane`` (context read from the file, clipped)."""
    if not 0 <= plane < reader.num_planes:
        raise SpikeFormatError(f"plane {plane} outside the stream's {reader.num_planes} planes")
    before, after = reconstructor.context
    start = max(0, plane - before)
    return reconstructor.reconstruct(reader.read(start, plane + after + 1), plane - start)
