"""Reconstructors by name (:data:`codec.options.RECONSTRUCTIONS`)."""

from __future__ import annotations

import importlib
from typing import Callable

from codec.device import CPU
from codec.errors import SpikecodecError
from codec.reconstruct.base import Reconstructor

#: ``module:class`` per name of :data:`codec.options.RECONSTRUCTIONS` (a test keeps them equal), imported
#: when asked for: the learned one imports torch
RECONSTRUCTORS: dict[str, str] = {"tfp": "codec.reconstruct.tfp:TFP", "tfi": "codec.reconstruct.tfi:TFI",
                                  "net": "codec.reconstruct.net:NetReconstructor"}


#: the reconstructors that compute with torch and so take a ``device`` (the others run on the CPU)
ON_DEVICE = frozenset({"net"})


def get_reconstructor(name: str, window: int, gain: float = 1.0, device: str = CPU) -> Reconstructor:
    """A reconstructor by ``name`` for scene window ``K = window``.

    Args:
        name: ``"tfp"`` (windowed firing rate), ``"tfi"`` (1/ISI) or ``"net"`` (learned):
            one of :data:`codec.options.RECONSTRUCTIONS`.
        window: ``K`` planes; TFP/TFI average over it, the network has its own context.
        gain: scene value per unit firing rate (1.0 maps rate 1 to white).
        device: where a learned reconstructor (:data:`ON_DEVICE`) computes (:mod:`codec.device`).
    """
    if name not in RECONSTRUCTORS:
        raise SpikecodecError(f"unknown reconstruction method {name!r}; choose from {', '.join(RECONSTRUCTORS)}")
    module, cls = RECONSTRUCTORS[name].split(":")
    build: Callable[..., Reconstructor] = getattr(importlib.import_module(module), cls)
    return build(window, gain=gain, **({"device": device} if name in ON_DEVICE else {}))
