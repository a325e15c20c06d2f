"""A per-call deadline that also bounds waiting for the client's next message.

gRPC's synchronous server blocks a handler inside ``next(request_iterator)``; a
client that stops sending would hold a stream slot forever. :class:`Deadline`
reads the requests on a helper thread into a small queue and waits on the queue
with the time left, so a stalled stream fails with
:class:`server.status.StreamDeadlineExceeded` on time.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Iterator, TypeVar

from server.status import StreamDeadlineExceeded

T = TypeVar("T")
_DONE = object()


class Deadline:
    """``seconds`` of wall time from construction for one streaming call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def check(self) -> None:
        """Raise :class:`StreamDeadlineExceeded` once the time is up."""
        if self.remaining() <= 0:
            raise StreamDeadlineExceeded(f"stream exceeded the server's {self.seconds:g} s per-stream deadline")

    def iterate(self, source: Iterator[T], prefetch: int = 2) -> Iterator[T]:
        """Items of ``source``, each waited for no longer than the time left.

        Exceptions of ``source`` (e.g. the client cancelling) are re-raised here.
        The helper thread ends with ``source``; it holds at most ``prefetch`` items.
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
                try:
                    item, error = items.get(timeout=max(self.remaining(), 0.0))
                except queue.Empty:
                    self.check()
                    continue
                if item is _DONE:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            stop.set()
