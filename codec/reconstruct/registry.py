"""Reconstructors by name (:data:`codec.options.RECONSTRUCTIONS`)."""

from __future__ import annotations

from typing import Callable

from codec.errors import SpikecodecError
from codec.reconstruct.base import Reconstructor
from codec.reconstruct.net import NetReconstructor
from codec.reconstruct.tfi import TFI
from codec.reconstruct.tfp import TFP

#: one class per name of :data:`codec.options.RECONSTRUCTIONS` (a test keeps them equal)
RECONSTRUCTORS: dict[str, Callable[..., Reconstructor]] = {"tfp": TFP, "tfi": TFI, "net": NetReconstructor}


def get_reconstructor(name: str, window: int, gain: float = 1.0) -> Reconstructor:
    """A reconstructor by ``name`` for scene window ``K = window``.

    Args:
        name: ``"tfp"`` (windowed firing rate), ``"tfi"`` (1/ISI) or ``"net"`` (learned):
            one of :data:`codec.options.RECONSTRUCTIONS`.
        window: ``K`` planes; TFP/TFI average over it, the network has its own context.
        gain: scene value per unit firing rate (1.0 maps rate 1 to white).
    """
    if name not in RECONSTRUCTORS:
        raise SpikecodecError(f"unknown reconstruction method {name!r}; choose from {', '.join(RECONSTRUCTORS)}")
    return RECONSTRUCTORS[name](window, gain=gain)
