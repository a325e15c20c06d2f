"""The .spkc container (format 6): records, header, coding order rules, corruption and truncation.

Streams here carry placeholder payloads (the container never looks inside them); the
scene codecs' payloads are tested in test_prediction.py and test_pipeline.py.
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.bitstream import (
    FORMAT_VERSION,
    MODE_B,
    MODE_INTRA,
    MODE_P,
    EndRecord,
    RecordParser,
    SceneRecord,
    StreamHeader,
    end_record,
    header_record,
    iter_file_records,
    scene_record,
)
from codec.bitstream.payloads import pack_latents, pack_predicted, unpack_latents, unpack_predicted
from codec.bitstream.records import KIND_END, KIND_HEADER, KIND_SCENE, crc8, frame, quality_code, quality_value
from codec.bitstream.varint import MAX_VARINT_BYTES, read_uvarint, uvarint
from codec.errors import BitstreamError
from codec.options import GOP_STRUCTURES, MAX_GOP_SIZE
from codec.pipeline.gop import bisection
from codec.sensor import SensorParams

SHA, INTER_SHA = "ab" * 32, "cd" * 32
#: byte offsets of fields in the header body (the fixed part is 81 bytes, names follow)
FIXED_BYTES = 81
OFFSETS = {"height": 0, "width": 4, "num_planes": 8, "window": 16, "offset": 20, "quality": 24,
           "intra_period": 32, "gop": 36, "gop_size": 37, "threshold": 39, "reset": 55, "init": 64, "names": 81}


def make_header(num_planes: int = 0, **changes) -> StreamHeader:
    """A random-access header (gop size 4, intra period 8): scene ``i`` centred on ``16 + 32 i``."""
    values = dict(
        height=250, width=400, num_planes=num_planes, window=32, offset=16, recon="tfp",
        attention="soam", model="spikecodec-base", model_sha256=SHA, quality=3.0,
        sensor=SensorParams(threshold=2.0, reset_mechanism="mod", tau=50.0, seed=7),
        intra_period=8, gop="random-access", gop_size=4, inter_sha256=INTER_SHA,
    )
    values.update(changes)
    return StreamHeader(**values)


#: 9 scenes (273 planes: centres 16 .. 272) in random-access coding order:
#: (index, mode, quality, references the parser must name)
RA_SCENES = [
    (0, MODE_INTRA, 3.0, ()), (4, MODE_P, 3.0, (0,)), (2, MODE_B, 1.5, (0, 4)), (1, MODE_B, 1.0, (0, 2)),
    (3, MODE_B, 1.0, (2, 4)), (8, MODE_INTRA, 3.0, ()), (6, MODE_B, 1.5, (4, 8)), (5, MODE_B, 1.0, (4, 6)),
    (7, MODE_B, 1.0, (6, 8)),
]
RA_PLANES = 273


def payload(index: int) -> bytes:
    return bytes(b % 256 for b in range(index, index + 20 + 7 * (index % 10)))


def make_stream(header_planes: int = 0, scenes=RA_SCENES, num_planes: int = RA_PLANES,
                **header_changes) -> tuple[list[bytes], list]:
    """Records of a stream in coding order and the objects the parser must return for them."""
    header = make_header(header_planes, **header_changes)
    records, expected = [header_record(header)], [header]
    for index, mode, quality, references in scenes:
        records.append(scene_record(index, mode, quality, payload(index)))
        expected.append(SceneRecord(index, header.offset + index * header.window, mode, quality, payload(index),
                                    references))
    records.append(end_record(num_planes, len(scenes)))
    expected.append(EndRecord(num_planes, len(scenes)))
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
    assert parser.num_scenes == 9 and parser.next_index == 9 and parser.ended
    assert parse_all(b"".join(records)) == expected


def test_records_come_in_coding_order_and_name_their_references():
    """The record order is the bisection order; the parser names, for each predicted scene, the
    decoded scenes it is predicted from, and they are the ends of the interval it bisects."""
    _, expected = make_stream()
    scenes = [r for r in expected if isinstance(r, SceneRecord)]
    assert [r.index for r in scenes] == [0, 4, 2, 1, 3, 8, 6, 5, 7]
    assert [r.centre for r in scenes] == [16 + 32 * r.index for r in scenes]
    in_gop = [(i, (a, b)) for first, last in ((0, 4), (4, 8)) for i, _, a, b in bisection(first, last)]
    assert [(r.index, r.references) for r in scenes if r.mode == MODE_B] == in_gop


@given(st.integers(0, 40), st.integers(1, MAX_GOP_SIZE))
@settings(max_examples=60, deadline=None)
def test_the_parser_names_the_references_bisection_uses(first, span):
    """Any GOP coded anchor first, then in bisection order: every B scene's references as the
    parser names them are the ones :func:`bisection` codes it from."""
    last = first + span
    scenes = [(i, MODE_INTRA, 3.0, ()) for i in range(first + 1)]
    scenes += [(last, MODE_P, 3.0, (first,))]
    scenes += [(i, MODE_B, 1.0, (a, b)) for i, _, a, b in bisection(first, last)]
    header = dict(gop_size=max(span, 1), intra_period=10_000)
    records, expected = make_stream(scenes=scenes, num_planes=16 + 32 * last + 1, **header)
    assert parse_all(b"".join(records)) == expected


@pytest.mark.parametrize("gop, gop_size", [("intra", 1), ("low-delay", 1), ("random-access", 4),
                                           ("random-access", MAX_GOP_SIZE)])
def test_header_round_trips_in_a_compact_binary_body(gop, gop_size):
    inter = "" if gop == "intra" else INTER_SHA
    header = make_header(301, gop=gop, gop_size=gop_size, inter_sha256=inter, quality=2.7,
                         intra_period=1 if gop == "intra" else 32)
    body = header.to_bytes()
    assert StreamHeader.from_bytes(body) == header
    digests = 1 if gop == "intra" else 2
    assert len(body) == FIXED_BYTES + (1 + 3) + (1 + 4) + 1 + len(header.model) + 32 * digests
    assert body[OFFSETS["gop"]] == GOP_STRUCTURES.index(gop)
    assert struct.unpack_from(">H", body, OFFSETS["gop_size"]) == (gop_size,)
    assert not hasattr(header, "inter_offset")  # each scene record carries its own quality


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"gop": "bidirectional"}, "'gop' must be one of random-access, low-delay, intra"),
        ({"gop_size": 0}, r"'gop_size' must be in 1\.\.64 for random-access, got 0"),
        ({"gop_size": MAX_GOP_SIZE + 1}, r"'gop_size' must be in 1\.\.64 for random-access, got 65"),
        ({"gop": "low-delay", "gop_size": 2}, r"'gop_size' must be in 1\.\.1 for low-delay, got 2"),
        ({"gop": "intra", "gop_size": 1}, "'inter_sha256' must be empty for an all-intra stream"),
        ({"gop": "low-delay", "gop_size": 1, "inter_sha256": ""}, "'inter_sha256' must be 64 lowercase hex digits"),
        ({"intra_period": 0}, "'intra_period' must be a positive integer"),
        ({"quality": float("nan")}, "'quality' must be a finite number"),
        ({"model_sha256": "AB" * 32}, "'model_sha256' must be 64 lowercase hex digits"),
    ],
)
def test_inconsistent_header_fields_are_refused(changes, message):
    with pytest.raises(BitstreamError, match=message):
        make_header(**changes)


@pytest.mark.parametrize(
    "changes, message",
    [({"height": 2**32}, "header field out of range"), ({"model": "m" * 256}, "longer than 255 bytes")],
)
def test_headers_the_binary_layout_cannot_hold_are_refused(changes, message):
    with pytest.raises(BitstreamError, match=message):
        make_header(**changes).to_bytes()


@given(st.lists(st.integers(0, 10_000), max_size=12))
@settings(max_examples=60, deadline=None)
def test_any_split_of_the_byte_stream_parses_the_same(cuts):
    records, expected = make_stream()
    data = b"".join(records)
    assert parse_all(data, sorted(c % (len(data) + 1) for c in cuts)) == expected


def test_file_reading(tmp_path):
    records, expected = make_stream(header_planes=RA_PLANES)
    path = tmp_path / "x.spkc"
    path.write_bytes(b"".join(records))
    assert list(iter_file_records(path, chunk_bytes=7)) == expected
    with open(path, "rb") as f:
        assert list(iter_file_records(f)) == expected


#: every error a damaged stream may give: named by its record (a corrupt length that passes the
#: 8-bit head CRC by chance asks for more bytes than the stream has), or a bad preamble
ERROR = re.compile(
    r"^((truncated in )?record \d+ \((header|end|scene record \d+(, or end)?)\) at byte \d+: .+"
    rf"|not a \.spkc stream: bad magic .*|unknown version \d+ \(this build reads version {FORMAT_VERSION}\))$"
)


@pytest.mark.parametrize("header_planes", [0, RA_PLANES])
def test_every_byte_flip_is_reported_with_its_record(header_planes):
    data = b"".join(make_stream(header_planes=header_planes)[0])
    for pos in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            corrupt = bytearray(data)
            corrupt[pos] ^= mask
            with pytest.raises(BitstreamError) as info:
                parse_all(bytes(corrupt))
            assert ERROR.match(str(info.value)), (pos, mask, str(info.value))


def test_every_body_byte_is_covered_by_the_record_crc():
    """A flip anywhere in a scene record's body (mode, index, quality, payload) fails its CRC."""
    records, _ = make_stream()
    start = sum(map(len, records[:3]))  # record 3: scene 2, the third scene record
    body = range(start + 3, start + len(records[3]) - 4)  # after kind, 1-byte length, head CRC
    data = b"".join(records)
    for pos in body:
        for mask in (0x01, 0x10, 0x80):
            corrupt = bytearray(data)
            corrupt[pos] ^= mask
            expected = rf"^record 3 \(scene record 2\) at byte {start}: body CRC mismatch$"
            with pytest.raises(BitstreamError, match=expected):
                parse_all(bytes(corrupt))


def test_corrupt_length_field_is_caught_before_reading_the_body():
    records, _ = make_stream()
    at = len(records[0])
    assert records[1][0] == KIND_SCENE and records[1][1] < 0x80  # a one-byte length
    data = bytearray(b"".join(records))
    data[at + 1] ^= 0x40  # the body would be 64 bytes longer
    expected = rf"^record 1 \(scene record 0, or end\) at byte {at}: record head CRC mismatch"
    with pytest.raises(BitstreamError, match=expected):
        RecordParser().feed(bytes(data[: at + 3]))  # the head alone is enough to know


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
            n_scenes = boundaries[n]
            after = "the header" if n_scenes == 0 else f"{n_scenes} scene record" + ("" if n_scenes == 1 else "s")
            assert message == f"missing end record: stream truncated after {after}"
        else:
            assert re.match(r"^truncated in record \d+ \(.+\) at byte \d+: ", message), (n, message)


def test_truncation_inside_a_scene_names_it():
    records, _ = make_stream()
    data = b"".join(records[:3]) + records[3][:-2]
    start = sum(map(len, records[:3]))
    with pytest.raises(BitstreamError, match=rf"^truncated in record 3 \(scene record 2, or end\) at byte {start}: "
                                             rf"{len(records[3]) - 2} of {len(records[3])} bytes$"):
        parse_all(data)


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7, FORMAT_VERSION + 1])
def test_other_versions_are_refused(version):
    """Earlier formats (5: one record per scene in time order; 6: the exact layer's first spike
    model; 7: its two-layer mixing without neighbour state) and later ones are refused, never misread."""
    assert FORMAT_VERSION == 8
    data = bytearray(b"".join(make_stream()[0]))
    data[4:6] = struct.pack(">H", version)
    with pytest.raises(BitstreamError, match=rf"^unknown version {version} \(this build reads version 8\)$"):
        parse_all(bytes(data))


def _stream_with(*middle: bytes, header: StreamHeader | None = None) -> bytes:
    return header_record(header or make_header()) + b"".join(middle)


def _scene(index: int, mode: int = MODE_INTRA, quality: float = 3.0) -> bytes:
    return scene_record(index, mode, quality, b"x")


LOW_DELAY = make_header(gop="low-delay", gop_size=1)
ALL_INTRA = make_header(gop="intra", gop_size=1, intra_period=1, inter_sha256="")


@pytest.mark.parametrize(
    "data, message",
    [
        (_stream_with(_scene(0), _scene(0)), r"record 2 \(scene record 1\) at byte \d+: scene 0 was already coded$"),
        (_stream_with(_scene(0), _scene(4), _scene(4)), r"record 3 \(scene record 2\).*: scene 4 was already coded$"),
        (_stream_with(_scene(4)), r"record 1 \(scene record 0\).*: scene 4 comes more than 4 scenes ahead of "
                                  r"scene 0, which is still missing$"),
        (_stream_with(_scene(0), _scene(2, MODE_P), _scene(6)),
         r"record 3 \(scene record 2\).*: scene 6 comes more than 4 scenes ahead of scene 1, which is still missing$"),
        (_stream_with(_scene(1, MODE_P)),
         r"record 1 \(scene record 0\).*: P scene 1 has no decoded reference before it$"),
        (_stream_with(_scene(0), _scene(2, MODE_B)), r"B scene 2 has no decoded reference on both sides$"),
        (_stream_with(_scene(0), _scene(8, MODE_P), header=make_header(gop_size=8)),
         r"record 2 \(scene record 1\).*: scene 8 is P, but the intra period 8 makes it intra$"),
        (_stream_with(_scene(0, MODE_B)), r"scene 0 is B, but the intra period 8 makes it intra$"),
        (_stream_with(_scene(0), _scene(1, MODE_B), header=LOW_DELAY), r"B scene 1 in a low-delay stream$"),
        (_stream_with(_scene(0), _scene(1, MODE_P), header=ALL_INTRA), r"scene 1 is P, but the intra period 1"),
        (_stream_with(_scene(0), _scene(1, MODE_P), header=make_header(gop="intra", gop_size=1, inter_sha256="")),
         r"record 2 \(scene record 1\).*: P scene 1 in a intra stream$"),
        (_stream_with(frame(KIND_SCENE, b"\x00\x80\x00\x30")),
         r"^record 1 \(scene record 0\) at byte \d+: scene index: varint with a redundant zero byte$"),
        (_stream_with(_scene(0), end_record(RA_PLANES, 1)),
         r"record 2 \(end\).*: 273 planes need 9 scenes; end record counts 1, stream has 1$"),
        (_stream_with(_scene(0), end_record(100, 2)),
         r"record 2 \(end\).*: 100 planes need 3 scenes; end record counts 2"),
        (_stream_with(_scene(0), _scene(2, MODE_P), end_record(80, 2)), r"record 3 \(end\).*: scene 1 is missing$"),
        (_stream_with(end_record(100, 0), end_record(100, 0)), r"record 1 \(end\).*100 planes need 3 scenes"),
        (_stream_with(_scene(0), end_record(20, 1)) + b"\0",
         r"^1 bytes of trailing data after the end record \(byte \d+\)$"),
        (_stream_with(end_record(16, 0)), r"record 1 \(end\).*no scene: 16 planes end before the first centre 16"),
        (_stream_with(frame(KIND_HEADER, make_header().to_bytes())), r"record 1 .*second header record"),
        (header_record(make_header())[6:], r"not a \.spkc stream: bad magic"),
        (_stream_with(frame(ord("Z"), b"")), r"record 1 .*unknown record kind 0x5a"),
        (_stream_with(frame(KIND_SCENE, b"\x00\x05")),
         r"record 1 \(scene record 0\).*: scene body of 2 bytes is shorter"),
        (_stream_with(frame(KIND_SCENE, b"")), r"scene body of 0 bytes is shorter than its head"),
        (_stream_with(frame(KIND_SCENE, b"\x03\x00\x30")), r"record 1 \(scene record 0\).*: unknown scene mode 3$"),
        (_stream_with(frame(KIND_SCENE, b"\x00\x00\x00")), r"record 1 \(scene record 0\).*: scene quality code 0$"),
        (_stream_with(frame(KIND_END, b"\0" * 11)), r"record 1 \(end\).*end body has 11 bytes, expected 12"),
        (_stream_with(end_record(90, 3), header=make_header(100)),
         r"record 1 \(end\).*90 planes, but the header says 100"),
        (_stream_with(_scene(0), _scene(4, MODE_P), header=make_header(100)),
         r"record 2 \(scene record 1\).*: scene 4 \(centre 144\) is beyond the header's 100 planes$"),
    ],
)
def test_inconsistent_streams_with_valid_crcs(data, message):
    with pytest.raises(BitstreamError, match=message):
        parse_all(data)


def test_stream_must_start_with_a_header():
    data = header_record(make_header())[:6] + _scene(0)
    with pytest.raises(BitstreamError, match=r"record 0 \(header\).*expected the header record, got a scene record"):
        parse_all(data)


def _header_body(**changes: bytes) -> bytes:
    """The header body of ``make_header()`` with the bytes at the named field offsets replaced."""
    body = bytearray(make_header().to_bytes())
    for name, value in changes.items():
        at = OFFSETS[name.rstrip("_")]
        body[at : at + len(value)] = value
    return bytes(body)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff", f"shorter than its {FIXED_BYTES}-byte fixed part"),
        (_header_body(height=b"\0\0\0\0"), "'height' must be a positive integer"),
        (_header_body(window=b"\0\0\0\0"), "'window' must be a positive integer"),
        (_header_body(intra_period=b"\0\0\0\0"), "'intra_period' must be a positive integer"),
        (_header_body(gop=b"\x03"), "'gop': unknown structure 3"),
        (_header_body(gop_size=b"\0\x41"), r"'gop_size' must be in 1\.\.64 for random-access, got 65"),
        (_header_body(gop=b"\x01"), r"'gop_size' must be in 1\.\.1 for low-delay, got 4"),
        (_header_body(quality=struct.pack(">d", float("inf"))), "'quality' must be a finite number"),
        (_header_body(reset=b"\x07"), "'sensor': unknown reset mechanism 7"),
        (_header_body(threshold=struct.pack(">d", -1.0)), "'sensor'"),
        (_header_body(names=b"\x03\xff"), "not valid UTF-8"),
        (_header_body(names=b"\xf0"), "truncated inside its names"),
        (_header_body(gop=b"\x02"), r"header has \d+ bytes, its fields need \d+"),  # intra: one digest
        (make_header().to_bytes()[:-1], "its fields need"),
        (make_header().to_bytes() + b"\0", "its fields need"),
    ],
)
def test_bad_header_fields(body, message):
    data = header_record(make_header())[:6] + frame(KIND_HEADER, body)
    with pytest.raises(BitstreamError, match=r"^record 0 \(header\) at byte 6: .*" + message):
        parse_all(data)


def test_scene_records_carry_mode_index_and_quality_in_a_short_head():
    record = scene_record(300, MODE_B, 2.5, b"payload")
    body = bytes([MODE_B]) + uvarint(300) + bytes([quality_code(2.5)]) + b"payload"
    head = bytes([KIND_SCENE, len(body)])
    assert record == head + bytes([crc8(head)]) + body + struct.pack(">I", zlib.crc32(body))
    with pytest.raises(BitstreamError, match="unknown scene mode 3"):
        scene_record(0, 3, 3.0, b"")


@given(st.integers(1, 255))
@settings(deadline=None)
def test_scene_qualities_are_sixteenths_in_one_byte(code):
    quality = quality_value(code)
    assert quality_code(quality) == code
    assert quality * 16 == int(quality * 16)  # a multiple of 1/16
    (header, scene) = RecordParser().feed(_stream_with(scene_record(0, MODE_INTRA, quality, b"p")))
    assert scene.quality == quality


@pytest.mark.parametrize("code", [0, 256])
def test_scene_qualities_outside_the_byte_are_refused(code):
    with pytest.raises(BitstreamError, match="outside the coded range"):
        quality_code(quality_value(code))


@pytest.mark.parametrize("value, encoded", [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"),
                                            (300, b"\xac\x02"), (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"),
                                            (2**63 - 1, b"\xff" * 8 + b"\x7f")])
def test_varint_edge_cases(value, encoded):
    assert uvarint(value) == encoded
    assert read_uvarint(encoded) == (value, len(encoded))
    assert read_uvarint(b"??" + encoded + b"tail", 2) == (value, 2 + len(encoded))
    for n in range(len(encoded)):
        assert read_uvarint(encoded[:n]) is None  # ends inside the varint: wait for more


@pytest.mark.parametrize("value", [-1, 2**63, 2**70])
def test_varints_out_of_range_are_refused(value):
    with pytest.raises(BitstreamError, match=f"varint value {value} out of range"):
        uvarint(value)


@pytest.mark.parametrize("data, message", [
    (b"\x80\x00", "redundant zero byte"), (b"\xff\x80\x00", "redundant zero byte"),
    (b"\x80" * MAX_VARINT_BYTES, "longer than 9 bytes"), (b"\xff" * 12, "longer than 9 bytes"),
])
def test_malformed_varints_are_refused(data, message):
    with pytest.raises(BitstreamError, match=message):
        read_uvarint(data)


@given(st.integers(0, 2**63 - 1))
@settings(deadline=None)
def test_varint_round_trip(value):
    encoded = uvarint(value)
    assert read_uvarint(encoded) == (value, len(encoded))
    assert len(encoded) == max(1, -(-value.bit_length() // 7))


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=4))
@settings(deadline=None)
def test_latent_strings_round_trip(strings):
    packed = pack_latents(strings)
    assert unpack_latents(packed, len(strings)) == strings
    assert len(packed) == sum(map(len, strings)) + sum(len(uvarint(len(s))) for s in strings[:-1])


def test_truncated_latent_strings_are_refused():
    packed = pack_latents([b"a" * 200, b"b" * 10])
    with pytest.raises(BitstreamError, match="latent strings truncated: string 0 does not fit in 150 bytes"):
        unpack_latents(packed[:150], 2)
    with pytest.raises(BitstreamError, match="string 0 does not fit in 0 bytes"):
        unpack_latents(b"", 2)


@given(st.binary(max_size=200), st.binary(max_size=200))
@settings(deadline=None)
def test_predicted_payloads_round_trip(motion, residual):
    assert unpack_predicted(pack_predicted(motion, residual)) == (motion, residual)


@pytest.mark.parametrize("payload", [b"", b"\x05abcd", b"\x80"])
def test_truncated_predicted_payloads_are_refused(payload):
    with pytest.raises(BitstreamError, match="predicted payload truncated: its motion does not fit"):
        unpack_predicted(payload)
