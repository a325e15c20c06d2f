"""Analysis/synthesis transforms of the single-channel scene codec.

The mean-scale hyperprior of Minnen et al. (2018) without the serial
autoregressive context (so CPU decoding stays fast), for one channel::

    x (1,H,W) -g_a_head-> f (N,H/2,W/2) -[f + f*A]-> g_a -> y (M,H/16,W/16)
    y -h_a-> z (N,H/64,W/64);   z_hat -h_s-> scales, means (M,H/16,W/16) each
    y_hat -g_s-> x_hat (1,H,W)

``g_a_head`` is split from the rest of the analysis so the spike attention
(:mod:`codec.models.attention`) can act on its output.
"""

from __future__ import annotations

from compressai.layers import GDN
from compressai.models.utils import conv, deconv
from torch import nn


def analysis_head(n: int) -> nn.Sequential:
    """``(B,1,H,W) -> (B,N,H/2,W/2)``."""
    return nn.Sequential(conv(1, n), GDN(n))


def analysis_tail(n: int, m: int) -> nn.Sequential:
    """``(B,N,H/2,W/2) -> (B,M,H/16,W/16)``."""
    return nn.Sequential(conv(n, n), GDN(n), conv(n, n), GDN(n), conv(n, m))


def synthesis(n: int, m: int) -> nn.Sequential:
    """``(B,M,H/16,W/16) -> (B,1,H,W)``."""
    return nn.Sequential(
        deconv(m, n), GDN(n, inverse=True),
        deconv(n, n), GDN(n, inverse=True),
        deconv(n, n), GDN(n, inverse=True),
        deconv(n, 1),
    )


def hyper_analysis(n: int, m: int) -> nn.Sequential:
    """``(B,M,h,w) -> (B,N,h/4,w/4)``."""
    return nn.Sequential(
        conv(m, n, stride=1, kernel_size=3), nn.LeakyReLU(inplace=True),
        conv(n, n, stride=2, kernel_size=5), nn.LeakyReLU(inplace=True),
        conv(n, n, stride=2, kernel_size=5),
    )


def hyper_synthesis(n: int, m: int) -> nn.Sequential:
    """``(B,N,h/4,w/4) -> (B,2M,h,w)``: scales then means."""
    return nn.Sequential(
        deconv(n, m, stride=2, kernel_size=5), nn.LeakyReLU(inplace=True),
        deconv(m, m * 3 // 2, stride=2, kernel_size=5), nn.LeakyReLU(inplace=True),
        conv(m * 3 // 2, m * 2, stride=1, kernel_size=3),
    )
