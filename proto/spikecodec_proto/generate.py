"""Generate the Python stubs of ``proto/spikecodec_proto/v1/*.proto``: the one place that does.

Usage: ``python -m spikecodec_proto.generate [--out DIR]`` (default: ``proto/``, so the
stubs land beside their ``.proto`` files). protoc runs with ``proto/`` as its include
path, so generated modules import each other as ``spikecodec_proto.v1.<name>_pb2`` and
work from an installed package.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

#: ``proto/``, protoc's include path: import paths (and module names) start with ``spikecodec_proto/``
ROOT = Path(__file__).resolve().parent.parent
#: where the ``.proto`` sources live, relative to :data:`ROOT`
PROTO_DIR = Path("spikecodec_proto") / "v1"
#: suffixes of the files protoc writes for one ``name.proto``
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_sources() -> list[Path]:
    """The ``.proto`` files, relative to :data:`ROOT`, sorted."""
    return sorted(p.relative_to(ROOT) for p in (ROOT / PROTO_DIR).glob("*.proto"))


def generated_files(out: Path) -> list[Path]:
    """Paths of every stub protoc writes under ``out`` for :func:`proto_sources`."""
    return [out / src.parent / (src.stem + suffix) for src in proto_sources() for suffix in GENERATED_SUFFIXES]


def generate(out: Path = ROOT) -> list[Path]:
    """Run ``grpc_tools.protoc`` over every source, writing stubs under ``out``.

    Returns:
        the generated files.

    Raises:
        RuntimeError: if protoc fails (its message is on stderr).
    """
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *(str(src) for src in proto_sources()),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    return generated_files(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikecodec_proto.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: proto/)")
    args = parser.parse_args(argv)
    for path in generate(args.out.resolve()):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
