"""The compiled hot paths give bit for bit what the numpy reference gives (codec/simulate/numpy_neuron.py,
which the thin client simulates with, and bench/reference.py).

Integrate-and-fire: every reset mechanism, with and without leak, zero and uniform
initial membrane, float32 and float64 input, through the fixed-point and the stepwise
paths, state carried across calls (spikes, counts and membrane compared exactly).
TFP/TFI: scenes from packed planes against the unpacked reconstructors. ``.dat``:
the fused flip + unpack against ``numpy.unpackbits``. Hypothesis draws further
parameters, ramps and spike blocks for both.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.reference import flip_packed
from bench.reference import unpack_planes as reference_unpack
from codec.errors import SpikeFormatError
from codec.io import open_spikes, open_writer
from codec.io.kernels import spread_bits
from codec.io.packing import BIT_ORDER, pack_planes, unpack_flipped_rows, unpack_planes
from codec.reconstruct import SceneStream, get_reconstructor, iter_scenes
from codec.reconstruct.tfi import TFI
from codec.reconstruct.tfp import TFP
from codec.regenerate import Regenerator
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate
from codec.simulate.neuron import ANCHOR_PLANES, IntegrateAndFire
from codec.simulate.numpy_neuron import NumpyIntegrateAndFire, NumpySensor

SHAPE = (7, 19)  # 133 pixels: not a multiple of 8 or of a vector width
CONFIGS = list(itertools.product(["zero", "subtract", "mod"], [None, 7.0], ["zero", "uniform"]))


def _pair(reset: str, tau: float | None, init: str) -> tuple[IntegrateAndFire, IntegrateAndFire]:
    kwargs = dict(threshold=1.3, alpha=0.8, reset_mechanism=reset, tau=tau, init=init, seed=3)
    return IntegrateAndFire(SHAPE, **kwargs), NumpyIntegrateAndFire(SHAPE, **kwargs)


def _same(ours: IntegrateAndFire, ref: IntegrateAndFire, a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.mem, ref.mem)  # exact float64 membranes


@pytest.mark.parametrize("reset,tau,init", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neurons_equal_the_numpy_reference(reset: str, tau: float | None, init: str, dtype: type) -> None:
    rng = np.random.default_rng(hash((reset, tau, init)) % 2**32)
    ours, ref = _pair(reset, tau, init)
    per_plane = 1.3 / 0.8  # input of one threshold per plane
    for high in (0.9, 2.5, 0.3):  # within the fixed-point range, far above it, small
        x: np.ndarray = (rng.random((61, *SHAPE)) * high * per_plane).astype(dtype)
        _same(ours, ref, ours(x), ref(x))
        _same(ours, ref, ours.counts(x), ref.counts(x))
        start = rng.random(SHAPE) * high
        step = (rng.random(SHAPE) - 0.5) * start / 300  # stays >= 0 over 300 planes
        n = 2 * ANCHOR_PLANES + 45  # several anchors, a short last one
        _same(ours, ref, ours.ramp(start, step, n), ref.ramp(start, step, n))
    x = np.broadcast_to(rng.random(SHAPE) * per_plane, (40, *SHAPE))  # a strided view, as tests feed
    _same(ours, ref, ours(x), ref(x))
    _same(ours, ref, ours.ramp(np.zeros(SHAPE), np.zeros(SHAPE), 0), ref.ramp(np.zeros(SHAPE), np.zeros(SHAPE), 0))


@pytest.mark.parametrize("reset,tau,init", CONFIGS)
def test_regeneration_equals_the_numpy_reference(reset: str, tau: float | None, init: str) -> None:
    rng = np.random.default_rng(5)
    kwargs = dict(reset_mechanism=reset, tau=tau, init=init, seed=9)
    ours = Regenerator(*SHAPE, sensor=SensorParams(**kwargs), gain=0.8)
    ref = Regenerator(*SHAPE, sensor=NumpySensor(**kwargs), gain=0.8)
    assert isinstance(ref.neurons, NumpyIntegrateAndFire)
    np.testing.assert_array_equal(ours.neurons.mem, ref.neurons.mem)
    for centre in (5, 37, 69, 400):
        scene = rng.random(SHAPE)
        np.testing.assert_array_equal(ours.push(centre, scene), ref.push(centre, scene))
    np.testing.assert_array_equal(ours.finish(431), ref.finish(431))
    np.testing.assert_array_equal(ours.neurons.mem, ref.neurons.mem)


@pytest.mark.parametrize("sensor", [SensorParams(), SensorParams(tau=150.0, reset_mechanism="mod", init="zero")])
def test_simulator_equals_the_numpy_reference(sensor: SensorParams) -> None:
    source = SyntheticSource(16, 24, frame_period=37.0, seed=2)
    ours = np.concatenate(list(simulate(source, 600, sensor, block_planes=100)))
    ref = np.concatenate(list(simulate(source, 600, NumpySensor(**sensor.to_dict()), block_planes=100)))
    np.testing.assert_array_equal(ours, ref)
    noisy = [np.concatenate(list(simulate(source, 300, s, shot_noise=True, seed=4))) for s in (sensor, NumpySensor(**sensor.to_dict()))]
    np.testing.assert_array_equal(*noisy)


def _planes(rng: np.random.Generator, n: int, height: int, width: int) -> np.ndarray:
    """Spikes with a firing rate per pixel from 0 (silent) to 0.9, plus a pixel firing every plane."""
    rate = rng.random((height, width)) * 0.9
    rate.flat[0], rate.flat[-1] = 0.0, 1.0
    return (rng.random((n, height, width)) < rate).astype(np.uint8)


@pytest.mark.parametrize("height,width", [(5, 8), (3, 40), (25, 40)])
@pytest.mark.parametrize("n", [1, 2, 9, 33, 256, 300])
def test_packed_tfp_tfi_equal_the_unpacked_scenes(height: int, width: int, n: int) -> None:
    rng = np.random.default_rng(n * 1000 + height)
    planes = _planes(rng, n, height, width)
    packed = pack_planes(planes)
    for recon in (TFP(n), TFI(n), TFP(8, gain=1.7), TFI(5, gain=3.0), TFI(2 * n + 1)):
        for centre in sorted({0, n // 2, n - 1}):
            np.testing.assert_array_equal(recon.reconstruct_packed(packed, centre, height, width),
                                          recon.reconstruct(planes, centre), err_msg=f"{recon.name} K={recon.window} c={centre}")


def test_packed_scene_stream_equals_unpacked() -> None:
    rng = np.random.default_rng(1)
    planes = _planes(rng, 200, 10, 16)
    for method in ("tfp", "tfi"):
        unpacked, packed = (SceneStream(get_reconstructor(method, 12), 12),
                            SceneStream(get_reconstructor(method, 12), 12, packed=(10, 16)))
        a = [s for b in np.array_split(planes, 7) for s in unpacked.push(b)] + unpacked.finish()
        b = [s for b in np.array_split(pack_planes(planes), 5) for s in packed.push(b)] + packed.finish()
        assert [c for c, _ in a] == [c for c, _ in b]
        for (_, x), (_, y) in zip(a, b):
            np.testing.assert_array_equal(x, y)
    with pytest.raises(SpikeFormatError, match="packed"):
        SceneStream(TFP(4), 4, packed=(10, 16)).push(planes)
    with pytest.raises(SpikeFormatError, match="uint8 block"):
        TFP(4).reconstruct_packed(pack_planes(planes)[:, :-1], 0, 10, 16)


def test_spread_bits_is_unpackbits() -> None:
    for byte in range(256):
        pixels = np.array([spread_bits(np.uint8(byte))], dtype=np.uint64).view(np.uint8)
        np.testing.assert_array_equal(pixels, np.unpackbits(np.uint8(byte), bitorder=BIT_ORDER))


@pytest.mark.parametrize("height,width", [(250, 400), (3, 16), (6, 12), (2, 4)])
def test_dat_read_equals_flip_and_unpackbits(tmp_path, height: int, width: int) -> None:
    rng = np.random.default_rng(height)
    planes = (rng.random((40, height, width)) < 0.3).astype(np.uint8)
    path = tmp_path / "a.dat"
    with open_writer(path, height, width) as writer:
        writer.write(planes)
    raw = np.fromfile(path, dtype=np.uint8).reshape(40, -1)
    expected = reference_unpack(flip_packed(raw, height, width), height, width)
    np.testing.assert_array_equal(expected, planes)
    with open_spikes(path, height, width) as reader:
        np.testing.assert_array_equal(reader.read(), expected)
        np.testing.assert_array_equal(np.concatenate(list(reader.iter_blocks(7))), expected)
        np.testing.assert_array_equal(reader.read(3, 11), expected[3:11])
        scenes = list(iter_scenes(reader, "tfp", 8))
    ref = SceneStream(TFP(8), 8)
    expected_scenes = ref.push(expected) + ref.finish()
    assert [c for c, _ in scenes] == [c for c, _ in expected_scenes]
    for (_, x), (_, y) in zip(scenes, expected_scenes):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(unpack_planes(raw, height, width, flip=True), expected)
    np.testing.assert_array_equal(unpack_planes(raw, height, width), reference_unpack(raw, height, width))
    if width % 8 == 0:  # the compiled pass (the codec stack) and the numpy one (the thin client)
        for compiled in (True, False):
            np.testing.assert_array_equal(unpack_flipped_rows(raw.reshape(40, height, -1), compiled), expected)
            assert unpack_flipped_rows(raw[:0].reshape(0, height, width // 8), compiled).shape == (0, height, width)


@settings(max_examples=60, deadline=None)
@given(
    reset=st.sampled_from(["zero", "subtract", "mod"]),
    tau=st.one_of(st.none(), st.floats(0.5, 500.0)),
    init=st.sampled_from(["zero", "uniform"]),
    threshold=st.floats(0.05, 4.0),
    alpha=st.floats(0.05, 4.0),
    # input per plane of the ramp's first and last plane, in thresholds: mostly within the
    # fixed-point range [0, 1], sometimes just outside it or far above
    first=st.floats(0.0, 1.2),
    last=st.floats(0.0, 1.2),
    num_planes=st.integers(0, 2 * ANCHOR_PLANES + 3),
    block_planes=st.integers(1, ANCHOR_PLANES + 40),
    seed=st.integers(0, 2**16),
)
def test_ramps_equal_the_numpy_reference(reset: str, tau: float | None, init: str, threshold: float, alpha: float,
                                         first: float, last: float, num_planes: int, block_planes: int,
                                         seed: int) -> None:
    rng = np.random.default_rng(seed)
    kwargs = dict(threshold=threshold, alpha=alpha, reset_mechanism=reset, tau=tau, init=init, seed=seed)
    ours, ref = IntegrateAndFire(SHAPE, **kwargs), NumpyIntegrateAndFire(SHAPE, **kwargs)
    per_threshold = threshold / alpha  # input of one threshold per plane
    start = rng.random(SHAPE) * first * per_threshold
    end = rng.random(SHAPE) * last * per_threshold
    start.flat[0], end.flat[0] = 0.0, 0.0  # a silent pixel
    step = (end - start) / max(num_planes - 1, 1)
    _same(ours, ref, ours.ramp(start, step, num_planes), ref.ramp(start, step, num_planes))
    # the second ramp starts from the first one's membrane; both sides in blocks, which split anchors
    ours_blocks = list(ours.ramp_blocks(end, step, num_planes, block_planes))
    ref_blocks = list(ref.ramp_blocks(end, step, num_planes, block_planes))
    assert [len(b) for b in ours_blocks] == [len(b) for b in ref_blocks]
    for a, b in zip(ours_blocks, ref_blocks):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.mem, ref.mem)


def test_ramp_range_equals_the_compiled_one() -> None:
    # decides the fixed-point path: both classes must take the same one on every ramp
    rng = np.random.default_rng(8)
    ours, ref = IntegrateAndFire(SHAPE), NumpyIntegrateAndFire(SHAPE)
    for start, step in ((rng.random(SHAPE), rng.random(SHAPE) - 0.5), (-rng.random(SHAPE), np.zeros(SHAPE)),
                        (rng.random(SHAPE) * 3, rng.random(SHAPE) / 100)):
        for n in (0, 1, 2, 300):
            assert ours._ramp_range(start, step, n, 0.7) == ref._ramp_range(start, step, n, 0.7)
    start = rng.random(SHAPE)
    start[3, 4] = np.nan
    assert np.isnan(ours._ramp_range(start, np.zeros(SHAPE), 9, 0.7)).all()
    assert np.isnan(ref._ramp_range(start, np.zeros(SHAPE), 9, 0.7)).all()


@st.composite
def packed_blocks(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    """``(planes, height, width)``: a spike block of 1..300 planes of any size (padded or not when
    packed), one firing rate per pixel."""
    height = draw(st.integers(1, 12))
    width = draw(st.integers(1, 24))
    n = draw(st.integers(1, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    rate = rng.random((height, width)) ** draw(st.sampled_from([0.3, 1.0, 4.0]))  # dense .. sparse
    rate.flat[0], rate.flat[-1] = 0.0, 1.0  # silent and always firing: the longest counts
    return (rng.random((n, height, width)) < rate).astype(np.uint8), height, width


@settings(max_examples=80, deadline=None)
@given(block=packed_blocks(), window=st.integers(1, 64), gain=st.floats(0.1, 4.0), where=st.floats(0.0, 1.0))
def test_packed_scenes_equal_the_unpacked_property(block: tuple[np.ndarray, int, int], window: int, gain: float,
                                                   where: float) -> None:
    planes, height, width = block
    centre = min(int(where * len(planes)), len(planes) - 1)
    packed = pack_planes(planes)
    for recon in (TFP(window, gain=gain), TFI(window, gain=gain)):
        np.testing.assert_array_equal(recon.reconstruct_packed(packed, centre, height, width),
                                      recon.reconstruct(planes, centre))
