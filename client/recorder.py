"""Keeps what a live round trip sent and received, for the report and the ``-o`` file.

Planes are held bit-packed (1/8 of a byte per pixel), so a 10,000-plane 250x400
stream costs about 250 MB for both sides; decoded planes are also written to the
output file as they arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from codec.evaluate.sources import SpikeInput
from codec.io.packing import pack_planes, unpack_planes


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

    def _planes(self, packed: list[np.ndarray]) -> np.ndarray:
        h, w = self.source.height, self.source.width
        return unpack_planes(np.concatenate(packed), h, w) if packed else np.zeros((0, h, w), np.uint8)

    def sent_planes(self) -> np.ndarray:
        """``(T, H, W)`` uint8 planes sent."""
        return self._planes(self._sent)

    def received_planes(self) -> np.ndarray:
        """``(T, H, W)`` uint8 planes received."""
        return self._planes(self._received)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "StreamRecorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
