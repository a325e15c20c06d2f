"""Building, running and stopping the gRPC server.

:class:`Server` is what tests start in-process (port 0 picks a free port);
:func:`serve` is ``spikecodec serve``: it adds signal handling -- SIGTERM or
SIGINT starts a drain: health answers ``NOT_SERVING``, new streaming and
store-changing calls get ``UNAVAILABLE``, in-flight streams have ``grace_s``
seconds to finish, then the rest are cancelled (``CANCELLED``; an unfinished
upload is never committed, the store stays consistent). Further signals during
and after the drain are ignored: the process exits 0.
"""

from __future__ import annotations

import signal
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from codec.pipeline.workers import WorkerPool
from server import codecs
from server.auth import BearerTokenInterceptor
from server.calls import StreamSlots, Watchdog, preempted
from server.config import ConfigError, ServerConfig
from server.guard import StreamGuard
from server.logs import configure, get_logger
from server.servicer import VERSION, SpikeCodecServicer
from server.store import StreamStore
from spikecodec_proto.v1 import service_pb2, service_pb2_grpc

SERVICE_NAME = service_pb2.DESCRIPTOR.services_by_name["SpikeCodec"].full_name
#: after the drain, seconds gRPC gives the calls left (unary calls, reflection and health streams)
FINAL_GRACE_S = 1.0


def _credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    if not config.tls_cert:
        return None
    try:
        key, cert = Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read TLS file: {err.strerror}: {err.filename}") from None
    return grpc.ssl_server_credentials([(key, cert)])


def _worker_pool(config: ServerConfig) -> WorkerPool | None:
    """The Ray workers of ``config.ray``, or ``None`` (scenes coded in this process)."""
    return WorkerPool(address=config.ray) if config.ray else None


class Server:
    """A spikecodec gRPC server: the service, health checking and reflection on one port.

    Args:
        config: the configuration; ``config.port == 0`` binds a free port.

    Attributes:
        port: the bound port.
        store: the stream store (reconciled on construction).
        servicer: the :class:`SpikeCodecServicer`.
        pool: the Ray workers of ``config.ray`` (:class:`codec.pipeline.workers.WorkerPool`), or ``None``.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = StreamStore(config.store)
        self.watchdog = Watchdog()
        self.pool = _worker_pool(config)
        self.servicer = SpikeCodecServicer(config, self.store, codecs.model_infos(), self.watchdog, self.pool)
        aux_slots = StreamSlots(config.max_aux_streams, config.preempt_idle_s, "reflection/health streams",
                                "max_aux_streams", preempted("reflection/health stream"))
        guard = StreamGuard(aux_slots, self.watchdog, config.aux_deadline_s, config.idle_timeout_s, f"/{SERVICE_NAME}/")
        interceptors = [*([BearerTokenInterceptor(config.token)] if config.token else []), guard]
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.thread_workers, thread_name_prefix="rpc"),
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes),
                ("grpc.max_send_message_length", config.max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        service_pb2_grpc.add_SpikeCodecServicer_to_server(self.servicer, self._server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server)
        credentials = _credentials(config)
        if credentials is None:
            self.port = self._server.add_insecure_port(config.address)
        else:
            self.port = self._server.add_secure_port(config.address, credentials)
        if self.port == 0:
            raise ConfigError(f"cannot bind {config.address}")
        self._stopped = threading.Event()
        self.stored_streams = 0

    def start(self) -> "Server":
        self._server.start()
        for service in ("", SERVICE_NAME):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        get_logger().info("server.started", extra={"fields": {
            "port": self.port, "store": str(self.config.store), "version": VERSION, "tls": bool(self.config.tls_cert),
            "auth": bool(self.config.token), "max_streams": self.config.max_streams,
            "reconciled": self.store.reconciled,
        }})
        return self

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, wait up to ``grace`` seconds (default ``grace_s``) for
        in-flight ones, cancel the rest, close the store. Idempotent."""
        if self._stopped.is_set():
            return
        grace = self.config.grace_s if grace is None else grace
        tic = time.perf_counter()
        get_logger().info("server.stopping", extra={"fields": {"grace_s": grace}})
        self.health.enter_graceful_shutdown()  # NOT_SERVING to checks and watchers, while calls are still answered
        cancelled = self.servicer.drain(grace)
        self._server.stop(FINAL_GRACE_S).wait()  # what is left: unary calls, reflection and health streams
        self.watchdog.close()
        self.stored_streams = self.store.count()
        self.store.close()
        if self.pool is not None:
            self.pool.close()
        self._stopped.set()
        get_logger().info("server.stopped", extra={"fields": {"after_s": round(time.perf_counter() - tic, 3),
                                                              "cancelled": cancelled}})

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` finished (or ``timeout`` seconds); returns whether it has."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(0)


def serve(config: ServerConfig) -> dict:
    """Run until SIGTERM/SIGINT; returns a summary of the run.

    Must be called from the main thread (signal handlers).
    """
    import torch

    configure(config.log_level)
    torch.set_num_threads(config.torch_threads)
    server = Server(config).start()
    stopper: list[threading.Thread] = []

    def on_signal(signum: int, frame: object) -> None:
        get_logger().info("server.signal", extra={"fields": {"signal": signal.Signals(signum).name}})
        if not stopper:
            stopper.append(threading.Thread(target=server.stop, name="stopper"))
            stopper[0].start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    # Wake up now and then: a signal may land on a gRPC or torch thread, and Python
    # runs its handler only when the main thread next executes bytecode.
    while not server.wait(timeout=0.2):
        pass
    # Not the default handlers back: a late signal would kill the exiting process (-15).
    # Ignored signals stay ignored through interpreter shutdown, Python handlers do not.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    return {"port": server.port, "store": str(config.store), "stored_streams": server.stored_streams}
