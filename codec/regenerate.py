"""Decoded scenes -> spikes, by the camera's own integrate-and-fire (DESIGN.md).

Scene intensities are linearly interpolated between scene centres, held before
the first and after the last centre, and fed to ``SensorParams.neurons`` as
linear ramps (:meth:`IntegrateAndFire.ramp`; same reset mechanism, leak and seeded
initial membrane as the simulator). A scene value ``s`` made with reconstruction gain ``g`` is the
firing rate ``s/g``; the neuron input that fires at that rate without leak is
``I = (s/g) * threshold / alpha``.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from codec.errors import SpikecodecError
from codec.sensor import SensorParams


class Regenerator:
    """Incremental regeneration: ``push(centre, scene)`` in centre order, then ``finish(num_planes)``.

    Args:
        height, width: plane size in pixels.
        sensor: the stream's sensor parameters.
        gain: the reconstruction gain of the scenes (scene value per unit firing rate).
    """

    def __init__(self, height: int, width: int, sensor: SensorParams = SensorParams(), gain: float = 1.0) -> None:
        if not gain > 0:
            raise SpikecodecError(f"gain must be > 0, got {gain}")
        self.shape = (height, width)
        self.neurons = sensor.neurons(self.shape)
        self.scale = sensor.threshold / (sensor.alpha * gain)
        self._last: tuple[int, np.ndarray] | None = None
        self.planes_out = 0

    def _intensity(self, scene: np.ndarray) -> np.ndarray:
        scene = np.asarray(scene, dtype=np.float64)
        if scene.shape != self.shape:
            raise SpikecodecError(f"scene is {scene.shape}, expected {self.shape}")
        return np.clip(scene, 0.0, None) * self.scale

    def push(self, centre: int, scene: np.ndarray) -> np.ndarray:
        """Add the scene centred on plane ``centre``.

        Returns:
            ``(n, H, W)`` uint8 planes now final: all planes up to and including
            ``centre`` not returned before (held before the first centre, linearly
            interpolated from the previous centre).
        """
        return self.neurons.ramp(*self._push(centre, scene))

    def push_blocks(self, centre: int, scene: np.ndarray, block_planes: int) -> Iterator[np.ndarray]:
        """:meth:`push` as blocks of at most ``block_planes`` planes, produced as they are taken:
        memory stays bounded however far apart the centres are. Take every block before the next call."""
        return self.neurons.ramp_blocks(*self._push(centre, scene), block_planes)

    def finish(self, num_planes: int) -> np.ndarray:
        """The planes after the last centre up to ``num_planes`` (last scene held).

        Raises:
            SpikecodecError: if no scene was pushed or ``num_planes`` ends before the last centre.
        """
        return self.neurons.ramp(*self._finish(num_planes))

    def finish_blocks(self, num_planes: int, block_planes: int) -> Iterator[np.ndarray]:
        """:meth:`finish` as blocks of at most ``block_planes`` planes (see :meth:`push_blocks`)."""
        return self.neurons.ramp_blocks(*self._finish(num_planes), block_planes)

    def _push(self, centre: int, scene: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Check and record the scene; returns the ramp ``(start, step, planes)`` that reaches it."""
        level = self._intensity(scene)
        if self._last is None:
            if centre < 0:
                raise SpikecodecError(f"scene centre must be >= 0, got {centre}")
            ramp = (level, np.zeros_like(level), centre + 1)
        else:
            last_centre, previous = self._last
            if centre <= last_centre:
                raise SpikecodecError(f"scene centres must increase: {centre} after {last_centre}")
            step = (level - previous) / (centre - last_centre)
            ramp = (previous + step, step, centre - last_centre)
        self._last = (centre, level)
        self.planes_out += ramp[2]
        return ramp

    def _finish(self, num_planes: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Check ``num_planes``; returns the ramp ``(start, step, planes)`` holding the last scene."""
        if self._last is None:
            raise SpikecodecError("cannot regenerate a stream without scenes")
        if num_planes < self.planes_out:
            raise SpikecodecError(f"num_planes {num_planes} ends before the last scene centre {self._last[0]}")
        rest = num_planes - self.planes_out
        self.planes_out = num_planes
        level = self._last[1]
        return level, np.zeros_like(level), rest


def regenerate(scenes: Sequence[np.ndarray], centres: Sequence[int], num_planes: int,
               sensor: SensorParams = SensorParams(), gain: float = 1.0) -> np.ndarray:
    """Whole-stream regeneration: ``(T, H, W)`` uint8 spikes, ``T = num_planes``.

    Args:
        scenes: ``(H, W)`` float scenes in ``[0, 1]``, one per centre.
        centres: increasing centre planes in ``[0, num_planes)``.
        num_planes: planes of the original stream.
        sensor: sensor parameters (reset, leak, seeded initial state).
        gain: reconstruction gain of the scenes.
    """
    if len(scenes) != len(centres) or len(scenes) == 0:
        raise SpikecodecError(f"need one scene per centre and at least one, "
                              f"got {len(scenes)} scenes for {len(centres)} centres")
    height, width = np.shape(scenes[0])
    regen = Regenerator(height, width, sensor=sensor, gain=gain)
    parts = [regen.push(c, s) for c, s in zip(centres, scenes)]
    parts.append(regen.finish(num_planes))
    return np.concatenate(parts)
