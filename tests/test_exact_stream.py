"""The exact layer in a .spkc stream: header field, exact records and their order, pipeline round
trips in every scene structure, corruption and truncation, CLI round trips through real files."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from client.cli import main
from codec.bitstream import (
    CODING_MODEL,
    CODING_RAW,
    MODE_INTRA,
    MODE_P,
    ExactRecord,
    RecordParser,
    SceneRecord,
    StreamHeader,
    end_record,
    exact_record,
    header_record,
    scene_record,
)
from codec.bitstream.records import KIND_EXACT, frame
from codec.errors import BitstreamError
from codec.io import open_spikes, pack_planes
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate

SHA = "ab" * 32
#: 8x16 planes, scene i centred on plane 2 + 4i: plane t is in scene t // 4's block
SCENES = StreamHeader(height=8, width=16, num_planes=0, window=4, offset=2, recon="tfp", attention="none",
                      model="m", model_sha256=SHA, quality=1.0, exact="scenes")
RAW = bytes(16)  # one packed 8x16 plane


def alone_header(num_planes: int = 0) -> StreamHeader:
    return StreamHeader(height=8, width=16, num_planes=num_planes, window=32, offset=16, recon="", attention="",
                        model="", model_sha256="", quality=0.0, exact="alone")


def raw_record(first: int, count: int) -> bytes:
    return exact_record(first, count, CODING_RAW, zlib.crc32(RAW * count), RAW * count)


def scene(index: int, mode: int = MODE_INTRA) -> bytes:
    return scene_record(index, mode, 1.0, b"x")


def parse(records: list[bytes]) -> list:
    parser = RecordParser()
    out = [r for data in records for r in parser.feed(data)]
    parser.close()
    return out


def test_header_exact_field_round_trips_and_is_checked() -> None:
    plain = replace(SCENES, exact="none")
    assert len(SCENES.to_bytes()) == len(plain.to_bytes()) + 1  # streams without the layer are unchanged
    for header in (SCENES, plain, alone_header(), replace(SCENES, gop="random-access", gop_size=16,
                                                          intra_period=32, inter_sha256=SHA)):
        assert StreamHeader.from_bytes(header.to_bytes()) == header
    assert len(alone_header().to_bytes()) < len(plain.to_bytes())  # no digests, no names
    with pytest.raises(BitstreamError, match="without a scene layer"):
        replace(alone_header(), model="m")
    with pytest.raises(BitstreamError, match="without a scene layer"):
        replace(alone_header(), gop="low-delay")
    with pytest.raises(BitstreamError, match="'exact' must be one of"):
        replace(SCENES, exact="maybe")
    with pytest.raises(BitstreamError, match="its fields need"):
        StreamHeader.from_bytes(plain.to_bytes() + b"\x00")
    with pytest.raises(BitstreamError, match="unknown exact layer 7"):
        StreamHeader.from_bytes(plain.to_bytes() + b"\x07")


def test_scene_of_plane() -> None:
    assert [SCENES.scene_of(t) for t in range(10)] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    late = replace(SCENES, offset=9)  # planes before the first block belong to scene 0
    assert [late.scene_of(t) for t in (0, 6, 7, 10, 11)] == [0, 0, 0, 0, 1]


def test_parser_checks_exact_records() -> None:
    head = header_record(alone_header())
    good = [head, raw_record(0, 2), exact_record(2, 1, CODING_MODEL, 7, b"ab"), end_record(3, 0)]
    records = parse(good)
    assert records[1] == ExactRecord(0, 2, CODING_RAW, zlib.crc32(RAW * 2), RAW * 2, None)
    assert records[2].payload == b"ab"
    cases = {
        "starts at plane 1, expected plane 0": [head, raw_record(1, 2)],
        "raw payload of 31 bytes, 2 packed planes take exactly 32": [head, exact_record(0, 2, CODING_RAW, 0, (RAW * 2)[:-1])],
        "model payload of 16 bytes, 1 packed planes take less than 16": [head, exact_record(0, 1, CODING_MODEL, 0, RAW)],
        "unknown coding 9": [head, exact_record(0, 1, 9, 0, b"")],
        "0 planes, expected 1 to 1024": [head, exact_record(0, 0, CODING_RAW, 0, b"")],
        "3 planes, but the exact records cover 2": [head, good[1], end_record(3, 0)],
        "scene record in a stream of the exact layer alone": [head, good[1], scene(0)],
        "a stream of no plane": [head, end_record(0, 0)],
        "exact body of 2 bytes is shorter than its head": [head, frame(KIND_EXACT, b"\x00\x01")],
        r"record 1 \(exact record of plane 0\) at byte \d+: first plane: varint with a redundant zero":
            [head, frame(KIND_EXACT, b"\x80\x00\x01" + bytes(5))],
    }
    for problem, stream in cases.items():
        with pytest.raises(BitstreamError, match=problem):
            parse(stream)
    with pytest.raises(BitstreamError, match="no exact layer"):
        parse([header_record(replace(SCENES, exact="none")), good[1]])
    with pytest.raises(BitstreamError, match=r"planes 0..1 go beyond the header's 1"):
        parse([header_record(alone_header(num_planes=1)), good[1]])


def test_exact_records_follow_the_scenes_they_need() -> None:
    head = header_record(SCENES)
    records = parse([head, scene(0), raw_record(0, 4), scene(1), raw_record(4, 3), end_record(7, 2)])
    assert [r.scene for r in records if isinstance(r, ExactRecord)] == [0, 1]
    # the planes past the last scene's block (6: scene 1's block) use the last scene
    records = parse([head, scene(0), raw_record(0, 6), end_record(6, 1)])
    assert records[2].scene == 0
    cases = {
        "planes of scene 0's block come before scene 0 was read": [head, raw_record(0, 1)],
        "planes of scene 2's block come before scene 1 was read": [head, scene(0), raw_record(0, 9)],
        "scene record after the exact record that used scene 0 as the last one": [head, scene(0), raw_record(0, 5),
                                                                                   scene(1)],
        "8 planes need 2 scenes; end record counts 1": [head, scene(0), raw_record(0, 8), end_record(8, 1)],
    }
    for problem, stream in cases.items():
        with pytest.raises(BitstreamError, match=problem):
            parse(stream)
    # random access: scene 2 was read, so scene 1 exists and an exact record needing it must wait
    ra = header_record(replace(SCENES, gop="random-access", gop_size=4, intra_period=4, inter_sha256=SHA))
    with pytest.raises(BitstreamError, match="planes of scene 1's block come before scene 1 was read"):
        parse([ra, scene(0), scene(2, MODE_P), raw_record(0, 5)])


def simulated(planes: int, height: int = 48, width: int = 64, reset: str = "subtract") -> np.ndarray:
    source = SyntheticSource(height, width, frame_period=20.0, seed=2)
    sensor = SensorParams(alpha=0.6, reset_mechanism=reset)
    return np.concatenate(list(simulate(source, planes, sensor, shot_noise=True)))


def code(config: EncoderConfig, planes: np.ndarray, cuts=()) -> tuple[list[bytes], np.ndarray, list[int]]:
    """Encode pushing blocks split at ``cuts``, decode record by record: records, planes, scene centres."""
    t, h, w = planes.shape
    encoder = Encoder(config, h, w, num_planes=t)
    records = [encoder.header_record()]
    bounds = [0, *cuts, t]
    for a, b in zip(bounds, bounds[1:]):
        records += encoder.push(planes[a:b])
    records += encoder.finish()
    centres: list[int] = []
    decoder = Decoder(on_scene=lambda centre, scene: centres.append(centre))
    decoded = np.concatenate([decoder.push(r) for r in records])
    decoder.finish()
    return records, decoded, centres


def test_pipeline_exact_alone_round_trip() -> None:
    planes = simulated(100)
    config = EncoderConfig(quality=1.0, exact="alone")
    records, decoded, centres = code(config, planes, cuts=(33, 66, 99))
    np.testing.assert_array_equal(decoded, planes)
    assert centres == []
    assert records == code(config, planes)[0]
    assert sum(map(len, records)) < 0.6 * pack_planes(planes).nbytes


def test_random_planes_cost_at_most_a_few_percent_more_than_raw() -> None:
    planes = (np.random.default_rng(4).random((96, 48, 64)) < 0.5).astype(np.uint8)
    records, decoded, _ = code(EncoderConfig(quality=1.0, exact="alone"), planes)
    np.testing.assert_array_equal(decoded, planes)
    assert sum(map(len, records)) < 1.01 * pack_planes(planes).nbytes


#: 11 scenes (centres 8, 24, ..., 168), coded 0 4 2 1 3 8 6 5 7 10 9 in random access
RANDOM_ACCESS = EncoderConfig(quality=1.0, window=16, gop="random-access", gop_size=4, intra_period=8,
                              exact="scenes")


@pytest.mark.slow
@pytest.mark.parametrize("config", [RANDOM_ACCESS, replace(RANDOM_ACCESS, gop="low-delay")], ids=["ra", "ld"])
def test_pipeline_exact_over_scenes_round_trip(config: EncoderConfig) -> None:
    planes = simulated(180, reset="mod")
    records, decoded, centres = code(config, planes, cuts=(37, 100, 101))
    np.testing.assert_array_equal(decoded, planes)
    assert centres == list(range(8, 180, 16))
    parsed = parse(records)
    scenes = [r.index for r in parsed if isinstance(r, SceneRecord)]
    if config.gop == "random-access":
        assert scenes == [0, 4, 2, 1, 3, 8, 6, 5, 7, 10, 9]
    kinds = [type(r).__name__ for r in parsed]
    # exact records come between the scene records (streaming), not all at the end
    assert kinds.index("ExactRecord") < max(i for i, k in enumerate(kinds) if k == "SceneRecord")
    if config.gop == "random-access":  # the records do not depend on how the planes were pushed
        assert records == code(config, planes)[0]


@pytest.mark.slow
def test_corrupt_and_truncated_exact_records_are_refused() -> None:
    planes = simulated(70)
    records, _, _ = code(replace(RANDOM_ACCESS, gop_size=2), planes)
    at = next(i for i, r in enumerate(records) if r[0] == KIND_EXACT)
    record = records[at]

    def decode(stream: list[bytes]) -> None:
        decoder = Decoder()
        for data in stream:
            decoder.push(data)
        decoder.finish()

    flipped = bytearray(record)
    flipped[len(record) // 2] ^= 0x10
    with pytest.raises(BitstreamError, match="body CRC mismatch"):
        decode(records[:at] + [bytes(flipped)] + records[at + 1 :])
    with pytest.raises(BitstreamError, match="truncated"):
        decode(records[:at] + [record[:-3]])
    # a damaged payload under valid record CRCs: the planes fail their own CRC
    parser = RecordParser()
    body = [r for data in records[: at + 1] for r in parser.feed(data)][-1]
    payload = bytearray(body.payload)
    payload[len(payload) // 2] ^= 0x01
    damaged = exact_record(body.first_plane, body.num_planes, body.coding, body.planes_crc, bytes(payload))
    with pytest.raises(BitstreamError, match="fail their CRC"):
        decode(records[:at] + [damaged] + records[at + 1 :])


@pytest.mark.slow
@pytest.mark.parametrize("flags", [["--lossless"], ["--exact"], ["--exact", "--gop", "low-delay"]],
                         ids=["lossless", "exact-ra", "exact-ld"])
def test_cli_exact_round_trip_is_byte_identical(tmp_path, capsys, reds_dat: Path, flags: list[str]) -> None:
    spkc, out = tmp_path / "x.spkc", tmp_path / "x.dat"
    assert main(["encode", str(reds_dat), "-o", str(spkc), *flags, "--quality", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exact"] == ("alone" if flags == ["--lossless"] else "scenes")
    assert summary["bpsp"] < 0.5
    header = next(iter(parse([spkc.read_bytes()])))
    assert header.gop == {"--lossless": "intra", "low-delay": "low-delay"}.get(flags[-1], "random-access")
    assert main(["decode", str(spkc), "-o", str(out), "--json"]) == 0
    assert out.read_bytes() == reds_dat.read_bytes()
    with open_spikes(out) as reader:
        assert reader.num_planes == 301


@pytest.mark.parametrize("param", ["alone", pytest.param("scenes", marks=pytest.mark.slow)])
def test_exact_bench_rows_are_exact_and_smaller_than_xz(param: str) -> None:
    from codec.anchors import AnchorInput, get_anchor

    planes = simulated(96)
    inp = AnchorInput(planes, np.zeros((3, 48, 64), np.float32), [16, 48, 80], 32)
    out = get_anchor("exact").code(inp, param)
    np.testing.assert_array_equal(out.planes, planes)
    assert out.bits < 8 * len(get_anchor("lossless").code(inp, "xz").payload)
