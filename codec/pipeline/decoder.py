"""Streaming decoder: ``.spkc`` bytes in, regenerated spike planes out.

::

    bytes --RecordParser--> header: load the scene codec (and the inter codec for predicted
                                    streams; weights sha256 must match), Regenerator(H, W, sensor)
                            scene:  SceneReconstructor: intra codec, or prediction from the
                                    referenced scenes + inter codec -> 8-bit scene;
                                    scenes wait until every earlier one is decoded (coding
                                    order -> time order), then (what --scenes saves)
                                    -> Regenerator.push(centre, scene/255) -> planes
                            end:    Regenerator.finish(T) -> the remaining planes

Regeneration uses the 8-bit quantized scene, not the codec's float output, so
the scenes a user saves (``decode --scenes``) are exactly what the spikes were
regenerated from.

A stream with an exact layer (header ``exact``) returns the planes of its exact
records instead of regenerated ones, bit for bit the encoder's input; its scenes
(if any) are decoded for ``on_scene`` and to condition the exact layer
(:mod:`codec.pipeline.exact`), not regenerated.

With a :class:`~codec.pipeline.workers.WorkerPool`, Ray actors decode the scene records a
job at a time (:mod:`codec.pipeline.jobs`); regeneration stays here, in time order, so
the planes are the same (an exact record waits for every scene before it).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from codec.bitstream import ExactRecord, RecordParser, SceneRecord, StreamHeader
from codec.device import CPU, coding_device, scene_codec_device
from codec.errors import BitstreamError, SpikecodecError
from codec.models import SceneCodec, load_inter_codec, load_scene_codec
from codec.pipeline.exact import ExactLayerDecoder
from codec.pipeline.jobs import JobQueue
from codec.pipeline.prediction import SceneReconstructor, scene_values
from codec.pipeline.workers import CodecKey
from codec.regenerate import Regenerator

if TYPE_CHECKING:
    from codec.pipeline.workers import WorkerPool

SceneCallback = Callable[[int, np.ndarray], None]
#: planes per block :meth:`Decoder.blocks` regenerates at a time (25 MB at 250x400)
BLOCK_PLANES = 256


class Decoder:
    """Decode one ``.spkc`` stream fed as records (or any split of its bytes).

    Args:
        on_scene: called with ``(centre, scene)`` for every decoded scene, in
            order, ``scene`` being the ``(H, W)`` uint8 scene that regeneration used.
        pool: decode the scenes on these Ray workers.
        device: where the scene codec's synthesis transform computes (:mod:`codec.device`; the
            entropy decoding is on the CPU whatever this is; ``cpu`` with a ``pool``).

    Attributes:
        header: the stream header once read, else ``None``.
        num_planes: planes returned so far.
        timings: seconds spent in ``setup`` (loading the scene codec), scene ``decoding``,
            ``regeneration`` and decoding the ``exact`` layer.
    """

    def __init__(self, on_scene: SceneCallback | None = None, pool: WorkerPool | None = None,
                 device: str = CPU) -> None:
        self.device = coding_device(device, pool)
        self.on_scene = on_scene
        self.pool = pool
        self._jobs: JobQueue[SceneRecord, int, np.ndarray] | None = None
        self.header: StreamHeader | None = None
        self.num_planes = 0
        self.timings = {"setup": 0.0, "decoding": 0.0, "regeneration": 0.0, "exact": 0.0}
        self._parser = RecordParser()
        self._scenes: SceneReconstructor | None = None
        self._regen: Regenerator | None = None
        self._exact: ExactLayerDecoder | None = None
        self._emitted = 0  # first scene index not yet passed to regeneration

    def push(self, data: bytes) -> np.ndarray:
        """Consume a record (or any bytes of the stream).

        Returns:
            ``(n, H, W)`` uint8 planes that became final (``n`` may be 0; all the
            remaining planes come with the end record). ``n`` is whatever the
            stream says: use :meth:`blocks` where memory must stay bounded.

        Raises:
            BitstreamError: corrupt or inconsistent stream, or the stream's scene
                codec weights are not available.
        """
        out = list(self.blocks(data, block_planes=sys.maxsize))
        h, w = (self.header.height, self.header.width) if self.header else (0, 0)
        return np.concatenate(out) if out else np.empty((0, h, w), dtype=np.uint8)

    def blocks(self, data: bytes, block_planes: int = BLOCK_PLANES) -> Iterator[np.ndarray]:
        """Like :meth:`push`, but the planes come as ``(b, H, W)`` uint8 blocks, ``b <= block_planes``,
        each regenerated only when it is taken: memory does not depend on the stream's declared
        sizes (a far centre, a huge end count). Take every block before feeding more bytes.
        """
        for record in self._parser.feed(data):
            if isinstance(record, StreamHeader):
                self._start(record)
            elif isinstance(record, SceneRecord):
                yield from self._regenerated(self._scene(record, block_planes))
            elif isinstance(record, ExactRecord):
                yield from self._regenerated(self._drain(block_planes))
                yield from self._exact_blocks(record, block_planes)
            else:
                yield from self._regenerated(self._drain(block_planes))
                if self._regen is not None:  # with an exact layer every plane came with its records
                    yield from self._regenerated(self._regen.finish_blocks(record.num_planes, block_planes))

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
        self.header = header
        if header.exact != "none":
            self._exact = ExactLayerDecoder(header)
        if header.has_scenes:
            self._start_scenes(header)
        self.timings["setup"] = time.perf_counter() - tic

    def _start_scenes(self, header: StreamHeader) -> None:
        on = scene_codec_device(self.device, header.exact)
        codec = _installed(header.model, header.attention, header.model_sha256,
                           lambda: load_scene_codec(header.model, header.attention, header.model_sha256, on))
        inter = None
        if header.predicted:
            inter = _installed(header.model, "inter", header.inter_sha256,
                               lambda: load_inter_codec(header.model, header.inter_sha256, on))
        self._scenes = SceneReconstructor(codec, inter, header.height, header.width)
        if self.pool is not None:
            key = CodecKey(header.model, header.attention, header.model_sha256, header.inter_sha256)
            self._jobs = JobQueue(self.pool.runner(key, "decode", header.height, header.width),
                                  *self.pool.queue_limits())
        if self._exact is None:
            self._regen = Regenerator(header.height, header.width, header.sensor)

    def _scene(self, record: SceneRecord, block_planes: int) -> Iterator[np.ndarray]:
        """Decode a scene record; returns the blocks of planes of the scenes it completes in time order."""
        tic = time.perf_counter()
        if self._jobs is None:
            self._scenes.decode(record)
        else:
            done = self._jobs.add(record.index, record.references, record, record.index,
                                  independent=not record.references)
            self._scenes.scenes.update(done)
        self.timings["decoding"] += time.perf_counter() - tic
        return self._emit(block_planes)

    def _drain(self, block_planes: int) -> Iterator[np.ndarray]:
        """With workers: wait for every scene sent out, and regenerate them."""
        if self._jobs is None:
            return iter(())
        tic = time.perf_counter()
        self._scenes.scenes.update(self._jobs.flush())
        self.timings["decoding"] += time.perf_counter() - tic
        return self._emit(block_planes)

    def _emit(self, block_planes: int) -> Iterator[np.ndarray]:
        """Regenerate every decoded scene whose earlier scenes are all decoded, in time order."""
        while self._emitted in self._scenes.scenes:
            scene = self._scenes.scenes[self._emitted]
            centre = self.header.offset + self._emitted * self.header.window
            if self.on_scene is not None:
                self.on_scene(centre, scene)
            if self._exact is not None:
                self._exact.add_scene(self._emitted, scene)
            else:
                yield from self._regen.push_blocks(centre, scene_values(scene), block_planes)
            # the scene just emitted may still be the earlier reference of what follows
            self._scenes.release(self._emitted)
            if self._jobs is not None:
                self._jobs.release(self._emitted)
            self._emitted += 1

    def _regenerated(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """``blocks``, timed as regeneration and counted in ``num_planes``."""
        while True:
            tic = time.perf_counter()
            block = next(blocks, None)
            self.timings["regeneration"] += time.perf_counter() - tic
            if block is None:
                return
            self.num_planes += len(block)
            yield block

    def _exact_blocks(self, record: ExactRecord, block_planes: int) -> Iterator[np.ndarray]:
        """The planes of an exact record (at most 1024), in blocks of ``block_planes``."""
        tic = time.perf_counter()
        planes = self._exact.decode(record)
        self.timings["exact"] += time.perf_counter() - tic
        for start in range(0, len(planes), block_planes):
            self.num_planes += len(planes[start : start + block_planes])
            yield planes[start : start + block_planes]


def _installed(model: str, variant: str, sha256: str, load: Callable[[], SceneCodec]) -> SceneCodec:
    """The codec ``load()`` returns (installed or archived weights), checked against the stream's weights hash.

    Raises:
        BitstreamError: the weights are missing or differ from the stream's (neither installed nor archived).
    """
    try:
        codec = load()
    except SpikecodecError as err:
        raise BitstreamError(f"stream needs scene codec {model!r} ({variant}): {err}") from None
    if codec.weights_sha256 != sha256:
        raise BitstreamError(
            f"stream was encoded with {model!r} ({variant}) weights sha256 {sha256[:12]}..., "
            f"installed weights are {codec.weights_sha256[:12]}... and the archive has none of that hash"
        )
    return codec
