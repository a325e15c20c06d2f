"""Integrate-and-fire correctness with real numbers: counts, quantization error, leak deadzone."""

from __future__ import annotations

import numpy as np
import pytest

from codec.options import RESET_MECHANISMS
from codec.simulate.neuron import IntegrateAndFire

SHAPE = (12, 25)
T = 997


@pytest.fixture
def intensity() -> np.ndarray:
    """Per-pixel constant input, alpha*I/theta in [0.01, 0.99]."""
    return np.random.default_rng(3).uniform(0.01, 0.99, SHAPE) * 1.3 / 0.8


def _constant(intensity: np.ndarray, planes: int = T) -> np.ndarray:
    return np.broadcast_to(intensity, (planes, *SHAPE))


@pytest.mark.parametrize("path", ["call", "ramp", "blocks", "counts"])
def test_subtract_constant_input_count_is_floor(intensity: np.ndarray, path: str) -> None:
    neurons = IntegrateAndFire(SHAPE, threshold=1.3, alpha=0.8, reset_mechanism="subtract", init="zero")
    if path == "call":
        spikes = neurons(_constant(intensity))
    elif path == "ramp":
        spikes = neurons.ramp(intensity, np.zeros(SHAPE), T)
    elif path == "blocks":
        spikes = np.concatenate([neurons(_constant(intensity, n)) for n in (1, 300, 96, 600)])
    else:
        spikes = neurons.counts(_constant(intensity))
    expected = np.floor(T * 0.8 * intensity / 1.3)
    assert spikes.shape == (T, *SHAPE) and set(np.unique(spikes)) <= {0, 1}
    assert np.array_equal(spikes.sum(axis=0), expected)


def test_subtract_uniform_init_within_one(intensity: np.ndarray) -> None:
    neurons = IntegrateAndFire(SHAPE, threshold=1.3, alpha=0.8, init="uniform", seed=5)
    start = neurons.mem.copy()
    counts = neurons(_constant(intensity)).sum(axis=0)
    exact = T * 0.8 * intensity / 1.3
    assert np.all((counts == np.floor(exact)) | (counts == np.floor(exact) + 1))
    # and exactly the floor of the total charge including the initial membrane
    assert np.array_equal(counts, np.floor(exact + start / 1.3))


def test_ramp_matches_materialised_input() -> None:
    rng = np.random.default_rng(0)
    start, end = rng.uniform(0, 1, SHAPE), rng.uniform(0, 1, SHAPE)
    step = (end - start) / (T - 1)
    ramp = IntegrateAndFire(SHAPE, init="uniform", seed=1).ramp(start, step, T)
    direct = IntegrateAndFire(SHAPE, init="uniform", seed=1)(start + np.arange(T)[:, None, None] * step)
    assert np.mean(ramp != direct) < 1e-4
    assert np.abs(ramp.sum(0).astype(int) - direct.sum(0)).max() <= 1


@pytest.mark.parametrize("kwargs", [{"reset_mechanism": "zero"}, {"tau": 40.0}, {"reset_mechanism": "mod", "tau": 9.0}])
def test_ramp_off_the_fast_path_equals_call(kwargs: dict) -> None:
    rng = np.random.default_rng(2)
    start, step = rng.uniform(0, 1.2, SHAPE), rng.uniform(-1e-3, 1e-3, SHAPE)
    start = np.maximum(start, 0.2)
    ramp = IntegrateAndFire(SHAPE, init="uniform", **kwargs).ramp(start, step, 150)
    direct = IntegrateAndFire(SHAPE, init="uniform", **kwargs)(start + np.arange(150)[:, None, None] * step)
    assert np.array_equal(ramp, direct)


def _alexiewicz(charge: np.ndarray, released: np.ndarray) -> np.ndarray:
    """Per pixel: max over t of |sum_{s<=t} (alpha*I_s - theta*count_s)| (membrane units)."""
    return np.abs(np.cumsum(charge - released, axis=0)).max(axis=0)


def test_mod_bounds_alexiewicz_error_where_zero_does_not() -> None:
    theta, alpha = 2.0, 0.5
    rng = np.random.default_rng(7)
    intensity = rng.uniform(0.0, 1.5 * theta / alpha, (2000, 4, 50))  # up to 1.5 theta per plane
    charge = alpha * intensity
    errors = {}
    for reset in RESET_MECHANISMS:
        neurons = IntegrateAndFire((4, 50), threshold=theta, alpha=alpha, reset_mechanism=reset, init="zero")
        errors[reset] = _alexiewicz(charge, theta * neurons.counts(intensity).astype(float))
    assert errors["mod"].max() < theta
    assert errors["zero"].min() > 10 * theta  # reset-to-zero throws the residue away every spike
    assert errors["subtract"].min() > theta  # one threshold per plane falls behind on bursts above theta
    # binary camera spikes for inputs below one threshold: mod (= subtract) bounded, zero not
    low = intensity / 1.5
    mod = IntegrateAndFire((4, 50), threshold=theta, alpha=alpha, reset_mechanism="mod")(low)
    zero = IntegrateAndFire((4, 50), threshold=theta, alpha=alpha, reset_mechanism="zero")(low)
    assert _alexiewicz(alpha * low, theta * mod).max() < theta
    assert _alexiewicz(alpha * low, theta * zero).min() > theta


def test_counts_mod_releases_every_whole_threshold() -> None:
    neurons = IntegrateAndFire((1, 3), threshold=1.0, reset_mechanism="mod")
    counts = neurons.counts(np.array([[[2.5, 0.4, 1.0]], [[0.6, 0.4, 0.0]]]))
    assert counts[:, 0].tolist() == [[2, 0, 1], [1, 0, 0]]
    assert np.allclose(neurons.mem, [[0.1, 0.8, 0.0]])


@pytest.mark.parametrize("tau,alpha,theta", [(50.0, 1.0, 1.0), (200.0, 0.5, 2.0)])
def test_leak_deadzone(tau: float, alpha: float, theta: float) -> None:
    deadzone = theta / (alpha * tau)
    below = np.linspace(0.0, 0.999 * deadzone, 40).reshape(4, 10)
    neurons = IntegrateAndFire((4, 10), threshold=theta, alpha=alpha, tau=tau, init="uniform", seed=3)
    assert neurons(np.broadcast_to(below, (6000, 4, 10))).sum() == 0
    above = np.full((1, 5), 1.05 * deadzone)
    leaky = IntegrateAndFire((1, 5), threshold=theta, alpha=alpha, tau=tau, init="zero")
    spikes = leaky(np.broadcast_to(above, (6000, 1, 5))).sum(axis=0)
    # first spike after tau*ln(ss/(ss-theta)) planes, ss = alpha*I*tau; then periodic
    period = tau * np.log(1.05 / 0.05)
    assert np.all(np.abs(spikes - 6000 / period) <= 1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        IntegrateAndFire(SHAPE, reset_mechanism="none")
    with pytest.raises(ValueError):
        IntegrateAndFire(SHAPE)(np.zeros((3, 2, 2)))
