"""Exact spikes (codec.exact): bit-exact round trips on real, simulated and random planes."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from codec.bitstream import CODING_MODEL, CODING_RAW
from codec.errors import BitstreamError, SpikeFormatError
from codec.exact import ExactChunk, ExactDecoder, ExactEncoder
from codec.exact.arith import decode_bit, decoder_state, encode_bit, encoder_state, flush
from codec.exact.logistic import STRETCH, squash
from codec.io import open_spikes
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate

#: every shared PKU recording (../shared/data/spikes/*.dat, 250x400), found at collection
DAT_FILES = sorted((Path(__file__).resolve().parents[2] / "shared" / "data" / "spikes").glob("*.dat"))


def round_trip(planes: np.ndarray, scenes: np.ndarray | None = None, pushes: int = 1) -> list[ExactChunk]:
    """Encode ``planes`` in ``pushes`` pieces, decode, assert bit-exact; returns the chunks."""
    t, h, w = planes.shape
    encoder = ExactEncoder(h, w, scenes=scenes is not None)
    chunks = []
    for part in np.array_split(np.arange(t), pushes):
        chunks += encoder.push(planes[part], None if scenes is None else scenes[part])
    chunks += encoder.finish()
    decoder = ExactDecoder(h, w, scenes=scenes is not None)
    decoded, at = [], 0
    for chunk in chunks:
        decoded.append(decoder.decode(chunk, None if scenes is None else scenes[at : at + chunk.num_planes]))
        at += chunk.num_planes
    np.testing.assert_array_equal(np.concatenate(decoded), planes)
    return chunks


def bpsp(chunks: list[ExactChunk], planes: np.ndarray) -> float:
    return 8 * sum(len(c.payload) for c in chunks) / planes.size


def test_logistic_tables_invert_each_other() -> None:
    values = {squash(d) for d in range(-2047, 2048)}
    assert all(squash(STRETCH[p]) == p for p in values)  # STRETCH finds the stretch of every reachable p
    assert np.all(np.diff(STRETCH) >= 0)
    assert all(abs(STRETCH[squash(d)] - d) <= 8 for d in range(-1024, 1025))  # steep middle: fine resolution
    assert squash(-5000) == 1 and squash(5000) == 4095 and squash(0) == 2048


def test_arithmetic_coder_round_trip_and_overflow() -> None:
    rng = np.random.default_rng(1)
    probs = rng.integers(1, 4096, 5000)
    bits = (rng.integers(0, 4096, 5000) < probs).astype(np.int64)
    out = np.empty(5000, dtype=np.uint8)
    state = encoder_state()
    for bit, p in zip(bits, probs):
        encode_bit(state, out, int(bit), int(p))
    size = flush(state, out)
    assert 0 < size < 5000 / 8
    payload = out[:size].copy()
    reader = decoder_state(payload)
    assert [decode_bit(reader, payload, int(p)) for p in probs] == bits.tolist()
    small = encoder_state()
    tiny = np.empty(4, dtype=np.uint8)
    for bit, p in zip(bits, probs):
        encode_bit(small, tiny, int(bit), int(p))
    assert flush(small, tiny) == -1  # out of room: the caller stores raw


@pytest.mark.slow
@pytest.mark.parametrize("path", DAT_FILES, ids=lambda p: p.stem)
def test_round_trip_shared_dat_files(path: Path) -> None:
    with open_spikes(path) as reader:
        planes = np.concatenate(list(reader.iter_blocks(128)))
    chunks = round_trip(planes, pushes=3)
    assert all(c.coding == CODING_MODEL for c in chunks)
    assert bpsp(chunks, planes) < 0.4  # xz -9 takes about 0.67 on the REDS recordings


def test_shared_dat_files_are_found(shared_data: Path) -> None:
    assert DAT_FILES and all(p.parent == shared_data / "spikes" for p in DAT_FILES)


@pytest.mark.parametrize(
    "sensor, noise",
    [
        (SensorParams(reset_mechanism="zero", alpha=0.6), {}),
        (SensorParams(reset_mechanism="subtract", alpha=0.6), {}),
        (SensorParams(reset_mechanism="mod", alpha=0.9), {}),
        (SensorParams(reset_mechanism="subtract", alpha=0.6, tau=40.0), {}),
        (SensorParams(reset_mechanism="subtract", alpha=0.6), {"shot_noise": True, "electrons_per_threshold": 100.0}),
        (SensorParams(reset_mechanism="mod", alpha=0.6, tau=80.0), {"shot_noise": True, "dark_current": 0.02}),
    ],
    ids=["zero", "subtract", "mod", "leak", "shot-noise", "mod-leak-noise-dark"],
)
def test_round_trip_simulated(sensor: SensorParams, noise: dict) -> None:
    source = SyntheticSource(40, 64, frame_period=20.0, seed=3)
    planes = np.concatenate(list(simulate(source, 150, sensor, seed=5, **noise)))
    chunks = round_trip(planes, pushes=4)
    assert bpsp(chunks, planes) < 0.6


def test_round_trip_with_scenes_and_split_independence() -> None:
    source = SyntheticSource(24, 40, frame_period=10.0, seed=1)
    planes = np.concatenate(list(simulate(source, 100, SensorParams(alpha=0.7))))
    scenes = np.repeat(np.clip(planes.reshape(4, 25, 24, 40).mean(1) * 255, 0, 255).astype(np.uint8), 25, axis=0)
    one = round_trip(planes, scenes)
    assert one == round_trip(planes, scenes, pushes=7)  # chunks do not depend on the pushes
    assert one != round_trip(planes)  # the scenes change the code


def test_random_planes_expand_at_most_a_few_percent() -> None:
    rng = np.random.default_rng(0)
    dense = (rng.random((64, 40, 64)) < 0.5).astype(np.uint8)
    chunks = round_trip(dense)
    assert all(c.coding == CODING_RAW for c in chunks)  # the model cannot win: raw escape
    assert bpsp(chunks, dense) == 1.0
    sparse = (rng.random((64, 40, 64)) < 0.1).astype(np.uint8)
    entropy = -(0.1 * np.log2(0.1) + 0.9 * np.log2(0.9))
    assert bpsp(round_trip(sparse), sparse) < 1.06 * entropy  # 160 kbit: the contexts' learning cost shows


def test_edge_planes() -> None:
    round_trip(np.zeros((3, 8, 8), dtype=np.uint8))
    round_trip(np.ones((33, 8, 8), dtype=np.uint8))
    round_trip(np.ones((1, 1, 8), dtype=np.uint8))


def test_damaged_chunks_are_refused() -> None:
    planes = np.concatenate(list(simulate(SyntheticSource(16, 32, 10.0), 40, SensorParams(alpha=0.5))))
    encoder = ExactEncoder(16, 32, chunk_planes=20)
    chunks = encoder.push(planes) + encoder.finish()
    first = chunks[0]
    damaged = bytearray(first.payload)
    damaged[len(damaged) // 2] ^= 0x10
    with pytest.raises(BitstreamError, match="CRC"):
        ExactDecoder(16, 32).decode(ExactChunk(0, 20, CODING_MODEL, first.planes_crc, bytes(damaged)))
    with pytest.raises(BitstreamError, match="starts at plane 20, expected 0"):
        ExactDecoder(16, 32).decode(chunks[1])
    with pytest.raises(BitstreamError, match="raw exact chunk of 5 bytes"):
        ExactDecoder(16, 32).decode(ExactChunk(0, 20, CODING_RAW, zlib.crc32(b""), b"12345"))
    with pytest.raises(SpikeFormatError, match="scene values shaped like"):
        ExactEncoder(16, 32, scenes=True).push(planes)
    with pytest.raises(SpikeFormatError, match=r"expected \(t, 16, 32\) planes"):
        encoder.push(planes[:, :8])
