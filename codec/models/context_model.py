"""The variable-rate scene model with a channel-grouped checkerboard context (ELIC-style).

A mean-scale hyperprior (Minnen et al. 2018) whose Gaussian parameters also come
from already-decoded latents, in a fixed number of parallel passes (no serial
autoregression, so CPU decoding stays fast):

- the latent ``y`` (M channels) is split into channel groups; group ``k`` sees
  the decoded groups ``< k`` (channel context, Minnen & Singh 2020);
- inside a group, the checkerboard anchors are coded first from the hyperprior
  and channel context alone, then the other half also sees its decoded anchor
  neighbours (spatial context, He et al. 2021).

::

    x (1,H,W) -g_a_head-> f (N,H/2,W/2) -[f + f*A]-> g_a -> y (M,H/16,W/16) * gain(q)
    y -h_a-> z (N,H/64,W/64) * hyper_gain(q);   z_hat -h_s-> hyper (2M,H/16,W/16)
    group k, pass p in (anchors, non-anchors):
        params = ep_k(hyper, cc_k(y_hat[<k]), sc_k(anchors of y_hat_k) if p else 0) -> scales, means
    y_hat / inverse_gain(q) -g_s-> x_hat (1,H,W)

Every symbol (z, then each group's anchors and non-anchors) goes into **one**
rANS string, so a scene costs one coder flush, and a nearly empty latent (a
residual that needs no correction) costs only a few bytes.

Determinism: the parameter networks run in float32 under a fixed thread count
(:mod:`codec.models.threads`), so encoder and decoder derive the same CDF
indexes in any process whatever its torch thread setting. They stay on the CPU
whatever ``--device`` (:meth:`~codec.models.scene_model.GainedMeanScaleHyperprior.place`
moves only the analysis and synthesis transforms): a GPU would round them differently
and its streams would not decode on a CPU (:mod:`codec.device`).
"""

from __future__ import annotations

from typing import Sequence

import torch
from compressai.ans import BufferedRansEncoder, RansDecoder
from compressai.layers import CheckerboardMaskedConv2d
from compressai.models.utils import conv
from compressai.ops import quantize_ste
from torch import Tensor, nn

from codec.models.attention import SpikeAttention
from codec.models.scene_model import HYPER_THREADS, GainedMeanScaleHyperprior
from codec.models.threads import fixed_threads


def channel_groups(m: int) -> tuple[int, ...]:
    """Uneven channel groups of ``m`` latent channels (small first, as in ELIC):
    ``m/12, m/12, m/6, m/3, m/3`` rounded to multiples of 4."""
    first = max(4, (m // 12) // 4 * 4)
    second = max(4, (m // 6) // 4 * 4)
    third = max(4, (m // 3) // 4 * 4)
    groups = [first, first, second, third]
    groups.append(m - sum(groups))
    if groups[-1] <= 0:
        raise ValueError(f"{m} latent channels are too few for channel groups")
    return tuple(groups)


def checkerboard(height: int, width: int) -> Tensor:
    """``(1,1,h,w)`` float mask, 1 on the anchors (``(i + j)`` even)."""
    i = torch.arange(height)[:, None]
    j = torch.arange(width)[None, :]
    return ((i + j) % 2 == 0).float()[None, None]


class GroupContext(nn.Module):
    """Entropy parameters of one channel group.

    The hyperprior's own Gaussian parameters for the group (its slice of the
    ``h_s`` output: scales in the first ``M`` channels, means in the last ``M``)
    plus a correction from the hyperprior, channel and spatial contexts. The
    correction's last layer starts at zero, so a model initialised from a plain
    mean-scale hyperprior codes exactly as that model before it learns anything.

    Args:
        m: latent channels (the hyperprior features have ``2m``).
        offset: first channel of this group in ``y``.
        size: channels of this group.
    """

    def __init__(self, m: int, offset: int, size: int):
        super().__init__()
        self.m, self.offset, self.size = m, offset, size
        self.channel = (
            nn.Sequential(conv(offset, 64, 5, 1), nn.LeakyReLU(inplace=True), conv(64, 2 * size, 5, 1))
            if offset else None
        )
        self.spatial = CheckerboardMaskedConv2d(size, 2 * size, kernel_size=5, padding=2, stride=1)
        inputs = 2 * m + 2 * size + (2 * size if offset else 0)
        self.parameters_net = nn.Sequential(
            nn.Conv2d(inputs, 128, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(128, 96, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(96, 2 * size, 1),
        )
        nn.init.zeros_(self.parameters_net[-1].weight)
        nn.init.zeros_(self.parameters_net[-1].bias)

    def params(self, hyper: Tensor, channel_ctx: Tensor | None, spatial_ctx: Tensor) -> tuple[Tensor, Tensor]:
        """``(scales, means)``, each ``(B,size,h,w)``."""
        parts = [hyper, spatial_ctx] + ([channel_ctx] if channel_ctx is not None else [])
        d_scales, d_means = self.parameters_net(torch.cat(parts, dim=1)).chunk(2, dim=1)
        lo, hi = self.offset, self.offset + self.size
        return hyper[:, lo:hi] + d_scales, hyper[:, self.m + lo : self.m + hi] + d_means


class GainedContextHyperprior(GainedMeanScaleHyperprior):
    """The mean-scale hyperprior with a channel-grouped checkerboard context (transforms,
    gain units and entropy bottleneck are the base class's; only the latent coding differs).

    Args:
        n: channels of the transforms and of the hyper-latent ``z``.
        m: channels of the latent ``y``.
        lambdas: rate-distortion lambdas of the quality levels, increasing.
        attention: optional :class:`SpikeAttention` steering the encoder.
    """

    def __init__(self, n: int, m: int, lambdas: Sequence[float], attention: SpikeAttention | None = None):
        super().__init__(n, m, lambdas, attention)
        self.groups = channel_groups(m)
        self.contexts = nn.ModuleList(
            GroupContext(m, sum(self.groups[:k]), size) for k, size in enumerate(self.groups)
        )

    # -- shared pieces -------------------------------------------------------------------------

    def _split(self, y: Tensor) -> list[Tensor]:
        return list(y.split(self.groups, dim=1))

    # -- training ------------------------------------------------------------------------------

    def forward(self, x: Tensor, level: Tensor, attn: Tensor | None = None, context: Tensor | None = None) -> dict:
        """Training pass.

        Args:
            x: ``(B,1,H,W)`` scenes (or residuals), H and W multiples of 64.
            level: ``(B,)`` int64 quality levels (0-based).
            attn: optional attention map from :attr:`attention`.

        Returns:
            ``{"x_hat": (B,1,H,W), "likelihoods": {"y": ..., "z": ...}}``; the
            entropy models run in float32 even when the transforms run under autocast.
        """
        y = (self.analysis(x, attn) * self.gain.gain(level)).float()
        z = (self.h_a(y) * self.hyper_gain.gain(level)).float()
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        hyper = self.h_s(z_hat * self.hyper_gain.inverse(level)).float()
        anchors = checkerboard(*y.shape[-2:]).to(y)
        y_hats: list[Tensor] = []
        likelihoods = []
        for k, y_k in enumerate(self._split(y)):
            ctx = self.contexts[k]
            channel_ctx = ctx.channel(torch.cat(y_hats, dim=1)).float() if y_hats else None
            zeros = y_k.new_zeros(y_k.shape[0], 2 * y_k.shape[1], *y_k.shape[2:])
            scales_a, means_a = ctx.params(hyper, channel_ctx, zeros)
            y_hat_a = (quantize_ste(y_k - means_a) + means_a) * anchors
            scales_n, means_n = ctx.params(hyper, channel_ctx, ctx.spatial(y_hat_a).float())
            scales = scales_a * anchors + scales_n * (1 - anchors)
            means = means_a * anchors + means_n * (1 - anchors)
            _, lik = self.gaussian_conditional(y_k, scales.float(), means=means.float())
            likelihoods.append(lik)
            y_hats.append(y_hat_a + (quantize_ste(y_k - means_n) + means_n) * (1 - anchors))
        y_hat = torch.cat(y_hats, dim=1)
        x_hat = self.g_s(y_hat * self.gain.inverse(level))
        return {"x_hat": x_hat, "likelihoods": {"y": torch.cat(likelihoods, dim=1), "z": z_likelihoods}}

    # -- coding --------------------------------------------------------------------------------

    def _tables(self, model) -> tuple[list, list, list]:
        """``(cdfs, cdf lengths, offsets)`` of an entropy model as lists (converted once per
        :meth:`update`: the conversion costs more than coding a scene)."""
        cache = self.__dict__.setdefault("_table_cache", {})
        key = (id(model), model.quantized_cdf.data_ptr(), model.quantized_cdf.shape)
        if key not in cache:
            cache[key] = (model.quantized_cdf.tolist(), model.cdf_length.reshape(-1).int().tolist(),
                          model.offset.reshape(-1).int().tolist())
        return cache[key]

    def _hyper(self, z_hat: Tensor, level: float) -> Tensor:
        return self.h_s(z_hat * self.hyper_gain.inverse(level))

    def _code_latent(self, hyper: Tensor, shape: tuple[int, int], step) -> Tensor:
        """Walk the groups and passes in coding order; ``step(scales, means, mask) -> y_hat`` codes
        (or decodes) the elements under ``mask`` and returns their dequantized values (zero elsewhere).

        Returns the whole ``y_hat`` ``(1,M,h,w)``.
        """
        anchors = checkerboard(*shape)
        y_hats: list[Tensor] = []
        for k, size in enumerate(self.groups):
            ctx = self.contexts[k]
            channel_ctx = ctx.channel(torch.cat(y_hats, dim=1)) if y_hats else None
            zeros = hyper.new_zeros(1, 2 * size, *shape)
            scales, means = ctx.params(hyper, channel_ctx, zeros)
            y_hat_a = step(k, scales, means, anchors)
            scales, means = ctx.params(hyper, channel_ctx, ctx.spatial(y_hat_a))
            y_hats.append(y_hat_a + step(k, scales, means, 1 - anchors))
        return torch.cat(y_hats, dim=1)

    @torch.inference_mode()
    def compress(self, x: Tensor, level: float, attn: Tensor | None = None, context: Tensor | None = None) -> dict:
        """``x`` ``(1,1,H,W)`` -> ``{"strings": [[string]], "shape": (h, w) of z, "y_hat": the
        latent exactly as :meth:`decompress` decodes it}`` (one rANS string for z and y)."""
        y, z = self.latents(x, level, attn)
        encoder = BufferedRansEncoder()
        eb = self.entropy_bottleneck
        z_symbols = eb.quantize(z, "symbols", eb._get_medians())
        encoder.encode_with_indexes(z_symbols.reshape(-1).int().tolist(),
                                    eb._build_indexes(z.size()).reshape(-1).tolist(), *self._tables(eb))
        z_hat = eb.dequantize(z_symbols, eb._get_medians())
        gc = self.gaussian_conditional
        y_groups = self._split(y)

        def step(k: int, scales: Tensor, means: Tensor, mask: Tensor) -> Tensor:
            keep = mask[0, 0].bool()
            symbols = gc.quantize(y_groups[k], "symbols", means)
            indexes = gc.build_indexes(scales)
            encoder.encode_with_indexes(symbols[..., keep].reshape(-1).tolist(),
                                        indexes[..., keep].reshape(-1).tolist(), *self._tables(gc))
            return gc.dequantize(symbols, means) * mask

        with fixed_threads(HYPER_THREADS):
            y_hat = self._code_latent(self._hyper(z_hat, level), tuple(y.shape[-2:]), step)
        return {"strings": [[encoder.flush()]], "shape": tuple(z.shape[-2:]), "y_hat": y_hat}

    @torch.inference_mode()
    def decompress(self, strings: list[list[bytes]], shape: tuple[int, int], level: float,
                   context: Tensor | None = None) -> dict:
        """Inverse of :meth:`compress`: ``{"x_hat": (1,1,H,W)}`` (not clamped)."""
        decoder = RansDecoder()
        decoder.set_stream(strings[0][0])
        eb = self.entropy_bottleneck
        size = (1, eb.channels, *shape)
        z_values = decoder.decode_stream(eb._build_indexes(size).reshape(-1).tolist(), *self._tables(eb))
        z_hat = eb.dequantize(torch.tensor(z_values, dtype=torch.float32).reshape(size), eb._get_medians())
        gc = self.gaussian_conditional

        def step(k: int, scales: Tensor, means: Tensor, mask: Tensor) -> Tensor:
            keep = mask[0, 0].bool()
            indexes = gc.build_indexes(scales)
            values = decoder.decode_stream(indexes[..., keep].reshape(-1).tolist(), *self._tables(gc))
            symbols = torch.zeros_like(means)
            symbols[..., keep] = torch.tensor(values, dtype=torch.float32).reshape(symbols[..., keep].shape)
            return gc.dequantize(symbols, means) * mask

        with fixed_threads(HYPER_THREADS):
            y_hat = self._code_latent(self._hyper(z_hat, level), (shape[0] * 4, shape[1] * 4), step)
        return {"x_hat": self.synthesis(y_hat, level)}
