"""Bitrates (DESIGN.md, Metrics)."""

from __future__ import annotations

from codec.errors import SpikecodecError


def _positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value <= 0:
            raise SpikecodecError(f"{name} must be positive, got {value}")


def bpsp(bits: int, num_planes: int, height: int, width: int) -> float:
    """Bits per spike-pixel: ``bits / (T*H*W)``; the raw stream is 1.0."""
    _positive(num_planes=num_planes, height=height, width=width)
    return bits / (num_planes * height * width)


def bpp(bits: int, num_scenes: int, height: int, width: int) -> float:
    """Bits per scene pixel: ``bits / (scenes*H*W)``."""
    _positive(num_scenes=num_scenes, height=height, width=width)
    return bits / (num_scenes * height * width)
