"""docker-compose.yml and Dockerfile, checked by reading them (no docker engine here):
the compose file parses, its commands parse with the real CLI, its environment names
real settings, and its health probe passes against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from client.cli import build_parser
from server.app import Server
from server.config import ServerConfig, env_name

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse docker-compose.yml")

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {env_name(f.name) for f in fields(ServerConfig)}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _seconds(duration: str) -> float:
    return float(re.fullmatch(r"(\d+)s", duration).group(1))


def test_server_service_keeps_its_store_on_a_volume_and_drains_before_kill(compose) -> None:
    server = compose["services"]["server"]
    env = server["environment"]
    assert set(env) - {"OMP_NUM_THREADS"} <= SETTINGS, "unknown SPIKECODEC_* setting"
    mounts = dict(volume.split(":", 1)[::-1] for volume in server["volumes"])
    assert env["SPIKECODEC_STORE"] in mounts and mounts[env["SPIKECODEC_STORE"]] in compose["volumes"]
    assert _seconds(server["stop_grace_period"]) > float(env["SPIKECODEC_GRACE_S"])
    assert server["ports"] == [f"{env['SPIKECODEC_PORT']}:{env['SPIKECODEC_PORT']}"]
    args = build_parser().parse_args(server["command"])
    assert args.command == "serve"


def test_demo_streams_through_the_server_once_it_is_healthy(compose) -> None:
    demo = compose["services"]["demo"]
    assert demo["depends_on"]["server"]["condition"] == "service_healthy"
    args = build_parser().parse_args(demo["command"])
    assert (args.command, args.server, args.source) == ("stream", "server:50051", "synthetic")
    assert demo["image"] == compose["services"]["server"]["image"]


def test_health_probe_passes_against_a_serving_server_and_fails_without_one(compose, tmp_path) -> None:
    kind, *probe = compose["services"]["server"]["healthcheck"]["test"]
    assert kind == "CMD" and probe[:2] == ["python", "-c"]
    with Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path, token="t")) as server:
        env = dict(os.environ, SPIKECODEC_PORT=str(server.port))
        assert subprocess.run([sys.executable, "-c", probe[2]], env=env, capture_output=True,
                              timeout=60).returncode == 0
    assert subprocess.run([sys.executable, "-c", probe[2]], env=env, capture_output=True, timeout=60).returncode != 0


def test_dockerfile_installs_the_packages_and_serves_from_the_volume() -> None:
    text = (REPO / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \1$", text, flags=re.M))
    assert copied == {"proto", "codec", "server", "client"} and all((REPO / name).is_dir() for name in copied)
    assert 'ENTRYPOINT ["spikecodec"]' in text and 'CMD ["serve"]' in text
    env = dict(re.findall(r"(SPIKECODEC_\w+)=(\S+)", text))
    assert set(env) <= SETTINGS and env["SPIKECODEC_STORE"] == "/data" and "VOLUME /data" in text
