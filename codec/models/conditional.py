"""The conditional inter codec: a residual codec that also sees the prediction it corrects.

A residual codec codes ``r = x - pred`` blind to ``pred``. Learned video codecs gain much of
their edge by conditioning on the prediction instead (DCVC, Li et al. 2021): where it is flat,
textured, or occluded tells the encoder what to spend bits on, the entropy model how large the
residual will be, and the decoder how to shape it. This model keeps the residual form (the
pipeline adds the prediction back, and rounding to 8 bits is unchanged) and adds three paths
from the prediction ``c`` ``(B,1,H,W)`` in [0, 1]::

    analysis:  f = GDN(conv(r) + context_head(c))                       (N, H/2, W/2)
    entropy:   scales, means = h_s(z_hat) + context_prior(c)            (M, H/16, W/16) each
    synthesis: r_hat = g_s(y_hat) + refine([g_s(y_hat), c])            (1, H, W)

The last convolution of each path starts at zero, so the untrained model *is* the residual
codec it is initialised from (:mod:`codec.train.warm_start`) and training can only move away
from it where that pays. ``context_prior`` decides symbols, so it runs on the CPU in float32
with fixed threads like ``h_s`` (:mod:`codec.models.scene_model`); the decoder computes it from
the same 8-bit prediction as the encoder.
"""

from __future__ import annotations

from typing import Sequence

import torch
from compressai.models.utils import conv
from torch import Tensor, nn

from codec.models.scene_model import GainedMeanScaleHyperprior

#: channels of the prediction's path to the entropy parameters (it runs single-threaded at decode)
PRIOR_CHANNELS = 32
#: channels of the full-resolution refinement of the decoded residual
REFINE_CHANNELS = 16


def _zero_last(net: nn.Sequential) -> nn.Sequential:
    """``net`` with its last convolution's weight and bias set to zero (the path starts silent)."""
    last = net[-1]
    assert isinstance(last, nn.Conv2d)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return net


def context_prior(m: int, channels: int = PRIOR_CHANNELS) -> nn.Sequential:
    """``(B,1,H,W)`` prediction -> ``(B,2M,H/16,W/16)`` offsets of the scales and means."""
    return _zero_last(nn.Sequential(
        conv(1, channels), nn.LeakyReLU(inplace=True),
        conv(channels, channels), nn.LeakyReLU(inplace=True),
        conv(channels, channels), nn.LeakyReLU(inplace=True),
        conv(channels, 2 * m),
    ))


def refinement(channels: int = REFINE_CHANNELS) -> nn.Sequential:
    """``(B,2,H,W)`` decoded residual and prediction -> ``(B,1,H,W)`` correction of the residual."""
    return _zero_last(nn.Sequential(
        conv(2, channels, stride=1, kernel_size=3), nn.LeakyReLU(inplace=True),
        conv(channels, channels, stride=1, kernel_size=3), nn.LeakyReLU(inplace=True),
        conv(channels, 1, stride=1, kernel_size=3),
    ))


class ConditionalResidualHyperprior(GainedMeanScaleHyperprior):
    """:class:`GainedMeanScaleHyperprior` coding a residual with its prediction as context.

    Every coding method takes ``context``: the ``(B,1,H,W)`` prediction in [0, 1], padded like
    the residual; it is required.
    """

    DEVICE_MODULES = GainedMeanScaleHyperprior.DEVICE_MODULES + ("context_head", "refine")

    def __init__(self, n: int, m: int, lambdas: Sequence[float], attention: None = None):
        super().__init__(n, m, lambdas, attention)
        self.context_head = conv(1, n)
        nn.init.zeros_(self.context_head.weight)
        nn.init.zeros_(self.context_head.bias)
        self.context_prior = context_prior(m)
        self.refine = refinement()

    @staticmethod
    def _required(context: Tensor | None) -> Tensor:
        if context is None:
            raise ValueError("the conditional inter codec needs the prediction as context")
        return context

    def analysis(self, x: Tensor, attn: Tensor | None, context: Tensor | None = None) -> Tensor:
        conv_in, gdn = self.g_a_head
        return self.g_a(gdn(conv_in(x) + self.context_head(self._required(context))))

    def entropy_parameters(self, z_hat: Tensor, level: Tensor | float, context: Tensor | None = None
                           ) -> tuple[Tensor, Tensor]:
        scales, means = super().entropy_parameters(z_hat, level)
        scale_offsets, mean_offsets = self.context_prior(self._required(context)).chunk(2, dim=1)
        return scales + scale_offsets, means + mean_offsets

    def synthesize(self, y_hat: Tensor, context: Tensor | None = None) -> Tensor:
        residual = self.g_s(y_hat)
        return residual + self.refine(torch.cat([residual, self._required(context)], dim=1))
