"""A procedural still image for built-in demo data (no files needed).

Smooth gradients, soft-edged discs and bars, a grating and band-limited noise
texture, seeded; gray values in [0, 1].
"""

from __future__ import annotations

import numpy as np


def procedural_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A seeded synthetic gray image.

    Args:
        height, width: size in pixels.
        seed: random seed (same seed, same image).

    Returns:
        ``(height, width)`` float32 in [0, 1].
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y /= max(height - 1, 1)
    x /= max(width - 1, 1)
    angle = rng.uniform(0, 2 * np.pi)
    image = 0.25 + 0.3 * (np.cos(angle) * x + np.sin(angle) * y)
    for _ in range(12):  # soft discs, bright and dark
        cy, cx = rng.uniform(0, 1, 2)
        radius = rng.uniform(0.03, 0.18)
        edge = rng.uniform(0.002, 0.01)
        distance = (np.hypot((y - cy) * height / width, x - cx) - radius) / edge
        disc = 1.0 / (1.0 + np.exp(np.minimum(distance, 50.0)))
        image += rng.uniform(-0.35, 0.45) * disc
    for _ in range(4):  # bars
        cy, cx, half = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.02, 0.08)
        theta = rng.uniform(0, np.pi)
        across = np.abs((x - cx) * np.cos(theta) + (y - cy) * np.sin(theta))
        along = np.abs(-(x - cx) * np.sin(theta) + (y - cy) * np.cos(theta))
        image += rng.uniform(-0.3, 0.3) * ((across < half) & (along < 4 * half))
    freq = rng.uniform(15, 40)
    image += 0.03 * np.sin(2 * np.pi * freq * (x * np.cos(angle + 1) + y * np.sin(angle + 1)))
    image += 0.04 * _band_limited_noise(height, width, rng)
    low, high = np.percentile(image, [1, 99])
    return np.clip((image - low) / max(high - low, 1e-6) * 0.9 + 0.05, 0.0, 1.0).astype(np.float32)


def _band_limited_noise(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise with a 1/f spectrum cut at a few pixels (natural-looking texture)."""
    spectrum = np.fft.rfft2(rng.standard_normal((height, width)))
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    spectrum *= np.exp(-((radius / 0.15) ** 2)) / np.maximum(radius, 1.0 / max(height, width))
    noise = np.fft.irfft2(spectrum, s=(height, width))
    return (noise - noise.mean()) / (noise.std() + 1e-12)
