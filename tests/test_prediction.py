"""Inter coding: block motion, the encoder's mode decision and its decoder mirror, and the
stream rules that keep inter scenes decodable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from codec.bitstream import MODE_INTER, MODE_INTRA, RecordParser, SceneRecord, StreamHeader, header_record
from codec.bitstream.records import scene_record
from codec.errors import BitstreamError, SpikecodecError
from codec.models import load_inter_codec, load_scene_codec
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.pipeline import motion
from codec.options import DEFAULT_INTER_OFFSET
from codec.pipeline.motion import (
    BLOCK,
    MAX_DISPLACEMENT,
    MAX_VECTOR,
    compensate,
    estimate_motion,
    grid_shape,
    pack_motion,
    unpack_motion,
)
from codec.pipeline.prediction import PredictiveEncoder, SceneReconstructor, quantize_scene, scene_values
from codec.sensor import SensorParams


@pytest.fixture(scope="module")
def photo(shared_data) -> np.ndarray:
    """``(160, 224)`` float32 gray crop of a Kodak photo in [0, 1]."""
    with Image.open(shared_data / "images" / "kodak" / "kodim05.png") as img:
        return np.asarray(img.convert("L"), dtype=np.float32)[100:260, 200:424] / 255.0


@pytest.mark.parametrize("shift", [(3, 5), (-11, 7), (20, -18), (0, 0)])
def test_motion_finds_a_global_shift(photo, shift):
    photo8 = quantize_scene(photo)
    moved = np.roll(photo, shift, axis=(0, 1))
    motion = estimate_motion(photo8, moved)
    assert motion.shape == (*grid_shape(*photo.shape), 2) and motion.dtype == np.int8
    inner = motion[1:-1, 1:-1].reshape(-1, 2)
    # flat blocks may keep a shorter vector; textured ones must find the shift (in half pixels)
    assert np.mean(np.all(inner == -2 * np.array(shift), axis=1)) > 0.75
    inside = (slice(BLOCK, -BLOCK), slice(BLOCK, -BLOCK))
    error = np.abs(scene_values(compensate(photo8, motion)) - moved)[inside].mean()
    assert error < 0.01
    if shift != (0, 0):
        assert error < 0.2 * np.abs(photo - moved)[inside].mean()


def test_motion_finds_half_pixel_shifts(photo):
    """A scene half a pixel down and right of the reference is found as (-1, -1) half pixels
    and predicted better than any integer vector could."""
    photo8 = quantize_scene(photo)
    a = photo8.astype(np.int32)
    moved8 = (a[:-1, :-1] + a[:-1, 1:] + a[1:, :-1] + a[1:, 1:] + 2) >> 2  # sample (y + 1/2, x + 1/2)
    moved = scene_values(np.pad(moved8, ((0, 1), (0, 1)), mode="edge").astype(np.uint8))
    motion = estimate_motion(photo8, moved)
    inner = motion[1:-1, 1:-1].reshape(-1, 2)
    assert np.mean(np.all(inner == (1, 1), axis=1)) > 0.75
    inside = (slice(BLOCK, -BLOCK), slice(BLOCK, -BLOCK))
    half = np.abs(scene_values(compensate(photo8, motion)) - moved)[inside].mean()
    integer = np.abs(scene_values(compensate(photo8, motion // 2 * 2)) - moved)[inside].mean()
    assert half < 0.001 and half < 0.2 * integer


def test_uniform_motion_compensates_as_an_integer_bilinear_shift_with_replicated_edges():
    h, w = 2 * BLOCK + 8, 3 * BLOCK + 8
    reference = (np.arange(h * w) % 251).astype(np.uint8).reshape(h, w)
    a = reference.astype(np.int32)
    field = np.zeros((*grid_shape(h, w), 2), dtype=np.int8)

    def shifted(vector):
        field[:] = vector
        out = compensate(reference, field)
        assert out.shape == reference.shape and out.dtype == np.uint8
        return out

    assert (shifted((0, 0)) == reference).all()
    assert (shifted((6, -8))[:-3, 4:] == reference[3:, :-4]).all()  # (3, -4) pixels
    assert (shifted((1, 0))[:-1] == (a[:-1] + a[1:] + 1) >> 1).all()  # half a pixel down
    expected = (a[:-2, 2:-1] + a[:-2, 3:] + a[1:-1, 2:-1] + a[1:-1, 3:] + 2) >> 2
    assert (shifted((-3, 5))[2:, :-3] == expected).all()  # (-1.5, 2.5) pixels
    corner = MAX_DISPLACEMENT
    assert (shifted((-MAX_VECTOR, -MAX_VECTOR))[:corner, :corner] == reference[0, 0]).all()


def test_overlapped_compensation_matches_a_per_pixel_definition():
    """Every pixel is the rounded sin^2-weighted mix of the samples of the (up to) four blocks
    whose centres surround it, each moved by its own vector; edge blocks stand in beyond the grid."""
    rng = np.random.default_rng(3)
    h, w = 2 * BLOCK + 8, 3 * BLOCK + 8
    reference = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    hb, wb = grid_shape(h, w)
    field = rng.integers(-9, 10, size=(hb, wb, 2)).astype(np.int8)
    def sample(y, x, vector):
        """The reference at ``(y, x) + vector / 2``: rounded mean of the 1, 2 or 4 nearest pixels."""
        fy, fx = 2 * y + int(vector[0]), 2 * x + int(vector[1])
        taps = [int(reference[min(max(r, 0), h - 1), min(max(c, 0), w - 1)])
                for r in {fy // 2, (fy + 1) // 2} for c in {fx // 2, (fx + 1) // 2}]
        return (sum(taps) + len(taps) // 2) // len(taps)

    def weights(pos, blocks):  # [(block, weight in 64ths)] of the two centres around pixel pos
        upper = (pos - BLOCK // 2) // BLOCK
        ramp = round(64 * np.sin(np.pi * (pos - upper * BLOCK - BLOCK // 2 + 0.5) / (2 * BLOCK)) ** 2)
        return [(min(max(upper, 0), blocks - 1), 64 - ramp), (min(max(upper + 1, 0), blocks - 1), ramp)]

    out = compensate(reference, field)
    for y in range(h):
        for x in range(w):
            total = sum(wy * wx * sample(y, x, field[i, j])
                        for i, wy in weights(y, hb) for j, wx in weights(x, wb))
            assert out[y, x] == (total + 2048) // 4096, (y, x)


def test_motion_vectors_round_trip_and_damage_is_reported():
    rng = np.random.default_rng(0)
    motion = rng.integers(-MAX_VECTOR, MAX_VECTOR + 1, size=(*grid_shape(250, 400), 2)).astype(np.int8)
    data = pack_motion(motion)
    assert (unpack_motion(data, 250, 400) == motion).all()
    with pytest.raises(BitstreamError, match="motion vectors are corrupt"):
        unpack_motion(data[:-3], 250, 400)
    with pytest.raises(BitstreamError, match=r"bits after 8 codes"):  # a 64x64 scene has 2x2 blocks
        unpack_motion(data, 64, 64)
    with pytest.raises(BitstreamError, match=r"code 0 of 8 is truncated or too long"):
        unpack_motion(b"\0" * 3, 64, 64)
    assert len(pack_motion(np.zeros((*grid_shape(250, 400), 2), np.int8))) == 26  # 1 bit per vector component
    with pytest.raises(BitstreamError, match="beyond"):
        unpack_motion(pack_motion(np.full((*grid_shape(64, 64), 2), MAX_VECTOR + 1, dtype=np.int8)), 64, 64)


def _brute_force(current: np.ndarray, area: np.ndarray, radius: int) -> tuple[int, int]:
    """Best offset of ``current`` in ``area`` by the module's rule, one offset at a time."""
    block, best = current.shape[0], (np.inf, (0, 0))
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            cost = np.abs(area[dy : dy + block, dx : dx + block] - current).mean()
            cost += motion.LENGTH_PENALTY * (abs(dy - radius) + abs(dx - radius))
            if cost < best[0] - 1e-6:
                best = (cost, (dy, dx))
    return best[1]


def test_vectorised_searches_match_a_brute_force_search():
    rng = np.random.default_rng(5)
    radius, block = 3, 8
    reference = rng.random((2 * block + 2 * radius, 3 * block + 2 * radius)).astype(np.float32)
    current = np.roll(reference, (1, -2), axis=(0, 1))[radius:-radius, radius:-radius].copy()
    current[:block, :block] = rng.random((block, block))  # one block matching nothing
    found = motion._frame_search(torch.from_numpy(current), torch.from_numpy(reference), radius, block)
    blocks = [(i, j) for i in range(2) for j in range(3)]
    expected = [_brute_force(current[i * block : (i + 1) * block, j * block : (j + 1) * block],
                             reference[i * block : (i + 1) * block + 2 * radius, j * block : (j + 1) * block + 2 * radius],
                             radius) for i, j in blocks]
    assert found.tolist() == [list(e) for e in expected]
    assert found[1:].tolist() == [[radius - 1, radius + 2]] * 5
    patches = torch.stack([torch.from_numpy(current[i * block : (i + 1) * block, j * block : (j + 1) * block]) for i, j in blocks])
    areas = torch.stack([torch.from_numpy(reference[i * block : (i + 1) * block + 2 * radius,
                                                    j * block : (j + 1) * block + 2 * radius]) for i, j in blocks])
    assert motion._block_search(patches, areas, radius, block).tolist() == found.tolist()


def _pan(photo: np.ndarray, steps: int, speed: int = 3) -> list[np.ndarray]:
    """``steps`` 96x128 crops of ``photo`` panning ``speed`` px right per step, scaled to 0.1..0.7."""
    return [0.1 + 0.6 * photo[20:116, 10 + speed * i : 138 + speed * i] for i in range(steps)]


def test_inter_scenes_follow_motion_and_decode_bit_identically(photo):
    intra, inter = load_scene_codec(), load_inter_codec()
    scenes = _pan(photo, 6)
    h, w = scenes[0].shape
    intra_only = PredictiveEncoder(intra, None, 1, h, w, 3.0)
    predicted = PredictiveEncoder(intra, inter, 4, h, w, 3.0)
    decoder = SceneReconstructor(intra, inter, h, w, 3.0)
    intra_decoder = SceneReconstructor(intra, None, h, w, 3.0)
    sizes = {1: 0, 4: 0}
    modes = []

    def psnr(decoded: np.ndarray, scene: np.ndarray) -> float:
        return 10 * np.log10(1 / np.mean((decoded / 255.0 - scene) ** 2))

    for i, scene in enumerate(scenes):
        intra_mode, intra_payload = intra_only.encode(i, scene)
        sizes[1] += len(intra_payload)
        assert intra_only.mirror.reference is None  # all intra: the encoder keeps no reference
        mode, payload = predicted.encode(i, scene)
        modes.append(mode)
        sizes[4] += len(payload)
        assert (decoder.decode(mode, payload) == predicted.mirror.reference).all()
        assert psnr(decoder.reference, scene) > psnr(intra_decoder.decode(intra_mode, intra_payload), scene) - 1.0
    assert modes[0] == modes[4] == MODE_INTRA
    assert modes.count(MODE_INTER) >= 3
    assert sizes[4] < 0.85 * sizes[1]


def test_a_cut_falls_back_to_intra(photo):
    """A cut from a photo to a plain scene: the residual (the photo, negated) costs several times
    what intra coding the plain scene does, so the encoder retries intra and keeps it."""
    intra, inter = load_scene_codec(), load_inter_codec()
    encoder = PredictiveEncoder(intra, inter, 32, 96, 128, 3.0)
    plain = np.tile(np.linspace(0.2, 0.4, 128, dtype=np.float32), (96, 1))
    assert encoder.encode(0, plain)[0] == MODE_INTRA
    assert encoder.encode(1, 0.1 + 0.6 * photo[:96, :128])[0] == MODE_INTER  # cheaper than intra at q3
    mode, payload = encoder.encode(2, plain)
    assert mode == MODE_INTRA and len(payload) == len(intra.encode_scene(plain, 3.0))
    with pytest.raises(SpikecodecError, match=r"scene of shape \(96, 96\), expected \(96, 128\)"):
        encoder.encode(3, photo[:96, :96])


def test_truncated_inter_payloads_are_reported(photo):
    intra, inter = load_scene_codec(), load_inter_codec()
    decoder = SceneReconstructor(intra, inter, 96, 128, 3.0)
    with pytest.raises(BitstreamError, match="inter scene without a previous scene"):
        decoder.decode(MODE_INTER, b"\x00\x00")
    decoder.decode(MODE_INTRA, intra.encode_scene(photo[:96, :128], 3.0))
    with pytest.raises(BitstreamError, match="inter payload truncated: 1 bytes"):
        decoder.decode(MODE_INTER, b"\x05")
    with pytest.raises(BitstreamError, match="motion of 500 bytes does not fit in 12"):
        decoder.decode(MODE_INTER, (500).to_bytes(2, "little") + bytes(10))


def test_inter_needs_an_inter_codec():
    with pytest.raises(SpikecodecError, match="needs an inter codec"):
        PredictiveEncoder(load_scene_codec(), None, 8, 64, 64, 3.0)
    decoder = SceneReconstructor(load_scene_codec(), None, 64, 64, 3.0)
    with pytest.raises(BitstreamError, match="inter scene without an inter codec"):
        decoder.decode(MODE_INTER, b"")
    with pytest.raises(SpikecodecError, match="intra period must be an integer >= 1"):
        EncoderConfig(quality=3, intra_period=0)


@pytest.fixture(scope="module")
def moving_spikes(photo) -> np.ndarray:
    """``(200, 96, 128)`` spikes of a slow pan over the photo."""
    frames = np.stack([0.1 + 0.6 * photo[20:116, 10 + i // 8 : 138 + i // 8] for i in range(200)])
    return SensorParams(init="uniform", seed=3).neurons((96, 128))(frames.astype(np.float64))


def _encode(spikes: np.ndarray, period: int) -> list[bytes]:
    encoder = Encoder(EncoderConfig(quality=3, window=16, intra_period=period), *spikes.shape[1:])
    return [encoder.header_record(), *encoder.push(spikes), *encoder.finish()]


def test_stream_with_inter_scenes_round_trips_and_is_smaller(moving_spikes):
    intra, predicted = _encode(moving_spikes, 1), _encode(moving_spikes, 4)
    records = list(RecordParser().feed(b"".join(predicted)))
    header, scenes = records[0], [r for r in records if isinstance(r, SceneRecord)]
    assert header.intra_period == 4 and header.inter_sha256 == load_inter_codec().weights_sha256
    assert [r.mode for r in scenes][::4] == [MODE_INTRA] * len(scenes[::4])
    assert any(r.mode == MODE_INTER for r in scenes)
    assert sum(map(len, predicted)) < sum(map(len, intra))
    kept = []
    decoder = Decoder(on_scene=lambda centre, scene: kept.append(scene))
    planes = np.concatenate([decoder.push(r) for r in predicted])
    assert planes.shape == moving_spikes.shape
    assert all(s.dtype == np.uint8 for s in kept) and len(kept) == len(scenes)


def test_reader_refuses_an_inter_scene_where_the_period_forces_intra(moving_spikes):
    stream = _encode(moving_spikes, 4)
    header = next(iter(RecordParser().feed(stream[0])))
    bad = scene_record(0, header.offset, b"payload", MODE_INTER)
    with pytest.raises(BitstreamError, match="scene 0 is inter coded, but the intra period 4 makes it intra"):
        RecordParser().feed(stream[0] + bad)
    with pytest.raises(BitstreamError, match="unknown scene mode 7"):
        RecordParser().feed(stream[0] + scene_record(0, header.offset, b"payload", 7))
    all_intra = StreamHeader(**{**header.__dict__, "intra_period": 1, "inter_sha256": ""})
    with pytest.raises(BitstreamError, match="intra period 1"):
        RecordParser().feed(header_record(all_intra) + scene_record(0, header.offset, b"x", MODE_INTER))
    with pytest.raises(BitstreamError, match="'inter_sha256' must be empty when intra_period is 1"):
        StreamHeader(**{**header.__dict__, "intra_period": 1})
    with pytest.raises(BitstreamError, match="'inter_offset' must be >= 0"):
        StreamHeader(**{**header.__dict__, "inter_offset": -1.0})
    assert header.inter_offset == DEFAULT_INTER_OFFSET == 1.5


def test_flipped_motion_bytes_are_an_error_not_wrong_scenes(moving_spikes):
    stream = _encode(moving_spikes, 4)
    parser = RecordParser()
    records = [parser.feed(r) for r in stream]
    index = next(i for i, rs in enumerate(records) if rs and isinstance(rs[0], SceneRecord) and rs[0].mode == MODE_INTER)
    record = records[index][0]
    payload = bytearray(record.payload)
    payload[3] ^= 0xFF  # inside the deflated motion vectors
    forged = scene_record(record.index, record.centre, bytes(payload), MODE_INTER)
    decoder = Decoder()
    for r in stream[:index]:
        decoder.push(r)
    with pytest.raises(BitstreamError):
        decoder.push(forged)
