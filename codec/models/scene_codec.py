"""``SceneCodec``: one gray scene <-> bytes, the API the pipeline codes against."""

from __future__ import annotations

import numpy as np
import torch

from codec.bitstream.payloads import pack_latents, unpack_latents
from codec.errors import BitstreamError, SpikecodecError, SpikeFormatError
from codec.models.attention import bin_spikes
from codec.models.conditional import ConditionalResidualHyperprior
from codec.models.context_model import GainedContextHyperprior
from codec.models.scene_model import TRANSFORM_THREADS, GainedMeanScaleHyperprior
from codec.models.shapes import STRIDE, crop_to, pad_to_multiple, padded_size
from codec.models.threads import fixed_threads

MAX_SIDE = 65535


class SceneCodec:
    """A loaded scene model with its identity (see :func:`codec.models.load_scene_codec`).

    Attributes:
        name: registry name, e.g. ``"spikecodec-base"``.
        attention: ``"none"``, ``"soam"`` or ``"bisoam"``.
        residual: True for the inter codec, which codes the difference of a scene
            and its reference: values in ``value_range = (-1, 1)`` instead of ``(0, 1)``.
        conditional: True for an inter codec that also takes the prediction as ``context``
            (:class:`codec.models.conditional.ConditionalResidualHyperprior`); it must then be
            given to both :meth:`encode_and_decode` and :meth:`decode_scene`.
        weights_sha256: hex sha256 of the weight file (put it in stream headers).
        qualities: the integer qualities of the trained levels, ``(1, ..., N)`` (an inter codec
            may start lower, see :func:`codec.models.registry.first_quality`); any float in
            ``quality_range`` is valid too.
        quality_range: ``(first, last)`` quality.
        lambdas: rate-distortion lambda of each integer quality.
        record: the weights' training record (dict).
    """

    def __init__(self, model: GainedMeanScaleHyperprior | GainedContextHyperprior, name: str, attention: str,
                 weights_sha256: str, record: dict, residual: bool = False, first_quality: int = 1):
        self.model = model
        self.name = name
        self.attention = attention
        self.residual = residual
        self.value_range = (-1.0, 1.0) if residual else (0.0, 1.0)
        self.conditional = isinstance(model, ConditionalResidualHyperprior)
        self.weights_sha256 = weights_sha256
        self.record = record
        self.lambdas = model.lambdas
        self.qualities = tuple(range(first_quality, first_quality + len(model.lambdas)))
        self.quality_range = (float(self.qualities[0]), float(self.qualities[-1]))
        # the context model writes one rANS string for z and y, the plain hyperprior two
        self._strings = 1 if isinstance(model, GainedContextHyperprior) else 2

    def __repr__(self) -> str:
        return (f"SceneCodec(name={self.name!r}, attention={self.attention!r}, "
                f"qualities={self.qualities}, sha256={self.weights_sha256[:12]})")

    def _level(self, quality: float) -> float:
        low, high = self.quality_range
        if not low <= float(quality) <= high:
            raise SpikecodecError(f"quality {quality} outside [{low:g}, {high:g}]")
        return float(quality) - low

    @staticmethod
    def _check_size(height: int, width: int) -> None:
        if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
            raise SpikecodecError(f"scene size {height}x{width} outside 1..{MAX_SIDE}")

    @property
    def device(self) -> torch.device:
        """Where the analysis and synthesis transforms (and the attention) compute; the entropy
        model is on the CPU whatever this is (:mod:`codec.device`)."""
        return self.model.transform_device

    def _attention_map(self, shape: tuple[int, int], before, after) -> torch.Tensor | None:
        """``(1,N,H'/2,W'/2)`` attention map on :attr:`device`, or None without attention."""
        module = self.model.attention
        if module is None:
            return None
        if before is None or (module.bidirectional and after is None):
            raise SpikecodecError(f"{self.attention} attention needs the spike planes "
                                  f"{'around' if module.bidirectional else 'before'} the scene centre")
        rates = [None, None]
        sides = ((before, False), (after, True)) if module.bidirectional else ((before, False),)
        for i, (spikes, reverse) in enumerate(sides):
            spikes = np.asarray(spikes)
            if spikes.ndim != 3 or spikes.shape[1:] != shape:
                raise SpikeFormatError(f"spike planes of shape {spikes.shape} do not match "
                                       f"a {shape[0]}x{shape[1]} scene")
            binned = torch.from_numpy(bin_spikes(spikes, module.steps, reverse))
            rates[i] = pad_to_multiple(binned[None]).to(self.device)
        with torch.inference_mode(), fixed_threads(TRANSFORM_THREADS):
            return module(rates[0], rates[1])

    def encode_scene(self, scene: np.ndarray, quality: float,
                     spikes_before: np.ndarray | None = None,
                     spikes_after: np.ndarray | None = None, context: np.ndarray | None = None) -> bytes:
        """Compress one scene.

        Args:
            scene: ``(H, W)`` float firing rates in [0, 1], or residuals in [-1, 1]
                for the inter codec (values outside ``value_range`` are clipped).
            quality: in ``quality_range``; higher is better (and bigger).
            spikes_before: ``(K, H, W)`` uint8 planes before the centre (SOAM/BiSOAM).
            spikes_after: ``(K, H, W)`` uint8 planes after the centre (BiSOAM).
            context: ``(H, W)`` float32 prediction in [0, 1] the residual corrects (:attr:`conditional`
                codecs only; ignored by the others).

        Returns:
            The model's strings as one payload (:func:`codec.bitstream.payloads.pack_latents`).
        """
        return self._compress(scene, quality, spikes_before, spikes_after, context)[0]

    def encode_and_decode(self, scene: np.ndarray, quality: float,
                          spikes_before: np.ndarray | None = None,
                          spikes_after: np.ndarray | None = None,
                          context: np.ndarray | None = None) -> tuple[bytes, np.ndarray]:
        """:meth:`encode_scene` plus what :meth:`decode_scene` will return for the payload,
        bit for bit, computed from the encoder's latent (no entropy decoding).

        ``context``: as for :meth:`encode_scene`.

        Returns:
            ``(payload, (H, W) float32 decoded scene in value_range)``.
        """
        payload, enc, level, padded_context = self._compress(scene, quality, spikes_before, spikes_after, context)
        with torch.inference_mode():
            x_hat = self.model.synthesis(enc["y_hat"], level, padded_context)
        return payload, self._decoded(x_hat, *np.shape(scene))

    def _context(self, context: np.ndarray | None, shape: tuple[int, ...]) -> torch.Tensor | None:
        """The padded ``(1,1,H',W')`` context tensor of a :attr:`conditional` codec, else ``None``."""
        if not self.conditional:
            return None
        if context is None or np.shape(context) != tuple(shape):
            raise SpikecodecError(f"the conditional inter codec needs a {shape} prediction as context, got "
                                  f"{None if context is None else np.shape(context)}")
        return pad_to_multiple(torch.from_numpy(np.asarray(context, dtype=np.float32))[None, None])

    def _compress(self, scene, quality: float, spikes_before, spikes_after,
                  context: np.ndarray | None = None) -> tuple[bytes, dict, float, torch.Tensor | None]:
        """``(payload, the model's compress output, level, padded context)`` (arguments as :meth:`encode_scene`)."""
        scene = np.asarray(scene)
        if scene.ndim != 2:
            raise SpikecodecError(f"a scene must be (H, W), got shape {scene.shape}")
        if not np.isfinite(scene).all():
            raise SpikecodecError("scene contains NaN or infinite values")
        self._check_size(*scene.shape)
        level = self._level(quality)
        attn = self._attention_map(scene.shape, spikes_before, spikes_after)
        x = torch.from_numpy(np.clip(scene, *self.value_range).astype(np.float32))[None, None]
        padded_context = self._context(context, scene.shape)
        enc = self.model.compress(pad_to_multiple(x), level, attn, padded_context)
        strings = [s for (s,) in reversed(enc["strings"])]  # z first, then y
        return pack_latents(strings), enc, level, padded_context

    def _decoded(self, x_hat: torch.Tensor, height: int, width: int) -> np.ndarray:
        """``(1,1,H',W')`` model output -> ``(height, width)`` float32 in ``value_range``."""
        return crop_to(x_hat, height, width)[0, 0].clamp(*self.value_range).numpy()

    def decode_scene(self, payload: bytes, height: int, width: int, quality: float,
                     context: np.ndarray | None = None) -> np.ndarray:
        """Decompress one scene coded by :meth:`encode_scene` (no spikes needed; a :attr:`conditional`
        codec needs the encoder's ``context``).

        Returns:
            ``(height, width)`` float32 in ``value_range``.

        Raises:
            BitstreamError: a payload the model cannot decode, or a quality outside the model's range.
        """
        self._check_size(height, width)
        try:
            level = self._level(quality)
        except SpikecodecError as err:
            raise BitstreamError(str(err)) from None
        strings = [[s] for s in reversed(unpack_latents(payload, self._strings))]
        ph, pw = padded_size(height, width)
        try:
            out = self.model.decompress(strings, (ph // STRIDE, pw // STRIDE), level,
                                        self._context(context, (height, width)))
        except (RuntimeError, ValueError) as err:
            raise BitstreamError(f"scene payload cannot be decoded: {err}") from None
        return self._decoded(out["x_hat"], height, width)
