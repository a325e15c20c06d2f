"""Padding scenes to the codec's stride and cropping them back."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

#: total downsampling of the hyperprior (y is /16, z is /64).
STRIDE = 64


def padded_size(height: int, width: int, stride: int = STRIDE) -> tuple[int, int]:
    """``(H, W)`` rounded up to multiples of ``stride``."""
    return -(-height // stride) * stride, -(-width // stride) * stride


def pad_to_multiple(x: Tensor, stride: int = STRIDE) -> Tensor:
    """Replicate-pad ``(B,C,H,W)`` on the bottom/right to multiples of ``stride``."""
    h, w = x.shape[-2:]
    ph, pw = padded_size(h, w, stride)
    if (ph, pw) == (h, w):
        return x
    return F.pad(x, (0, pw - w, 0, ph - h), mode="replicate")


def crop_to(x: Tensor, height: int, width: int) -> Tensor:
    """Top-left ``(height, width)`` of ``(B,C,H,W)``."""
    return x[..., :height, :width]
