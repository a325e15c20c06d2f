"""The exact layer inside a ``.spkc`` stream: planes and decoded scenes -> exact records, and back.

::

    encoder: planes ─────────────────────────────────────┐
             coded scenes (the decoder's, from the mirror) ┴─> scene value per plane -> ExactEncoder
                                                                                      -> exact records
    decoder: scene records -> decoded scenes (time order) ─┐
             exact records ────────────────────────────────┴─> ExactDecoder -> planes, bit for bit

Plane ``t`` is conditioned on the scene whose block holds it,
:meth:`~codec.bitstream.StreamHeader.scene_of` (the last scene for the planes past
its block). Scenes are coded out of time order (random access), but the spike
model runs in plane order, so the encoder codes the planes whose scenes are all
decoded (every scene up to theirs) and emits their exact records right after the
scene record that completed them; the planes past the last scene's block go
after the last scene record. A decoder therefore always holds the scenes an exact
record needs when it arrives (:class:`~codec.bitstream.RecordParser` enforces it)
and never buffers records. Which planes are coded after a scene record is fixed by
the scene structure, not by how the planes were pushed, so the bytes are too. A
stream of the exact layer alone (``exact = "alone"``) has no scenes and codes the
planes as they come.
"""

from __future__ import annotations

import numpy as np

from codec.bitstream import ExactRecord, StreamHeader, exact_record
from codec.errors import BitstreamError
from codec.exact import ExactChunk, ExactDecoder, ExactEncoder
from codec.io.packing import plane_bytes, unpack_planes


def _scene_values(scenes: dict[int, np.ndarray], first: int, count: int, last: int,
                  header: StreamHeader) -> np.ndarray:
    """``(count, H, W)`` uint8: the scene of every plane ``first..first+count-1`` (at most scene ``last``)."""
    return np.stack([scenes[min(header.scene_of(t), last)] for t in range(first, first + count)])


def _drop_before(scenes: dict[int, np.ndarray], index: int) -> None:
    for old in [i for i in scenes if i < index]:
        del scenes[old]


class ExactLayerEncoder:
    """Encoder side: collects planes and decoded scenes, returns exact records.

    Args:
        header: the stream header (``exact`` is ``"scenes"`` or ``"alone"``).
    """

    def __init__(self, header: StreamHeader) -> None:
        self.header = header
        self.coder = ExactEncoder(header.height, header.width, scenes=header.has_scenes)
        self._scenes: dict[int, np.ndarray] = {}
        self._known = 0  # scenes 0.._known-1 were coded
        # packed (codec.io.pack_planes) while they wait for their scenes: up to a GOP of planes
        self._planes = np.empty((0, plane_bytes(header.height, header.width)), dtype=np.uint8)
        self._first = 0  # stream index of self._planes[0]

    @property
    def buffered_planes(self) -> int:
        """Planes held that no exact record carries yet."""
        return len(self._planes) + self.coder.buffered_planes

    def add_packed(self, packed: np.ndarray) -> None:
        """Queue ``(t, ceil(H*W/8))`` planes packed by :func:`codec.io.pack_planes`."""
        self._planes = np.concatenate([self._planes, packed])

    def add_scene(self, index: int, scene: np.ndarray) -> None:
        """Keep decoded ``(H, W)`` uint8 scene ``index`` (as the decoder will have it)."""
        self._scenes[index] = scene
        while self._known in self._scenes:
            self._known += 1

    def records(self, available: int, final: bool = False) -> list[bytes]:
        """Exact records of the queued planes before plane ``available`` whose scenes are all
        coded; with ``final``, of every plane left (the last scene stands for those past its block)."""
        ready = len(self._planes)
        if self.header.has_scenes and not final:
            ready = min(ready, max(0, available - self._first))
            while ready and self.header.scene_of(self._first + ready - 1) >= self._known:
                ready -= 1
        packed, self._planes = self._planes[:ready], self._planes[ready:]
        planes = unpack_planes(packed, self.header.height, self.header.width)
        values = None
        if self.header.has_scenes and ready:
            values = _scene_values(self._scenes, self._first, ready, self._known - 1, self.header)
        chunks = self.coder.push(planes, values) if ready else []
        self._first += ready
        if final:
            chunks += self.coder.finish()
        if self._scenes:
            _drop_before(self._scenes, min(self.header.scene_of(self._first), self._known - 1))
        return [exact_record(c.first_plane, c.num_planes, c.coding, c.planes_crc, c.payload) for c in chunks]


class ExactLayerDecoder:
    """Decoder side: decoded scenes (in time order) and exact records in, planes out.

    Args:
        header: the stream header (``exact`` is ``"scenes"`` or ``"alone"``).
    """

    def __init__(self, header: StreamHeader) -> None:
        self.header = header
        self.decoder = ExactDecoder(header.height, header.width, scenes=header.has_scenes)
        self._scenes: dict[int, np.ndarray] = {}

    def add_scene(self, index: int, scene: np.ndarray) -> None:
        """Keep decoded ``(H, W)`` uint8 scene ``index`` for the planes of its block."""
        self._scenes[index] = scene

    def decode(self, record: ExactRecord) -> np.ndarray:
        """The ``(n, H, W)`` uint8 planes of ``record``.

        Raises:
            BitstreamError: a scene it is conditioned on was not decoded, or the chunk fails
                to decode (its planes fail their CRC).
        """
        values = None
        if record.scene is not None:
            first = self.header.scene_of(record.first_plane)
            missing = [i for i in range(min(first, record.scene), record.scene + 1) if i not in self._scenes]
            if missing:
                raise BitstreamError(f"exact record of plane {record.first_plane} needs scene {missing[0]}, "
                                     "which was not decoded")
            values = _scene_values(self._scenes, record.first_plane, record.num_planes, record.scene, self.header)
        chunk = ExactChunk(record.first_plane, record.num_planes, record.coding, record.planes_crc, record.payload)
        planes = self.decoder.decode(chunk, values)
        if self._scenes:
            _drop_before(self._scenes, min(self.header.scene_of(self.decoder.num_planes), max(self._scenes)))
        return planes
