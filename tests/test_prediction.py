"""Scene prediction: block motion (estimate, derive, compensate), the encoder's mode decision
and its decoder mirror, scene by scene.

Scenes are coded with :class:`PredictiveEncoder`, framed as real scene records, parsed by
:class:`RecordParser` (which names the references) and decoded by :class:`SceneReconstructor`:
every decoded scene must equal the encoder's mirror of it bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from codec.bitstream import MODE_B, MODE_INTRA, MODE_P, RecordParser, SceneRecord, StreamHeader, header_record
from codec.bitstream.payloads import pack_predicted, unpack_predicted
from codec.bitstream.records import scene_record
from codec.errors import BitstreamError, SpikecodecError
from codec.models import load_inter_codec, load_scene_codec
from codec.pipeline import motion
from codec.pipeline.gop import bisection
from codec.pipeline.motion import (
    BLOCK,
    MAX_DISPLACEMENT,
    MAX_VECTOR,
    compensate,
    derive_motion,
    estimate_motion,
    grid_shape,
    pack_motion,
)
from codec.pipeline.prediction import PredictiveEncoder, SceneReconstructor, quantize_scene, scene_values

INSIDE = (slice(BLOCK, -BLOCK), slice(BLOCK, -BLOCK))


@pytest.fixture(scope="module")
def kodim05(shared_data) -> np.ndarray:
    """``(512, 768)`` float32 gray Kodak photo in [0, 1]."""
    with Image.open(shared_data / "images" / "kodak" / "kodim05.png") as img:
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


@pytest.fixture(scope="module")
def photo(kodim05) -> np.ndarray:
    """``(160, 224)`` crop of the photo."""
    return kodim05[100:260, 200:424]


@pytest.fixture(scope="module")
def codecs():
    return load_scene_codec(), load_inter_codec()


def psnr(decoded8: np.ndarray, scene: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((scene_values(decoded8) - scene) ** 2)))


@pytest.mark.parametrize("shift", [(3, 5), (-11, 7), (20, -18), (0, 0)])
def test_motion_finds_a_global_shift(photo, shift):
    photo8 = quantize_scene(photo)
    moved = np.roll(photo, shift, axis=(0, 1))
    field = estimate_motion(photo8, moved)
    assert field.shape == (*grid_shape(*photo.shape), 2) and field.dtype == np.int16
    inner = field[1:-1, 1:-1].reshape(-1, 2)
    # flat blocks may keep a shorter vector; textured ones must find the shift (in half pixels)
    assert np.mean(np.all(inner == -2 * np.array(shift), axis=1)) > 0.75
    error = np.abs(scene_values(compensate(photo8, field)) - moved)[INSIDE].mean()
    assert error < 0.01
    if shift != (0, 0):
        assert error < 0.2 * np.abs(photo - moved)[INSIDE].mean()


@pytest.mark.parametrize("shift", [(40, -96), (-56, 128)])
def test_the_pyramid_search_finds_displacements_of_a_hundred_pixels(kodim05, shift):
    """Block ``p`` of the scene is the reference at ``p + shift``: every block whose match lies inside
    the reference finds it (``2 * shift`` half pixels), at any of the motion block sides."""
    dy, dx = shift
    assert max(map(abs, shift)) <= MAX_DISPLACEMENT
    reference = kodim05[100:356, 200:584]
    scene = kodim05[100 + dy : 356 + dy, 200 + dx : 584 + dx]
    for block in (32, 64):
        field = estimate_motion(quantize_scene(reference), scene, block)
        rows, cols = np.arange(field.shape[0]) * block, np.arange(field.shape[1]) * block
        inside = (((rows + dy >= 0) & (rows + block + dy <= 256))[:, None]
                  & ((cols + dx >= 0) & (cols + block + dx <= 384))[None, :])
        assert inside.sum() >= 8
        assert np.mean(np.all(field[inside] == (2 * dy, 2 * dx), axis=1)) > 0.9, block


def test_motion_finds_half_pixel_shifts(photo):
    """A scene half a pixel down and right of the reference is found as (1, 1) half pixels
    and predicted better than any integer vector could."""
    photo8 = quantize_scene(photo)
    a = photo8.astype(np.int32)
    moved8 = (a[:-1, :-1] + a[:-1, 1:] + a[1:, :-1] + a[1:, 1:] + 2) >> 2  # sample (y + 1/2, x + 1/2)
    moved = scene_values(np.pad(moved8, ((0, 1), (0, 1)), mode="edge").astype(np.uint8))
    field = estimate_motion(photo8, moved)
    inner = field[1:-1, 1:-1].reshape(-1, 2)
    assert np.mean(np.all(inner == (1, 1), axis=1)) > 0.75
    half = np.abs(scene_values(compensate(photo8, field)) - moved)[INSIDE].mean()
    integer = np.abs(scene_values(compensate(photo8, field // 2 * 2)) - moved)[INSIDE].mean()
    assert half < 0.001 and half < 0.2 * integer


@pytest.mark.parametrize("block", [16, 32, 64])
def test_uniform_motion_compensates_as_an_integer_bilinear_shift_with_replicated_edges(block):
    h, w = 2 * block + 8, 3 * block + 8
    reference = (np.arange(h * w) % 251).astype(np.uint8).reshape(h, w)
    a = reference.astype(np.int32)
    field = np.zeros((*grid_shape(h, w, block), 2), dtype=np.int16)

    def shifted(vector):
        field[:] = vector
        out = compensate(reference, field, block)
        assert out.shape == reference.shape and out.dtype == np.uint8
        return out

    assert (shifted((0, 0)) == reference).all()
    assert (shifted((6, -8))[:-3, 4:] == reference[3:, :-4]).all()  # (3, -4) pixels
    assert (shifted((1, 0))[:-1] == (a[:-1] + a[1:] + 1) >> 1).all()  # half a pixel down
    expected = (a[:-2, 2:-1] + a[:-2, 3:] + a[1:-1, 2:-1] + a[1:-1, 3:] + 2) >> 2
    assert (shifted((-3, 5))[2:, :-3] == expected).all()  # (-1.5, 2.5) pixels
    far = MAX_VECTOR // 2  # pixels within 150.5 of the top-left / bottom-right corner sample the corner
    assert (shifted((-MAX_VECTOR, -MAX_VECTOR))[:far, :far] == reference[0, 0]).all()
    assert (shifted((MAX_VECTOR, MAX_VECTOR))[-far:, -far:] == reference[-1, -1]).all()


@pytest.mark.parametrize("block", [16, 32, 64])
def test_overlapped_compensation_matches_a_per_pixel_definition(block):
    """Every pixel is the rounded sin^2-weighted mix of the samples of the (up to) four blocks
    whose centres surround it, each moved by its own vector; edge blocks stand in beyond the grid."""
    rng = np.random.default_rng(3)
    h, w = 2 * block + 8, 3 * block + 8
    reference = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    hb, wb = grid_shape(h, w, block)
    field = rng.integers(-9, 10, size=(hb, wb, 2)).astype(np.int16)

    def sample(y, x, vector):
        """The reference at ``(y, x) + vector / 2``: rounded mean of the 1, 2 or 4 nearest pixels."""
        fy, fx = 2 * y + int(vector[0]), 2 * x + int(vector[1])
        taps = [int(reference[min(max(r, 0), h - 1), min(max(c, 0), w - 1)])
                for r in {fy // 2, (fy + 1) // 2} for c in {fx // 2, (fx + 1) // 2}]
        return (sum(taps) + len(taps) // 2) // len(taps)

    def weights(pos, blocks):  # [(block, weight in 64ths)] of the two centres around pixel pos
        upper = (pos - block // 2) // block
        ramp = round(64 * np.sin(np.pi * (pos - upper * block - block // 2 + 0.5) / (2 * block)) ** 2)
        return [(min(max(upper, 0), blocks - 1), 64 - ramp), (min(max(upper + 1, 0), blocks - 1), ramp)]

    out = compensate(reference, field, block)
    for y in range(h):
        for x in range(w):
            total = sum(wy * wx * sample(y, x, field[i, j])
                        for i, wy in weights(y, hb) for j, wx in weights(x, wb))
            assert out[y, x] == (total + 2048) // 4096, (y, x)


def _brute_force(current: np.ndarray, area: np.ndarray, radius: int, scale: int) -> tuple[int, int]:
    """Best offset of ``current`` in ``area`` by the module's rule, one offset at a time."""
    size, best = current.shape[0], (np.inf, (0, 0))
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            cost = np.abs(area[dy : dy + size, dx : dx + size] - current).mean()
            cost += motion.LENGTH_PENALTY * scale * (abs(dy - radius) + abs(dx - radius))
            if cost < best[0] - 1e-6:
                best = (cost, (dy, dx))
    return best[1]


@pytest.mark.parametrize("scale", [1, 4])
def test_vectorised_block_search_matches_a_brute_force_search(scale):
    rng = np.random.default_rng(5)
    radius, size, n = 3, 8, 6
    areas = rng.random((n, size + 2 * radius, size + 2 * radius)).astype(np.float32) * 255
    offsets = rng.integers(0, 2 * radius + 1, size=(n, 2))
    current = np.stack([a[dy : dy + size, dx : dx + size] for a, (dy, dx) in zip(areas, offsets)])
    current[0] = rng.random((size, size)) * 255  # one block matching nothing
    found = motion._block_search(torch.from_numpy(current), torch.from_numpy(areas), radius, scale)
    assert found.tolist() == [list(_brute_force(c, a, radius, scale)) for c, a in zip(current, areas)]
    assert found[1:].tolist() == offsets[1:].tolist()


def _pan(photo: np.ndarray, steps: int, speed: int = 3, start: int = 10) -> list[np.ndarray]:
    """``steps`` 96x128 crops of ``photo`` panning ``speed`` px right per step, scaled to 0.1..0.7."""
    return [0.1 + 0.6 * photo[20:116, start + speed * i : start + 128 + speed * i] for i in range(steps)]


def test_derived_motion_follows_uniform_motion(photo):
    """From two decoded scenes alone, the vectors of a scene between them under uniform motion:
    the later scene is the earlier one 12 pixels to the right; the scene a quarter of the way is
    3 pixels from the earlier and 9 from the later, and its prediction is close to it."""
    scenes = _pan(photo, 5, speed=3)
    earlier, later = quantize_scene(scenes[0]), quantize_scene(scenes[4])
    for steps in (1, 2, 3):
        to_earlier, to_later = derive_motion(earlier, later, steps, 4)
        assert to_earlier.dtype == to_later.dtype == np.int16
        inner = (slice(None), slice(0, -1))  # the right column's match lies past the earlier scene's edge
        assert np.mean(np.all(to_earlier[inner] == (0, 6 * steps), axis=-1)) > 0.75
        assert np.mean(np.all(to_later[inner] == (0, -6 * (4 - steps)), axis=-1)) > 0.75
        prediction = compensate(earlier, to_earlier).astype(np.int32) + compensate(later, to_later)
        error = np.abs(scene_values(((prediction + 1) >> 1).astype(np.uint8)) - scenes[steps])[INSIDE].mean()
        assert error < 0.01
        again = derive_motion(earlier.copy(), later.copy(), steps, 4)
        assert (again[0] == to_earlier).all() and (again[1] == to_later).all()
    with pytest.raises(ValueError, match="0 < steps < span"):
        derive_motion(earlier, later, 4, 4)


def _header(codecs, gop: str, gop_size: int = 1, intra_period: int = 1000, height: int = 96,
            width: int = 128) -> StreamHeader:
    intra, inter = codecs
    return StreamHeader(height=height, width=width, num_planes=0, window=16, offset=8, recon="tfp",
                        attention="none", model=intra.name, model_sha256=intra.weights_sha256, quality=3.0,
                        intra_period=intra_period, gop=gop, gop_size=gop_size,
                        inter_sha256="" if gop == "intra" else inter.weights_sha256)


def code_and_decode(codecs, header: StreamHeader, scenes: list[np.ndarray],
                    order: list[tuple[int, tuple[int, ...], float]]) -> list[SceneRecord]:
    """Code ``scenes`` in ``order`` (``(index, references, quality)``) as the encoder does (intra
    is tried for B scenes only when they would cost more than the last intra scene), frame and
    parse the records, decode them; every decoded scene must be the encoder's mirror of it."""
    intra, inter = codecs
    h, w = header.height, header.width
    encoder = PredictiveEncoder(intra, inter if header.predicted else None, h, w)
    mirror: dict[int, np.ndarray] = {}
    encoder.on_coded = lambda index, scene: mirror.__setitem__(index, scene.copy())
    parser, decoder = RecordParser(), SceneReconstructor(intra, inter if header.predicted else None, h, w)
    parser.feed(header_record(header))
    records = []
    for index, references, quality in order:
        mode, coded, payload = encoder.encode(index, scenes[index], quality, references,
                                              allow_intra=len(references) < 2)
        (record,) = parser.feed(scene_record(index, mode, coded, payload))
        assert isinstance(record, SceneRecord)
        assert record.references == (references if mode != MODE_INTRA else ())
        decoded = decoder.decode(record)
        assert decoded.dtype == np.uint8 and np.array_equal(decoded, mirror[index]), (index, mode)
        records.append(record)
    return records


def test_p_scenes_follow_motion_and_decode_bit_identically(photo, codecs):
    scenes = _pan(photo, 6)
    intra_only = code_and_decode(codecs, _header(codecs, "intra"), scenes, [(i, (), 3.0) for i in range(6)])
    chain = [(0, (), 3.0)] + [(i, (i - 1,), 3.0) for i in range(1, 6)]
    predicted = code_and_decode(codecs, _header(codecs, "low-delay"), scenes, chain)
    assert [r.mode for r in intra_only] == [MODE_INTRA] * 6
    assert predicted[0].mode == MODE_INTRA and [r.mode for r in predicted[1:]].count(MODE_P) >= 4
    for record in predicted[1:]:
        if record.mode == MODE_P:
            motion_bytes, _ = unpack_predicted(record.payload)
            assert len(motion_bytes) <= 16  # a uniform pan: a few bytes of vectors
    assert sum(len(r.payload) for r in predicted) < 0.85 * sum(len(r.payload) for r in intra_only)


def test_random_access_scenes_decode_bit_identically_with_a_quality_cascade(photo, codecs):
    """Nine scenes of a pan in random-access order (anchors 0, 4, 8; B scenes between, middle
    first), B layers coded coarser: far fewer bytes than all intra, every scene exact."""
    scenes = _pan(photo, 9)
    order = [(0, (), 4.0), (4, (0,), 4.0)]
    order += [(i, (a, b), 4.0 - 1.5 - 0.5 * (layer - 1)) for i, layer, a, b in bisection(0, 4)]
    order += [(8, (4,), 4.0)]
    order += [(i, (a, b), 4.0 - 1.5 - 0.5 * (layer - 1)) for i, layer, a, b in bisection(4, 8)]
    records = code_and_decode(codecs, _header(codecs, "random-access", gop_size=4), scenes, order)
    assert [r.index for r in records] == [0, 4, 2, 1, 3, 8, 6, 5, 7]
    assert [r.mode for r in records if r.index % 4] == [MODE_B] * 6
    assert [r.quality for r in records] == [q for _, _, q in order]
    intra_bytes = sum(len(codecs[0].encode_scene(s, 4.0)) for s in scenes)
    assert sum(len(r.payload) for r in records) < 0.5 * intra_bytes


def test_b_scenes_with_coded_and_with_derived_motion_decode_bit_identically(photo, codecs):
    """Between a scene and the same view 6 pixels further right: a scene midway is predicted from
    vectors the decoder derives itself (no motion bytes); a scene that stayed where the earlier
    one was (the motion is not uniform) needs coded vectors. Both decode to the mirror exactly."""
    earlier, middle, later = _pan(photo, 3, speed=3)
    for scene, derived in ((middle, True), (earlier.copy(), False)):
        order = [(0, (), 4.0), (2, (0,), 4.0), (1, (0, 2), 3.0)]
        records = code_and_decode(codecs, _header(codecs, "random-access", gop_size=2),
                                  [earlier, scene, later], order)
        b = records[-1]
        assert b.mode == MODE_B and b.references == (0, 2)
        motion_bytes, _ = unpack_predicted(b.payload)
        assert (motion_bytes == b"") == derived, len(motion_bytes)


def test_a_cut_falls_back_to_intra(photo, codecs):
    """A cut from a photo to a plain scene: predicting the plain scene from the photo costs far more
    than coding it alone, so the scene is coded intra where a P scene was allowed."""
    plain = np.tile(np.linspace(0.2, 0.4, 128, dtype=np.float32), (96, 1))
    picture = 0.1 + 0.6 * photo[:96, :128]
    intra, _ = codecs
    chain = [(0, (), 3.0), (1, (0,), 3.0), (2, (1,), 3.0)]
    records = code_and_decode(codecs, _header(codecs, "low-delay"), [picture, picture * 0.98 + 0.01, plain], chain)
    assert records[1].mode == MODE_P
    assert records[2].mode == MODE_INTRA and records[2].payload == intra.encode_scene(plain, 3.0)


def test_encoder_refuses_scenes_of_another_size(photo, codecs):
    encoder = PredictiveEncoder(*codecs, 96, 128)
    with pytest.raises(SpikecodecError, match=r"scene of shape \(96, 96\), expected \(96, 128\)"):
        encoder.encode(0, photo[:96, :96], 3.0)


def test_damaged_predicted_payloads_and_missing_references_are_reported(photo, codecs):
    intra, inter = codecs
    decoder = SceneReconstructor(intra, inter, 96, 128)
    scene = photo[:96, :128]

    def p(payload: bytes, references: tuple[int, ...] = (0,), mode: int = MODE_P, index: int = 1) -> SceneRecord:
        return SceneRecord(index, 24, mode, 3.0, payload, references)

    with pytest.raises(BitstreamError, match="reference scene 0 is not available"):
        decoder.decode(p(pack_predicted(pack_motion(np.zeros((3, 4, 2), np.int16)), b"")))
    decoder.decode(SceneRecord(0, 8, MODE_INTRA, 3.0, intra.encode_scene(scene, 3.0)))
    with pytest.raises(BitstreamError, match="reference scene 5 is not available"):
        decoder.decode(p(b"\x00", references=(0, 5), mode=MODE_B))
    with pytest.raises(BitstreamError, match="predicted payload truncated: its motion does not fit in 1 bytes"):
        decoder.decode(p(b"\x05"))
    with pytest.raises(BitstreamError, match="motion vectors are corrupt: empty"):
        decoder.decode(p(b"\x00"))
    with pytest.raises(BitstreamError, match="motion vectors are corrupt: block code 9"):
        decoder.decode(p(pack_predicted(b"\x09\x00", b"")))
    with pytest.raises(BitstreamError, match="latent strings truncated"):
        decoder.decode(p(pack_predicted(pack_motion(np.zeros((3, 4, 2), np.int16)), b"\xff\x7f")))
    skipped = decoder.decode(p(pack_predicted(pack_motion(np.zeros((3, 4, 2), np.int16)), b"")))
    assert (skipped == decoder.scenes[0]).all()  # a P skip with zero motion is its reference
    assert set(decoder.scenes) == {0, 1}
    decoder.release(1)
    assert set(decoder.scenes) == {1}


def test_predicted_scenes_need_an_inter_codec(photo, codecs):
    intra, _ = codecs
    decoder = SceneReconstructor(intra, None, 96, 128)
    with pytest.raises(BitstreamError, match="scene 1 is predicted, but the stream has no inter codec"):
        decoder.decode(SceneRecord(1, 24, MODE_P, 3.0, b"\x00", (0,)))
    encoder = PredictiveEncoder(intra, None, 96, 128)
    assert encoder.encode(0, photo[:96, :128], 3.0)[0] == MODE_INTRA
