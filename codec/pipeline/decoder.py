"""Streaming decoder: ``.spkc`` bytes in, regenerated spike planes out.

::

    bytes --RecordParser--> header: load the scene codec (weights sha256 must match),
                                    Regenerator(H, W, header sensor)
                            scene:  payload -> scene codec -> scene (H,W) float
                                    -> 8-bit scene (what --scenes saves)
                                    -> Regenerator.push(centre, scene/255) -> planes
                            end:    Regenerator.finish(T) -> the remaining planes

Regeneration uses the 8-bit quantized scene, not the codec's float output, so
the scenes a user saves (``decode --scenes``) are exactly what the spikes were
regenerated from.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from codec.bitstream import EndRecord, RecordParser, SceneRecord, StreamHeader
from codec.errors import BitstreamError, SpikecodecError
from codec.models import SceneCodec, load_scene_codec
from codec.regenerate import Regenerator

SceneCallback = Callable[[int, np.ndarray], None]


def quantize_scene(scene: np.ndarray) -> np.ndarray:
    """``(H, W)`` float scene in ``[0, 1]`` -> ``(H, W)`` uint8, ``round(255 * clip(scene))``."""
    return np.rint(np.clip(scene, 0.0, 1.0) * 255.0).astype(np.uint8)


def scene_values(scene8: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 scene -> float32 scene values in ``[0, 1]`` (``scene8 / 255``)."""
    return scene8.astype(np.float32) / np.float32(255.0)


class Decoder:
    """Decode one ``.spkc`` stream fed as records (or any split of its bytes).

    Args:
        on_scene: called with ``(centre, scene)`` for every decoded scene, in
            order, ``scene`` being the ``(H, W)`` uint8 scene that regeneration used.

    Attributes:
        header: the stream header once read, else ``None``.
        num_planes: planes returned so far.
        timings: seconds spent in ``setup`` (loading the scene codec), scene ``decoding`` and ``regeneration``.
    """

    def __init__(self, on_scene: SceneCallback | None = None) -> None:
        self.on_scene = on_scene
        self.header: StreamHeader | None = None
        self.num_planes = 0
        self.timings = {"setup": 0.0, "decoding": 0.0, "regeneration": 0.0}
        self._parser = RecordParser()
        self._codec: SceneCodec | None = None
        self._regen: Regenerator | None = None

    def push(self, data: bytes) -> np.ndarray:
        """Consume a record (or any bytes of the stream).

        Returns:
            ``(n, H, W)`` uint8 planes that became final (``n`` may be 0; all the
            remaining planes come with the end record).

        Raises:
            BitstreamError: corrupt or inconsistent stream, or the stream's scene
                codec weights are not available.
        """
        out = []
        for record in self._parser.feed(data):
            if isinstance(record, StreamHeader):
                self._start(record)
            elif isinstance(record, SceneRecord):
                out.append(self._scene(record))
            else:
                out.append(self._end(record))
        h, w = (self.header.height, self.header.width) if self.header else (0, 0)
        planes = np.concatenate(out) if out else np.empty((0, h, w), dtype=np.uint8)
        self.num_planes += len(planes)
        return planes

    def finish(self) -> dict:
        """Check that the stream was complete.

        Returns:
            ``{"planes", "scenes", "bytes"}`` of the stream.

        Raises:
            BitstreamError: truncated stream or missing end record.
        """
        self._parser.close()
        return {"planes": self.num_planes, "scenes": self._parser.num_scenes, "bytes": self._parser.bytes_read}

    def _start(self, header: StreamHeader) -> None:
        tic = time.perf_counter()
        try:
            codec = load_scene_codec(header.model, attention=header.attention)
        except SpikecodecError as err:
            raise BitstreamError(f"stream needs scene codec {header.model!r} ({header.attention}): {err}") from None
        if codec.weights_sha256 != header.model_sha256:
            raise BitstreamError(
                f"stream was encoded with {header.model!r} weights sha256 {header.model_sha256[:12]}..., "
                f"installed weights are {codec.weights_sha256[:12]}..."
            )
        self.header, self._codec = header, codec
        self._regen = Regenerator(header.height, header.width, header.sensor)
        self.timings["setup"] = time.perf_counter() - tic

    def _scene(self, record: SceneRecord) -> np.ndarray:
        header = self.header
        tic = time.perf_counter()
        scene = quantize_scene(self._codec.decode_scene(record.payload, header.height, header.width, header.quality))
        toc = time.perf_counter()
        if self.on_scene is not None:
            self.on_scene(record.centre, scene)
        planes = self._regen.push(record.centre, scene_values(scene))
        self.timings["decoding"] += toc - tic
        self.timings["regeneration"] += time.perf_counter() - toc
        return planes

    def _end(self, record: EndRecord) -> np.ndarray:
        tic = time.perf_counter()
        planes = self._regen.finish(record.num_planes)
        self.timings["regeneration"] += time.perf_counter() - tic
        return planes
