"""Bounds for the streaming calls of services we do not write: reflection and health ``Watch``.

A ``grpc.ServerInterceptor`` that wraps each such handler in a :class:`server.calls.StreamCall`
with its own slots (``max_aux_streams``), deadline (``aux_deadline_s``) and idle timeout
(``idle_timeout_s``, counting waits in either direction: a ``Watch`` that reports no change
for that long ends, and its client watches again). Without it, idle reflection streams
could hold every worker thread and starve health checks.
"""

from __future__ import annotations

from typing import Callable, Iterator

import grpc

from codec.errors import SpikecodecError
from server.calls import StreamCall, StreamSlots, Watchdog
from server.status import status_of

_END = object()


class StreamGuard(grpc.ServerInterceptor):
    """Bounds every streaming method whose name does not start with ``own_prefix``.

    Args:
        slots: the slots of these streams.
        watchdog: the server's watchdog.
        deadline_s, idle_s: wall time and longest wait of one such stream.
        own_prefix: methods left alone (ours bound themselves in the servicer).
    """

    def __init__(self, slots: StreamSlots, watchdog: Watchdog, deadline_s: float, idle_s: float,
                 own_prefix: str) -> None:
        self.slots, self.watchdog = slots, watchdog
        self.deadline_s, self.idle_s, self.own_prefix = deadline_s, idle_s, own_prefix

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(self.own_prefix) or not handler.response_streaming:
            return handler
        args = {"request_deserializer": handler.request_deserializer,
                "response_serializer": handler.response_serializer}
        if handler.request_streaming:
            inner = handler.stream_stream
            return grpc.stream_stream_rpc_method_handler(
                lambda requests, context: self._guarded(method, context,
                                                        lambda call: inner(call.iterate(requests), context)),
                **args)
        inner_unary = handler.unary_stream
        return grpc.unary_stream_rpc_method_handler(
            lambda request, context: self._guarded(method, context, lambda call: inner_unary(request, context)), **args)

    def _guarded(self, method: str, context: grpc.ServicerContext,
                 start: Callable[[StreamCall], Iterator]) -> Iterator:
        """The responses of ``start(call)`` under a slot, the deadline and the idle timeout."""
        call = StreamCall(method, context, self.deadline_s, self.idle_s, hard_deadline_s=self.deadline_s)
        try:
            self.slots.acquire(call)
        except SpikecodecError as err:
            context.abort(status_of(err), str(err))
        self.watchdog.watch(call)
        try:
            responses = start(call)
            while True:
                with call.blocked():  # a Watch waits here for the next status change
                    response = next(responses, _END)
                if response is _END:
                    return
                with call.blocked():
                    yield response
        except SpikecodecError as err:  # from call.iterate: idle, deadline, preempted
            context.abort(status_of(err), str(err))
        finally:
            self.watchdog.forget(call)
            self.slots.release(call)
