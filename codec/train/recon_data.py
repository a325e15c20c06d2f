"""Training material for the reconstruction network: moving scenes -> spikes -> (features, rate).

Natural images (``images/train400``, ``images/sun_hays80``) are moved along a
straight path with a slow rotation and sampled with ``grid_sample``; DAVIS-2016
videos (training split only) are played at a random number of planes per frame
with linear interpolation between frames (and an optional pan). Each sample is
scaled by a random sensor gain, turned into spikes by the camera's own
integrate-and-fire array (:class:`codec.sensor.SensorParams`, uniform random initial
membrane), and paired with the firing rate of its centre plane as ground truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from codec.errors import SpikecodecError
from codec.reconstruct.features import CONTEXT, temporal_features
from codec.sensor import SensorParams

#: DAVIS-2016 sequences kept for evaluation: never trained on
EVALUATION_SEQUENCES = frozenset({"blackswan", "car-roundabout", "dance-twirl", "parkour"})
IMAGE_FOLDERS = ("images/train400", "images/sun_hays80")
VIDEO_FOLDER = "video/davis2016"


@dataclass(frozen=True)
class SampleRanges:
    """Random ranges of the scene generator (units: output pixels, planes, rate)."""

    max_speed: float = 0.8  # px/plane
    static_fraction: float = 0.15
    max_spin: float = 0.004  # rad/plane
    gain: tuple[float, float] = (0.08, 1.0)  # firing rate of white
    planes_per_frame: tuple[float, float] = (6.0, 120.0)  # video playback, log-uniform
    video_fraction: float = 0.35


def _gray(path: Path, scale: float = 1.0) -> np.ndarray:
    image = Image.open(path).convert("L")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def load_images(data_root: Path) -> list[np.ndarray]:
    """All training photographs as ``(H, W)`` uint8 gray arrays."""
    images = []
    for folder in IMAGE_FOLDERS:
        files = sorted(p for p in (data_root / folder).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
        images += [_gray(p) for p in files]
    if not images:
        raise SpikecodecError(f"no training images under {data_root}")
    return images


def load_videos(data_root: Path, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Training DAVIS sequences (evaluation split excluded) as ``(F, H, W)`` uint8, resized by ``scale``."""
    root = data_root / VIDEO_FOLDER
    videos = {}
    for seq in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in EVALUATION_SEQUENCES):
        frames = sorted(seq.glob("*.jpg"))
        videos[seq.name] = np.stack([_gray(f, scale) for f in frames])
    return videos


def _path_grid(n_times: np.ndarray, size: int, src_hw: tuple[int, int], rng: np.random.Generator,
               ranges: SampleRanges, zoom: float) -> torch.Tensor:
    """``(T, size, size, 2)`` sampling positions ``(x, y)`` in pixels of a crop moving across a ``src_hw`` image."""
    h, w = src_hw
    speed = 0.0 if rng.random() < ranges.static_fraction else rng.uniform(0.0, ranges.max_speed)
    angle = rng.uniform(0, 2 * math.pi)
    spin = rng.uniform(-ranges.max_spin, ranges.max_spin)
    theta0 = rng.uniform(0, 2 * math.pi) if rng.random() < 0.3 else 0.0
    half = size / 2 * zoom * math.sqrt(2)
    reach = np.abs(n_times).max()
    room_y, room_x = h / 2 - half - 1, w / 2 - half - 1
    if min(room_y, room_x) < 0:
        raise ValueError("crop does not fit")
    speed = min(speed * zoom, min(room_y, room_x) / max(reach, 1))
    vy, vx = speed * math.sin(angle), speed * math.cos(angle)
    cy = rng.uniform(-room_y + abs(vy) * reach, room_y - abs(vy) * reach) + (h - 1) / 2
    cx = rng.uniform(-room_x + abs(vx) * reach, room_x - abs(vx) * reach) + (w - 1) / 2
    offs = (torch.arange(size, dtype=torch.float32) - (size - 1) / 2) * zoom
    oy, ox = torch.meshgrid(offs, offs, indexing="ij")
    t = torch.as_tensor(n_times, dtype=torch.float32).view(-1, 1, 1)
    th = theta0 + spin * t
    y = cy + vy * t + oy * torch.cos(th) - ox * torch.sin(th)
    x = cx + vx * t + oy * torch.sin(th) + ox * torch.cos(th)
    return torch.stack([x, y], dim=-1)


def _sample(frames: torch.Tensor, index: np.ndarray, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of uint8 ``frames[index[t]]`` (``frames``: ``(F, H, W)``) at pixel
    positions ``grid[t]`` (``(T, s, s, 2)``), as ``(T, s, s)`` float32 in ``[0, 1]``.

    Only the bounding box of the positions is indexed and converted to float.
    """
    x0, y0 = (max(0, int(v)) for v in grid.reshape(-1, 2).amin(0).floor())
    x1, y1 = (int(v) + 2 for v in grid.reshape(-1, 2).amax(0).floor())
    box = frames[:, y0:y1, x0:x1]
    used, where = np.unique(index, return_inverse=True)
    crop = (box[torch.from_numpy(used)].float() / 255.0)[torch.from_numpy(where.reshape(-1))][:, None]
    h, w = crop.shape[-2:]
    local = torch.stack([2 * (grid[..., 0] - x0) / max(w - 1, 1) - 1, 2 * (grid[..., 1] - y0) / max(h - 1, 1) - 1],
                        dim=-1)
    return F.grid_sample(crop, local, mode="bilinear", align_corners=True)[:, 0]


class SceneSampler:
    """Draws ``(B, n, size, size)`` float32 scene sequences in ``[0, 1]``.

    ``span = (before, after)``: planes of a sequence before and after its reference
    plane (index ``before``), so ``n = before + after + 1``; by default the
    reconstruction context around one centre.
    """

    def __init__(self, data_root: Path, ranges: SampleRanges = SampleRanges(),
                 span: tuple[int, int] = CONTEXT) -> None:
        self.images = [torch.from_numpy(im.copy()) for im in load_images(data_root)]
        self.videos = {k: torch.from_numpy(v) for k, v in load_videos(data_root).items()}
        self.ranges = ranges
        self.times = np.arange(-span[0], span[1] + 1)

    def _image_sequence(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        while True:
            src = self.images[rng.integers(len(self.images))]
            limit = min(src.shape) / (size * math.sqrt(2) + 4)
            zoom = math.exp(rng.uniform(math.log(0.5), math.log(min(2.5, limit)))) if limit > 0.5 else None
            if zoom is not None:
                break
        grid = _path_grid(self.times, size, tuple(src.shape), rng, self.ranges, zoom)
        return _sample(src[None], np.zeros(len(self.times), dtype=int), grid)

    def _video_sequence(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        name = list(self.videos)[rng.integers(len(self.videos))]
        video = self.videos[name]
        lo, hi = self.ranges.planes_per_frame
        per_frame = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        reach_before, reach_after = -self.times[0] / per_frame, self.times[-1] / per_frame
        u0 = rng.uniform(reach_before, video.shape[0] - 1 - reach_after - 1e-6)
        u = u0 + self.times / per_frame
        k = np.floor(u).astype(int)
        a = torch.as_tensor(u - k, dtype=torch.float32).view(-1, 1, 1)
        limit = min(video.shape[1:]) / (size * math.sqrt(2) + 4)  # largest zoom whose crop still fits
        if limit < 0.6:
            raise SpikecodecError(f"crop {size} does not fit the {tuple(video.shape[1:])} frames of {name}")
        zoom = math.exp(rng.uniform(math.log(0.6), math.log(min(1.5, limit))))
        ranges = SampleRanges(max_speed=self.ranges.max_speed / 3, static_fraction=0.5, max_spin=0.0)
        grid = _path_grid(self.times, size, tuple(video.shape[1:]), rng, ranges, zoom)
        first = _sample(video, k, grid)
        second = _sample(video, np.minimum(k + 1, video.shape[0] - 1), grid)
        return (1 - a) * first + a * second

    def scenes(self, rng: np.random.Generator, batch: int, size: int) -> torch.Tensor:
        """``(batch, n, size, size)`` scene sequences, randomly flipped and gamma-adjusted."""
        out = []
        for _ in range(batch):
            if rng.random() < self.ranges.video_fraction:
                seq = self._video_sequence(rng, size)
            else:
                seq = self._image_sequence(rng, size)
            if rng.random() < 0.5:
                seq = seq.flip(-1)
            seq = seq.clamp(0, 1) ** math.exp(rng.uniform(-0.4, 0.4))
            out.append(seq)
        return torch.stack(out)


def spikes_and_target(scenes: torch.Tensor, rng: np.random.Generator, ranges: SampleRanges = SampleRanges()
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate spikes of ``(B, n, h, w)`` scenes at random gains.

    Returns:
        ``(features (B, NUM_FEATURES, h, w), rate (B, 1, h, w))``: network input and
        the true firing rate (spikes/plane) of the centre plane.
    """
    b, n, h, w = scenes.shape
    gain = torch.as_tensor(rng.uniform(*ranges.gain, size=b), dtype=torch.float32).view(b, 1, 1, 1)
    intensity = (scenes * gain).permute(1, 0, 2, 3).reshape(n, b * h, w)
    sensor = SensorParams(init="uniform", seed=int(rng.integers(2**31)))
    spikes = sensor.neurons((b * h, w))(intensity.numpy().astype(np.float64))
    spikes = torch.from_numpy(spikes).view(n, b, h, w).permute(1, 0, 2, 3)
    c = CONTEXT[0]
    return temporal_features(spikes, c), intensity.view(n, b, h, w)[c].unsqueeze(1)
