"""The simulated spike camera: scene source -> blocks of binary spike planes.

``simulate`` drives an integrate-and-fire array (``SensorParams.neurons``) with
the source's keyframes interpolated in time. Without noise each keyframe
interval is one closed-form ramp (:meth:`IntegrateAndFire.ramp`); with photon
shot noise the input of every plane is drawn, which is much slower.

Noise model (per pixel and plane, in photo-electrons): a threshold is
``electrons_per_threshold`` electrons; the expected charge of a plane is
``(alpha*I + alpha*dark_current) / threshold * electrons_per_threshold``; with
``shot_noise`` the charge is Poisson-distributed around it (normal approximation
above 64 electrons, :func:`shot_noise_charge`).

``poisson_spikes`` is the rate-coding comparison: every plane fires with
probability ``min(alpha*I/threshold, 1)``, independently (a discrete-time
Poisson process, as snnTorch's ``spikegen.rate``), so its mean rate equals the
integrate-and-fire rate but its spike timing carries no phase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from codec.simulate.neuron import ANCHOR_PLANES
from codec.simulate.sources import FrameSource

if TYPE_CHECKING:
    from codec.sensor import SensorParams

DEFAULT_BLOCK_PLANES = 256
#: photo-electrons per threshold in the shot-noise model
DEFAULT_ELECTRONS_PER_THRESHOLD = 1000.0
#: expected electrons below which shot noise is drawn exactly from a Poisson distribution
POISSON_EXACT_BELOW = 64.0


def _pieces(source: FrameSource, num_planes: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """``(a, b, scene_a, step)``: planes ``a..b-1`` as one linear ramp.

    Pieces end at keyframes and at multiples of ``ANCHOR_PLANES``, never at block
    boundaries, so the output does not depend on the block size.
    """
    plane = 0
    while plane < num_planes:
        scene, step, end = source.ramp(plane)
        end = min(end, (plane // ANCHOR_PLANES + 1) * ANCHOR_PLANES, num_planes)
        yield plane, end, scene, step
        plane = end


def _blocks(
    source: FrameSource, num_planes: int, block_planes: int, fire: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
) -> Iterator[np.ndarray]:
    """Run ``fire(scene, step, out)`` on every piece and yield ``(t, H, W)`` uint8 blocks."""
    if num_planes < 0 or block_planes <= 0:
        raise ValueError(f"need num_planes >= 0 and block_planes > 0, got {num_planes}, {block_planes}")
    shape = (source.height, source.width)
    block_start = 0
    block = np.empty((min(block_planes, num_planes), *shape), dtype=np.uint8)
    for a, b, scene, step in _pieces(source, num_planes):
        if b <= block_start + len(block):  # the common case: fire straight into the block
            fire(scene, step, block[a - block_start : b - block_start])
            spikes, done = None, b
        else:
            spikes = np.empty((b - a, *shape), dtype=np.uint8)
            fire(scene, step, spikes)
            done = a
        while True:
            if spikes is not None:
                take = min(b, block_start + len(block)) - done
                block[done - block_start : done - block_start + take] = spikes[done - a : done - a + take]
                done += take
            if done < block_start + len(block):
                break
            yield block
            block_start += len(block)
            if block_start >= num_planes:
                return
            block = np.empty((min(block_planes, num_planes - block_start), *shape), dtype=np.uint8)
            if done >= b:
                break


def simulate(
    source: FrameSource,
    num_planes: int,
    sensor: "SensorParams",
    block_planes: int = DEFAULT_BLOCK_PLANES,
    shot_noise: bool = False,
    dark_current: float = 0.0,
    seed: int = 0,
    electrons_per_threshold: float = DEFAULT_ELECTRONS_PER_THRESHOLD,
) -> Iterator[np.ndarray]:
    """Simulate the camera looking at ``source`` for ``num_planes`` planes.

    Args:
        source: scene source (plane ``p`` sees ``source.scene_at(p)``).
        num_planes: planes to produce.
        sensor: threshold, gain, reset, leak and initial state of the pixels.
        block_planes: planes per yielded block (does not change the output).
        shot_noise: draw the charge of every plane from a Poisson distribution.
        dark_current: input added to every pixel, scene units (spikes/plane at
            the default sensor parameters).
        seed: seeds the shot noise (the initial membrane uses ``sensor.seed``).
        electrons_per_threshold: charge quantum of the shot-noise model.

    Yields:
        ``(t, H, W)`` uint8 spike planes, ``t <= block_planes``, ``num_planes`` in all.
    """
    if dark_current < 0:
        raise ValueError(f"dark_current must be >= 0, got {dark_current}")
    neurons = sensor.neurons((source.height, source.width))
    rng = np.random.default_rng(seed)
    electrons = electrons_per_threshold * sensor.alpha / sensor.threshold  # per unit of input
    dark = np.float32(dark_current)

    def fire(scene: np.ndarray, step: np.ndarray, out: np.ndarray) -> None:
        if not shot_noise:
            neurons.ramp(scene + dark, step, len(out), out=out)
            return
        ks = np.arange(len(out), dtype=np.float32)[:, None, None]
        mean_charge = np.maximum(scene + ks * step + dark, 0.0) * np.float32(electrons)
        out[:] = neurons(shot_noise_charge(rng, mean_charge) / np.float32(electrons))

    return _blocks(source, num_planes, block_planes, fire)


def shot_noise_charge(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Photo-electrons collected, given their expected number ``mean`` (float32, any shape).

    Poisson draws below ``POISSON_EXACT_BELOW`` electrons; above it the normal
    approximation ``round(mean + sqrt(mean) * z)`` (skewness below 0.13), about
    six times faster than numpy's Poisson sampler.

    Returns:
        float32 array of non-negative whole numbers, shaped like ``mean``.
    """
    charge = rng.standard_normal(mean.shape, dtype=np.float32)
    charge *= np.sqrt(mean)
    charge += mean
    np.rint(charge, out=charge)
    np.maximum(charge, 0.0, out=charge)
    small = mean < POISSON_EXACT_BELOW
    if small.any():
        charge[small] = rng.poisson(mean[small])
    return charge


def poisson_spikes(
    source: FrameSource,
    num_planes: int,
    sensor: "SensorParams",
    block_planes: int = DEFAULT_BLOCK_PLANES,
    seed: int = 0,
) -> Iterator[np.ndarray]:
    """Rate-coded (Bernoulli per plane) spikes of the same scenes, for comparison.

    Plane ``p`` fires at each pixel with probability
    ``clip(alpha * scene_at(p) / threshold, 0, 1)``.

    Yields:
        ``(t, H, W)`` uint8 spike planes, ``num_planes`` in all.
    """
    rng = np.random.default_rng(seed)
    gain = np.float32(sensor.alpha / sensor.threshold)

    def fire(scene: np.ndarray, step: np.ndarray, out: np.ndarray) -> None:
        ks = np.arange(len(out), dtype=np.float32)[:, None, None]
        rate = (scene + ks * step) * gain
        np.less(rng.random(rate.shape, dtype=np.float32), rate, out=out.view(np.bool_))

    return _blocks(source, num_planes, block_planes, fire)
