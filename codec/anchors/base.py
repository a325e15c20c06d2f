"""What every anchor takes and returns.

An anchor is a reference codec the learned codec is compared with. Video anchors
(VVC, HEVC) and the count code code the *reconstructed scenes* of a stream; the
lossless anchors code the packed spike planes themselves. All of them see the
same :class:`AnchorInput` and return exact bitstream bytes plus what decodes
from them (:class:`AnchorOutput`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from codec.errors import SpikecodecError


class AnchorError(SpikecodecError):
    """An anchor codec could not run (encoder missing, failed encode/decode, bad import)."""


@dataclass(frozen=True)
class AnchorInput:
    """One source as the anchors see it.

    Attributes:
        planes: ``(T, H, W)`` uint8 0/1 original spikes.
        scenes: ``(N, H, W)`` float32 in ``[0, 1]``, the reference reconstruction
            of scene ``i`` centred on ``centres[i]`` (scene value = firing rate
            in spikes/plane for the default sensor).
        centres: ``N`` centre planes ``C0 + i*K``.
        window: ``K`` planes per scene.
    """

    planes: np.ndarray
    scenes: np.ndarray
    centres: list[int]
    window: int

    @property
    def num_planes(self) -> int:
        return int(self.planes.shape[0])

    @property
    def height(self) -> int:
        return int(self.planes.shape[1])

    @property
    def width(self) -> int:
        return int(self.planes.shape[2])


@dataclass(frozen=True)
class AnchorOutput:
    """One coded point.

    Attributes:
        payload: the exact bitstream bytes (what the rate counts).
        scenes: ``(N, H, W)`` float32 decoded scenes, or ``None`` for anchors that
            decode spikes directly.
        planes: ``(T, H, W)`` uint8 decoded spikes for lossless anchors, else ``None``.
    """

    payload: bytes
    scenes: np.ndarray | None = None
    planes: np.ndarray | None = None

    @property
    def bits(self) -> int:
        return 8 * len(self.payload)


class Anchor(Protocol):
    """A reference codec with a family of rate points.

    ``name`` identifies the curve; ``default_params`` are its rate points (QPs,
    quantization steps, or method names); ``label(param)`` names one point;
    ``code(inp, param)`` encodes and decodes for real.
    """

    @property
    def name(self) -> str: ...

    @property
    def default_params(self) -> tuple: ...

    def label(self, param: Any) -> str: ...

    def code(self, inp: AnchorInput, param: Any) -> AnchorOutput: ...
