"""Where torch computes: the ``--device cpu|cuda`` of ``train``, ``encode``, ``decode`` and ``bench``.

Determinism per device: on ``cpu`` coding is bit-exact across runs and thread counts, and a
stream decodes to the same planes on every machine whose torch uses the same CPU instruction
set (``tests/test_golden.py``). Scene coding must stay on the CPU for that: the entropy
model's scales are recomputed by the decoder, and a GPU computes them to other last bits, so
a stream coded on one device would not decode on the other. This build has no GPU code path
yet (training included), so ``cuda`` is refused with the reason rather than ignored.
"""

from __future__ import annotations

from codec.errors import SpikecodecError
from codec.options import DEVICES, Device


def check_device(name: str) -> Device:
    """``name`` if this build can compute there.

    Raises:
        SpikecodecError: an unknown device, ``cuda`` where torch finds no CUDA device, or
            ``cuda`` at all (no GPU code path yet; the message says which).
    """
    if name not in DEVICES:
        raise SpikecodecError(f"--device {name}: unknown device (choose from {', '.join(DEVICES)})")
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SpikecodecError("--device cuda: torch finds no CUDA device on this machine "
                                  f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu")
        raise SpikecodecError("--device cuda: this build trains and codes on the CPU only (scene coding must be "
                              "computed on the same device at both ends; see codec/device.py); use --device cpu")
    return "cpu"
