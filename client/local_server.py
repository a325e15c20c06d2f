"""A ``spikecodec serve`` process on a free loopback port, for the demo, benchmarks and tests.

The server runs as deployed -- its own interpreter, configured by flags -- so the
client side never imports the server::

    with LocalServer(store_dir, "--max-streams", "4") as server:
        with Connection(f"127.0.0.1:{server.port}") as conn:
            ...
    server.summary        # what ``spikecodec serve --json`` printed on exit

Its JSON log lines (stderr) are collected in :attr:`LocalServer.logs`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from client.connection import ClientError


class LocalServer:
    """Start ``spikecodec serve --json`` on ``127.0.0.1`` with a free port.

    Args:
        store: the store directory.
        flags: further ``spikecodec serve`` flags.
        env: the process environment (default: ours).
        start_timeout_s: how long start-up (torch, models) may take.

    Attributes:
        proc: the process; port: its port once started; logs: its JSON log lines, parsed;
        summary: what it printed on stdout when it exited (after :meth:`stop`).

    Raises:
        ClientError: the server exited or did not start in time.
    """

    def __init__(self, store: str | Path, *flags: str, env: dict[str, str] | None = None,
                 start_timeout_s: float = 300.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "client.cli", "serve", "--json", "--host", "127.0.0.1", "--port", "0",
             "--store", str(store), *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or dict(os.environ),
        )
        self.logs: list[dict] = []
        self.summary: dict = {}
        self._started = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._started.wait(start_timeout_s) or not self.events("server.started"):
            self.proc.kill()
            raise ClientError(f"spikecodec serve did not start (exit {self.proc.wait()}): {self.logs[-3:]}")
        self.port: int = self.events("server.started")[0]["port"]

    def _drain(self) -> None:
        assert self.proc.stderr is not None  # a pipe (see __init__)
        for line in self.proc.stderr:
            if line.startswith("{"):
                self.logs.append(json.loads(line))
                if self.logs[-1].get("event") == "server.started":
                    self._started.set()
        self._started.set()  # exited: stop waiting

    def events(self, name: str) -> list[dict]:
        """The log lines whose ``event`` is ``name``."""
        return [line for line in self.logs if line.get("event") == name]

    def stop(self, timeout_s: float = 120.0) -> int:
        """SIGTERM, then :meth:`wait_exit`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout_s)

    def wait_exit(self, timeout_s: float = 120.0) -> int:
        """Wait for the process to end; keep its summary; returns the exit status."""
        self.proc.wait(timeout_s)
        assert self.proc.stdout is not None  # a pipe (see __init__)
        out = self.proc.stdout.read()  # stderr belongs to the log reader
        self.summary = json.loads(out) if out.strip() else {}
        return self.proc.returncode

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self.proc.kill()
