"""Keeps what a live round trip sent and received, for the report and the ``-o`` file.

Planes are held bit-packed (1/8 of a byte per pixel), so a 10,000-plane 250x400
stream costs about 250 MB for both sides, and the report reads them packed (the
metrics unpack a few pixel columns at a time); decoded planes are also written to
the output file as they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from codec.evaluate.sources import SpikeInput
from codec.io.packing import pack_planes, plane_bytes, unpack_planes


@dataclass(frozen=True)
class PackedPlanes:
    """``(T, H*W/8)`` packed planes in memory, read like a :class:`codec.io.SpikeReader` by
    :func:`codec.metrics.stream_fidelity`."""

    packed: np.ndarray
    height: int
    width: int

    @property
    def num_planes(self) -> int:
        return len(self.packed)

    def read_packed(self, start: int, stop: int) -> np.ndarray:
        return self.packed[start:stop]

    def unpacked(self) -> np.ndarray:
        """Every plane, ``(T, H, W)`` uint8."""
        return unpack_planes(self.packed, self.height, self.width)


class StreamRecorder:
    """Tap on both directions of a round trip.

    Args:
        source: the input being sent (its blocks are passed through :meth:`originals`).
        output: file for the decoded spikes (``.h5``/``.dat``), or ``None``.
    """

    def __init__(self, source: SpikeInput, output: str | Path | None = None) -> None:
        self.source = source
        self._sent: list[np.ndarray] = []
        self._received: list[np.ndarray] = []
        self._writer = None
        if output is not None:
            from codec.io import open_writer

            self._writer = open_writer(output, source.height, source.width, source.sensor)

    def originals(self) -> Iterator[np.ndarray]:
        """The source's blocks, recorded as they are sent."""
        for block in self.source.blocks:
            self._sent.append(pack_planes(block))
            yield block

    def decoded(self, planes: np.ndarray) -> None:
        """Record (and write) decoded planes as they arrive."""
        packed = pack_planes(planes)
        self._received.append(packed)
        if self._writer is not None:
            self._writer.write_packed(packed)

    def _planes(self, packed: list[np.ndarray]) -> PackedPlanes:
        h, w = self.source.height, self.source.width
        whole = np.concatenate(packed) if packed else np.zeros((0, plane_bytes(h, w)), np.uint8)
        return PackedPlanes(whole, h, w)

    def sent(self) -> PackedPlanes:
        """The planes sent."""
        return self._planes(self._sent)

    def received(self) -> PackedPlanes:
        """The planes received."""
        return self._planes(self._received)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "StreamRecorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
