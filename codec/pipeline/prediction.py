"""Scene prediction: intra, P and B scenes, and the encoder's rate-distortion choice among them.

::

    intra:  decoded = round8(intra^-1(latents))
    P:      motion  = estimate_motion(reference, scene)              coded (codec.bitstream.vectors)
            pred    = compensate(reference, motion)                  (overlapped blocks)
    B:      to_earlier, to_later = estimate_motion(earlier, scene), estimate_motion(later, scene)
                                                                     coded, or none: then the decoder
                      or derive_motion(earlier, later)              derives them from the references
            pred    = (compensate(earlier, to_earlier) + compensate(later, to_later) + 1) >> 1
    P / B:  decoded = round8(pred + inter^-1(latents))   or   round8(pred)   without a residual (skip)

References are decoded 8-bit scenes, exactly what the decoder holds; the
:class:`~codec.bitstream.reader.RecordParser` names them in each scene record.
The encoder takes each scene's decoded value from the latent it coded
(``SceneCodec.encode_and_decode``, bit for bit the decoder's output without
entropy decoding) and uses the same prediction arithmetic, so nothing drifts.

The encoder picks, per scene, the candidate with the least ``bits + lambda *
255^2 * SSE`` (SSE in scene units, lambda of the scene's quality: the cost the
codec was trained to minimise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from codec.bitstream import MODE_B, MODE_INTRA, MODE_NAMES, MODE_P, SceneRecord
from codec.bitstream.payloads import pack_predicted, unpack_predicted
from codec.bitstream.records import quality_code, quality_value
from codec.bitstream.vectors import BLOCK, pack_bi_motion, unpack_bi_motion
from codec.errors import BitstreamError, SpikecodecError
from codec.models import SceneCodec
from codec.pipeline.motion import compensate, derive_motion, estimate_motion, pack_motion, unpack_motion


def quantize_scene(scene: np.ndarray) -> np.ndarray:
    """``(H, W)`` float scene in ``[0, 1]`` -> ``(H, W)`` uint8, ``round(255 * clip(scene))``."""
    return np.rint(np.clip(scene, 0.0, 1.0) * 255.0).astype(np.uint8)


def scene_values(scene8: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 scene -> float32 scene values in ``[0, 1]`` (``scene8 / 255``)."""
    return scene8.astype(np.float32) / np.float32(255.0)


def coded_quality(quality: float) -> float:
    """``quality`` rounded to what a scene record can carry (a multiple of 1/16)."""
    return quality_value(quality_code(quality))


#: motion block sides the encoder tries for P and B scenes (it keeps the cheapest)
MOTION_BLOCKS = (32, 64)


def bidirectional_prediction(earlier: np.ndarray, later: np.ndarray, to_earlier: np.ndarray,
                             to_later: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """``(H, W)`` uint8 average of the two references moved by their fields."""
    total = compensate(earlier, to_earlier, block).astype(np.uint16) + compensate(later, to_later, block)
    return ((total + 1) >> 1).astype(np.uint8)


class SceneReconstructor:
    """The decoder side: scene records in, 8-bit scenes out, keeping possible references.

    Args:
        intra: the scene codec.
        inter: the residual codec, ``None`` for all-intra streams.
        height, width: scene size in pixels.

    Attributes:
        scenes: decoded ``(H, W)`` uint8 scenes by index that may still serve as references.
    """

    def __init__(self, intra: SceneCodec, inter: SceneCodec | None, height: int, width: int) -> None:
        self.intra, self.inter = intra, inter
        self.height, self.width = height, width
        self.scenes: dict[int, np.ndarray] = {}

    def decode(self, record: SceneRecord) -> np.ndarray:
        """Decode one scene record; returns (and keeps) its ``(H, W)`` uint8 scene.

        Raises:
            BitstreamError: a damaged payload, a reference that is not held, or a
                predicted scene without an inter codec.
        """
        if record.mode == MODE_INTRA:
            scene = self.intra.decode_scene(record.payload, self.height, self.width, record.quality)
            decoded = quantize_scene(scene)
        else:
            if self.inter is None:
                raise BitstreamError(f"scene {record.index} is predicted, but the stream has no inter codec")
            motion, residual = unpack_predicted(record.payload)
            if record.mode == MODE_P:
                vectors, block = unpack_motion(motion, self.height, self.width)
                prediction = compensate(self.reference(record.references[0]), vectors, block)
            else:
                earlier, later = record.references
                prediction = self.b_prediction(record.index, earlier, later, motion)
            decoded = self.add_residual(prediction, residual, record.quality)
        self.scenes[record.index] = decoded
        return decoded

    def reference(self, index: int) -> np.ndarray:
        """The decoded scene ``index``.

        Raises:
            BitstreamError: it is not held (never decoded, or released).
        """
        if index not in self.scenes:
            raise BitstreamError(f"reference scene {index} is not available")
        return self.scenes[index]

    def b_prediction(self, index: int, earlier: int, later: int, motion: bytes) -> np.ndarray:
        """``(H, W)`` uint8 prediction of B scene ``index`` from its two references with the coded
        ``motion`` (:func:`codec.bitstream.vectors.pack_bi_motion`), or derived vectors if it is empty."""
        steps, span = index - earlier, later - earlier
        first, second = self.reference(earlier), self.reference(later)
        if motion:
            fields = unpack_bi_motion(motion, self.height, self.width, steps, span)
            return bidirectional_prediction(first, second, *fields)
        return bidirectional_prediction(first, second, *derive_motion(first, second, steps, span))

    def add_residual(self, prediction: np.ndarray, residual: bytes, quality: float) -> np.ndarray:
        """``round8(prediction + decoded residual)``, or the prediction itself for an empty residual."""
        if not residual:
            return prediction
        assert self.inter is not None
        base = scene_values(prediction)
        values = self.inter.decode_scene(residual, self.height, self.width, quality, context=base)
        return quantize_scene(base + values)

    def release(self, keep_from: int) -> None:
        """Forget scenes below ``keep_from`` (they can no longer be references)."""
        for index in [i for i in self.scenes if i < keep_from]:
            del self.scenes[index]


@dataclass(frozen=True)
class Candidate:
    """One way to code a scene: its record fields, decoded scene, rate-distortion cost, and
    whether it is a prediction without residual (skip)."""

    mode: int
    quality: float
    payload: bytes
    decoded: np.ndarray
    cost: float
    skip: bool = False


def lambda_at(codec: SceneCodec, quality: float) -> float:
    """The rate-distortion lambda of a (non-integer) quality: log-linear between trained levels."""
    lambdas = codec.lambdas
    level = min(max(quality - codec.quality_range[0], 0.0), len(lambdas) - 1.0)
    low = min(int(math.floor(level)), len(lambdas) - 2)
    frac = level - low
    return math.exp(math.log(lambdas[low]) * (1 - frac) + math.log(lambdas[low + 1]) * frac)


class PredictiveEncoder:
    """The encoder side: codes each scene in the cheapest allowed mode and mirrors the decoder.

    Args:
        intra: the scene codec (with its attention, if any).
        inter: the residual codec; ``None`` allows intra scenes only.
        height, width: scene size in pixels.

    Attributes:
        mirror: the decoder's state (:class:`SceneReconstructor`).
        modes: how many scenes were coded in each mode, ``{"intra": n, "P": n, "B": n, "skip": n}``.
        on_coded: if set, called with ``(index, decoded (H, W) uint8 scene)`` for every coded scene.
    """

    def __init__(self, intra: SceneCodec, inter: SceneCodec | None, height: int, width: int) -> None:
        self.mirror = SceneReconstructor(intra, inter, height, width)
        self.modes = {"intra": 0, "P": 0, "B": 0, "skip": 0}
        self.on_coded: Callable[[int, np.ndarray], None] | None = None
        self._last_intra_bits = 0

    def _cost(self, scene: np.ndarray, decoded: np.ndarray, bits: int, quality: float) -> float:
        error = scene_values(decoded) - scene
        scale = self.mirror.inter or self.mirror.intra  # the inter codec's levels reach lower
        return bits + lambda_at(scale, quality) * 255.0**2 * float(np.dot(error.ravel(), error.ravel()))

    def _intra(self, scene: np.ndarray, quality: float, spikes_before, spikes_after) -> Candidate:
        quality = max(quality, self.mirror.intra.quality_range[0])
        payload, values = self.mirror.intra.encode_and_decode(scene, quality, spikes_before, spikes_after)
        decoded = quantize_scene(values)
        return Candidate(MODE_INTRA, quality, payload, decoded, self._cost(scene, decoded, 8 * len(payload), quality))

    def _skip(self, mode: int, scene: np.ndarray, prediction: np.ndarray, motion: bytes, quality: float) -> Candidate:
        """The prediction itself, without residual."""
        payload = pack_predicted(motion, b"")
        return Candidate(mode, quality, payload, prediction, self._cost(scene, prediction, 8 * len(payload), quality),
                         skip=True)

    def _residual(self, mode: int, scene: np.ndarray, prediction: np.ndarray, motion: bytes,
                  quality: float) -> Candidate:
        """The prediction plus the coded residual."""
        inter = self.mirror.inter
        assert inter is not None
        base = scene_values(prediction)
        residual, values = inter.encode_and_decode(scene - base, quality, context=base)
        decoded = quantize_scene(base + values)
        payload = pack_predicted(motion, residual)
        return Candidate(mode, quality, payload, decoded, self._cost(scene, decoded, 8 * len(payload), quality))

    def _predicted(self, mode: int, scene: np.ndarray, predictions: list[tuple[np.ndarray, bytes]],
                   quality: float) -> list[Candidate]:
        """Skip candidates of every ``(prediction (uint8), motion)``, and the residual candidate of the
        one whose skip costs least."""
        skips = [self._skip(mode, scene, prediction, motion, quality) for prediction, motion in predictions]
        best = min(range(len(skips)), key=lambda i: skips[i].cost)
        return skips + [self._residual(mode, scene, *predictions[best], quality)]

    def encode(self, index: int, scene: np.ndarray, quality: float, references: tuple[int, ...] = (),
               spikes_before: np.ndarray | None = None, spikes_after: np.ndarray | None = None,
               allow_intra: bool = True) -> tuple[int, float, bytes]:
        """Code scene ``index`` (``(H, W)`` float in [0, 1]) at ``quality``; returns ``(mode, quality, payload)``.

        Args:
            references: none (intra), one decoded scene before ``index`` (P) or the decoded scenes
                on both sides (B), as the record parser will name them.
            spikes_before, spikes_after: steer the intra codec's attention (SOAM/BiSOAM).
            allow_intra: try intra as well for a predicted scene (it is always tried when
                the predicted candidates cost more bits than the last intra scene).
        """
        mirror = self.mirror
        if scene.shape != (mirror.height, mirror.width):
            raise SpikecodecError(f"scene of shape {scene.shape}, expected {(mirror.height, mirror.width)}")
        quality = coded_quality(quality)
        scene = np.clip(scene, 0.0, 1.0).astype(np.float32)
        candidates: list[Candidate] = []
        if len(references) == 1:
            reference = mirror.reference(references[0])
            predictions = []
            for block in MOTION_BLOCKS:
                field = estimate_motion(reference, scene, block)
                predictions.append((compensate(reference, field, block), pack_motion(field, block)))
            candidates += self._predicted(MODE_P, scene, predictions, quality)
        elif len(references) == 2:
            earlier, later = (mirror.reference(i) for i in references)
            steps, span = index - references[0], references[1] - references[0]
            predictions = [(mirror.b_prediction(index, *references, b""), b"")]  # derived vectors
            for block in MOTION_BLOCKS:
                fields = estimate_motion(earlier, scene, block), estimate_motion(later, scene, block)
                predictions.append((bidirectional_prediction(earlier, later, *fields, block),
                                    pack_bi_motion(*fields, steps, span, block)))
            candidates += self._predicted(MODE_B, scene, predictions, quality)
        if not candidates or allow_intra or min(len(c.payload) for c in candidates) * 8 > self._last_intra_bits:
            candidates.append(self._intra(scene, quality, spikes_before, spikes_after))
        best = min(candidates, key=lambda c: c.cost)
        if best.mode == MODE_INTRA:
            self._last_intra_bits = 8 * len(best.payload)
        self._count(best)
        mirror.scenes[index] = best.decoded
        if self.on_coded is not None:
            self.on_coded(index, best.decoded)
        return best.mode, best.quality, best.payload

    def _count(self, chosen: Candidate) -> None:
        self.modes["skip" if chosen.skip else MODE_NAMES[chosen.mode]] += 1
