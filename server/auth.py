"""Optional bearer-token authentication, as a ``grpc.ServerInterceptor``.

Clients send the metadata ``authorization: Bearer <token>``. Health checks stay
open so orchestrators (docker-compose, Kubernetes) can probe without the token.
"""

from __future__ import annotations

import hmac
from typing import Callable

import grpc

#: methods served without a token
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)


def _deny(message: str) -> Callable:
    def abort(request_or_iterator, context: grpc.ServicerContext):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return abort


def _denying_handler(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same streaming shape as ``handler`` that always refuses."""
    deny = _deny(message)
    args = {"request_deserializer": handler.request_deserializer, "response_serializer": handler.response_serializer}
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(deny, **args)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(deny, **args)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(deny, **args)
    return grpc.unary_unary_rpc_method_handler(deny, **args)


class BearerTokenInterceptor(grpc.ServerInterceptor):
    """Refuses every call but health checks unless it carries ``authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("empty token")
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_PREFIXES):
            return handler
        sent = dict(handler_call_details.invocation_metadata or ()).get("authorization")
        if sent is None:
            return _denying_handler(handler, "missing bearer token (metadata 'authorization: Bearer <token>')")
        if not hmac.compare_digest(sent.encode(), self._expected):
            return _denying_handler(handler, "invalid bearer token")
        return handler
