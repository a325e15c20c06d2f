"""Rate-distortion loss with a lambda per sample (variable-rate training)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def rate_bpp(likelihoods: dict[str, Tensor], num_pixels: int) -> Tensor:
    """``(B,)`` bits per pixel from the entropy models' likelihoods."""
    bits = sum(torch.log(lik).flatten(1).sum(dim=1) for lik in likelihoods.values())
    return bits / (-math.log(2) * num_pixels)


def rd_loss(out: dict, target: Tensor, lambdas: Tensor) -> dict[str, Tensor]:
    """``loss = mean(lambda * 255^2 * MSE + bpp)`` over the batch.

    Args:
        out: model output with ``x_hat`` ``(B,1,H,W)`` and ``likelihoods``.
        target: ``(B,1,H,W)`` scenes in [0,1].
        lambdas: ``(B,)`` lambda of each sample.

    Returns:
        ``{"loss", "bpp", "mse"}`` scalars (bpp and mse averaged over the batch).
    """
    bpp = rate_bpp(out["likelihoods"], target.shape[-2] * target.shape[-1])
    mse = (out["x_hat"] - target).pow(2).flatten(1).mean(dim=1)
    loss = (lambdas * 255.0**2 * mse + bpp).mean()
    return {"loss": loss, "bpp": bpp.mean(), "mse": mse.mean()}
