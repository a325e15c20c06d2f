"""The .spkc container: round trips, incremental parsing, corruption and truncation."""

from __future__ import annotations

import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream import (
    FORMAT_VERSION,
    EndRecord,
    RecordParser,
    SceneRecord,
    StreamHeader,
    end_record,
    header_record,
    iter_file_records,
    scene_record,
)
from codec.bitstream.records import KIND_HEADER, KIND_SCENE, frame
from codec.errors import BitstreamError
from codec.sensor import SensorParams

SHA = "ab" * 32


def make_header(num_planes: int = 0, **changes) -> StreamHeader:
    values = dict(
        height=250, width=400, num_planes=num_planes, window=32, offset=16, recon="tfp",
        attention="soam", model="spikecodec-base", model_sha256=SHA, quality=3.0,
        sensor=SensorParams(threshold=2.0, reset_mechanism="mod", tau=50.0, seed=7),
    )
    values.update(changes)
    return StreamHeader(**values)


def make_stream(num_planes: int = 100, header_planes: int = 0) -> tuple[list[bytes], list]:
    """Records of a 100-plane stream (centres 16, 48, 80) and the objects they encode."""
    header = make_header(header_planes)
    centres = list(range(header.offset, num_planes, header.window))
    payloads = [bytes(range(i, i + 20 + 7 * i)) for i in range(len(centres))]
    records = [header_record(header)]
    expected: list = [header]
    for i, (centre, payload) in enumerate(zip(centres, payloads)):
        records.append(scene_record(i, centre, payload))
        expected.append(SceneRecord(i, centre, payload))
    records.append(end_record(num_planes, len(centres)))
    expected.append(EndRecord(num_planes, len(centres)))
    return records, expected


def parse_all(data: bytes, pieces: list[int] | None = None) -> list:
    parser = RecordParser()
    out = []
    cuts = [0, *(pieces or []), len(data)]
    for a, b in zip(cuts, cuts[1:]):
        out += parser.feed(data[a:b])
    parser.close()
    assert parser.bytes_read == len(data)
    return out


def test_round_trip_record_by_record_and_whole():
    records, expected = make_stream()
    parser = RecordParser()
    assert [parser.feed(r) for r in records] == [[e] for e in expected]
    parser.close()
    assert parse_all(b"".join(records)) == expected


@pytest.mark.parametrize("intra_period", [1, 32])
def test_header_round_trips_in_a_compact_binary_body(intra_period):
    header = make_header(301)
    if intra_period > 1:
        header = make_header(301, intra_period=intra_period, inter_sha256="cd" * 32, inter_offset=1.5, quality=2.7)
    body = header.to_bytes()
    assert StreamHeader.from_bytes(body) == header
    assert len(body) == 86 + (1 + 3) + (1 + 4) + 1 + len(header.model) + 32 * (1 + (intra_period > 1))


@pytest.mark.parametrize(
    "changes, message",
    [({"height": 2**32}, "header field out of range"), ({"model": "m" * 256}, "longer than 255 bytes")],
)
def test_headers_the_binary_layout_cannot_hold_are_refused(changes, message):
    with pytest.raises(BitstreamError, match=message):
        make_header(**changes).to_bytes()


def _header_body(**changes) -> bytearray:
    """The header body of ``make_header()`` with bytes replaced: ``{offset: bytes}``."""
    body = bytearray(make_header().to_bytes())
    for at, value in changes.values():
        body[at : at + len(value)] = value
    return body


@given(st.lists(st.integers(0, 10_000), max_size=12))
@settings(max_examples=60, deadline=None)
def test_any_split_of_the_byte_stream_parses_the_same(cuts):
    records, expected = make_stream()
    data = b"".join(records)
    assert parse_all(data, sorted(c % (len(data) + 1) for c in cuts)) == expected


def test_file_reading(tmp_path):
    records, expected = make_stream(header_planes=100)
    path = tmp_path / "x.spkc"
    path.write_bytes(b"".join(records))
    assert list(iter_file_records(path, chunk_bytes=7)) == expected


ERROR = re.compile(
    r"^(record \d+ \((header|end|scene \d+, centre \d+(, or end)?)\) at byte \d+: .*CRC mismatch.*"
    r"|not a \.spkc stream: bad magic .*|unknown version \d+ .*)$"
)


@pytest.mark.parametrize("header_planes", [0, 100])
def test_every_byte_flip_is_reported_with_its_record(header_planes):
    data = b"".join(make_stream(header_planes=header_planes)[0])
    for pos in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            corrupt = bytearray(data)
            corrupt[pos] ^= mask
            with pytest.raises(BitstreamError) as info:
                parse_all(bytes(corrupt))
            assert ERROR.match(str(info.value)), (pos, mask, str(info.value))


def test_flip_names_the_scene_record():
    records, _ = make_stream()
    data = bytearray(b"".join(records))
    data[len(records[0]) + len(records[1]) + 20] ^= 0x10  # inside scene 1's body
    with pytest.raises(BitstreamError, match=r"^record 2 \(scene 1, centre 48\) at byte \d+: body CRC mismatch$"):
        parse_all(bytes(data))


def test_corrupt_length_field_is_caught_before_reading_the_body():
    records, _ = make_stream()
    data = bytearray(b"".join(records))
    data[len(records[0]) + 1] ^= 0x40  # high byte of scene 0's length: would ask for 1 GiB
    with pytest.raises(BitstreamError, match=r"record 1 \(scene 0, centre 16, or end\) .*frame CRC mismatch"):
        parse_all(bytes(data))


def test_every_truncation_is_reported():
    records, _ = make_stream()
    data = b"".join(records)
    boundaries = {sum(len(r) for r in records[: i + 1]): i for i in range(len(records))}
    for n in range(len(data)):
        with pytest.raises(BitstreamError) as info:
            parse_all(data[:n])
        message = str(info.value)
        if n == 0:
            assert message == "empty stream: no .spkc header"
        elif n in boundaries:
            after = "the header" if boundaries[n] == 0 else f"scene {boundaries[n] - 1}"
            assert message == f"missing end record: stream truncated after {after}"
        else:
            assert re.match(r"^truncated in record \d+ \(.+\) at byte \d+: ", message), (n, message)


def test_truncation_inside_a_scene_names_it():
    records, _ = make_stream()
    data = b"".join(records[:3]) + records[3][:-2]
    with pytest.raises(BitstreamError, match=r"^truncated in record 3 \(scene 2, centre 80\) at byte \d+: \d+ of \d+ bytes$"):
        parse_all(data)


@pytest.mark.parametrize("version", [1, 2, 3, 4, FORMAT_VERSION + 1])
def test_other_versions_are_refused(version):
    """Earlier formats (2: integer motion vectors) and later ones are refused, never misread."""
    data = bytearray(b"".join(make_stream()[0]))
    data[4:6] = struct.pack(">H", version)
    with pytest.raises(BitstreamError, match=rf"^unknown version {version} \(this build reads version {FORMAT_VERSION}\)"):
        parse_all(bytes(data))


def _stream_with(*middle: bytes, header: StreamHeader | None = None) -> bytes:
    return header_record(header or make_header()) + b"".join(middle)


@pytest.mark.parametrize(
    "data, message",
    [
        (_stream_with(scene_record(1, 48, b"x")), r"record 1 .*got scene 1 at centre 48, expected scene 0 at centre 16"),
        (_stream_with(scene_record(0, 17, b"x")), r"got scene 0 at centre 17, expected scene 0 at centre 16"),
        (_stream_with(scene_record(0, 16, b"x"), end_record(100, 1)), r"record 2 \(end\).*100 planes need 3 scenes"),
        (_stream_with(end_record(100, 0), end_record(100, 0)), r"record 1 \(end\).*100 planes need 3 scenes"),
        (_stream_with(scene_record(0, 16, b""), end_record(20, 1)) + b"\0", r"1 bytes of trailing data after the end record"),
        (_stream_with(end_record(16, 0)), r"record 1 \(end\).*no scene: 16 planes end before the first centre 16"),
        (_stream_with(frame(KIND_HEADER, make_header().to_bytes())), r"record 1 .*second header record"),
        (header_record(make_header())[6:], r"not a \.spkc stream: bad magic"),
        (_stream_with(frame(ord("Z"), b"")), r"record 1 .*unknown record kind 0x5a"),
        (_stream_with(frame(KIND_SCENE, b"abc")), r"scene body of 3 bytes is shorter"),
        (_stream_with(end_record(90, 3), header=make_header(100)), r"record 1 \(end\).*90 planes, but the header says 100"),
        (_stream_with(scene_record(0, 16, b""), header=make_header(10)), r"centre 16 is beyond the header's 10 planes"),
    ],
)
def test_inconsistent_streams_with_valid_crcs(data, message):
    with pytest.raises(BitstreamError, match=message):
        parse_all(data)


def test_stream_must_start_with_a_header():
    data = header_record(make_header())[:6] + scene_record(0, 16, b"x")
    with pytest.raises(BitstreamError, match=r"record 0 \(header\).*expected the header record, got a scene record"):
        parse_all(data)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff", "shorter than its 86-byte fixed part"),
        (bytes(_header_body(height=(0, b"\0\0\0\0"))), "'height' must be a positive integer"),
        (bytes(_header_body(window=(16, b"\0\0\0\0"))), "'window' must be a positive integer"),
        (bytes(_header_body(reset=(60, b"\x07"))), "'sensor': unknown reset mechanism 7"),
        (bytes(_header_body(threshold=(44, struct.pack(">d", -1.0)))), "'sensor'"),
        (bytes(_header_body(name=(87, b"\xff"))), "not valid UTF-8"),
        (bytes(_header_body(name_length=(86, b"\xf0"))), "truncated inside its names"),
        (make_header().to_bytes()[:-1], "its fields need"),
        (make_header().to_bytes() + b"\0", "its fields need"),
    ],
)
def test_bad_header_fields(body, message):
    data = header_record(make_header())[:6] + frame(KIND_HEADER, body)
    with pytest.raises(BitstreamError, match=r"record 0 \(header\).*" + re.escape(message)):
        parse_all(data)
