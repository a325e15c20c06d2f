"""The variable-rate scene model: gained mean-scale hyperprior (+ optional attention).

CompressAI-style: ``forward`` for training returns ``{"x_hat", "likelihoods"}``,
``compress`` returns ``{"strings", "shape"}``, ``decompress`` inverts it, and
``update()`` builds the entropy coder tables after training. Rate is chosen by a
quality *level* (0-based, float for coding; :mod:`codec.models.gain`).

Determinism: the entropy parameters (``h_s``) and both transforms run under a
fixed thread count (:mod:`codec.models.threads`), so an encoder and a decoder in
processes with different torch thread settings derive identical Gaussian indexes
and means, and the decoded scene does not depend on the host's setting.

Devices (:mod:`codec.device`): :meth:`GainedMeanScaleHyperprior.place` moves only the
transforms that decide no symbol (:data:`DEVICE_MODULES`) to a device such as a GPU;
``h_a``, ``h_s``, the gains, the entropy models and (in the context model) the
context parameter networks stay on the CPU in float32, because the decoder must
recompute the encoder's CDF indexes bit for bit and a GPU rounds convolutions
differently. Coding moves ``y`` to the CPU after the analysis and ``y_hat`` to the
device for the synthesis, so a stream coded on either device decodes on either.
"""

from __future__ import annotations

from typing import Sequence

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models import CompressionModel
from compressai.ops import quantize_ste
from torch import Tensor

from codec.device import CPU
from codec.models import transforms
from codec.models.attention import SpikeAttention
from codec.models.gain import GainUnit
from codec.models.threads import fixed_threads

#: threads used by h_s (entropy parameters): tiny, and single-threaded is exact.
HYPER_THREADS = 1
#: threads used by g_a / g_s whatever the caller's setting.
TRANSFORM_THREADS = 2


class ScaleIndexedGaussian(GaussianConditional):
    """CompressAI's ``GaussianConditional`` with a vectorised :meth:`build_indexes`.

    The stock method loops over the 64-entry scale table with one full-tensor
    comparison each (about 7 ms per 250x400 scene here); ``bucketize`` gives the
    same indexes (the number of table entries below each bounded scale) in one pass.
    """

    def build_indexes(self, scales: Tensor) -> Tensor:
        """``scales`` -> int32 CDF indexes of the same shape."""
        table = torch.as_tensor(self.scale_table, dtype=scales.dtype)
        return torch.bucketize(self.lower_bound_scale(scales).contiguous(), table[:-1]).int()


class GainedMeanScaleHyperprior(CompressionModel):
    """Single-channel mean-scale hyperprior with gain units for variable rate.

    Args:
        n: channels of the transforms and of the hyper-latent ``z``.
        m: channels of the latent ``y``.
        lambdas: rate-distortion lambdas of the quality levels, increasing.
        attention: optional :class:`SpikeAttention` steering the encoder.

    ``context`` arguments are for :class:`codec.models.conditional.ConditionalResidualHyperprior`
    (the prediction a residual is coded against); this model ignores them.
    """

    #: the modules :meth:`place` may move off the CPU: no symbol depends on them (the decoder
    #: never runs ``g_a`` or the attention; ``g_s`` only turns the decoded latent into a scene)
    DEVICE_MODULES: tuple[str, ...] = ("g_a_head", "g_a", "g_s", "attention")

    def __init__(self, n: int, m: int, lambdas: Sequence[float],
                 attention: SpikeAttention | None = None):
        super().__init__()
        self.lambdas = tuple(float(v) for v in lambdas)
        self.g_a_head = transforms.analysis_head(n)
        self.g_a = transforms.analysis_tail(n, m)
        self.g_s = transforms.synthesis(n, m)
        self.h_a = transforms.hyper_analysis(n, m)
        self.h_s = transforms.hyper_synthesis(n, m)
        self.gain = GainUnit(m, self.lambdas)
        self.hyper_gain = GainUnit(n, self.lambdas)
        self.entropy_bottleneck = EntropyBottleneck(n)
        self.gaussian_conditional = ScaleIndexedGaussian(None)
        self.attention = attention

    def analysis(self, x: Tensor, attn: Tensor | None, context: Tensor | None = None) -> Tensor:
        """``x`` ``(B,1,H,W)`` -> ``y`` ``(B,M,H/16,W/16)``; ``attn`` ``(B,N,H/2,W/2)`` or None."""
        f = self.g_a_head(x)
        if attn is not None:
            f = f + f * attn
        return self.g_a(f)

    def entropy_parameters(self, z_hat: Tensor, level: Tensor | float, context: Tensor | None = None
                           ) -> tuple[Tensor, Tensor]:
        """``(scales, means)`` of ``y``, each ``(B,M,h,w)``, from the decoded hyper-latent."""
        scales, means = self.h_s(z_hat * self.hyper_gain.inverse(level)).chunk(2, dim=1)
        return scales, means

    def synthesize(self, y_hat: Tensor, context: Tensor | None = None) -> Tensor:
        """Un-gained latent ``(B,M,h,w)`` -> ``x_hat`` ``(B,1,16h,16w)``."""
        return self.g_s(y_hat)

    def place(self, device: str | torch.device) -> GainedMeanScaleHyperprior:
        """Move the :data:`DEVICE_MODULES` to ``device`` for coding (everything else stays where it is,
        on the CPU for a loaded model); returns the model. Training moves the whole model instead."""
        for name in self.DEVICE_MODULES:
            module = getattr(self, name)
            if module is not None:
                module.to(device)
        return self

    @property
    def transform_device(self) -> torch.device:
        """Where the analysis and synthesis transforms compute (:meth:`place`)."""
        return next(self.g_s.parameters()).device

    def forward(self, x: Tensor, level: Tensor, attn: Tensor | None = None, context: Tensor | None = None) -> dict:
        """Training pass.

        Args:
            x: ``(B,1,H,W)`` scenes in [0,1], H and W multiples of 64.
            level: ``(B,)`` int64 quality levels (0-based).
            attn: optional attention map from :attr:`attention`.
            context: ``(B,1,H,W)`` prediction in [0,1] (conditional models only).

        Returns:
            ``{"x_hat": (B,1,H,W), "likelihoods": {"y": ..., "z": ...}}``.
        """
        y = self.analysis(x, attn, context) * self.gain.gain(level)
        z = self.h_a(y) * self.hyper_gain.gain(level)
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        scales, means = self.entropy_parameters(z_hat, level, context)
        _, y_likelihoods = self.gaussian_conditional(y, scales, means=means)
        y_hat = quantize_ste(y - means) + means
        x_hat = self.synthesize(y_hat * self.gain.inverse(level), context)
        return {"x_hat": x_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def latents(self, x: Tensor, level: float, attn: Tensor | None = None,
                context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(y, z)`` to code for ``x`` ``(1,1,H,W)``: the analysis on :attr:`transform_device` (``x``,
        ``attn`` and ``context`` are moved there), then ``y`` on the CPU, where ``h_a`` and quantisation
        run (fixed threads)."""
        on = self.transform_device
        with fixed_threads(TRANSFORM_THREADS):
            y = self.analysis(x.to(on), attn, None if context is None else context.to(on)).to(CPU)
            y = y * self.gain.gain(level)
            z = self.h_a(y) * self.hyper_gain.gain(level)
        return y, z

    def _entropy_indexes(self, z_hat: Tensor, level: float, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Gaussian CDF indexes and means from the decoded hyper-latent (and the context, on the CPU):
        exact, in float32 with fixed threads."""
        with fixed_threads(HYPER_THREADS):
            scales, means = self.entropy_parameters(z_hat, level, context)
            return self.gaussian_conditional.build_indexes(scales), means

    def synthesis(self, y_hat: Tensor, level: float, context: Tensor | None = None) -> Tensor:
        """Decoded latent ``(1,M,h,w)`` on the CPU -> ``x_hat`` ``(1,1,16h,16w)`` on the CPU (not clamped),
        computed on :attr:`transform_device` with fixed threads."""
        on = self.transform_device
        with fixed_threads(TRANSFORM_THREADS):
            y_hat = (y_hat * self.gain.inverse(level)).to(on)
            return self.synthesize(y_hat, None if context is None else context.to(on)).to(CPU)

    @torch.inference_mode()
    def compress(self, x: Tensor, level: float, attn: Tensor | None = None, context: Tensor | None = None) -> dict:
        """``x`` ``(1,1,H,W)`` -> ``{"strings": [[y_bytes], [z_bytes]], "shape": (h, w) of z,
        "y_hat": the latent exactly as :meth:`decompress` will decode it}``.

        ``synthesis(y_hat, level)`` is then the decoder's ``x_hat`` bit for bit,
        without entropy decoding (the encoder's own reconstruction).
        """
        y, z = self.latents(x, level, attn, context)
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, z.shape[-2:])
        indexes, means = self._entropy_indexes(z_hat, level, context)
        y_strings = self.gaussian_conditional.compress(y, indexes, means=means)
        symbols = self.gaussian_conditional.quantize(y, "symbols", means)
        y_hat = self.gaussian_conditional.dequantize(symbols, means)
        return {"strings": [y_strings, z_strings], "shape": tuple(z.shape[-2:]), "y_hat": y_hat}

    @torch.inference_mode()
    def decompress(self, strings: list[list[bytes]], shape: tuple[int, int], level: float,
                   context: Tensor | None = None) -> dict:
        """Inverse of :meth:`compress` (with the same ``context``): ``{"x_hat": (1,1,H,W)}`` (not clamped)."""
        z_hat = self.entropy_bottleneck.decompress(strings[1], shape)
        indexes, means = self._entropy_indexes(z_hat, level, context)
        y_hat = self.gaussian_conditional.decompress(strings[0], indexes, means=means)
        return {"x_hat": self.synthesis(y_hat, level, context)}
