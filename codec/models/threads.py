"""A fixed torch thread count around the numerically sensitive parts of coding.

Convolutions split their work by thread count, and a different split can change
the last bit of a float. The encoder and the decoder must derive bit-identical
entropy parameters (Gaussian scales and means from ``h_s``) and the decoder
should give the same scene whatever the host's thread setting, so those parts run
under :func:`fixed_threads`. ``torch.set_num_threads`` is process-global, hence
the lock: concurrent coders (a gRPC thread pool) take turns.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import torch

_LOCK = threading.RLock()


@contextmanager
def fixed_threads(count: int) -> Iterator[None]:
    """Run the body with exactly ``count`` intra-op torch threads, then restore."""
    with _LOCK:
        previous = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
