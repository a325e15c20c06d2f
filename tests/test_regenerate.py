"""Integrate-and-fire regeneration of decoded scenes."""

from __future__ import annotations

import numpy as np
import pytest

from codec.errors import SpikecodecError
from codec.options import RESET_MECHANISMS
from codec.regenerate import Regenerator, regenerate
from codec.sensor import SensorParams

ZERO_INIT = SensorParams(init="zero")


def test_hand_computed_interpolation_and_holding():
    # scene 0 at centre 0, 1.0 at centre 4: inputs 0, .25, .5, .75, 1 -> membrane 0, .25, .75, 1.5->.5, 1.5->.5
    regen = Regenerator(1, 1, ZERO_INIT)
    assert regen.push(0, np.zeros((1, 1))).ravel().tolist() == [0]
    assert regen.push(4, np.ones((1, 1))).ravel().tolist() == [0, 0, 1, 1]
    assert regen.finish(7).ravel().tolist() == [1, 1]  # held at 1.0: fires every plane


def test_holds_before_the_first_centre():
    regen = Regenerator(1, 2, ZERO_INIT)
    first = regen.push(3, np.array([[0.5, 0.25]]))
    assert first.shape == (4, 1, 2)
    assert first[:, 0, 0].tolist() == [0, 1, 0, 1] and first[:, 0, 1].tolist() == [0, 0, 0, 1]


def test_regenerate_equals_integrate_and_fire_of_the_interpolated_intensity():
    rng = np.random.default_rng(0)
    sensor = SensorParams(seed=7, reset_mechanism="mod")
    centres = [5, 13, 21, 29]
    scenes = [rng.random((3, 4)) for _ in centres]
    out = regenerate(scenes, centres, 40, sensor)
    assert out.shape == (40, 3, 4) and out.dtype == np.uint8
    stack = np.stack(scenes)
    t = np.arange(40)
    intensity = np.empty((40, 3, 4))
    for y in range(3):
        for x in range(4):
            intensity[:, y, x] = np.interp(t, centres, stack[:, y, x])  # holds outside [5, 29]
    np.testing.assert_array_equal(out, sensor.neurons((3, 4))(intensity))


@pytest.mark.parametrize("reset", RESET_MECHANISMS)
def test_static_scene_counts_match_within_one_over_any_window(reset):
    rng = np.random.default_rng(1)
    rates = rng.uniform(0.0, 1.0, (6, 10))
    rates[0, 0], rates[0, 1] = 0.0, 1.0  # a pixel that never fires and one that fires every plane
    t_count = 300
    original = SensorParams(seed=1, reset_mechanism=reset).neurons((6, 10))(np.broadcast_to(rates, (t_count, 6, 10)))
    centres = list(range(16, t_count, 32))
    regen = regenerate([rates] * len(centres), centres, t_count, SensorParams(seed=2, reset_mechanism=reset))
    # count over any window [a, b) is C[b] - C[a]; the worst window is max(D) - min(D) with D = C_orig - C_regen
    diff = np.concatenate([np.zeros((1, 6, 10)),
                           np.cumsum(original, 0, dtype=np.int64) - np.cumsum(regen, 0, dtype=np.int64)])
    worst = diff.max(axis=0) - diff.min(axis=0)
    assert worst.max() <= 1
    assert regen[:, 0, 0].sum() == 0 and regen[:, 0, 1].all()


def test_gain_and_sensor_units():
    # scene 0.25 made with gain 0.5 is rate 0.5; threshold 2 / alpha 4 needs input 0.5 * 2/4
    regen = Regenerator(1, 1, SensorParams(init="zero", threshold=2.0, alpha=4.0), gain=0.5)
    planes = np.concatenate([regen.push(0, np.full((1, 1), 0.25)), regen.finish(10)])
    assert planes.ravel().tolist() == [0, 1] * 5


def test_bad_use_is_a_clear_error():
    regen = Regenerator(2, 2)
    with pytest.raises(SpikecodecError, match="without scenes"):
        regen.finish(10)
    regen.push(4, np.zeros((2, 2)))
    with pytest.raises(SpikecodecError, match="increase"):
        regen.push(4, np.zeros((2, 2)))
    with pytest.raises(SpikecodecError, match=r"\(2, 2\)"):
        regen.push(8, np.zeros((3, 2)))
    with pytest.raises(SpikecodecError, match="before the last"):
        regen.finish(3)
    with pytest.raises(SpikecodecError, match="one scene per centre"):
        regenerate([np.zeros((2, 2))], [1, 2], 5)
