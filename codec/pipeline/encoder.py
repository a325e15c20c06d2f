"""Streaming encoder: spike planes in, ``.spkc`` records out, scene by scene.

::

    planes (t,H,W) --push--> plane buffer --(block around centre c complete)-->
        reconstructor(block) -> scene (H,W) -> TemporalFilter (waits for its neighbours)
        -> scheduler (codec.pipeline.gop): intra / P / B in coding order
        -> PredictiveEncoder (rate-distortion choice of mode) -> scene records

Scene ``i`` is centred on plane ``c = C0 + i*K``. It is reconstructed as soon as
the planes it needs have arrived (the reconstructor's context around ``c`` and,
with SOAM/BiSOAM, the ``K`` planes before and after ``c``), filtered once its
neighbours are reconstructed, and coded when its structure allows: at once for
intra and low delay, with the next anchor (``gop_size`` scenes later) for random
access. :meth:`Encoder.finish` codes the scenes left, the last one as an anchor.
Only the planes some pending scene still needs are kept, and the records do not
depend on how the planes were split into pushes.
The buffer holds the planes packed (:func:`codec.io.pack_planes`), 8 pixels a byte,
so memory does not grow with the stream.

With an exact layer (``config.exact``, :mod:`codec.pipeline.exact`), every scene
record is followed by the exact records of the planes it completed; a stream of
the exact layer alone has no scene layer and codes the planes as they come.

With a :class:`~codec.pipeline.workers.WorkerPool`, the scenes are coded by Ray actors,
a job of scenes (:mod:`codec.pipeline.jobs`) at a time, and their records come back in
coding order: the same bytes, later (``push`` returns the records of the jobs done so far).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from codec.bitstream import StreamHeader, end_record, header_record, scene_record
from codec.device import CPU, coding_device, scene_codec_device
from codec.errors import SpikecodecError, SpikeFormatError
from codec.io.packing import pack_planes, plane_bytes, unpack_planes
from codec.models import SceneCodec, load_inter_codec, load_scene_codec
from codec.pipeline.config import EncoderConfig
from codec.pipeline.exact import ExactLayerEncoder
from codec.pipeline.gop import bisection, layer_quality
from codec.pipeline.jobs import JobQueue
from codec.pipeline.prediction import PredictiveEncoder
from codec.pipeline.temporal_filter import TemporalFilter
from codec.pipeline.workers import CodecKey, CodedScene, SceneTask
from codec.reconstruct import get_reconstructor
from codec.sensor import SensorParams

if TYPE_CHECKING:
    from codec.pipeline.workers import WorkerPool

#: attention -> spike windows (before, after the centre) it reads, in units of K planes
SPIKE_WINDOWS = {"none": (0, 0), "soam": (1, 0), "bisoam": (1, 1)}


class Encoder:
    """Encode one spike stream.

    Args:
        config: what to encode with.
        height, width: plane size in pixels.
        sensor: sensor parameters, written to the header for regeneration.
        num_planes: planes the stream will have, or 0 if unknown (live); when
            given, the header carries it and :meth:`finish` checks it.
        codecs: ``(intra, inter)`` scene codecs to use instead of the installed weights of
            ``config.model`` (training evaluates weights before they are installed).
        pool: code the scenes on these Ray workers (not with ``codecs``).
        device: where the reconstruction network and the scene codec's transforms compute
            (:mod:`codec.device`; ``cpu`` with a ``pool``).

    Raises:
        SpikecodecError: a bad configuration, or a ``pool`` with a random-access structure whose
            intra period is not a multiple of the GOP size (jobs could not be cut).

    Attributes:
        header: the stream header.
        num_planes: planes pushed so far.
        num_scenes: scene records produced so far.
        timings: seconds spent in ``setup`` (loading the models), ``reconstruct`` (including the
            temporal filter), scene ``coding`` (motion search, mode decision, the decoder mirror;
            with a pool: waiting for the workers) and the ``exact`` layer.
        jobs: the :class:`~codec.pipeline.jobs.JobQueue` of a pool, else ``None``.
        predictor: mode decisions and the decoder mirror (``predictor.modes`` counts the modes);
            ``None`` without a scene layer.
        exact: the exact layer (:class:`~codec.pipeline.exact.ExactLayerEncoder`), or ``None``.
    """

    def __init__(self, config: EncoderConfig, height: int, width: int,
                 sensor: SensorParams = SensorParams(), num_planes: int = 0,
                 codecs: tuple[SceneCodec, SceneCodec | None] | None = None, pool: WorkerPool | None = None,
                 device: str = CPU) -> None:
        tic = time.perf_counter()
        device = coding_device(device, pool)
        self.config = config
        self.predictor: PredictiveEncoder | None = None
        self.jobs: JobQueue[SceneTask, int, CodedScene] | None = None
        if config.exact == "alone":
            self.header = StreamHeader(
                height=height, width=width, num_planes=num_planes, window=config.window,
                offset=config.first_centre, recon="", attention="", model="", model_sha256="",
                quality=0.0, sensor=sensor, exact="alone",
            )
            self._before = self._after = 0
        else:
            self._setup_scenes(config, height, width, sensor, num_planes, codecs, device)
        self.exact = ExactLayerEncoder(self.header) if config.exact != "none" else None
        if pool is not None and self.header.has_scenes:
            self.jobs = self._job_queue(pool)
        self._exact_bound = 0  # the exact records after a scene record stop before this plane
        # packed as they travel: a window of K planes costs K*ceil(H*W/8) bytes, unpacked only per scene
        self._buffer = np.empty((0, plane_bytes(height, width)), dtype=np.uint8)
        self._base = 0  # stream index of self._buffer[0]
        self._waiting: dict[int, np.ndarray] = {}  # filtered scenes waiting for their anchor
        self._spike_windows: dict[int, tuple[np.ndarray | None, np.ndarray | None]] = {}  # SOAM/BiSOAM only
        self._anchor = -1  # index of the last coded anchor (random access)
        self.num_planes = 0
        self.num_scenes = 0
        self._reconstructed = 0
        self._finished = False
        self.timings = {"setup": time.perf_counter() - tic, "reconstruct": 0.0, "coding": 0.0, "exact": 0.0}

    def _setup_scenes(self, config: EncoderConfig, height: int, width: int, sensor: SensorParams,
                      num_planes: int, codecs: tuple[SceneCodec, SceneCodec | None] | None, device: str) -> None:
        """Load the scene codec(s), the reconstructor and the filter; the header of a stream with scenes."""
        on = scene_codec_device(device, config.exact)
        self.codec = codecs[0] if codecs else load_scene_codec(config.model, attention=config.attention, device=on)
        low, high = self.codec.quality_range
        if not low <= config.quality <= high:
            raise SpikecodecError(f"quality {config.quality:g} outside the model's range [{low:g}, {high:g}]")
        predicted = config.gop != "intra" and config.intra_period > 1
        inter = (codecs[1] if codecs else load_inter_codec(config.model, device=on)) if predicted else None
        self.recon = get_reconstructor(config.recon, config.window, device=device)
        gop = config.gop if predicted else "intra"
        self.header = StreamHeader(
            height=height, width=width, num_planes=num_planes, window=config.window,
            offset=config.first_centre, recon=config.recon, attention=config.attention,
            model=self.codec.name, model_sha256=self.codec.weights_sha256,
            quality=float(config.quality), sensor=sensor, intra_period=config.intra_period if predicted else 1,
            gop=gop, gop_size=config.gop_size if gop == "random-access" else 1,
            inter_sha256=inter.weights_sha256 if inter else "", exact=config.exact,
        )
        self.predictor = PredictiveEncoder(self.codec, inter, height, width)
        self.filter = TemporalFilter(config.filter_radius, config.filter_strength)
        before, after = self.recon.context
        spikes_before, spikes_after = SPIKE_WINDOWS[config.attention]
        self._spikes = (spikes_before * config.window, spikes_after * config.window)
        self._before, self._after = max(before, self._spikes[0]), max(after, self._spikes[1])

    def _job_queue(self, pool: WorkerPool) -> JobQueue[SceneTask, int, CodedScene]:
        header = self.header
        if not pool.can_encode(self.config):
            raise SpikecodecError(f"workers code random-access streams whose intra period ({header.intra_period}) "
                                  f"is a multiple of the GOP size ({header.gop_size})")
        key = CodecKey(header.model, header.attention, header.model_sha256, header.inter_sha256)
        return JobQueue(pool.runner(key, "encode", header.height, header.width), *pool.queue_limits())

    def header_record(self) -> bytes:
        """The stream's first bytes: preamble and header record."""
        return header_record(self.header)

    @property
    def buffered_planes(self) -> int:
        """Planes held for scenes not yet reconstructed (and for exact records not yet written)."""
        return len(self._buffer) + (self.exact.buffered_planes if self.exact is not None else 0)

    @property
    def next_centre(self) -> int:
        """Centre plane of the next scene to reconstruct."""
        return self.header.offset + self._reconstructed * self.header.window

    def push(self, planes: np.ndarray) -> list[bytes]:
        """Add ``(t, H, W)`` uint8/bool 0/1 planes; returns the records of the scenes now coded."""
        planes = np.asarray(planes)
        h, w = self.header.height, self.header.width
        if planes.ndim != 3 or planes.shape[1:] != (h, w):
            raise SpikeFormatError(f"expected (t, {h}, {w}) planes, got shape {planes.shape}")
        if planes.dtype != bool and planes.size and planes.max() > 1:
            raise SpikeFormatError(f"spike planes must be 0/1, got values up to {planes.max()}")
        return self.push_packed(pack_planes(planes))

    def push_packed(self, packed: np.ndarray) -> list[bytes]:
        """Add ``(t, ceil(H*W/8))`` planes packed by :func:`codec.io.pack_planes` (as they travel);
        returns the records of the scenes now coded."""
        if self._finished:
            raise SpikeFormatError("encoder already finished")
        packed = np.asarray(packed, dtype=np.uint8)
        nbytes = plane_bytes(self.header.height, self.header.width)
        if packed.ndim != 2 or packed.shape[1] != nbytes:
            raise SpikeFormatError(f"expected (t, {nbytes}) packed planes, got shape {packed.shape}")
        if self.header.num_planes and self.num_planes + len(packed) > self.header.num_planes:
            raise SpikeFormatError(f"more planes than the {self.header.num_planes} announced")
        self.num_planes += len(packed)
        if self.exact is not None:
            self.exact.add_packed(packed)
        if not self.header.has_scenes:
            return self._exact_records(self.num_planes)
        self._buffer = np.concatenate([self._buffer, packed])
        records = []
        while self.next_centre + self._after < self.num_planes:
            records += self._reconstruct_next()
        self._drop_unneeded()
        return records

    def finish(self) -> list[bytes]:
        """Code the remaining scenes (blocks clipped at the end) and close with the end record."""
        if self._finished:
            raise SpikeFormatError("encoder already finished")
        if self.header.num_planes and self.num_planes != self.header.num_planes:
            raise SpikeFormatError(f"stream ended after {self.num_planes} of {self.header.num_planes} announced planes")
        if not self.header.has_scenes and not self.num_planes:
            raise SpikeFormatError("no planes to encode")
        if self.header.has_scenes and self.num_planes <= self.header.offset:
            raise SpikeFormatError(
                f"{self.num_planes} planes hold no scene: the first centre is plane {self.header.offset} "
                "(lower --offset)"
            )
        records = self._finish_scenes() if self.header.has_scenes else []
        if self.exact is not None:
            records += self._exact_records(self.num_planes, final=True)
        records.append(end_record(self.num_planes, self.num_scenes))
        self._finished = True
        self._buffer = self._buffer[:0]
        return records

    def _finish_scenes(self) -> list[bytes]:
        """Reconstruct and code the scenes left."""
        records = []
        while self.next_centre < self.num_planes:
            records += self._reconstruct_next()
        tic = time.perf_counter()
        filtered = self.filter.flush()
        self.timings["reconstruct"] += time.perf_counter() - tic
        for index, scene in filtered:
            records += self._schedule(index, scene)
        if self._waiting:
            records += self._code_gop(max(self._waiting))
        if self.jobs is not None:
            tic = time.perf_counter()
            done = self.jobs.flush()
            self.timings["coding"] += time.perf_counter() - tic
            records += [record for bound, coded in done for record in self._coded(bound, coded)]
        return records

    def _planes(self, start: int, stop: int) -> np.ndarray:
        """Stream planes ``[start, stop)`` clipped to what has arrived (all still buffered), unpacked."""
        start, stop = max(start, 0), min(stop, self.num_planes)
        packed = self._buffer[start - self._base : max(start, stop) - self._base]
        return unpack_planes(packed, self.header.height, self.header.width)

    def _reconstruct_next(self) -> list[bytes]:
        index, centre = self._reconstructed, self.next_centre
        # the planes every push has delivered by now, whatever its size: what the exact records
        # after the scene records coded from here may carry
        self._exact_bound = min(self.num_planes, centre + self._after + 1)
        tic = time.perf_counter()
        before, after = self.recon.context
        block = self._planes(centre - before, centre + after + 1)
        scene = self.recon.reconstruct(block, centre - max(0, centre - before))
        before, after = self._spikes
        if before or after:
            self._spike_windows[index] = (self._planes(centre - before, centre).copy() if before else None,
                                          self._planes(centre + 1, centre + 1 + after).copy() if after else None)
        filtered = self.filter.push(index, scene)
        self.timings["reconstruct"] += time.perf_counter() - tic
        self._reconstructed += 1
        return [record for i, s in filtered for record in self._schedule(i, s)]

    def _schedule(self, index: int, scene: np.ndarray) -> list[bytes]:
        """Code what the structure allows now that filtered scene ``index`` is ready."""
        header = self.header
        if header.gop == "random-access":
            self._waiting[index] = scene
            return self._code_gop(index) if index % header.gop_size == 0 else []
        references = (index - 1,) if header.gop == "low-delay" and index else ()
        quality = self.config.quality - self.config.inter_offset if references else self.config.quality
        records = self._code(index, scene, references, quality)
        self._release(index)
        return records

    @property
    def _predictor(self) -> PredictiveEncoder:
        """The scene layer's encoder (absent only for a stream of the exact layer alone)."""
        assert self.predictor is not None
        return self.predictor

    def _code_gop(self, anchor: int) -> list[bytes]:
        """Code ``anchor`` (intra, or P from the previous anchor), then the B scenes before it."""
        previous = (self._anchor,) if self._anchor >= 0 else ()
        quality = self.config.quality - (self.config.anchor_offset if previous else 0.0)
        records = self._code(anchor, self._waiting.pop(anchor), previous, quality)
        for index, layer, earlier, later in bisection(self._anchor, anchor):
            quality = layer_quality(self.config.quality, layer, self.config.inter_offset, self.config.layer_step)
            records += self._code(index, self._waiting.pop(index), (earlier, later), quality)
        self._release(anchor)
        self._anchor = anchor
        return records

    def _release(self, keep_from: int) -> None:
        """Scenes below ``keep_from`` are no longer references."""
        self._predictor.mirror.release(keep_from)
        if self.jobs is not None:
            self.jobs.release(keep_from)

    def _code(self, index: int, scene: np.ndarray, references: tuple[int, ...], quality: float) -> list[bytes]:
        """The record of scene ``index``, then the exact records it completes."""
        tic = time.perf_counter()
        if index % self.header.intra_period == 0:
            # forced intra: at the stream's quality like every intra scene, not at the P / B
            # quality its place in the structure would give it
            references, quality = (), self.config.quality
        coder = self._predictor.mirror.inter if references else self.codec
        assert coder is not None  # a stream with predicted scenes has an inter codec
        quality = max(coder.quality_range[0], quality)
        task = SceneTask(index, scene, references, quality, *self._spike_windows.pop(index, (None, None)),
                         allow_intra=len(references) < 2)
        if self.jobs is not None:
            done = self.jobs.add(index, references, task, self._exact_bound, independent=not references)
            self.timings["coding"] += time.perf_counter() - tic
            return [record for bound, coded in done for record in self._coded(bound, coded)]
        mode, coded_quality, payload = self._predictor.encode(index, scene, task.quality, references,
                                                             task.spikes_before, task.spikes_after, task.allow_intra)
        self.timings["coding"] += time.perf_counter() - tic
        records = [scene_record(index, mode, coded_quality, payload)]
        return records + self._scene_done(index, self._predictor.mirror.scenes[index], self._exact_bound)

    def _coded(self, exact_bound: int, coded: CodedScene) -> list[bytes]:
        """The records of a scene a worker coded (as :meth:`_code` would have made them here)."""
        index = coded.index
        self._predictor.modes[coded.kind] += 1
        if self._predictor.on_coded is not None:
            self._predictor.on_coded(index, coded.decoded)
        return [scene_record(index, coded.mode, coded.quality, coded.payload),
                *self._scene_done(index, coded.decoded, exact_bound)]

    def _scene_done(self, index: int, decoded: np.ndarray, exact_bound: int) -> list[bytes]:
        """Count scene ``index`` (decoded ``(H, W)`` uint8) as coded; the exact records it completes."""
        self.num_scenes += 1
        if self.exact is None:
            return []
        self.exact.add_scene(index, decoded)
        return self._exact_records(exact_bound)

    def _exact_records(self, available: int, final: bool = False) -> list[bytes]:
        assert self.exact is not None
        tic = time.perf_counter()
        records = self.exact.records(available, final)
        self.timings["exact"] += time.perf_counter() - tic
        return records

    def _drop_unneeded(self) -> None:
        keep = min(max(0, self.next_centre - self._before), self.num_planes)
        if keep > self._base:
            self._buffer = self._buffer[keep - self._base :]
            self._base = keep
