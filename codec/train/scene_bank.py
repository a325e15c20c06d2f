"""A bank of reconstructed scene sequences, built once, for the inter codec's training.

Simulating spikes per batch costs seconds a step; the inter codec needs only
scenes. So the product's own camera simulator looks once at each of the 16
DAVIS-2016 training sequences (at a random frame rate, so motion per scene
varies) and at still training photographs on random pan/zoom/rotate paths, and
the product's reconstructors (TFP and the learned network, ``K = 32``) turn the
spikes into scene sequences. Training then draws random crops of scenes
``d`` scenes apart from the bank for free.

The bank is cached as ``bank.npz`` (uint8 scenes) in the run dir.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codec.options import DEFAULT_RECONSTRUCTION, Reconstruction
from codec.reconstruct import get_reconstructor
from codec.reconstruct.stream import SceneStream
from codec.sensor import SensorParams
from codec.simulate.camera import simulate
from codec.simulate.sources import FrameSource, SyntheticSource, open_source
from codec.train.data import EVAL_SEQUENCES, IMAGE_SUFFIXES

#: planes between scene centres
WINDOW = 32
#: simulated size of the DAVIS sequences (about half their resolution)
VIDEO_SIZE = (240, 427)
#: keyframes per second of camera time the DAVIS frames are played at (20,000 planes/s)
VIDEO_FPS = (250.0, 500.0, 1000.0)
#: synthetic pans: how many, size, and scenes each
PANS, PAN_SIZE, PAN_SCENES = 48, (256, 256), 24
#: most scenes kept per DAVIS sequence
MAX_SCENES = 96


def _scenes(source: FrameSource, num_planes: int, sensor: SensorParams, methods: tuple[str, ...]) -> dict:
    """``{method: (n, H, W) uint8 scenes}`` of ``num_planes`` simulated planes of ``source``."""
    streams = {m: SceneStream(get_reconstructor(m, WINDOW), WINDOW) for m in methods}
    out: dict[str, list] = {m: [] for m in methods}
    for block in simulate(source, num_planes, sensor):
        for m, stream in streams.items():
            out[m] += [scene for _, scene in stream.push(block)]
    for m, stream in streams.items():
        out[m] += [scene for _, scene in stream.finish()]
    return {m: np.rint(np.clip(np.stack(v), 0, 1) * 255).astype(np.uint8) for m, v in out.items()}


def build_bank(data_root: Path, seed: int = 0,
               methods: tuple[Reconstruction, ...] = (DEFAULT_RECONSTRUCTION, "net")) -> list[np.ndarray]:
    """Scene sequences, each ``(n, H, W)`` uint8 (module docstring)."""
    rng = np.random.default_rng(seed)
    bank: list[np.ndarray] = []
    davis = sorted(p for p in (data_root / "video" / "davis2016").iterdir()
                   if p.is_dir() and p.name not in EVAL_SEQUENCES)
    for i, folder in enumerate(davis):
        fps = float(rng.choice(VIDEO_FPS))
        source = open_source(folder, *VIDEO_SIZE, 20000.0, fps=fps, seed=i)
        planes = min(int(source.num_frames * source.frame_period), MAX_SCENES * WINDOW)
        sensor = SensorParams(alpha=float(rng.uniform(0.4, 1.0)), init="uniform", seed=int(rng.integers(2**31)))
        bank += list(_scenes(source, planes, sensor, methods).values())
    photos = sorted(p for sub in ("train400", "sun_hays80") for p in (data_root / "images" / sub).iterdir()
                    if p.suffix.lower() in IMAGE_SUFFIXES)
    for i in range(PANS):
        photo = photos[int(rng.integers(len(photos)))]
        source = SyntheticSource(*PAN_SIZE, frame_period=50.0, seed=1000 + i, image=photo,
                                 speed=float(rng.uniform(2.0, 12.0)))
        sensor = SensorParams(alpha=float(rng.uniform(0.4, 1.0)), init="uniform", seed=int(rng.integers(2**31)))
        bank += list(_scenes(source, PAN_SCENES * WINDOW, sensor, methods).values())
    return bank


def load_bank(path: Path, data_root: Path) -> list[np.ndarray]:
    """The bank cached at ``path``, built (and cached) first if missing."""
    if not path.is_file():
        bank = build_bank(data_root)
        np.savez(path.with_suffix(".tmp.npz"), *bank)
        path.with_suffix(".tmp.npz").replace(path)
    with np.load(path) as data:
        return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


def draw(bank: list[np.ndarray], rng: np.random.Generator, crop: int, distance: int) -> np.ndarray:
    """Three scenes ``distance`` apart from one random sequence, one random crop, random flip:
    ``(3, crop, crop)`` float32 in [0, 1]."""
    while True:
        seq = bank[int(rng.integers(len(bank)))]
        if len(seq) > 2 * distance and min(seq.shape[1:]) >= crop:
            break
    t = int(rng.integers(len(seq) - 2 * distance))
    top = int(rng.integers(seq.shape[1] - crop + 1))
    left = int(rng.integers(seq.shape[2] - crop + 1))
    out = seq[t : t + 2 * distance + 1 : distance, top : top + crop, left : left + crop]
    if rng.random() < 0.5:
        out = out[:, :, ::-1]
    if rng.random() < 0.5:
        out = out[::-1]  # time reversed: motion the other way
    return out.astype(np.float32) / np.float32(255.0)
