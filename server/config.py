"""Server configuration: defaults, overridden by ``SPIKECODEC_*`` environment variables,
overridden by command-line flags.

Every field of :class:`ServerConfig` has one environment variable, its name upper-cased
with the ``SPIKECODEC_`` prefix (``max_pixels`` -> ``SPIKECODEC_MAX_PIXELS``), and one
flag (``--max-pixels``). :func:`add_arguments` and :func:`from_args` are the only places
that map between them.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from codec.errors import SpikecodecError

ENV_PREFIX = "SPIKECODEC_"
#: 4 MiB, gRPC's own default; a 32-plane chunk of 250x400 is 400,000 bytes
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class ConfigError(SpikecodecError):
    """A configuration value that cannot be used (bad number, missing cert file, ...)."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``spikecodec serve`` can be told.

    Attributes:
        host: interface to bind (``[::]`` = all).
        port: TCP port; 0 picks a free one (see ``Server.port``).
        store: directory of the stream store (created if missing).
        max_message_bytes: largest gRPC message either way, bytes.
        max_pixels: largest ``H*W`` of a plane accepted.
        max_planes: most planes in one stream.
        max_streams: most streaming calls (Encode, Decode, Upload, Fetch) at once.
        stream_deadline_s: wall time allowed to one streaming call, seconds.
        grace_s: on SIGTERM, how long in-flight calls may take to finish, seconds.
        chunk_planes: planes per chunk the server sends (Decode, Fetch default).
        workers: gRPC worker threads; 0 = ``max_streams + 8``. Must exceed
            ``max_streams`` so unary calls and health checks are served while
            every stream slot is busy.
        token: bearer token clients must send; empty = no authentication.
        tls_cert, tls_key: PEM server certificate and key; both or neither.
        quality, window, recon, attention, model: codec defaults for fields a
            client leaves empty in ``CodecOptions``.
        torch_threads: intra-op torch threads of the process.
        log_level: ``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR``.
    """

    host: str = "[::]"
    port: int = 50051
    store: Path = Path("spikecodec-store")
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_pixels: int = 1024 * 1024
    max_planes: int = 10_000_000
    max_streams: int = 16
    stream_deadline_s: float = 3600.0
    grace_s: float = 30.0
    chunk_planes: int = 32
    workers: int = 0
    token: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    quality: float = 3.0
    window: int = 64
    recon: str = "tfp"
    attention: str = "none"
    model: str = "spikecodec-base"
    torch_threads: int = 2
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_pixels", "max_planes", "max_streams", "chunk_planes", "window", "torch_threads"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        if self.stream_deadline_s <= 0 or self.grace_s < 0:
            raise ConfigError("stream_deadline_s must be positive and grace_s non-negative")
        if self.workers and self.workers <= self.max_streams:
            raise ConfigError(f"workers ({self.workers}) must exceed max_streams ({self.max_streams})")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("TLS needs both tls_cert and tls_key")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"log_level must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def thread_workers(self) -> int:
        return self.workers or self.max_streams + 8


def env_name(field_name: str) -> str:
    """``max_pixels`` -> ``SPIKECODEC_MAX_PIXELS``."""
    return ENV_PREFIX + field_name.upper()


def _convert(name: str, kind: Any, raw: str) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: cannot read {raw!r} as {kind.__name__}") from None


def _kind(field_name: str) -> type:
    default = getattr(ServerConfig(), field_name)
    return Path if isinstance(default, Path) else type(default)


def from_env(environ: Mapping[str, str] | None = None, base: ServerConfig | None = None) -> ServerConfig:
    """``base`` (default: defaults) with every ``SPIKECODEC_<FIELD>`` set in ``environ`` applied."""
    environ = os.environ if environ is None else environ
    values = {
        f.name: _convert(env_name(f.name), _kind(f.name), environ[env_name(f.name)])
        for f in fields(ServerConfig)
        if env_name(f.name) in environ
    }
    return replace(base or ServerConfig(), **values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per field; unset flags keep the environment's (or default) value."""
    defaults = ServerConfig()
    for f in fields(ServerConfig):
        flag = "--" + f.name.replace("_", "-")
        parser.add_argument(
            flag,
            dest=f.name,
            type=_kind(f.name),
            default=None,
            metavar=f.name.upper() if f.name != "token" else "TOKEN",
            help=f"(env {env_name(f.name)}, default {getattr(defaults, f.name)!s})"
            if f.name != "token"
            else f"bearer token clients must send (env {env_name(f.name)}; prefer the environment)",
        )


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Defaults < environment < flags given on the command line."""
    config = from_env(environ)
    given = {f.name: getattr(args, f.name) for f in fields(ServerConfig) if getattr(args, f.name, None) is not None}
    return replace(config, **given)
