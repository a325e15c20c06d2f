"""Server configuration: defaults, overridden by ``SPIKECODEC_*`` environment variables,
overridden by command-line flags.

Every field of :class:`ServerConfig` has one environment variable, its name upper-cased
with the ``SPIKECODEC_`` prefix (``max_pixels`` -> ``SPIKECODEC_MAX_PIXELS``), and one
flag (``--max-pixels``). :func:`add_arguments` and :func:`from_args` are the only places
that map between them.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from codec import options
from codec.errors import SpikecodecError
from spikecodec_proto.wire import WireLimits

ENV_PREFIX = "SPIKECODEC_"
#: 4 MiB, gRPC's own default; a 32-plane chunk of 250x400 is 400,000 bytes
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class ConfigError(SpikecodecError):
    """A configuration value that cannot be used (bad number, missing cert file, ...)."""


def _opt(default: Any, help: str, secret: bool = False) -> Any:
    return field(default=default, repr=not secret, metadata={"help": help})


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``spikecodec serve`` can be told; each field's ``help`` is its documentation
    (``spikecodec serve --help`` prints them with their environment variables)."""

    host: str = _opt("[::]", "interface to bind ([::] = all)")
    port: int = _opt(50051, "TCP port; 0 picks a free one")
    store: Path = _opt(Path("spikecodec-store"), "directory of the stream store (created if missing)")
    max_message_bytes: int = _opt(DEFAULT_MAX_MESSAGE_BYTES, "largest gRPC message either way, bytes")
    max_pixels: int = _opt(1024 * 1024, "largest H*W of a plane")
    max_planes: int = _opt(10_000_000, "most planes in one stream")
    max_window: int = _opt(1024, "largest planes per scene K of a stream coded or decoded (bounds its memory)")
    max_streams: int = _opt(16, "most streaming calls (Encode, Decode, Upload, Fetch) at once")
    stream_deadline_s: float = _opt(3600.0, "wall time allowed to one streaming call, seconds")
    idle_timeout_s: float = _opt(30.0, "seconds a streaming call may wait on its client "
                                       "(next message, or reading ours)")
    preempt_idle_s: float = _opt(5.0, "with every stream slot taken, a new streaming call takes the slot of "
                                      "the stream idle longest if that is this many seconds; 0 = never")
    max_aux_streams: int = _opt(4, "most reflection and health Watch streams at once")
    aux_deadline_s: float = _opt(60.0, "wall time allowed to one reflection or health Watch stream, seconds")
    grace_s: float = _opt(30.0, "on SIGTERM, seconds in-flight calls may take to finish")
    chunk_planes: int = _opt(32, "planes per chunk the server sends (Decode, Fetch default)")
    workers: int = _opt(0, "gRPC worker threads, more than max_streams + max_aux_streams; 0 = that + 8")
    token: str = _opt("", "bearer token clients must send; empty = no authentication (prefer the environment)",
                      secret=True)
    tls_cert: str = _opt("", "PEM certificate file; with tls_key enables TLS")
    tls_key: str = _opt("", "PEM private key file of tls_cert")
    quality: float = _opt(options.DEFAULT_QUALITY, "default scene codec quality")
    window: int = _opt(options.DEFAULT_WINDOW, "default planes per scene K")
    recon: str = _opt(options.DEFAULT_RECONSTRUCTION,
                      f"default scene reconstruction: {', '.join(options.RECONSTRUCTIONS)}")
    attention: str = _opt(options.DEFAULT_ATTENTION, f"default encoder attention: {', '.join(options.ATTENTIONS)}")
    model: str = _opt(options.DEFAULT_MODEL, "default scene codec model")
    intra_period: int = _opt(options.DEFAULT_INTRA_PERIOD,
                             "default intra period: every n-th scene intra, the others may be inter; 1 = all intra")
    gop: str = _opt(options.DEFAULT_GOP, f"default scene structure: {', '.join(options.GOP_STRUCTURES)}")
    gop_size: int = _opt(options.DEFAULT_GOP_SIZE, "default scenes from one random-access anchor to the next")
    exact: str = _opt(options.DEFAULT_EXACT, f"default exact spike layer: {', '.join(options.EXACT_LAYERS)}")
    torch_threads: int = _opt(2, "intra-op torch threads of the process")
    ray: str = _opt("", "Ray cluster address (HOST:PORT or auto): code the scenes of every stream on its workers, "
                        "one per CPU, a GOP at a time (the same bytes); empty: in this process")
    log_level: str = _opt("INFO", "DEBUG, INFO, WARNING or ERROR")

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_pixels", "max_planes", "max_window", "max_streams", "max_aux_streams",
                     "chunk_planes", "window", "torch_threads", "intra_period", "gop_size"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        for name in ("stream_deadline_s", "idle_timeout_s", "aux_deadline_s"):
            if not 0 < getattr(self, name) < math.inf:
                raise ConfigError(f"{name} must be a positive number of seconds, got {getattr(self, name)}")
        for name in ("grace_s", "preempt_idle_s"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ConfigError(f"{name} must be a non-negative number of seconds, got {getattr(self, name)}")
        if self.window > self.max_window:
            raise ConfigError(f"window ({self.window}) must not exceed max_window ({self.max_window})")
        if self.workers and self.workers <= self.max_streams + self.max_aux_streams:
            raise ConfigError(f"workers ({self.workers}) must exceed max_streams + max_aux_streams "
                              f"({self.max_streams + self.max_aux_streams})")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("TLS needs both tls_cert and tls_key")
        if self.recon not in options.RECONSTRUCTIONS:
            raise ConfigError(f"recon must be one of {', '.join(options.RECONSTRUCTIONS)}, got {self.recon!r}")
        if self.attention not in options.ATTENTIONS:
            raise ConfigError(f"attention must be one of {', '.join(options.ATTENTIONS)}, got {self.attention!r}")
        if self.gop not in options.GOP_STRUCTURES:
            raise ConfigError(f"gop must be one of {', '.join(options.GOP_STRUCTURES)}, got {self.gop!r}")
        if self.gop_size > options.MAX_GOP_SIZE:
            raise ConfigError(f"gop_size must be at most {options.MAX_GOP_SIZE}, got {self.gop_size}")
        if self.exact not in options.EXACT_LAYERS:
            raise ConfigError(f"exact must be one of {', '.join(options.EXACT_LAYERS)}, got {self.exact!r}")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"log_level must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")

    @property
    def wire_limits(self) -> WireLimits:
        """The limits incoming spike streams are read with."""
        return WireLimits(max_pixels=self.max_pixels, max_planes=self.max_planes)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def thread_workers(self) -> int:
        # a thread per streaming call and per auxiliary stream, 8 more for unary calls and health checks
        return self.workers or self.max_streams + self.max_aux_streams + 8


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
        shown = "" if f.name == "token" else f", default {getattr(defaults, f.name)!s}"
        parser.add_argument(
            "--" + f.name.replace("_", "-"), dest=f.name, type=_kind(f.name), default=None, metavar=f.name.upper(),
            help=f"{f.metadata['help']} (env {env_name(f.name)}{shown})",
        )


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Defaults < environment < flags given on the command line."""
    config = from_env(environ)
    given = {f.name: getattr(args, f.name) for f in fields(ServerConfig) if getattr(args, f.name, None) is not None}
    return replace(config, **given)
