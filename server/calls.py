"""Bounds on every streaming call: a slot, a deadline, an idle timeout, and interruption.

gRPC's synchronous server ties a worker thread to each call for as long as it
lasts -- blocked in ``next(request_iterator)`` while the client sends nothing,
or in the send of a response the client does not read. So every streaming call,
ours and the reflection and health-watch streams alike, is a :class:`StreamCall`:

* it holds one of a fixed number of slots (:class:`StreamSlots`); when all are
  taken, a new call takes the slot of the call that has waited longest on its
  client, if that wait is at least ``preempt_idle_s``, and is refused
  (``RESOURCE_EXHAUSTED``) otherwise;
* reading the client (:meth:`StreamCall.iterate`) happens on a helper thread
  feeding a small queue that the handler waits on in short slices, so a client
  that goes quiet for ``idle_s`` or outlives the deadline, and a call that is
  interrupted (preempted, shut down), fails in-band with its own status;
* where the handler is blocked elsewhere -- in a send the client does not read
  (:meth:`StreamCall.blocked`), inside a third-party handler -- :class:`Watchdog`
  cancels the call when the wait passes ``idle_s`` or the call its hard deadline,
  and an interruption cancels it at once (the client sees ``CANCELLED``).
"""

from __future__ import annotations

import queue
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import grpc

from codec.errors import SpikecodecError
from server.logs import get_logger
from server.status import LimitExceeded, StreamDeadlineExceeded, StreamPreempted

T = TypeVar("T")
_DONE = object()
#: longest a waiting handler goes without looking at its deadline and interruption, seconds
POLL_S = 0.1


class StreamCall:
    """The bounds of one streaming call.

    Args:
        method: full method name (for logs and messages).
        context: the call's servicer context (cancelled by the watchdog or an interruption).
        deadline_s: wall time the call may take; it fails in-band once it is up.
        idle_s: longest wait on the client (a message, a send) before the call fails.
        hard_deadline_s: when the watchdog cancels the call whatever it is doing
            (default ``deadline_s + idle_s``: room for the in-band error first).
    """

    def __init__(self, method: str, context: grpc.ServicerContext, deadline_s: float, idle_s: float,
                 hard_deadline_s: float | None = None) -> None:
        self.method = method
        self.context = context
        self.deadline_s, self.idle_s = deadline_s, idle_s
        now = time.monotonic()
        self.deadline_at = now + deadline_s
        self.hard_deadline_at = now + (deadline_s + idle_s if hard_deadline_s is None else hard_deadline_s)
        self._lock = threading.Lock()
        self._waiting_since: float | None = None  # waiting on the client (or blocked outside our code)
        self._blocked = False  # ... where only cancelling the call can wake it
        self.interruption: SpikecodecError | None = None

    def remaining(self) -> float:
        return self.deadline_at - time.monotonic()

    def idle_for(self) -> float:
        """Seconds the call has been waiting on its client so far (0 while it works)."""
        since = self._waiting_since
        return 0.0 if since is None else time.monotonic() - since

    def blocked_for(self) -> float:
        """Seconds the call has been blocked where only cancelling it can wake it (0 otherwise)."""
        return self.idle_for() if self._blocked else 0.0

    def check(self) -> None:
        """Raise the interruption, or :class:`StreamDeadlineExceeded` once the deadline is up."""
        if self.interruption is not None:
            raise self.interruption
        if self.remaining() <= 0:
            raise StreamDeadlineExceeded(f"stream exceeded the server's {self.deadline_s:g} s per-stream deadline")

    def interrupt(self, error: SpikecodecError) -> None:
        """End the call with ``error``: in-band at its next check, or by cancelling it if it is blocked."""
        with self._lock:
            if self.interruption is not None:
                return
            self.interruption = error
            blocked = self._blocked
        if blocked:
            self.context.cancel()

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Mark a wait on the client that only cancelling can end (a send, a third-party handler)."""
        with self._lock:
            self._waiting_since, self._blocked = time.monotonic(), True
            interrupted = self.interruption is not None
        if interrupted:
            self.context.cancel()
        try:
            yield
        finally:
            with self._lock:
                self._waiting_since, self._blocked = None, False

    def iterate(self, source: Iterator[T], prefetch: int = 2) -> Iterator[T]:
        """Items of ``source`` (the client's messages), each waited for no longer than the idle
        timeout and the deadline, and not at all once the call is interrupted.

        Exceptions of ``source`` (e.g. the client cancelling) are re-raised here. The
        helper thread ends with ``source``; it holds at most ``prefetch`` items.
        """
        items: queue.Queue = queue.Queue(maxsize=prefetch)
        stop = threading.Event()

        def offer(entry: tuple) -> bool:
            """Queue ``entry`` unless the consumer left; returns whether it was queued."""
            while not stop.is_set():
                try:
                    items.put(entry, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def pump() -> None:
            try:
                for item in source:
                    if not offer((item, None)):
                        return
                offer((_DONE, None))
            except BaseException as err:  # re-raised in the handler thread
                offer((_DONE, err))

        threading.Thread(target=pump, name="request-pump", daemon=True).start()
        try:
            while True:
                item, error = self._next(items)
                if item is _DONE:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            stop.set()

    def _next(self, items: queue.Queue) -> tuple:
        self._waiting_since = time.monotonic()
        try:
            while True:
                self.check()
                if self.idle_for() >= self.idle_s:
                    raise StreamDeadlineExceeded(
                        f"no message from the client for {self.idle_s:g} s (the server's idle_timeout_s)")
                try:
                    return items.get(timeout=POLL_S)
                except queue.Empty:
                    continue
        finally:
            self._waiting_since = None


class StreamSlots:
    """At most ``limit`` streaming calls at once, the idlest giving way when full.

    Args:
        limit: slots.
        preempt_idle_s: a call waiting on its client at least this long gives up
            its slot to a new call when all are taken; 0 = never.
        kind: what the slots are for, in messages (``"streams"``).
        setting: the setting that sets ``limit``, in messages (``"max_streams"``).
        make_preempted: the error a preempted call ends with, given its idle seconds.
    """

    #: how long a new call waits for a preempted call to leave, seconds
    HANDOVER_S = 5.0

    def __init__(self, limit: int, preempt_idle_s: float, kind: str, setting: str,
                 make_preempted: Callable[[float], SpikecodecError]) -> None:
        self.limit, self.preempt_idle_s, self.kind, self.setting = limit, preempt_idle_s, kind, setting
        self._make_preempted = make_preempted
        self._calls: set[StreamCall] = set()
        self._changed = threading.Condition()

    @property
    def active(self) -> int:
        return len(self._calls)

    def calls(self) -> list[StreamCall]:
        with self._changed:
            return list(self._calls)

    def acquire(self, call: StreamCall) -> None:
        """Take a slot for ``call``, preempting the idlest call if needed.

        Raises:
            LimitExceeded: every slot is held by a call that is not idle long enough.
        """
        with self._changed:
            busy = f"server busy: {len(self._calls)} {self.kind} in progress ({self.setting} {self.limit}); retry later"
            if len(self._calls) >= self.limit:
                victim = self._idlest()
                if victim is None:
                    raise LimitExceeded(busy)
                idle = victim.idle_for()
                get_logger().info("rpc.preempting", extra={"fields": {"method": victim.method, "idle_s": round(idle, 2),
                                                                       "for": call.method}})
                victim.interrupt(self._make_preempted(idle))
                if not self._changed.wait_for(lambda: len(self._calls) < self.limit, timeout=self.HANDOVER_S):
                    raise LimitExceeded(busy)
            self._calls.add(call)

    def release(self, call: StreamCall) -> None:
        with self._changed:
            self._calls.discard(call)
            self._changed.notify_all()

    def wait_empty(self, timeout: float) -> bool:
        """Block until no call holds a slot (or ``timeout`` seconds); returns whether none does."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._calls, timeout=timeout)

    def _idlest(self) -> StreamCall | None:
        if self.preempt_idle_s <= 0:
            return None
        candidates = [c for c in self._calls if c.interruption is None and c.idle_for() >= self.preempt_idle_s]
        return max(candidates, key=StreamCall.idle_for, default=None)


class Watchdog:
    """A thread that cancels calls blocked on their client past their idle timeout, or past
    their hard deadline (module docstring). :meth:`watch` registers, :meth:`forget` unregisters."""

    def __init__(self, period_s: float = 0.25) -> None:
        self._calls: set[StreamCall] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(period_s,), name="watchdog", daemon=True)
        self._thread.start()

    def watch(self, call: StreamCall) -> None:
        with self._lock:
            self._calls.add(call)

    def forget(self, call: StreamCall) -> None:
        with self._lock:
            self._calls.discard(call)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, period_s: float) -> None:
        while not self._stop.wait(period_s):
            now = time.monotonic()
            with self._lock:
                calls = list(self._calls)
            for call in calls:
                blocked = call.blocked_for()
                if blocked > call.idle_s or now > call.hard_deadline_at:
                    get_logger().info("rpc.watchdog_cancel", extra={"fields": {
                        "method": call.method, "blocked_s": round(blocked, 2),
                        "past_deadline": now > call.hard_deadline_at}})
                    self.forget(call)
                    call.context.cancel()


def preempted(kind: str) -> Callable[[float], StreamPreempted]:
    """The error of a ``kind`` call preempted after waiting ``idle`` seconds (for :class:`StreamSlots`)."""
    return lambda idle: StreamPreempted(f"{kind} idle for {idle:.1f} s gave its slot to a new call (server full)")
