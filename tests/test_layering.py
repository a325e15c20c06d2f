"""The layers of DESIGN.md, checked on the source: ``codec`` imports neither ``server`` nor
``client``, ``client`` does not import ``server``, and the wire package imports only ``codec``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "codec": {"server", "client", "spikecodec_proto"},
    "client": {"server"},
    "proto/spikecodec_proto": {"server", "client"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_import_crosses_a_layer(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files
    crossing = {str(f.relative_to(REPO)): sorted(imported_packages(f) & FORBIDDEN[package]) for f in files}
    assert not {f: names for f, names in crossing.items() if names}
