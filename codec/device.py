"""Where torch computes: the ``--device cpu|cuda`` of ``train``, ``encode``, ``decode`` and ``bench``.

What runs on the chosen device:

- training: every stage's networks and batches (``spikecodec train``);
- coding: the scene codec's analysis and synthesis transforms (``g_a``, ``g_s``), the spike
  attention (SOAM/BiSOAM) and the learned reconstruction network (``--recon net``).

What always runs on the CPU in float32 under a fixed thread count (:mod:`codec.models.threads`),
whatever the device: every computation that decides a CDF index or a symbol, that is the hyper
transforms (``h_a``, ``h_s``), the context parameter networks, the Gaussian index computation,
quantisation and the rANS coder. The decoder recomputes those from the stream and must get the
encoder's numbers to the last bit; a GPU computes convolutions to other last bits than a CPU (and
than another GPU), so running them on the device would make a stream coded on a GPU undecodable
on a CPU and the other way round. Kept on the CPU, a stream coded on either device decodes on
either device.

A decoded scene is the synthesis output rounded to 8 bits, so on ``cuda`` it may differ from the
CPU's by one level at rare pixels (and then so may the regenerated spikes and, along a GOP, the
scenes predicted from it): ``cpu`` is the bit-exact reference (``tests/test_golden.py``), on every
machine whose torch uses the same CPU instruction set. The one exception is a stream whose exact
layer reads the decoded scenes (``--exact`` with scenes): there a decoded scene decides the exact
layer's probabilities, so its scene codec runs on the CPU at both ends
(:func:`scene_codec_device`).
"""

from __future__ import annotations

from codec.errors import SpikecodecError
from codec.options import DEVICES, Device

#: the device of everything that decides a symbol (see the module docstring)
CPU: Device = "cpu"


def check_device(name: str) -> Device:
    """``name`` if torch can compute there on this machine.

    Raises:
        SpikecodecError: an unknown device, or ``cuda`` where torch finds no CUDA device.
    """
    if name not in DEVICES:
        raise SpikecodecError(f"--device {name}: unknown device (choose from {', '.join(DEVICES)})")
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SpikecodecError("--device cuda: torch finds no CUDA device on this machine "
                                  f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu")
    return name


def scene_codec_device(device: str, exact: str) -> str:
    """Where a stream's scene codec transforms run: ``device``, except on the CPU when the stream's
    exact layer (``exact``, :data:`codec.options.EXACT_LAYERS`) is conditioned on decoded scenes."""
    return CPU if exact == "scenes" else device


def coding_device(name: str, pool: object | None = None) -> Device:
    """:func:`check_device` for coding in this process; ``pool``: the Ray workers (or the flag asking
    for them) that would code the scenes instead, on their own CPUs.

    Raises:
        SpikecodecError: as :func:`check_device`, or a device other than the CPU with a ``pool``.
    """
    if pool is not None and name != CPU:
        raise SpikecodecError(f"--device {name} computes in this process, Ray workers (--workers/--ray) "
                              "code on their CPUs: use one or the other")
    device = check_device(name)
    if device == "cuda":
        import torch

        # full float32 convolutions: TF32 (the default on recent GPUs) would move decoded scenes about
        # 1e-3 away from the CPU's, float32 keeps them within rounding of each other
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return device
