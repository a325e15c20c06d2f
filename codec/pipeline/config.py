"""What an encoder is asked to do: quality, scene timing, reconstruction, attention, model."""

from __future__ import annotations

from dataclasses import dataclass

from codec.errors import SpikecodecError
from codec.options import (
    DEFAULT_ATTENTION,
    DEFAULT_INTER_OFFSET,
    DEFAULT_INTRA_PERIOD,
    DEFAULT_MODEL,
    DEFAULT_OFFSET,
    DEFAULT_RECONSTRUCTION,
    DEFAULT_WINDOW,
)
from codec.reconstruct.windows import default_offset, scene_centres


@dataclass(frozen=True)
class EncoderConfig:
    """Encoder settings (all of them end up in the stream header).

    ``recon``, ``attention`` and ``model`` are checked by the registries that
    build them (:func:`codec.reconstruct.get_reconstructor`,
    :func:`codec.models.load_scene_codec`) when an :class:`Encoder` is made.

    Attributes:
        quality: scene codec quality, within the model's ``quality_range``
            (non-integer values interpolate between trained levels).
        window: ``K``, planes between scene centres and per scene block.
        offset: ``C0``, the first scene's centre plane; ``None`` for ``K//2``.
        recon: scene reconstruction, one of :data:`codec.options.RECONSTRUCTIONS`.
        attention: encoder attention over the spikes, one of :data:`codec.options.ATTENTIONS`
            (``soam``: ``K`` planes before each centre; ``bisoam``: and ``K`` after).
        model: scene codec name in the model registry.
        intra_period: scene ``i`` is intra coded when ``i % intra_period == 0``;
            the scenes between may be coded as residuals against the previous
            decoded scene (:mod:`codec.pipeline.prediction`). 1 = all intra.
        inter_offset: inter scenes are coded at quality ``max(1, quality - inter_offset)``.
    """

    quality: float
    window: int = DEFAULT_WINDOW
    offset: int | None = DEFAULT_OFFSET
    recon: str = DEFAULT_RECONSTRUCTION
    attention: str = DEFAULT_ATTENTION
    model: str = DEFAULT_MODEL
    intra_period: int = DEFAULT_INTRA_PERIOD
    inter_offset: float = DEFAULT_INTER_OFFSET

    def __post_init__(self) -> None:
        scene_centres(0, self.window, self.offset)  # raises on a bad window or offset
        if isinstance(self.intra_period, bool) or not isinstance(self.intra_period, int) or self.intra_period < 1:
            raise SpikecodecError(f"intra period must be an integer >= 1, got {self.intra_period!r}")
        if not 0 <= self.inter_offset < float("inf"):
            raise SpikecodecError(f"inter offset must be a finite number >= 0, got {self.inter_offset!r}")

    @property
    def first_centre(self) -> int:
        """``C0``: the given offset, else ``K//2``."""
        return default_offset(self.window) if self.offset is None else self.offset
