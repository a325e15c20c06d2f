"""Training images for the scene codec (stage I), held in memory as 8-bit gray.

Sources under the shared data folder (never a runtime dependency): the DnCNN
train400 crops, Sun & Hays 80 photographs and frames of the 16 DAVIS-2016
sequences that are not in the evaluation split. Kodak and the four evaluation
sequences are refused by name. Crops are scaled by a random gain because scenes
are firing rates that peak around 0.6 on real spike data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

#: DAVIS-2016 sequences reserved for evaluation: never trained on.
EVAL_SEQUENCES = frozenset({"blackswan", "car-roundabout", "dance-twirl", "parkour"})
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _gray(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def training_paths(data_root: Path, frame_stride: int = 3) -> list[Path]:
    """Image files for stage I under ``data_root`` (``../shared/data`` by default).

    Args:
        data_root: folder holding ``images/`` and ``video/davis2016/``.
        frame_stride: keep every n-th DAVIS frame (consecutive frames are near copies).
    """
    images = data_root / "images"
    paths = _images(images / "train400") + _images(images / "sun_hays80")
    davis = data_root / "video" / "davis2016"
    for seq in sorted(p for p in davis.iterdir() if p.is_dir()):
        if seq.name in EVAL_SEQUENCES:
            continue
        paths += _images(seq)[::frame_stride]
    if any("kodak" in p.parts or p.parent.name in EVAL_SEQUENCES for p in paths):
        raise AssertionError("evaluation data leaked into the training set")
    return paths


class CropSampler:
    """Random gray crops with flips and a random gain.

    Args:
        paths: image files (loaded once, kept as uint8).
        crop: square crop side in pixels.
        gain: ``(low, high)`` range of the uniform random intensity gain.
        seed: RNG seed (the sampler state is saved in checkpoints).
        tfp_noise: fraction of crops turned into what TFP makes of a still scene
            (:func:`tfp_quantize`), so the codec also learns the statistics of the
            scenes it codes most.
    """

    def __init__(self, paths: list[Path], crop: int = 128, gain: tuple[float, float] = (0.3, 1.0),
                 seed: int = 0, tfp_noise: float = 0.0):
        self.images = [img for img in map(_gray, paths) if min(img.shape) >= crop]
        if not self.images:
            raise ValueError(f"no training image is at least {crop}x{crop}")
        self.crop = crop
        self.gain = gain
        self.tfp_noise = tfp_noise
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> torch.Tensor:
        """``(size, 1, crop, crop)`` float32 in [0, 1]."""
        out = np.empty((size, 1, self.crop, self.crop), dtype=np.float32)
        for i in range(size):
            img = self.images[self.rng.integers(len(self.images))]
            top = self.rng.integers(img.shape[0] - self.crop + 1)
            left = self.rng.integers(img.shape[1] - self.crop + 1)
            patch = img[top : top + self.crop, left : left + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            out[i, 0] = patch * (self.rng.uniform(*self.gain) / 255.0)
            if self.rng.random() < self.tfp_noise:
                out[i, 0] = tfp_quantize(out[i, 0], int(self.rng.choice(TFP_WINDOWS)), self.rng)
        return torch.from_numpy(out)


#: TFP windows (planes) of the noisy training crops
TFP_WINDOWS = (16, 32, 64)


def tfp_quantize(rate: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
    """What TFP reconstructs from ``window`` planes of a pixel firing at a constant ``rate``
    (spikes/plane) with a uniformly random integrator phase: ``floor(rate*K + U) / K``."""
    phase = rng.random(rate.shape, dtype=np.float32)
    return np.floor(rate * window + phase) / np.float32(window)
