"""The wire contract: committed stubs match their ``.proto`` sources, import as the package
``spikecodec_proto`` from anywhere, and leave the name ``proto`` to proto-plus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spikecodec_proto import generate


def test_committed_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    fresh = generate.generate(tmp_path)
    assert fresh, "no .proto sources found"
    for path in fresh:
        committed = generate.ROOT / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed.relative_to(generate.ROOT)} is missing: run python -m spikecodec_proto.generate"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.relative_to(generate.ROOT)} drifted from its .proto: run python -m spikecodec_proto.generate"
        )


def test_no_stale_stubs_without_a_proto() -> None:
    folder = generate.ROOT / generate.PROTO_DIR
    stubs = {p for suffix in generate.GENERATED_SUFFIXES for p in folder.glob("*" + suffix)}
    assert stubs == set(generate.generated_files(generate.ROOT))


def test_stubs_import_as_a_package_from_anywhere(tmp_path: Path) -> None:
    code = (
        "from spikecodec_proto.v1 import service_pb2, service_pb2_grpc, spikes_pb2;"
        "m = spikes_pb2.SpikeMessage(chunk=spikes_pb2.SpikeChunk(sequence=3, packed=b'ab'));"
        "print(m.WhichOneof('kind'), service_pb2.DESCRIPTOR.services_by_name['SpikeCodec'].full_name)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["chunk", "spikecodec.v1.SpikeCodec"]


def test_message_round_trip_keeps_optional_fields_distinct() -> None:
    from spikecodec_proto.v1 import spikes_pb2

    header = spikes_pb2.StreamHeader(height=250, width=400, options=spikes_pb2.CodecOptions(window=64))
    again = spikes_pb2.StreamHeader.FromString(header.SerializeToString())
    assert again == header
    assert not again.options.HasField("offset")
    again.options.offset = 0
    assert spikes_pb2.StreamHeader.FromString(again.SerializeToString()).options.HasField("offset")


def test_the_name_proto_is_left_to_proto_plus() -> None:
    """From the repository root (where ``proto/`` is on the path) and from anywhere else, ``import proto``
    finds no package of ours: at most a namespace portion, which any installed ``proto`` package beats."""
    code = (
        "import importlib.util as u; s = u.find_spec('proto');"
        "print('none' if s is None else 'namespace' if s.origin in (None, 'namespace') else s.origin)"
    )
    repo = generate.ROOT.parent
    for cwd in (repo, repo / "tests"):
        out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True).stdout
        assert out.strip() in ("none", "namespace"), f"from {cwd}: proto resolves to {out.strip()}"
