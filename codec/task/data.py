"""Labelled spike sets: the bundled digits simulated by the camera, or a user's own file.

A set is ``N`` short spike clips ``(N, T, H, W)`` (uint8 0/1) with a class label each.

- ``digits``: scikit-learn's bundled handwritten digits (1,797 images of 8x8, 16 gray
  levels, 10 classes), each padded, upsampled to ``size x size`` and moved on a short
  straight path (:class:`DriftSource`) while the repo's camera simulator
  (:func:`codec.simulate.simulate`) watches it for ``planes`` planes. The split is fixed:
  :data:`DIGITS_EVAL` images (stratified, ``random_state=0``) are the evaluation split,
  the rest train the classifier. Sample ``i`` of a split is simulated with seed
  ``seed * 100003 + i`` (its path direction and the initial membrane), so a set is the
  same on every machine.
- a ``.npz`` or ``.h5``/``.hdf5`` file holding ``spikes`` ``(N, T, H, W)`` (bool or uint8
  0/1) and ``labels`` ``(N,)`` (integers), optionally ``classes`` (names, one per label
  value) -- the layout public spike-camera recognition sets ship in.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from codec.errors import SpikeFormatError
from codec.sensor import SensorParams
from codec.simulate import simulate
from codec.simulate.sources import FrameSource
from codec.task.options import DIGITS, DIGITS_EVAL, DIGITS_PLANES, DIGITS_SIZE

#: scene value of the background and of a full stroke: a lit scene, so the background fires too
BACKGROUND, STROKE = 0.15, 0.85
#: path length of a digit over its clip, in pixels of the clip
DRIFT_PIXELS = 4.0
#: planes between the keyframes of a moving digit
DRIFT_FRAME_PERIOD = 4.0
SPLITS = ("train", "eval")


@dataclass(frozen=True)
class LabelledSpikes:
    """A labelled set of spike clips.

    Attributes:
        name: label of the set (``digits-eval``, a file stem).
        spikes: ``(N, T, H, W)`` uint8 0/1.
        labels: ``(N,)`` int64 class indices.
        classes: class names, indexed by label.
        sensor: the camera parameters the clips were taken with (regeneration uses them).
        digest: sha256 of spikes and labels (names the set in caches and records).
    """

    name: str
    spikes: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    sensor: SensorParams
    digest: str

    @property
    def shape(self) -> tuple[int, int, int, int]:
        n, t, h, w = self.spikes.shape
        return n, t, h, w

    def info(self) -> dict:
        """JSON-able summary: samples, planes, size, classes, mean firing rate, digest."""
        n, t, h, w = self.shape
        return {"set": self.name, "samples": n, "planes": t, "height": h, "width": w, "classes": len(self.classes),
                "mean_rate": round(float(self.spikes.mean()), 5), "sha256": self.digest}


def labelled_set(name: str, spikes: np.ndarray, labels: np.ndarray, classes: tuple[str, ...] | None = None,
                 sensor: SensorParams = SensorParams()) -> LabelledSpikes:
    """Check and wrap ``spikes`` ``(N, T, H, W)`` 0/1 and ``labels`` ``(N,)`` non-negative integers.

    Raises:
        SpikeFormatError: wrong shapes or values, labels outside ``classes``.
    """
    spikes, labels = np.asarray(spikes), np.asarray(labels)
    if spikes.ndim != 4 or 0 in spikes.shape:
        raise SpikeFormatError(f"spikes must be a non-empty (N, T, H, W) array, got shape {spikes.shape}")
    if spikes.dtype != np.bool_ and (not np.issubdtype(spikes.dtype, np.integer) or spikes.max() > 1
                                     or spikes.min() < 0):
        raise SpikeFormatError(f"spikes must be bool or 0/1 integers, got {spikes.dtype}")
    if labels.shape != (len(spikes),) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise SpikeFormatError(f"labels must be {len(spikes)} non-negative integers, got {labels.dtype} "
                               f"of shape {labels.shape}")
    classes = classes or tuple(str(c) for c in range(int(labels.max()) + 1))
    if labels.max() >= len(classes):
        raise SpikeFormatError(f"label {labels.max()} has no class name ({len(classes)} classes)")
    spikes, labels = spikes.astype(np.uint8), labels.astype(np.int64)
    digest = hashlib.sha256(spikes.tobytes() + labels.tobytes() + repr(spikes.shape).encode()).hexdigest()
    return LabelledSpikes(name, spikes, labels, tuple(classes), sensor, digest)


class DriftSource(FrameSource):
    """A still image moving on a straight path, for the camera simulator.

    Args:
        image: ``(h, w)`` float in ``[0, 1]``, already at the clip's size.
        frame_period: planes between keyframes.
        shift: ``(dy, dx)`` pixels travelled from the first plane to plane ``planes``.
        planes: planes the path takes (the path is centred: plane ``planes / 2`` sees the image in place).
    """

    num_frames = None

    def __init__(self, image: np.ndarray, frame_period: float, shift: tuple[float, float], planes: int) -> None:
        super().__init__(image.shape[0], image.shape[1], frame_period)
        self._still = Image.fromarray(np.asarray(image, dtype=np.float32), mode="F")
        self._velocity = np.asarray(shift, dtype=np.float64) / planes
        self._middle = planes / 2.0

    def _load(self, index: int) -> np.ndarray:
        dy, dx = self._velocity * (index * self.frame_period - self._middle)
        # output (x, y) samples the still at (x - dx, y - dy); outside it, the edge (background) holds
        view = self._still.transform((self.width, self.height), Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy),
                                     Image.Resampling.BILINEAR, fillcolor=BACKGROUND)
        return np.clip(np.asarray(view, dtype=np.float32), 0.0, 1.0)


def digit_images(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The fixed ``split`` (``train`` or ``eval``) of scikit-learn's digits.

    Returns:
        ``(images (n, 8, 8) float32 in [0, 1], labels (n,) int64)``, in the split's order.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if split not in SPLITS:
        raise SpikeFormatError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    digits = load_digits()
    images, labels = digits.images.astype(np.float32) / np.float32(16.0), digits.target.astype(np.int64)
    train, evaluate = train_test_split(np.arange(len(labels)), test_size=DIGITS_EVAL, stratify=labels, random_state=0)
    index = np.sort(train if split == "train" else evaluate)
    return images[index], labels[index]


def upsample(image: np.ndarray, size: int) -> np.ndarray:
    """An 8x8 digit in ``[0, 1]`` as a ``size x size`` scene: strokes scaled to
    ``[BACKGROUND, STROKE]``, upsampled bicubically; float32 in ``[0, 1]``."""
    scene = BACKGROUND + (STROKE - BACKGROUND) * np.asarray(image, dtype=np.float32)
    big = Image.fromarray(scene, mode="F").resize((size, size), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big, dtype=np.float32), 0.0, 1.0)


def simulate_clip(image: np.ndarray, planes: int, seed: int, sensor: SensorParams) -> np.ndarray:
    """``(planes, h, w)`` uint8 spikes of ``image`` drifting :data:`DRIFT_PIXELS` in a seeded direction."""
    angle = np.random.default_rng(seed).uniform(0.0, 2.0 * math.pi)
    shift = (DRIFT_PIXELS * math.sin(angle), DRIFT_PIXELS * math.cos(angle))
    source = DriftSource(image, DRIFT_FRAME_PERIOD, shift, planes)
    clip_sensor = SensorParams(**{**sensor.to_dict(), "seed": seed})
    return np.concatenate(list(simulate(source, planes, clip_sensor, seed=seed)))


def digits_set(split: str = "eval", samples: int | None = None, size: int = DIGITS_SIZE,
               planes: int = DIGITS_PLANES, seed: int = 0, sensor: SensorParams = SensorParams()) -> LabelledSpikes:
    """The bundled digits, simulated (module docstring).

    Args:
        split: ``train`` or ``eval``.
        samples: the first ``samples`` images of the split (default all).
        size: clip side in pixels (>= 8).
        planes: planes per clip.
        seed: simulation seed of the set.
    """
    if size < 8 or planes < 1:
        raise SpikeFormatError(f"digits need size >= 8 and planes >= 1, got {size} and {planes}")
    images, labels = digit_images(split)
    if samples is not None:
        if not 1 <= samples <= len(images):
            raise SpikeFormatError(f"the digits {split} split has {len(images)} images, asked for {samples}")
        images, labels = images[:samples], labels[:samples]
    clips = np.stack([simulate_clip(upsample(img, size), planes, seed * 100003 + i, sensor)
                      for i, img in enumerate(images)])
    return labelled_set(f"{DIGITS}-{split}", clips, labels, sensor=sensor)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    if suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as data:
            return {k: data[k][()] for k in data if isinstance(data[k], h5py.Dataset)}
    raise SpikeFormatError(f"{path.name}: a labelled set is a .npz, .h5 or .hdf5 file, got {suffix!r}")


def load_labelled(path: str | Path) -> LabelledSpikes:
    """A user's labelled set from ``.npz`` / ``.h5`` (module docstring); the default sensor is assumed.

    Raises:
        SpikeFormatError: missing ``spikes``/``labels``, bad shapes or values; FileNotFoundError.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        arrays = _read_arrays(path)
    except (OSError, ValueError) as err:
        raise SpikeFormatError(f"{path.name}: not a readable labelled set ({str(err).splitlines()[0]})") from None
    missing = [k for k in ("spikes", "labels") if k not in arrays]
    if missing:
        found = ", ".join(arrays) or "none"
        raise SpikeFormatError(f"{path.name} has no {' or '.join(missing)} array (found: {found})")
    names = arrays.get("classes")
    classes = None if names is None else tuple(str(c.decode() if isinstance(c, bytes) else c) for c in names)
    return labelled_set(path.stem, arrays["spikes"], arrays["labels"], classes)


def open_set(spec: str, samples: int | None = None, size: int = DIGITS_SIZE, planes: int = DIGITS_PLANES,
             seed: int = 0, split: str = "eval") -> LabelledSpikes:
    """``digits`` (simulated, ``split``) or a labelled file; ``samples`` keeps the first ones of a file too."""
    if spec == DIGITS:
        return digits_set(split, samples, size, planes, seed)
    data = load_labelled(spec)
    if samples is None:
        return data
    if not 1 <= samples <= len(data.labels):
        raise SpikeFormatError(f"{data.name} has {len(data.labels)} samples, asked for {samples}")
    return labelled_set(data.name, data.spikes[:samples], data.labels[:samples], data.classes, data.sensor)
