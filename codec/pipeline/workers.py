"""Scale-out on Ray: actors that each hold the loaded scene codecs of a stream and code or
decode its jobs (:mod:`codec.pipeline.jobs`), behind the same Encoder/Decoder API.

::

    with WorkerPool(workers=2) as pool:                    # a local Ray cluster of 2 CPUs
        encoder = Encoder(config, H, W, pool=pool)         # the records of Encoder(config, H, W)
        decoder = Decoder(pool=pool)                       # the planes of Decoder()
    WorkerPool(address="HOST:6379")                        # an existing cluster: one worker per CPU

The process that owns the Encoder/Decoder reconstructs (and filters) the scenes,
cuts the coding order into jobs and writes the records; the actors run the scene
codec, each with as many torch threads as Ray CPUs it reserves (one by default).
Every node of a cluster needs spikecodec with the same weights installed; each
actor checks the weights' sha256 against the stream's. Ray is an optional
dependency: ``pip install 'spikecodec[ray]'``.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from codec.errors import SpikecodecError

if TYPE_CHECKING:
    from codec.bitstream import SceneRecord
    from codec.pipeline.config import EncoderConfig

#: bytes of object store a local cluster gets per worker (a job of 32 scenes at 250x400 is 13 MB)
STORE_BYTES_PER_WORKER = 100 * 2**20
#: jobs in flight per worker: one running, one waiting
JOBS_PER_WORKER = 2
#: scenes a job holds at least (it is cut at the next forced intra scene after that)
MIN_JOB_SCENES = 16


@dataclass(frozen=True)
class SceneTask:
    """One scene to code, as :meth:`codec.pipeline.prediction.PredictiveEncoder.encode` takes it.

    Attributes:
        index: scene index.
        scene: ``(H, W)`` float32 filtered scene.
        references: scenes it may be predicted from.
        quality: quality to code it at.
        spikes_before, spikes_after: ``(k, H, W)`` uint8 planes for SOAM/BiSOAM, or ``None``.
        allow_intra: try intra too for a B scene.
    """

    index: int
    scene: np.ndarray
    references: tuple[int, ...]
    quality: float
    spikes_before: np.ndarray | None
    spikes_after: np.ndarray | None
    allow_intra: bool


@dataclass(frozen=True)
class CodedScene:
    """What coding a :class:`SceneTask` gave: record fields, the decoded ``(H, W)`` uint8 scene and the
    mode counted (``"intra"``, ``"P"``, ``"B"`` or ``"skip"``)."""

    index: int
    mode: int
    quality: float
    payload: bytes
    decoded: np.ndarray
    kind: str


@dataclass(frozen=True)
class CodecKey:
    """The scene codecs of one stream: model, attention, and the sha256 of the intra and (if
    predicted) inter weights the stream names."""

    model: str
    attention: str
    intra_sha256: str
    inter_sha256: str


class SceneWorker:
    """A Ray actor's state: the stream's scene codecs, loaded once (see :class:`WorkerPool`)."""

    def __init__(self, key: CodecKey, threads: int) -> None:
        import torch

        from codec.models import load_inter_codec, load_scene_codec

        torch.set_num_threads(threads)
        self.intra = load_scene_codec(key.model, key.attention, key.intra_sha256)
        self.inter = load_inter_codec(key.model, key.inter_sha256) if key.inter_sha256 else None
        for codec, digest in ((self.intra, key.intra_sha256), (self.inter, key.inter_sha256)):
            if codec is not None and codec.weights_sha256 != digest:
                raise SpikecodecError(f"worker has {key.model!r} weights sha256 {codec.weights_sha256[:12]}..., "
                                      f"the stream needs {digest[:12]}...")

    def encode(self, height: int, width: int, chain: Sequence[SceneTask],
               job: Sequence[SceneTask]) -> list[CodedScene]:
        """Code the ``chain`` (results dropped), then the ``job``; a fresh decoder mirror per call."""
        from codec.pipeline.jobs import run_job
        from codec.pipeline.prediction import PredictiveEncoder

        predictor = PredictiveEncoder(self.intra, self.inter, height, width)

        def step(task: SceneTask) -> CodedScene:
            before = dict(predictor.modes)
            mode, quality, payload = predictor.encode(task.index, task.scene, task.quality, task.references,
                                                      task.spikes_before, task.spikes_after, task.allow_intra)
            kind = next(k for k, n in predictor.modes.items() if n != before[k])
            return CodedScene(task.index, mode, quality, payload, predictor.mirror.scenes[task.index], kind)

        return run_job(chain, job, step)

    def cpu_seconds(self) -> float:
        """CPU time this actor's process has used (all its threads), seconds."""
        import time

        return time.process_time()

    def decode(self, height: int, width: int, chain: Sequence[SceneRecord],
               job: Sequence[SceneRecord]) -> list[np.ndarray]:
        """Decode the ``chain`` (dropped), then the ``job``: ``(H, W)`` uint8 scenes."""
        from codec.pipeline.jobs import run_job
        from codec.pipeline.prediction import SceneReconstructor

        scenes = SceneReconstructor(self.intra, self.inter, height, width)
        return run_job(chain, job, scenes.decode)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SpikecodecError("workers need Ray: pip install 'spikecodec[ray]'") from None
    return ray


class WorkerPool:
    """Ray actors for GOP-parallel coding; a context manager (it shuts down a cluster it started).

    Args:
        workers: actors per stream; for a local cluster also its CPUs. ``None`` with an
            ``address``: one per CPU of the cluster.
        address: an existing Ray cluster (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``); ``None``
            starts a local one.
        threads: torch threads per actor; ``None``: ``cpus_per_worker``, at least 1. The bytes do not
            depend on it (the scene codec fixes its own thread count where sums decide bits).
        job_scenes: a job holds at least this many scenes (it is cut at the next scene without
            references after that).
        cpus_per_worker: Ray CPUs each actor reserves (a local cluster gets ``workers`` times that).

    Raises:
        SpikecodecError: Ray is not installed, the cluster cannot be reached, or ``workers < 1``.
    """

    def __init__(self, workers: int | None = None, address: str | None = None, threads: int | None = None,
                 job_scenes: int = MIN_JOB_SCENES, cpus_per_worker: float = 1.0) -> None:
        if workers is not None and workers < 1:
            raise SpikecodecError(f"workers must be at least 1, got {workers}")
        if address is None and workers is None:
            raise SpikecodecError("a local Ray cluster needs a number of workers")
        ray = _ray()
        self._owned = not ray.is_initialized()
        if self._owned:
            try:
                if address is None:
                    assert workers is not None
                    ray.init(num_cpus=math.ceil(workers * cpus_per_worker),
                             object_store_memory=STORE_BYTES_PER_WORKER * workers,
                             include_dashboard=False, log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise SpikecodecError(f"cannot start or reach a Ray cluster{f' at {address}' if address else ''}: "
                                      f"{err}") from None
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.threads = threads or max(1, round(cpus_per_worker))
        self.job_scenes = job_scenes
        self.cpus_per_worker = cpus_per_worker
        self._actors: dict[CodecKey, list[Any]] = {}
        self._lock = threading.Lock()  # a server's streams share the pool

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the actors (and the cluster, if this pool started it)."""
        ray = _ray()
        with self._lock:
            for actors in self._actors.values():
                for actor in actors:
                    ray.kill(actor)
            self._actors.clear()
        if self._owned and ray.is_initialized():
            ray.shutdown()
            self._owned = False

    def actors(self, key: CodecKey) -> list[Any]:
        """The actors holding ``key``'s codecs (started on first use)."""
        with self._lock:
            if key not in self._actors:
                remote = _ray().remote(num_cpus=self.cpus_per_worker)(SceneWorker)
                self._actors[key] = [remote.remote(key, self.threads) for _ in range(self.workers)]
            return self._actors[key]

    @staticmethod
    def can_encode(config: EncoderConfig) -> bool:
        """Whether jobs can be cut in ``config``'s scene structure: not in random access with an intra
        period that is not a multiple of the GOP size (a job's chain would hold B scenes, which depend
        on encoder state the chain does not rebuild)."""
        predicted = config.gop != "intra" and config.intra_period > 1
        return not (predicted and config.gop == "random-access" and config.intra_period % config.gop_size)

    def cpu_seconds(self) -> float:
        """CPU time all actors of this pool have used so far, seconds (what throughput per core is
        measured by on a shared machine)."""
        ray = _ray()
        with self._lock:
            actors = [actor for group in self._actors.values() for actor in group]
        return float(sum(ray.get([actor.cpu_seconds.remote() for actor in actors])))

    def runner(self, key: CodecKey, method: str, height: int, width: int) -> "RayRunner":
        """A :class:`~codec.pipeline.jobs.Submitter` of ``method`` jobs (``"encode"`` or ``"decode"``)."""
        return RayRunner(self.actors(key), method, height, width)

    def queue_limits(self) -> tuple[int, int]:
        """``(min_scenes, max_in_flight)`` of a :class:`~codec.pipeline.jobs.JobQueue` on this pool."""
        return self.job_scenes, JOBS_PER_WORKER * self.workers


class RayRunner:
    """Jobs round-robin over actors (:class:`~codec.pipeline.jobs.Submitter`)."""

    def __init__(self, actors: list[Any], method: str, height: int, width: int) -> None:
        self._next = itertools.cycle(actors)
        self._method, self._size = method, (height, width)

    def submit(self, chain: Sequence[Any], job: Sequence[Any]) -> Any:
        return getattr(next(self._next), self._method).remote(*self._size, list(chain), list(job))

    def ready(self, handle: Any) -> bool:
        done, _ = _ray().wait([handle], timeout=0)
        return bool(done)

    def results(self, handle: Any) -> Sequence[Any]:
        ray = _ray()
        try:
            return ray.get(handle)
        except ray.exceptions.RayTaskError as err:
            if isinstance(err.cause, SpikecodecError):  # bad input, as one process would have raised it
                raise err.cause from None
            raise SpikecodecError(f"worker failed: {err}") from None
        except ray.exceptions.RayError as err:
            raise SpikecodecError(f"worker lost: {err}") from None
