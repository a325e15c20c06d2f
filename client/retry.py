"""Retrying transient gRPC failures, for idempotent calls only.

Only ``UNAVAILABLE`` (server down, restarting, connection refused) and
``DEADLINE_EXCEEDED`` are retried, with exponential backoff; every other code
(``INVALID_ARGUMENT``, ``NOT_FOUND``, ``UNAUTHENTICATED``, ...) is final. A
streaming response is retried only until its first message arrived: after
that a retry would repeat output the caller already consumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import grpc

T = TypeVar("T")

TRANSIENT_CODES: frozenset[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE,
                                                         grpc.StatusCode.DEADLINE_EXCEEDED})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    Attributes:
        attempts: total tries (1 = never retry).
        initial_backoff_s: wait before the second try, seconds.
        max_backoff_s: longest wait between tries, seconds.
        multiplier: backoff growth per try.
    """

    attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    multiplier: float = 2.0

    def delays(self) -> Iterator[float]:
        """The waits before tries 2, 3, ..., ``attempts``."""
        delay = self.initial_backoff_s
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_backoff_s)
            delay *= self.multiplier


NO_RETRY = RetryPolicy(attempts=1)


def is_transient(error: grpc.RpcError) -> bool:
    """Whether ``error`` is worth another try of an idempotent call."""
    return isinstance(error, grpc.Call) and error.code() in TRANSIENT_CODES


def call_with_retry(call: Callable[[], T], policy: RetryPolicy) -> T:
    """``call()``, tried again after each transient failure while ``policy`` allows."""
    delays = policy.delays()
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            delay = next(delays, None) if is_transient(err) else None
            if delay is None:
                raise
            time.sleep(delay)


def stream_with_retry(start: Callable[[], Iterator[T]], policy: RetryPolicy) -> Iterator[T]:
    """Messages of the streaming call ``start()``; restarted on a transient failure
    only while none of its messages has been yielded yet."""
    delays = policy.delays()
    while True:
        responses = start()
        try:
            first = next(responses)
        except StopIteration:
            return
        except grpc.RpcError as err:
            delay = next(delays, None) if is_transient(err) else None
            if delay is None:
                raise
            time.sleep(delay)
            continue
        yield first
        yield from responses
        return
