"""Encoder/Decoder: streaming invariance, bounded buffering, file round trips, corruption."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from codec.bitstream import FORMAT_VERSION, RecordParser, SceneRecord, StreamHeader, header_record
from codec.bitstream.records import KIND_HEADER, PREAMBLE, frame
from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from codec.io import open_spikes, open_writer
from codec.pipeline import Decoder, Encoder, EncoderConfig, decode_file, encode_file
from codec.models import SceneCodec, load_scene_codec
from codec.models.registry import build_model, get_config, load_model
from codec.options import ATTENTION_MODULES
from codec.reconstruct import get_reconstructor, scene_centres
from codec.reconstruct.pngs import scene_filename
from codec.regenerate import regenerate
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate

H, W, T = 64, 64, 96
SENSOR = SensorParams(seed=3)
CONFIG = EncoderConfig(quality=3, window=16)


def make_spikes(num_planes: int = T, seed: int = 0) -> np.ndarray:
    """``(T, H, W)`` uint8 spikes of the synthetic source (a still on a fast random pan/zoom path)."""
    source = SyntheticSource(H, W, frame_period=20.0, seed=seed, speed=20.0)
    return np.concatenate(list(simulate(source, num_planes, SENSOR)))


@pytest.fixture(scope="module")
def spikes() -> np.ndarray:
    return make_spikes()


def encode_stream(planes: np.ndarray, config: EncoderConfig = CONFIG, cuts=(), num_planes: int = 0) -> list[bytes]:
    encoder = Encoder(config, H, W, SENSOR, num_planes=num_planes)
    records = [encoder.header_record()]
    bounds = [0, *cuts, len(planes)]
    for a, b in zip(bounds, bounds[1:]):
        records += encoder.push(planes[a:b])
    return records + encoder.finish()


@pytest.fixture(scope="module")
def stream(spikes) -> list[bytes]:
    return encode_stream(spikes)


@pytest.fixture(scope="module")
def spkc_file(tmp_path_factory, stream):
    path = tmp_path_factory.mktemp("pipeline") / "x.spkc"
    path.write_bytes(b"".join(stream))
    return path


@pytest.mark.slow
@given(st.lists(st.integers(0, T), max_size=8))
@settings(max_examples=6, deadline=None)
def test_any_block_sizes_give_the_same_bytes(spikes, stream, cuts):
    assert encode_stream(spikes, cuts=sorted(cuts)) == stream


def test_one_record_per_scene_and_an_end_record(stream):
    centres = scene_centres(T, CONFIG.window)
    assert len(stream) == 1 + len(centres) + 1


def test_scenes_leave_as_soon_as_complete_and_the_buffer_stays_bounded(spikes):
    encoder = Encoder(CONFIG, H, W, SENSOR)
    before, after = encoder.recon.context
    emitted = []
    for t in range(T):
        emitted += [t] * len(encoder.push(spikes[t : t + 1]))
        assert encoder.buffered_planes <= before + after + 1
    centres = scene_centres(T, CONFIG.window)
    complete = [c + after for c in centres if c + after < T]
    assert emitted == complete
    assert len(encoder.finish()) == len(centres) - len(complete) + 1


@pytest.fixture(scope="module", params=ATTENTION_MODULES)
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
    for module in ("codec.pipeline.encoder", "codec.pipeline.decoder"):
        monkeypatch.setattr(f"{module}.load_scene_codec", lambda name, attention: attention_codec)
    config = EncoderConfig(quality=3, window=16, attention=attention_codec.attention, intra_period=1)
    whole = encode_stream(spikes, config)
    assert encode_stream(spikes, config, cuts=[1, 17, 40, 41, 90]) == whole

    parser = RecordParser()
    scenes = [r for r in parser.feed(b"".join(whole)) if isinstance(r, SceneRecord)]
    recon, k = get_reconstructor("tfp", 16), 16
    bidirectional = attention_codec.attention == "bisoam"
    for record in scenes:
        c = record.centre
        scene = recon.reconstruct(spikes[max(0, c - 8) : c + 8], c - max(0, c - 8))
        after = spikes[c + 1 : c + 1 + k] if bidirectional else None
        assert record.payload == attention_codec.encode_scene(scene, 3.0, spikes[max(0, c - k) : c], after)
    assert len(scenes) == len(scene_centres(T, 16))
    decoder = Decoder()
    assert np.concatenate([decoder.push(r) for r in whole]).shape == (T, H, W)


def test_shipped_bisoam_model_round_trip(spikes):
    stream = encode_stream(spikes, EncoderConfig(quality=3, window=16, attention="bisoam"))
    decoder = Decoder()
    assert np.concatenate([decoder.push(r) for r in stream]).shape == (T, H, W)
    assert decoder.header.attention == "bisoam"
    assert decoder.header.model_sha256 == load_scene_codec("spikecodec-base", "bisoam").weights_sha256


def test_header_carries_the_stream_parameters(stream):
    header = Decoder()
    header.push(stream[0])
    h = header.header
    assert (h.height, h.width, h.num_planes, h.window, h.offset) == (H, W, 0, 16, 8)
    assert (h.recon, h.attention, h.model, h.quality, h.sensor) == ("tfp", "none", "spikecodec-base", 3.0, SENSOR)
    assert len(h.model_sha256) == 64


@pytest.fixture(scope="module")
def decoded(stream) -> tuple[np.ndarray, list[tuple[int, np.ndarray]], dict]:
    """The stream decoded record by record: planes, ``(centre, 8-bit scene)`` pairs, finish() stats."""
    scenes = []
    decoder = Decoder(on_scene=lambda c, s: scenes.append((c, s)))
    planes = np.concatenate([decoder.push(r) for r in stream])
    return planes, scenes, decoder.finish()


def test_record_by_record_decoding_equals_decode_file(tmp_path, stream, spkc_file, decoded):
    planes, scenes, stats = decoded
    assert stats == {"planes": T, "scenes": len(stream) - 2, "bytes": sum(map(len, stream))}
    assert planes.shape == (T, H, W) and planes.dtype == np.uint8 and planes.max() == 1
    summary = decode_file(spkc_file, tmp_path / "y.h5", scenes_dir=tmp_path / "scenes")
    with open_spikes(tmp_path / "y.h5") as reader:
        assert reader.sensor == SENSOR
        np.testing.assert_array_equal(reader.read(0, T), planes)
    assert summary["planes"] == T and summary["bits"] == 8 * spkc_file.stat().st_size
    assert [c for c, _ in scenes] == scene_centres(T, CONFIG.window)
    for centre, scene in scenes:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "scenes" / scene_filename(centre))), scene)


def test_regeneration_uses_the_saved_8bit_scenes(decoded):
    planes, scenes, _ = decoded
    values = [s.astype(np.float32) / 255 for _, s in scenes]
    np.testing.assert_array_equal(regenerate(values, [c for c, _ in scenes], T, SENSOR), planes)


def test_decoded_spikes_follow_the_original_firing_rate(spikes, decoded):
    """Wiring check (scene order, orientation, sensor scaling); without the codec the correlation is 0.9999,
    the bound leaves room for the scene codec's loss at quality 3."""
    original, regenerated = spikes.mean(axis=0), decoded[0].mean(axis=0)
    assert abs(regenerated.mean() - original.mean()) < 0.05 * original.mean()
    assert np.corrcoef(original.ravel(), regenerated.ravel())[0, 1] > 0.7


def test_file_round_trip_with_summaries(tmp_path, spikes, stream):
    src = tmp_path / "in.dat"
    with open_writer(src, H, W, SENSOR) as writer:
        writer.write(spikes)
    enc = encode_file(src, tmp_path / "x.spkc", CONFIG, height=H, width=W)
    dec = decode_file(tmp_path / "x.spkc", tmp_path / "y.dat")
    assert enc["bits"] == dec["bits"] == 8 * (tmp_path / "x.spkc").stat().st_size
    assert enc["scenes"] == dec["scenes"] == len(scene_centres(T, 16))
    assert enc["planes"] == dec["planes"] == T
    assert enc["bpsp"] == pytest.approx(enc["bits"] / (T * H * W))
    assert enc["bpp"] == pytest.approx(enc["bits"] / (enc["scenes"] * H * W))
    assert (tmp_path / "y.dat").stat().st_size == src.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.dat", "x.spkc", "y.dat"]
    # a .dat keeps no sensor parameters, so only the scene records match the in-memory stream
    assert (tmp_path / "x.spkc").read_bytes().endswith(b"".join(stream[1:]))


def flip_positions(stream: list[bytes]) -> list[int]:
    """Every header byte, every record's frame (kind, length, CRC) and scene head, every CRC trailer."""
    ends = np.cumsum([len(r) for r in stream]).tolist()
    positions = set(range(ends[0]))
    for start, stop in zip(ends[:-1], ends[1:]):
        positions |= set(range(start, min(stop, start + 9 + 12))) | set(range(stop - 4, stop))
    return sorted(positions)


def test_every_flip_in_a_real_stream_is_caught_by_the_parser(stream):
    data = b"".join(stream)
    positions = set(flip_positions(stream)) | set(range(0, len(data), 5))
    for pos in sorted(positions):
        corrupt = bytearray(data)
        corrupt[pos] ^= 0x5A
        parser = RecordParser()
        with pytest.raises(BitstreamError, match=r"^(record \d+ \(|not a \.spkc|unknown version)"):
            parser.feed(bytes(corrupt))
            parser.close()


def test_every_truncation_of_a_real_stream_is_reported(stream):
    data = b"".join(stream)
    for n in range(len(data)):
        parser = RecordParser()
        with pytest.raises(BitstreamError, match=r"^(empty stream|truncated in record \d+ \(|missing end record: )"):
            parser.feed(data[:n])
            parser.close()


@given(st.data())
@settings(max_examples=10, deadline=None)
def test_flipped_files_fail_to_decode_and_leave_no_output(tmp_path_factory, stream, spkc_file, data):
    raw = spkc_file.read_bytes()
    pos = data.draw(st.sampled_from(flip_positions(stream)) | st.integers(0, len(raw) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    tmp = tmp_path_factory.mktemp("flip")
    corrupt = bytearray(raw)
    corrupt[pos] ^= mask
    (tmp / "bad.spkc").write_bytes(bytes(corrupt))
    with pytest.raises(BitstreamError, match=r"^(record \d+ \(|not a \.spkc|unknown version)"):
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
    with pytest.raises(BitstreamError, match=rf"^missing end record: stream truncated after scene {len(stream) - 3}$"):
        decoder.finish()


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
    unknown = PREAMBLE.pack(b"SPKC", FORMAT_VERSION) + frame(KIND_HEADER, StreamHeader(**{**header.__dict__, "model": "nope"}).to_bytes())
    with pytest.raises(BitstreamError, match="stream needs scene codec 'nope'"):
        Decoder().push(unknown)


def test_encoder_rejects_bad_input(spikes):
    encoder = Encoder(CONFIG, H, W, SENSOR, num_planes=10)
    with pytest.raises(SpikeFormatError, match=r"expected \(t, 64, 64\) planes"):
        encoder.push(spikes[:2, :, :50])
    with pytest.raises(SpikeFormatError, match="must be 0/1"):
        encoder.push(spikes[:2] * 3)
    with pytest.raises(SpikeFormatError, match="more planes than the 10 announced"):
        encoder.push(spikes[:11])
    encoder.push(spikes[:4])
    with pytest.raises(SpikeFormatError, match="stream ended after 4 of 10 announced planes"):
        encoder.finish()
    with pytest.raises(SpikecodecError, match=r"quality 99 outside the model's range \[1, 6\]"):
        Encoder(EncoderConfig(quality=99), H, W)
