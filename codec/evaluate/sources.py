"""Spike inputs of ``stream`` and ``bench``: recordings, or a camera simulated on the fly.

``SOURCE`` is one of

- a ``.dat`` (PKU layout, ``--height/--width``) or ``.h5``/``.hdf5`` recording (the
  spikecodec schema, or a plain ``(T, H, W)`` dataset named by ``dataset``);
- ``synthetic``: the built-in moving procedural scene (:class:`codec.simulate.SyntheticSource`);
- a folder of images or a video file, simulated with :func:`codec.simulate.simulate`;
- ``davis:FOLDER``: same as a folder of frames (a DAVIS-style sequence), named
  after the folder.

Simulated inputs know the ground truth of every plane (``source.scene_at``); an
HDF5 recording knows it for the planes it stores under ``/ground_truth``; a
``.dat`` knows none. Ground truth is returned in scene units (firing rate per
plane: intensity ``* alpha / threshold``, exact without leak), the units of every
reconstructed and decoded scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.base import DEFAULT_BLOCK_PLANES
from codec.options import DEFAULT_HEIGHT, DEFAULT_WIDTH
from codec.sensor import SensorParams

DAVIS_PREFIX = "davis:"
#: planes simulated when a simulated source is given no ``planes``
DEFAULT_SIMULATED_PLANES = 1000


@dataclass
class SpikeInput:
    """One spike stream to send or score.

    Attributes:
        name: short label (file stem, folder name, ``synthetic-s<seed>``).
        height, width: plane size after cropping.
        sensor: sensor parameters of the stream.
        num_planes: planes ``blocks`` yields in all.
        blocks: ``(t, H, W)`` uint8 blocks, in order (a single pass).
        ground_truth: plane -> ``(H, W)`` float32 scene in firing-rate units, or ``None``
            where it is not known.
        simulated: whether the spikes are simulated here (ground truth everywhere).
    """

    name: str
    height: int
    width: int
    sensor: SensorParams
    num_planes: int
    blocks: Iterator[np.ndarray]
    ground_truth: Callable[[int], np.ndarray | None]
    simulated: bool
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def read_all(self) -> np.ndarray:
        """Every plane as one ``(T, H, W)`` uint8 array (consumes ``blocks``)."""
        if not self.num_planes:
            return np.zeros((0, self.height, self.width), np.uint8)
        return np.concatenate(list(self.blocks))

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "SpikeInput":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_crop(text: str | None) -> tuple[int, int] | None:
    """``"HxW"`` -> ``(H, W)``; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SpikeFormatError(f"crop must be HxW, e.g. 64x128, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise SpikeFormatError(f"crop {h}x{w} must be positive")
    return h, w


def _limited(blocks: Iterator[np.ndarray], planes: int) -> Iterator[np.ndarray]:
    left = planes
    for block in blocks:
        if left <= 0:
            return
        yield block[:left]
        left -= len(block[:left])


def _cropped(blocks: Iterator[np.ndarray], window: tuple[slice, slice]) -> Iterator[np.ndarray]:
    for block in blocks:
        yield np.ascontiguousarray(block[:, window[0], window[1]])


def _centre_window(height: int, width: int, crop: tuple[int, int] | None) -> tuple[slice, slice]:
    if crop is None:
        return slice(0, height), slice(0, width)
    h, w = crop
    if h > height or w > width:
        raise SpikeFormatError(f"crop {h}x{w} is larger than the {height}x{width} planes")
    top, left = (height - h) // 2, (width - w) // 2
    return slice(top, top + h), slice(left, left + w)


def _open_recording(path: Path, height: int | None, width: int | None, planes: int | None,
                    crop: tuple[int, int] | None, dataset: str | None, block_planes: int) -> SpikeInput:
    from codec.io import open_spikes

    reader = open_spikes(path, height, width, dataset)
    window = _centre_window(reader.height, reader.width, crop)
    num_planes = reader.num_planes if planes is None else min(planes, reader.num_planes)
    known = set(getattr(reader, "ground_truth_planes", lambda: [])())  # spikecodec HDF5 files only
    gain = reader.sensor.alpha / reader.sensor.threshold

    def ground_truth(plane: int) -> np.ndarray | None:
        if plane not in known:
            return None
        truth = reader.ground_truth(plane)  # type: ignore[attr-defined]  # a reader that listed the plane
        return np.clip(truth[window] * gain, 0.0, 1.0).astype(np.float32)

    h, w = window[0].stop - window[0].start, window[1].stop - window[1].start
    blocks = _cropped(_limited(reader.iter_blocks(block_planes), num_planes), window)
    return SpikeInput(path.stem, h, w, reader.sensor, num_planes, blocks, ground_truth, False, reader.close)


def _open_simulated(spec: str, height: int, width: int, planes: int, sensor: SensorParams,
                    fps: float | None, seed: int, block_planes: int) -> SpikeInput:
    from codec.simulate import open_source, simulate

    source = open_source(spec, height, width, sensor.plane_rate, fps, seed)
    gain = sensor.alpha / sensor.threshold

    def ground_truth(plane: int) -> np.ndarray:
        return np.clip(source.scene_at(plane) * gain, 0.0, 1.0).astype(np.float32)

    name = f"synthetic-s{seed}" if spec == "synthetic" else Path(spec).name if Path(spec).is_dir() else Path(spec).stem
    blocks = simulate(source, planes, sensor, seed=seed, block_planes=block_planes)
    return SpikeInput(name, height, width, sensor, planes, blocks, ground_truth, True, source.close)


def open_input(
    spec: str,
    height: int | None = None,
    width: int | None = None,
    planes: int | None = None,
    crop: tuple[int, int] | None = None,
    fps: float | None = None,
    seed: int = 0,
    sensor: SensorParams = SensorParams(),
    dataset: str | None = None,
    block_planes: int = DEFAULT_BLOCK_PLANES,
) -> SpikeInput:
    """Open ``spec`` (module docstring) as a :class:`SpikeInput`.

    Args:
        height, width: ``.dat`` plane size (default 250x400), or the simulated
            scene size (default 250x400); HDF5 files carry their own.
        planes: planes to use (recordings: at most this many; simulated: exactly,
            default :data:`DEFAULT_SIMULATED_PLANES`).
        crop: ``(H, W)`` centre crop of a recording (a simulated source is simply
            simulated at ``height x width``).
        fps: simulated sources: keyframes per second of camera time.
        seed: simulated sources: path and membrane seed.
        sensor: simulated sources: the camera's sensor parameters (its type's neurons simulate:
            :class:`codec.simulate.numpy_neuron.NumpySensor` for a process without numba).
        dataset: HDF5 recordings: the plain ``(T, H, W)`` dataset to read
            (:func:`codec.io.open_spikes`).
        block_planes: planes per block of ``blocks`` (unpacked: ``block_planes*H*W`` bytes each,
            read or simulated one at a time).

    Raises:
        SpikeFormatError: bad sizes or crop, ``dataset`` for a source that is not HDF5;
            FileNotFoundError: missing file.
    """
    if planes is not None and planes <= 0:
        raise SpikeFormatError(f"planes must be positive, got {planes}")
    if block_planes <= 0:
        raise SpikeFormatError(f"block_planes must be positive, got {block_planes}")
    spec = str(spec)
    if spec.startswith(DAVIS_PREFIX):
        spec = spec[len(DAVIS_PREFIX):]
        if not Path(spec).is_dir():
            raise SpikeFormatError(f"{DAVIS_PREFIX}{spec}: not a folder of frames")
    path = Path(spec)
    if path.suffix.lower() in (".dat", ".h5", ".hdf5") and not path.is_dir():
        return _open_recording(path, height, width, planes, crop, dataset, block_planes)
    if dataset is not None:
        raise SpikeFormatError(f"{spec}: --dataset applies to HDF5 recordings, not to a simulated source")
    if crop is not None:
        height, width = crop
    sim_sensor = replace(sensor, seed=seed)  # a subclass (its neurons) stays itself
    return _open_simulated(spec, height or DEFAULT_HEIGHT, width or DEFAULT_WIDTH, planes or DEFAULT_SIMULATED_PLANES,
                           sim_sensor, fps, seed, block_planes)
