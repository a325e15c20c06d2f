"""Golden ``.spkc`` streams: a bitstream cannot change without a format version bump.

``tests/golden/`` holds streams of every format version this build reads, made by
``tests/golden/make_golden.py`` from one fixed input, with the sha256 of their bytes and of
the planes they decode to. Decoding each golden must give the same planes (a decoder change
that misreads old streams fails here), and encoding the input again under the current
version must give the same bytes (an encoder, weights or motion change that alters the
bitstream fails here: bump ``FORMAT_VERSION`` and add a set, or, for an encoder-only change
the old decoders read, replace the set with ``make_golden.py --replace``). Streams with a scene
layer are checked where torch's CPU kernels use the instruction set they were made with (their
floats' last bits depend on it); the exact layer alone is checked everywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codec.bitstream import FORMAT_VERSION
from codec.errors import BitstreamError
from codec.pipeline import EncoderConfig
from codec.sensor import SensorParams

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import make_golden  # noqa: E402  (the goldens' own maker, beside them)

MANIFEST = json.loads((GOLDEN / "golden.json").read_text())
STREAMS = {s["file"]: s for s in MANIFEST["streams"]}
CURRENT = [name for name, s in STREAMS.items() if s["version"] == FORMAT_VERSION and not s.get("archived_weights")]


def skip_on_another_instruction_set(stream: dict) -> None:
    """Skip a stream with a scene layer that was made with other CPU kernels than this machine's."""
    if stream["config"]["exact"] != "alone" and stream["cpu"] != make_golden.cpu_capability():
        pytest.skip(f"{stream['file']} was made with {stream['cpu']} kernels, this machine uses "
                    f"{make_golden.cpu_capability()}: its scene layer's float transforms may differ in the last bit")


def test_the_current_version_has_a_golden_per_case() -> None:
    assert sorted(CURRENT) == sorted(f"v{FORMAT_VERSION}-{case}.spkc" for case in make_golden.CASES), \
        f"format {FORMAT_VERSION} has no full golden set: run python tests/golden/make_golden.py"


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_golden_streams_decode_to_the_same_planes(name: str) -> None:
    stream = STREAMS[name]
    data = (GOLDEN / name).read_bytes()
    assert make_golden.sha256(data) == stream["spkc_sha256"], f"{name} itself was modified"
    if stream["version"] != FORMAT_VERSION:
        with pytest.raises(BitstreamError, match=f"unknown version {stream['version']}"):
            make_golden.decode(data)
        return
    skip_on_another_instruction_set(stream)
    assert make_golden.digest(make_golden.decode(data)) == stream["decoded_sha256"], \
        f"{name} now decodes to other planes: the decoder changed how format {FORMAT_VERSION} is read"


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_encoding_the_golden_input_gives_the_golden_bytes(name: str) -> None:
    stream = STREAMS[name]
    skip_on_another_instruction_set(stream)
    config = EncoderConfig(**stream["config"])
    assert SensorParams(**stream["sensor"]) == make_golden.SENSOR
    data = make_golden.encode(make_golden.golden_input(), config)
    assert make_golden.sha256(data) == stream["spkc_sha256"], (
        f"encoding {name}'s input now gives other bytes ({len(data)} instead of {stream['bytes']}): bump "
        f"FORMAT_VERSION and run tests/golden/make_golden.py, or, if format {FORMAT_VERSION} decoders read the "
        f"new bytes unchanged, run it with --replace")


def test_streams_of_retrained_weights_are_kept() -> None:
    """Every current-version golden of replaced weights names weights the archive still holds (it
    decodes above; older versions are refused before their weights matter)."""
    for name, stream in STREAMS.items():
        if stream.get("archived_weights") and stream["version"] == FORMAT_VERSION:
            assert make_golden.retrained(stream), f"{name} is marked archived but uses the installed weights"


def test_the_lossless_golden_is_checked_on_every_machine() -> None:
    assert any(STREAMS[name]["config"]["exact"] == "alone" for name in CURRENT)


def test_a_damaged_golden_is_refused() -> None:
    data = bytearray((GOLDEN / CURRENT[0]).read_bytes())
    data[len(data) // 2] ^= 0x10
    with pytest.raises(BitstreamError):
        make_golden.decode(bytes(data))
