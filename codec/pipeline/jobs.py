"""Cutting a stream's scenes, in coding order, into jobs that workers can code or decode alone.

A scene is coded (or decoded) from its own data and the decoded scenes it references,
nothing else, except for one number of encoder state (the size of the last intra
scene, :class:`~codec.pipeline.prediction.PredictiveEncoder`) that every forced intra
scene resets. So the coding order can be cut before any scene without references
(the encoder cuts only before forced intra scenes): a job is a run of scenes
from one cut to the next, and whatever a job references from before its cut is
coded again by its worker first, from the *chain* of that reference (the scenes
back to the last scene without references), and then dropped. With the default
random-access structure (an intra scene every 32, an anchor every 16) a job is
32 scenes and its chain the two anchors before it::

    coding order  0 16 8 4 .. 15 | 32 24 20 .. 31 48 40 .. 47 | 64 56 ..
    job               job 0      |            job 1          | job 2 (chain: 32 48)

Jobs go out as soon as they are cut (at most ``max_in_flight`` at a time) and their
results come back in coding order, so the records (and the decoded scenes) are
exactly the one-process ones.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Generic, Protocol, Sequence, TypeVar

from codec.errors import BitstreamError

Item = TypeVar("Item")
Local = TypeVar("Local")
Result = TypeVar("Result")
ItemIn = TypeVar("ItemIn", contravariant=True)
ResultOut = TypeVar("ResultOut", covariant=True)


class Submitter(Protocol[ItemIn, ResultOut]):
    """Runs jobs somewhere: ``submit`` starts one and returns a handle, ``ready`` tells (without
    waiting) whether it is done, ``results`` waits for it."""

    def submit(self, chain: Sequence[ItemIn], job: Sequence[ItemIn]) -> Any: ...

    def ready(self, handle: Any) -> bool: ...

    def results(self, handle: Any) -> Sequence[ResultOut]: ...


@dataclass(frozen=True)
class _Entry(Generic[Item]):
    seq: int  # position in coding order
    item: Item


class JobQueue(Generic[Item, Local, Result]):
    """Scenes in coding order in, their results out in the same order.

    Args:
        runner: where jobs run (:class:`Submitter`).
        min_scenes: a job is cut at the first independent scene after it holds this many.
        max_in_flight: jobs submitted and not yet returned, at most (:meth:`add` waits).

    Attributes:
        submitted: jobs submitted so far.
        chain_scenes: scenes coded again as the chains of later jobs (the cost of cutting).
        waited: seconds spent waiting for results.
    """

    def __init__(self, runner: Submitter[Item, Result], min_scenes: int, max_in_flight: int) -> None:
        self.runner = runner
        self.min_scenes = max(1, min_scenes)
        self.max_in_flight = max(1, max_in_flight)
        self.submitted = 0
        self.chain_scenes = 0
        self.waited = 0.0
        self._seq = 0
        self._job: list[_Entry[Item]] = []
        self._locals: list[Local] = []
        self._needs: dict[int, _Entry[Item]] = {}  # seq -> entry the current job's references need
        self._chains: dict[int, tuple[_Entry[Item], ...]] = {}  # scene index -> entries needed to decode it
        self._in_flight: deque[tuple[Any, list[Local]]] = deque()

    def add(self, index: int, references: Sequence[int], item: Item, local: Local,
            independent: bool) -> list[tuple[Local, Result]]:
        """Queue scene ``index`` (``item`` goes to the worker, ``local`` comes back beside its result).

        Args:
            references: the scenes it is predicted from (each added before).
            independent: a job may start here (no references, and no encoder state carried over).

        Returns:
            ``(local, result)`` of the scenes whose jobs are back, in coding order.

        Raises:
            BitstreamError: a reference that was never added or is released.
        """
        if independent and len(self._job) >= self.min_scenes:
            self._submit()
        entry = _Entry(self._seq, item)
        self._seq += 1
        missing = [r for r in references if r not in self._chains]
        if missing:
            raise BitstreamError(f"reference scene {missing[0]} is not available")
        needed = {e.seq: e for r in references for e in self._chains[r]}
        self._chains[index] = (*sorted(needed.values(), key=lambda e: e.seq), entry)
        self._needs.update(needed)
        self._job.append(entry)
        self._locals.append(local)
        return self._collect(wait=len(self._in_flight) >= self.max_in_flight)

    def release(self, keep_from: int) -> None:
        """Scenes below ``keep_from`` will not be referenced again."""
        for index in [i for i in self._chains if i < keep_from]:
            del self._chains[index]

    def flush(self) -> list[tuple[Local, Result]]:
        """Submit what is queued and wait for every result."""
        if self._job:
            self._submit()
        return self._collect(wait=True, everything=True)

    def _submit(self) -> None:
        first = self._job[0].seq
        chain = [self._needs[seq] for seq in sorted(self._needs) if seq < first]
        self.chain_scenes += len(chain)
        self.submitted += 1
        handle = self.runner.submit([e.item for e in chain], [e.item for e in self._job])
        self._in_flight.append((handle, self._locals))
        self._job, self._locals, self._needs = [], [], {}

    def _collect(self, wait: bool, everything: bool = False) -> list[tuple[Local, Result]]:
        """Results of the jobs at the head of the queue that are done (waiting for the first one if
        ``wait``, for all if ``everything``)."""
        out: list[tuple[Local, Result]] = []
        tic = time.perf_counter()
        while self._in_flight and (wait or self.runner.ready(self._in_flight[0][0])):
            handle, locals_ = self._in_flight.popleft()
            out += zip(locals_, self.runner.results(handle))
            wait = everything
        self.waited += time.perf_counter() - tic
        return out


def run_job(chain: Sequence[Item], job: Sequence[Item], step: Callable[[Item], Result]) -> list[Result]:
    """What a worker does with a job: ``step`` over the chain (results dropped), then over the job."""
    for item in chain:
        step(item)
    return [step(item) for item in job]
