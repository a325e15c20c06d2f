"""Encoder/Decoder: GOP structures and coding order, the quality cascade, streaming invariance,
bounded buffering, bit-exact decoding (against the encoder's mirror, across splits, processes and
thread counts), file round trips, corruption, truncation and missing references."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from codec.bitstream import (
    FORMAT_VERSION,
    MODE_B,
    MODE_INTRA,
    MODE_P,
    RecordParser,
    SceneRecord,
    StreamHeader,
    header_record,
)
from codec.bitstream.payloads import unpack_predicted
from codec.bitstream.records import KIND_HEADER, PREAMBLE, frame
from codec.bitstream.varint import uvarint
from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from codec.io import open_spikes, open_writer
from codec.models import SceneCodec, load_inter_codec, load_scene_codec
from codec.models.registry import build_model, get_config, load_model
from codec.pipeline import Decoder, Encoder, EncoderConfig, decode_file, encode_file
from codec.pipeline.gop import bisection, layer_quality
from codec.pipeline.prediction import coded_quality
from codec.reconstruct import get_reconstructor, scene_centres
from codec.reconstruct.pngs import scene_filename
from codec.regenerate import regenerate
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate

REPO = Path(__file__).resolve().parents[1]
H, W, T = 64, 96, 176  # 11 scenes, centres 8, 24, ..., 168
SENSOR = SensorParams(seed=3)
#: random access with every feature: intra anchors (0, 8), P anchors (4; 10, the last scene, at the
#: end of the stream), two B layers, and a quality cascade with its own step at every level
CONFIG = EncoderConfig(quality=3, window=16, gop="random-access", gop_size=4, intra_period=8,
                       inter_offset=1.0, layer_step=0.5, anchor_offset=0.5)
LOW_DELAY = replace(CONFIG, gop="low-delay")
ALL_INTRA = replace(CONFIG, gop="intra")
CODING_ORDER = [0, 4, 2, 1, 3, 8, 6, 5, 7, 10, 9]
CENTRES = scene_centres(T, CONFIG.window)
FLIP = r"^(record \d+ \(|truncated in record \d+ \(|not a \.spkc|unknown version)"


def make_spikes(num_planes: int = T, seed: int = 0) -> np.ndarray:
    """``(T, H, W)`` uint8 spikes of the synthetic source (a still on a fast random pan/zoom path)."""
    source = SyntheticSource(H, W, frame_period=20.0, seed=seed, speed=20.0)
    return np.concatenate(list(simulate(source, num_planes, SENSOR)))


@pytest.fixture(scope="module")
def spikes() -> np.ndarray:
    return make_spikes()


def encode_stream(planes: np.ndarray, config: EncoderConfig = CONFIG, cuts=(), num_planes: int = 0,
                  mirror: dict | None = None) -> list[bytes]:
    """Records of ``planes`` pushed in blocks split at ``cuts``; ``mirror`` collects the encoder's
    decoded scenes by index."""
    encoder = Encoder(config, H, W, SENSOR, num_planes=num_planes)
    if mirror is not None:
        encoder.predictor.on_coded = lambda index, scene: mirror.__setitem__(index, scene.copy())
    records = [encoder.header_record()]
    bounds = [0, *cuts, len(planes)]
    for a, b in zip(bounds, bounds[1:]):
        records += encoder.push(planes[a:b])
    return records + encoder.finish()


def parse(records: list[bytes]) -> list:
    parser = RecordParser()
    out = [r for record in records for r in parser.feed(record)]
    parser.close()
    return out


def scene_records(records: list[bytes]) -> list[SceneRecord]:
    return [r for r in parse(records) if isinstance(r, SceneRecord)]


@pytest.fixture(scope="module")
def mirrored_stream(spikes) -> tuple[list[bytes], dict[int, np.ndarray]]:
    mirror: dict[int, np.ndarray] = {}
    return encode_stream(spikes, mirror=mirror), mirror


@pytest.fixture(scope="module")
def stream(mirrored_stream) -> list[bytes]:
    return mirrored_stream[0]


@pytest.fixture(scope="module")
def spkc_file(tmp_path_factory, stream):
    path = tmp_path_factory.mktemp("pipeline") / "x.spkc"
    path.write_bytes(b"".join(stream))
    return path


def decode_records(records, on_scene=None) -> tuple[np.ndarray, dict]:
    decoder = Decoder(on_scene=on_scene)
    planes = np.concatenate([decoder.push(r) for r in records])
    return planes, decoder.finish()


@pytest.fixture(scope="module")
def decoded(stream) -> tuple[np.ndarray, list[tuple[int, np.ndarray]], dict]:
    """The stream decoded record by record: planes, ``(centre, 8-bit scene)`` pairs, finish() stats."""
    scenes = []
    planes, stats = decode_records(stream, lambda c, s: scenes.append((c, s)))
    return planes, scenes, stats


def test_records_come_in_bisection_order_and_scenes_leave_in_time_order(stream, decoded):
    records = scene_records(stream)
    assert len(stream) == 1 + len(CENTRES) + 1
    assert [r.index for r in records] == CODING_ORDER
    assert [r.centre for r in records] == [CENTRES[i] for i in CODING_ORDER]
    anchors = {0: (), 4: (0,), 8: (), 10: (8,)}
    for record in records:
        if record.index in (0, 8):
            assert record.mode == MODE_INTRA  # the intra period
        elif record.mode != MODE_INTRA:  # the encoder may fall back to intra
            expected = anchors.get(record.index)
            if expected is None:
                expected = next((a, b) for first, last in ((0, 4), (4, 8), (8, 10))
                                for i, _, a, b in bisection(first, last) if i == record.index)
            assert record.mode == (MODE_P if record.index in anchors else MODE_B)
            assert record.references == expected
    assert sum(r.mode == MODE_B for r in records) >= 5
    planes, scenes, _ = decoded
    assert [c for c, _ in scenes] == CENTRES  # time order out of the decoder
    assert planes.shape == (T, H, W)


def test_per_layer_qualities_follow_the_cascade(stream):
    """Intra anchors at the stream's quality, P anchors ``anchor_offset`` below, B layer ``n`` at
    ``layer_quality`` (``inter_offset`` below, then ``layer_step`` per layer), as coded in a record."""
    layers = {0: 0, 4: 0, 8: 0, 10: 0}
    for first, last in ((0, 4), (4, 8), (8, 10)):
        layers.update({i: layer for i, layer, _, _ in bisection(first, last)})
    assert sorted(layers.values()) == [0] * 4 + [1] * 3 + [2] * 4
    intra, inter = load_scene_codec(), load_inter_codec()
    for record in scene_records(stream):
        layer = layers[record.index]
        if layer:
            quality = layer_quality(CONFIG.quality, layer, CONFIG.inter_offset, CONFIG.layer_step)
        else:
            quality = CONFIG.quality - (CONFIG.anchor_offset if record.index % CONFIG.intra_period else 0.0)
        low = (intra if record.mode == MODE_INTRA else inter).quality_range[0]
        assert record.quality == coded_quality(max(quality, low)), record
    assert {r.quality for r in scene_records(stream)} == {3.0, 2.5, 2.0, 1.5}


def test_low_qualities_are_clamped_to_the_codecs_range(spikes):
    """At quality 1.25 the cascade asks for 0.75 (P anchor), 0.25 and -0.25 (B layers): each scene
    is coded at the lowest quality its codec has instead."""
    config = replace(CONFIG, quality=1.25)
    intra, inter = load_scene_codec(), load_inter_codec()
    records = scene_records(encode_stream(spikes[:72], config))  # 4 scenes: 0, 3 (the last: an anchor), 1, 2
    assert [r.index for r in records] == [0, 3, 1, 2]
    layers = {0: 0, 3: 0, **{i: layer for i, layer, _, _ in bisection(0, 3)}}
    for record in records:
        asked = layer_quality(1.25, layers[record.index], 1.0, 0.5) - 0.5 * (record.index == 3)
        low = (intra if record.mode == MODE_INTRA else inter).quality_range[0]
        assert record.quality == coded_quality(max(asked, low)), record


def test_decoded_scenes_are_the_encoders_mirror_bit_for_bit(mirrored_stream, decoded):
    _, mirror = mirrored_stream
    _, scenes, _ = decoded
    assert sorted(mirror) == list(range(len(CENTRES)))
    for (centre, scene), index in zip(scenes, range(len(CENTRES))):
        assert centre == CENTRES[index]
        np.testing.assert_array_equal(scene, mirror[index])


@pytest.fixture(scope="module")
def low_delay(spikes) -> tuple[list[bytes], list[int | None], dict[int, np.ndarray]]:
    """The low-delay stream pushed plane by plane: records, the plane after which each scene record
    left, and the encoder's mirror."""
    encoder, mirror = Encoder(LOW_DELAY, H, W, SENSOR), dict[int, np.ndarray]()
    encoder.predictor.on_coded = lambda index, scene: mirror.__setitem__(index, scene.copy())
    records, emitted = [encoder.header_record()], list[int | None]()
    for t in range(T):
        new = encoder.push(spikes[t : t + 1])
        records += new
        emitted += [t] * len(new)
    tail = encoder.finish()
    return records + tail, emitted + [None] * (len(tail) - 1), mirror


def _emission(config: EncoderConfig) -> list[int | None]:
    """The plane after which each scene record (in coding order) leaves a plane-by-plane encoder:
    scene ``i`` is filtered once scene ``i + 1`` is reconstructed (the temporal filter's radius),
    and coded at once (intra, low delay) or with its anchor (random access); the rest at finish."""
    _, after = get_reconstructor(CONFIG.recon, CONFIG.window).context
    ready = [CENTRES[i + 1] + after if i + 1 < len(CENTRES) and CENTRES[i + 1] + after < T else None
             for i in range(len(CENTRES))]
    if config.gop != "random-access":
        return ready
    anchors = [-(-i // config.gop_size) * config.gop_size for i in CODING_ORDER]
    return [ready[a] if a < len(CENTRES) else None for a in anchors]


def test_low_delay_codes_a_p_chain_in_time_order_as_soon_as_each_scene_is_filtered(spikes, low_delay, decoded):
    records, emitted, mirror = low_delay
    scenes = scene_records(records)
    assert [r.index for r in scenes] == list(range(len(CENTRES)))
    header = RecordParser().feed(records[0])[0]
    assert (header.gop, header.gop_size, header.intra_period) == ("low-delay", 1, 8)
    for record in scenes:
        if record.index % 8 == 0:
            assert record.mode == MODE_INTRA and record.quality == 3.0
        elif record.mode == MODE_P:
            assert record.references == (record.index - 1,) and record.quality == 3.0 - LOW_DELAY.inter_offset
    assert sum(r.mode == MODE_P for r in scenes) >= 7
    assert emitted == _emission(LOW_DELAY)
    kept = []
    planes, _ = decode_records(records, lambda c, s: kept.append(s))
    assert planes.shape == (T, H, W) and len(kept) == len(CENTRES)
    for index, scene in enumerate(kept):
        np.testing.assert_array_equal(scene, mirror[index])


def test_random_access_holds_scenes_until_their_anchor_and_the_buffer_stays_bounded(spikes, stream):
    encoder = Encoder(CONFIG, H, W, SENSOR)
    before, after = encoder.recon.context
    records, emitted = [encoder.header_record()], []
    for t in range(T):
        new = encoder.push(spikes[t : t + 1])
        records += new
        emitted += [t] * len(new)
        assert encoder.buffered_planes <= before + after + 1
    tail = encoder.finish()
    assert emitted + [None] * (len(tail) - 1) == _emission(CONFIG)
    assert records + tail == stream  # plane-by-plane pushes give the bytes of one push


@pytest.mark.slow
@given(st.lists(st.integers(0, T), max_size=8))
@settings(max_examples=3, deadline=None)
def test_any_block_sizes_give_the_same_bytes(spikes, stream, cuts):
    assert encode_stream(spikes, cuts=sorted(cuts)) == stream


@pytest.fixture(scope="module")
def all_intra(spikes) -> list[bytes]:
    return encode_stream(spikes, ALL_INTRA)


def test_all_intra_structure_and_the_cost_of_each_structure(all_intra, stream, low_delay):
    header, scenes = RecordParser().feed(all_intra[0])[0], scene_records(all_intra)
    assert (header.gop, header.gop_size, header.intra_period, header.inter_sha256) == ("intra", 1, 1, "")
    assert [r.index for r in scenes] == list(range(len(CENTRES)))
    assert {(r.mode, r.quality, r.references) for r in scenes} == {(MODE_INTRA, 3.0, ())}
    intra_bytes = sum(map(len, all_intra))
    assert sum(map(len, stream)) < 0.7 * intra_bytes
    assert sum(map(len, low_delay[0])) < 0.7 * intra_bytes


@pytest.mark.parametrize("changes, expected", [
    ({}, ("random-access", 4, 8, True)),
    ({"gop": "low-delay"}, ("low-delay", 1, 8, True)),
    ({"gop": "intra"}, ("intra", 1, 1, False)),
    ({"intra_period": 1}, ("intra", 1, 1, False)),  # nothing may be predicted: an all-intra stream
    ({"gop_size": 64, "intra_period": 32}, ("random-access", 64, 32, True)),
])
def test_the_header_carries_the_structure(changes, expected):
    header = Encoder(replace(CONFIG, **changes), H, W, SENSOR).header
    assert (header.gop, header.gop_size, header.intra_period, bool(header.inter_sha256)) == expected
    if header.inter_sha256:
        assert header.inter_sha256 == load_inter_codec().weights_sha256
    assert not hasattr(header, "inter_offset")


def test_header_carries_the_stream_parameters(stream):
    decoder = Decoder()
    decoder.push(stream[0])
    h = decoder.header
    assert (h.height, h.width, h.num_planes, h.window, h.offset) == (H, W, 0, 16, 8)
    assert (h.recon, h.attention, h.model, h.quality, h.sensor) == ("tfp", "none", "spikecodec-base", 3.0, SENSOR)
    assert h.model_sha256 == load_scene_codec().weights_sha256


def test_record_by_record_decoding_equals_decode_file(tmp_path, stream, spkc_file, decoded):
    planes, scenes, stats = decoded
    assert stats == {"planes": T, "scenes": len(CENTRES), "bytes": sum(map(len, stream))}
    assert planes.shape == (T, H, W) and planes.dtype == np.uint8 and planes.max() == 1
    summary = decode_file(spkc_file, tmp_path / "y.h5", scenes_dir=tmp_path / "scenes")
    with open_spikes(tmp_path / "y.h5") as reader:
        assert reader.sensor == SENSOR
        np.testing.assert_array_equal(reader.read(0, T), planes)
    assert summary["planes"] == T and summary["bits"] == 8 * spkc_file.stat().st_size
    for centre, scene in scenes:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "scenes" / scene_filename(centre))), scene)


@given(st.lists(st.integers(0, 1 << 20), max_size=10))
@settings(max_examples=4, deadline=None)
def test_any_split_of_the_bytes_decodes_to_the_same_planes(stream, decoded, cuts):
    """Coding order in, time order out, whatever the pieces the bytes arrive in."""
    data = b"".join(stream)
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    scenes = []
    decoder = Decoder(on_scene=lambda c, s: scenes.append((c, s)))
    pieces = [decoder.push(data[a:b]) for a, b in zip(bounds, bounds[1:])]
    planes = np.concatenate([p for p in pieces if len(p)])  # before the header: (0, 0, 0)
    assert decoder.finish() == decoded[2]
    np.testing.assert_array_equal(planes, decoded[0])
    assert [c for c, _ in scenes] == CENTRES
    for (_, scene), (_, expected) in zip(scenes, decoded[1]):
        np.testing.assert_array_equal(scene, expected)


def test_regeneration_uses_the_saved_8bit_scenes(decoded):
    planes, scenes, _ = decoded
    values = [s.astype(np.float32) / 255 for _, s in scenes]
    np.testing.assert_array_equal(regenerate(values, [c for c, _ in scenes], T, SENSOR), planes)


def test_decoded_spikes_follow_the_original_firing_rate(spikes, decoded):
    """Wiring check (scene order, orientation, sensor scaling); without the codec the correlation is 0.9999,
    the bound leaves room for the scene codec's loss at quality 3 and the B layers at 2 and 1.5."""
    original, regenerated = spikes.mean(axis=0), decoded[0].mean(axis=0)
    assert abs(regenerated.mean() - original.mean()) < 0.05 * original.mean()
    assert np.corrcoef(original.ravel(), regenerated.ravel())[0, 1] > 0.7


CODER = """
import sys
import numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
sys.path.insert(0, sys.argv[2])
from test_pipeline import CONFIG, encode_stream
from codec.pipeline import Decoder
spikes, encoded, to_decode, planes, scenes = sys.argv[3:8]
open(encoded, "wb").write(b"".join(encode_stream(np.load(spikes), CONFIG)))
kept = []
decoder = Decoder(on_scene=lambda c, s: kept.append(s))
out = decoder.push(open(to_decode, "rb").read())
decoder.finish()
np.save(planes, out)
np.save(scenes, np.stack(kept))
"""


@pytest.mark.slow
def test_random_access_coding_is_bit_exact_across_processes_and_thread_counts(tmp_path, spikes, stream, decoded):
    """Two processes with 1 and 2 torch/OpenMP threads encode the same spikes and decode this
    (pytest) process's stream: same bytes, same scenes, same planes everywhere."""
    np.save(tmp_path / "spikes.npy", spikes)
    (tmp_path / "here.spkc").write_bytes(b"".join(stream))
    for threads in (1, 2):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        files = [tmp_path / f"{name}{threads}" for name in ("enc", "planes", "scenes")]
        subprocess.run([sys.executable, "-c", CODER, str(threads), str(REPO / "tests"), str(tmp_path / "spikes.npy"),
                        str(files[0]), str(tmp_path / "here.spkc"), f"{files[1]}.npy", f"{files[2]}.npy"],
                       cwd=REPO, env=env, check=True, timeout=1200)
        assert files[0].read_bytes() == b"".join(stream), threads
        np.testing.assert_array_equal(np.load(f"{files[1]}.npy"), decoded[0])
        np.testing.assert_array_equal(np.load(f"{files[2]}.npy"), np.stack([s for _, s in decoded[1]]))


@pytest.fixture(scope="module", params=["soam", "bisoam"])
def attention_codec(request) -> SceneCodec:
    """SOAM/BiSOAM around the shipped base codec with a random non-zero attention head, so that
    every payload depends on the spikes the encoder hands over (a zero head would hide wrong windows)."""
    base, digest, record = load_model("spikecodec-base")
    model = build_model(get_config("spikecodec-base"), request.param)
    model.load_state_dict(base.state_dict(), strict=False)
    torch.manual_seed(0)
    torch.nn.init.normal_(model.attention.head.weight, std=0.5)
    model = model.eval().to(memory_format=torch.channels_last)
    return SceneCodec(model, "spikecodec-base", request.param, digest, record)


@pytest.mark.slow
def test_attention_gets_the_k_planes_around_each_centre_whatever_the_split(spikes, attention_codec, monkeypatch):
    """Random access (intra anchors 0, 4, 8): an anchor waits for its B scenes' spikes to arrive,
    and is still coded with its own K planes before (and after) its centre."""
    for module in ("codec.pipeline.encoder", "codec.pipeline.decoder"):
        monkeypatch.setattr(f"{module}.load_scene_codec", lambda name, attention, *_, **__: attention_codec)
    config = replace(CONFIG, attention=attention_codec.attention, intra_period=4, filter_radius=0)
    whole = encode_stream(spikes, config)
    assert encode_stream(spikes, config, cuts=[1, 17, 40, 41, 90]) == whole

    recon, k = get_reconstructor("tfp", 16), 16
    bidirectional = attention_codec.attention == "bisoam"
    intra = [r for r in scene_records(whole) if r.mode == MODE_INTRA]
    assert {0, 4, 8} <= {r.index for r in intra}
    for record in intra:
        c = record.centre
        scene = recon.reconstruct(spikes[max(0, c - 8) : c + 8], c - max(0, c - 8))
        after = spikes[c + 1 : c + 1 + k] if bidirectional else None
        assert record.payload == attention_codec.encode_scene(scene, record.quality, spikes[max(0, c - k) : c], after)
    planes, _ = decode_records(whole)
    assert planes.shape == (T, H, W)


def test_shipped_bisoam_model_round_trip(spikes):
    records = encode_stream(spikes[:104], replace(CONFIG, attention="bisoam"))
    decoder = Decoder()
    assert np.concatenate([decoder.push(r) for r in records]).shape == (104, H, W)
    assert decoder.header.attention == "bisoam"
    assert decoder.header.model_sha256 == load_scene_codec("spikecodec-base", "bisoam").weights_sha256


def test_file_round_trip_with_summaries(tmp_path, spikes, stream):
    src = tmp_path / "in.dat"
    with open_writer(src, H, W, SENSOR) as writer:
        writer.write(spikes)
    enc = encode_file(src, tmp_path / "x.spkc", CONFIG, height=H, width=W)
    dec = decode_file(tmp_path / "x.spkc", tmp_path / "y.dat")
    assert enc["bits"] == dec["bits"] == 8 * (tmp_path / "x.spkc").stat().st_size
    assert enc["scenes"] == dec["scenes"] == len(CENTRES)
    assert enc["planes"] == dec["planes"] == T
    assert enc["bpsp"] == pytest.approx(enc["bits"] / (T * H * W))
    assert enc["bpp"] == pytest.approx(enc["bits"] / (enc["scenes"] * H * W))
    assert (tmp_path / "y.dat").stat().st_size == src.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.dat", "x.spkc", "y.dat"]
    # a .dat keeps no sensor parameters, so only the scene records match the in-memory stream
    assert (tmp_path / "x.spkc").read_bytes().endswith(b"".join(stream[1:]))


def record_spans(records: list[bytes]) -> list[tuple[int, int]]:
    ends = np.cumsum([len(r) for r in records]).tolist()
    return list(zip([0, *ends[:-1]], ends))


def motion_positions(records: list[bytes]) -> list[int]:
    """Stream offsets of every motion-vector byte of the P and B scene records."""
    positions: list[int] = []
    for (start, stop), record in zip(record_spans(records)[1:-1], scene_records(records)):
        if record.mode != MODE_INTRA:
            motion, _ = unpack_predicted(record.payload)
            at = stop - 4 - len(record.payload) + len(uvarint(len(motion)))  # payload: length, motion, latents
            positions += range(at, at + len(motion))
    return positions


def test_every_byte_of_every_scene_record_is_covered_by_its_crc(stream):
    """Single-byte flips anywhere in a scene record (head, mode, index, quality, motion vectors,
    residual latents, CRC) fail the parser, naming the record (issue 14 item 6)."""
    data = b"".join(stream)
    flipped = []
    for number, (start, stop) in enumerate(record_spans(stream)[1:-1], start=1):
        flipped += range(start, stop)
        for pos in range(start, stop):
            corrupt = bytearray(data)
            corrupt[pos] ^= 0x5A
            with pytest.raises(BitstreamError, match=rf"^(truncated in )?record {number} \(scene record {number - 1}"):
                parse([bytes(corrupt)])
    motion = motion_positions(stream)
    assert len(motion) > 20 and set(motion) <= set(flipped)  # P and B vectors were among the flipped bytes


def test_header_and_end_flips_are_caught_by_the_parser(stream):
    data = b"".join(stream)
    (_, header_end), (end_start, _) = record_spans(stream)[0], record_spans(stream)[-1]
    for pos in [*range(header_end), *range(end_start, len(data))]:
        corrupt = bytearray(data)
        corrupt[pos] ^= 0x5A
        with pytest.raises(BitstreamError, match=FLIP):
            parse([bytes(corrupt)])


def test_every_truncation_of_a_real_stream_is_reported(stream):
    data = b"".join(stream)
    for n in range(len(data)):
        parser = RecordParser()
        with pytest.raises(BitstreamError, match=r"^(empty stream|truncated in record \d+ \(|missing end record: )"):
            parser.feed(data[:n])
            parser.close()


@given(st.data())
@settings(max_examples=8, deadline=None)
def test_flipped_files_fail_to_decode_and_leave_no_output(tmp_path_factory, stream, spkc_file, data):
    raw = spkc_file.read_bytes()
    pos = data.draw(st.sampled_from(motion_positions(stream)) | st.integers(0, len(raw) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    tmp = tmp_path_factory.mktemp("flip")
    corrupt = bytearray(raw)
    corrupt[pos] ^= mask
    (tmp / "bad.spkc").write_bytes(bytes(corrupt))
    with pytest.raises(BitstreamError, match=FLIP):
        decode_file(tmp / "bad.spkc", tmp / "out.dat", scenes_dir=tmp / "scenes")
    assert not (tmp / "out.dat").exists()


def test_truncation_is_reported_and_leaves_no_output(tmp_path, spkc_file):
    data = spkc_file.read_bytes()
    bad = tmp_path / "cut.spkc"
    for n in [0, 3, 6, 20, len(data) // 3, len(data) // 2, len(data) - 17, len(data) - 1]:
        bad.write_bytes(data[:n])
        with pytest.raises(BitstreamError, match=r"^(empty stream|truncated in record \d+|missing end record)"):
            decode_file(bad, tmp_path / "out.h5")
        assert not (tmp_path / "out.h5").exists()


def test_decoder_finish_requires_the_end_record(stream):
    decoder = Decoder()
    for record in stream[:-1]:
        decoder.push(record)
    expected = rf"^missing end record: stream truncated after {len(CENTRES)} scene records$"
    with pytest.raises(BitstreamError, match=expected):
        decoder.finish()


def _without(records: list[bytes], index: int) -> list[bytes]:
    """``records`` without the record of scene ``index``."""
    scenes = scene_records(records)
    drop = 1 + next(n for n, r in enumerate(scenes) if r.index == index)
    return records[:drop] + records[drop + 1 :]


@pytest.mark.parametrize("dropped, message", [
    (0, r"^record 1 \(scene record 0\) at byte \d+: scene 4 comes more than 4 scenes ahead of scene 0, "
        r"which is still missing$"),
    (4, r"^record 2 \(scene record 1\) at byte \d+: B scene 2 has no decoded reference on both sides$"),
    (2, r"^record 5 \(scene record 4\) at byte \d+: scene 8 comes more than 4 scenes ahead of scene 2, "
        r"which is still missing$"),
    (10, r"^record 10 \(scene record 9\) at byte \d+: B scene 9 has no decoded reference on both sides$"),
    (7, r"^record 11 \(end\) at byte \d+: scene 7 is missing$"),
])
def test_a_missing_reference_scene_is_reported_by_record(stream, dropped, message):
    """A scene record lost from the stream: the decoder stops at the record that shows it, naming
    the scene that is missing (or the reference a predicted scene lacks)."""
    decoder = Decoder()
    with pytest.raises(BitstreamError, match=message):
        for record in _without(stream, dropped):
            decoder.push(record)
        decoder.finish()


def test_a_missing_scene_in_a_low_delay_stream_is_reported_by_record(low_delay):
    with pytest.raises(BitstreamError, match=r"^record 4 \(scene record 3\) at byte \d+: scene 4 comes more than 1 "
                                             r"scenes ahead of scene 3, which is still missing$"):
        decode_records(_without(low_delay[0], 3))


def test_a_damaged_reference_scene_is_reported_by_record(stream):
    """A flipped byte in the P anchor that B scenes depend on: the decoder stops at that record,
    before decoding anything predicted from it."""
    start, stop = record_spans(stream)[2]
    damaged = bytearray(stream[2])
    damaged[len(damaged) // 2] ^= 0x01
    decoder = Decoder()
    decoder.push(stream[0] + stream[1])
    with pytest.raises(BitstreamError, match=rf"^record 2 \(scene record 1\) at byte {start}: body CRC mismatch$"):
        decoder.push(bytes(damaged) + b"".join(stream[3:]))


def test_stream_for_other_weights_is_refused(stream):
    decoder = Decoder()
    decoder.push(stream[0])
    header = decoder.header
    forged = StreamHeader(**{**header.__dict__, "model_sha256": "0" * 64})
    with pytest.raises(BitstreamError, match=r"encoded with 'spikecodec-base' \(none\) weights sha256 000000000000"):
        Decoder().push(header_record(forged))
    forged = StreamHeader(**{**header.__dict__, "inter_sha256": "0" * 64})
    with pytest.raises(BitstreamError, match=r"encoded with 'spikecodec-base' \(inter\) weights sha256 000000000000"):
        Decoder().push(header_record(forged))
    nope = StreamHeader(**{**header.__dict__, "model": "nope"})
    unknown = PREAMBLE.pack(b"SPKC", FORMAT_VERSION) + frame(KIND_HEADER, nope.to_bytes())
    with pytest.raises(BitstreamError, match="stream needs scene codec 'nope'"):
        Decoder().push(unknown)


def test_encoder_rejects_bad_input(spikes):
    encoder = Encoder(CONFIG, H, W, SENSOR, num_planes=10)
    with pytest.raises(SpikeFormatError, match=r"expected \(t, 64, 96\) planes"):
        encoder.push(spikes[:2, :, :50])
    with pytest.raises(SpikeFormatError, match="must be 0/1"):
        encoder.push(spikes[:2] * 3)
    with pytest.raises(SpikeFormatError, match="more planes than the 10 announced"):
        encoder.push(spikes[:11])
    encoder.push(spikes[:4])
    with pytest.raises(SpikeFormatError, match="stream ended after 4 of 10 announced planes"):
        encoder.finish()
    low, high = load_scene_codec().quality_range
    with pytest.raises(SpikecodecError, match=rf"quality 99 outside the model's range \[{low:g}, {high:g}\]"):
        Encoder(EncoderConfig(quality=99), H, W)
    with pytest.raises(SpikecodecError, match="unknown GOP structure 'bidirectional'"):
        EncoderConfig(quality=3, gop="bidirectional")
    with pytest.raises(SpikecodecError, match=r"gop size must be an integer in 1\.\.64, got 65"):
        EncoderConfig(quality=3, gop_size=65)
    with pytest.raises(SpikecodecError, match=r"intra period must be an integer >= 1, got 0"):
        EncoderConfig(quality=3, intra_period=0)
