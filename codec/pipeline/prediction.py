"""Scene prediction: intra scenes, and inter scenes coded against the previous decoded scene.

::

    intra:  payload = intra codec(scene)
            decoded = round8(intra^-1(payload))
    inter:  motion  = estimate_motion(reference, scene)          (codec.pipeline.motion)
            pred    = compensate(reference, motion)             (overlapped blocks)
            payload = len(motion) u16 LE | motion | inter codec(scene - pred) at the inter quality
            decoded = round8(pred + inter^-1(residual))
            reference = the previous decoded scene, 8-bit, exactly what the decoder has

Scene ``i`` is intra when ``i % intra_period == 0`` (``intra_period = 1``: all
intra, no inter codec needed). Between those the encoder codes the residual
with the inter codec and falls back to intra when the residual costs more than
:data:`INTRA_RETRY` times the last intra scene (a cut, fast motion), keeping the
smaller payload. The encoder takes its reference from the codec's own
reconstruction of the latent it coded (``SceneCodec.encode_and_decode``, the
decoder's output bit for bit without entropy decoding) and the same prediction
arithmetic as :class:`SceneReconstructor`, so both sides hold bit-identical
references and nothing drifts. All-intra streams keep no reference.
"""

from __future__ import annotations

import struct

import numpy as np

from codec.bitstream import MODE_INTER, MODE_INTRA
from codec.errors import BitstreamError, SpikecodecError
from codec.models import SceneCodec
from codec.pipeline.motion import compensate, estimate_motion, pack_motion, unpack_motion

_MOTION_LENGTH = struct.Struct("<H")

#: an inter payload above this fraction of the last intra payload makes the encoder try intra too
INTRA_RETRY = 0.8


def quantize_scene(scene: np.ndarray) -> np.ndarray:
    """``(H, W)`` float scene in ``[0, 1]`` -> ``(H, W)`` uint8, ``round(255 * clip(scene))``."""
    return np.rint(np.clip(scene, 0.0, 1.0) * 255.0).astype(np.uint8)


def scene_values(scene8: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 scene -> float32 scene values in ``[0, 1]`` (``scene8 / 255``)."""
    return scene8.astype(np.float32) / np.float32(255.0)


class SceneReconstructor:
    """The decoder side: payloads in, 8-bit scenes out, keeping the reference.

    Args:
        intra: the scene codec.
        inter: the residual codec, ``None`` for all-intra streams.
        height, width: scene size in pixels.
        quality: the stream's quality (intra scenes).
        inter_offset: inter scenes are coded at ``max(lowest quality, quality - inter_offset)``.

    Attributes:
        reference: the last decoded ``(H, W)`` uint8 scene, ``None`` before the first.
    """

    def __init__(self, intra: SceneCodec, inter: SceneCodec | None, height: int, width: int,
                 quality: float, inter_offset: float = 0.0) -> None:
        self.intra, self.inter = intra, inter
        self.height, self.width, self.quality = height, width, quality
        self.inter_quality = max(inter.quality_range[0], quality - inter_offset) if inter else quality
        self.reference: np.ndarray | None = None

    def decode(self, mode: int, payload: bytes) -> np.ndarray:
        """Decode one scene payload of ``mode``; returns (and keeps) the ``(H, W)`` uint8 scene.

        Raises:
            BitstreamError: a damaged payload, or an inter scene without a
                reference or an inter codec.
        """
        if mode == MODE_INTRA:
            scene = self.intra.decode_scene(payload, self.height, self.width, self.quality)
        elif self.inter is None or self.reference is None:
            raise BitstreamError("inter scene without " + ("an inter codec" if self.inter is None else "a previous scene"))
        else:
            motion, residual_payload = self._split(payload)
            residual = self.inter.decode_scene(residual_payload, self.height, self.width, self.inter_quality)
            scene = self.prediction(motion) + residual
        self.reference = quantize_scene(scene)
        return self.reference

    def _split(self, payload: bytes) -> tuple[np.ndarray, bytes]:
        """Inter payload -> ``(motion (hb, wb, 2) int8, residual payload)``."""
        if len(payload) < _MOTION_LENGTH.size:
            raise BitstreamError(f"inter payload truncated: {len(payload)} bytes")
        (length,) = _MOTION_LENGTH.unpack_from(payload)
        end = _MOTION_LENGTH.size + length
        if end > len(payload):
            raise BitstreamError(f"inter payload truncated: motion of {length} bytes does not fit in {len(payload)}")
        return unpack_motion(payload[_MOTION_LENGTH.size : end], self.height, self.width), payload[end:]

    def prediction(self, motion: np.ndarray) -> np.ndarray:
        """``(H, W)`` float32 values of the reference moved by ``motion`` ``(hb, wb, 2)``."""
        return scene_values(compensate(self.reference, motion))

    def estimate(self, scene: np.ndarray) -> tuple[bytes, np.ndarray]:
        """Motion of ``scene`` (``(H, W)`` float in [0, 1]) from the reference:
        ``(packed motion, (H, W) float32 prediction)``."""
        motion = estimate_motion(self.reference, scene)
        return pack_motion(motion), self.prediction(motion)


class PredictiveEncoder:
    """The encoder side: chooses each scene's mode and mirrors the decoder.

    Args:
        intra: the scene codec (with its attention, if any).
        inter: the residual codec; required when ``intra_period > 1``.
        intra_period: scenes between forced intra scenes (1 = all intra).
        height, width, quality, inter_offset: as for :class:`SceneReconstructor`.

    Attributes:
        modes: how many scenes were coded in each mode, ``{MODE_INTRA: n, MODE_INTER: m}``.
    """

    def __init__(self, intra: SceneCodec, inter: SceneCodec | None, intra_period: int,
                 height: int, width: int, quality: float, inter_offset: float = 0.0) -> None:
        if intra_period < 1:
            raise SpikecodecError(f"intra period must be >= 1, got {intra_period}")
        if intra_period > 1 and inter is None:
            raise SpikecodecError("an intra period above 1 needs an inter codec")
        self.intra_period = intra_period
        self.mirror = SceneReconstructor(intra, inter, height, width, quality, inter_offset)
        self.modes = {MODE_INTRA: 0, MODE_INTER: 0}
        self._intra_bytes = 0

    def encode(self, index: int, scene: np.ndarray, spikes_before: np.ndarray | None = None,
               spikes_after: np.ndarray | None = None) -> tuple[int, bytes]:
        """Code scene ``index`` (``(H, W)`` float in [0, 1]); returns ``(mode, payload)``.

        ``spikes_before``/``spikes_after`` steer the intra codec's attention (SOAM/BiSOAM).
        """
        mirror = self.mirror
        if scene.shape != (mirror.height, mirror.width):
            raise SpikecodecError(f"scene of shape {scene.shape}, expected {(mirror.height, mirror.width)}")
        if self.intra_period == 1:
            self.modes[MODE_INTRA] += 1
            return MODE_INTRA, mirror.intra.encode_scene(scene, mirror.quality, spikes_before, spikes_after)
        candidates = []
        if index % self.intra_period and mirror.reference is not None:
            clipped = np.clip(scene, 0.0, 1.0)
            motion, prediction = mirror.estimate(clipped)
            residual_payload, residual = mirror.inter.encode_and_decode(clipped - prediction, mirror.inter_quality)
            payload = _MOTION_LENGTH.pack(len(motion)) + motion + residual_payload
            candidates.append((MODE_INTER, payload, prediction + residual))
        if not candidates or len(candidates[0][1]) > INTRA_RETRY * self._intra_bytes:
            payload, decoded = mirror.intra.encode_and_decode(scene, mirror.quality, spikes_before, spikes_after)
            candidates.append((MODE_INTRA, payload, decoded))
        mode, payload, decoded = min(candidates, key=lambda c: len(c[1]))
        if mode == MODE_INTRA:
            self._intra_bytes = len(payload)
        self.modes[mode] += 1
        mirror.reference = quantize_scene(decoded)
        return mode, payload
