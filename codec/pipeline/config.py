"""What an encoder is asked to do: quality, scene timing, reconstruction, attention, model."""

from __future__ import annotations

from dataclasses import dataclass

from codec.errors import SpikecodecError
from codec.options import (
    DEFAULT_ANCHOR_OFFSET,
    DEFAULT_ATTENTION,
    DEFAULT_EXACT,
    DEFAULT_FILTER_RADIUS,
    DEFAULT_FILTER_STRENGTH,
    DEFAULT_GOP,
    DEFAULT_GOP_SIZE,
    DEFAULT_INTER_OFFSET,
    DEFAULT_INTRA_PERIOD,
    DEFAULT_LAYER_STEP,
    DEFAULT_MODEL,
    DEFAULT_OFFSET,
    DEFAULT_RECONSTRUCTION,
    DEFAULT_WINDOW,
    EXACT_LAYERS,
    GOP_STRUCTURES,
    MAX_GOP_SIZE,
)
from codec.reconstruct.windows import default_offset, scene_centres


@dataclass(frozen=True)
class EncoderConfig:
    """Encoder settings (what a decoder needs of them goes into the stream header).

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
        intra_period: scene ``i`` is intra coded when ``i % intra_period == 0``; the
            others may be predicted (:mod:`codec.pipeline.prediction`).
        gop: ``"random-access"`` (hierarchical B scenes between anchors, :mod:`codec.pipeline.gop`),
            ``"low-delay"`` (each scene predicted from the one before) or ``"intra"``.
        gop_size: scenes from one random-access anchor to the next.
        inter_offset: low-delay P scenes and the first B layer are coded ``inter_offset``
            quality steps below ``quality``; deeper B layers ``layer_step`` more per layer.
        layer_step: see ``inter_offset``.
        anchor_offset: random-access anchors coded as P scenes are coded ``anchor_offset``
            quality steps below ``quality`` (intra scenes at ``quality``).
        filter_radius, filter_strength: temporal filter before coding
            (:mod:`codec.pipeline.temporal_filter`); radius 0 or strength 0 turn it off.
        exact: the exact spike layer (:mod:`codec.exact`): ``"none"``, ``"scenes"`` (beside
            the scene layer, conditioned on its decoded scenes) or ``"alone"`` (no scene layer;
            the scene settings are then unused).
    """

    quality: float
    window: int = DEFAULT_WINDOW
    offset: int | None = DEFAULT_OFFSET
    recon: str = DEFAULT_RECONSTRUCTION
    attention: str = DEFAULT_ATTENTION
    model: str = DEFAULT_MODEL
    intra_period: int = DEFAULT_INTRA_PERIOD
    gop: str = DEFAULT_GOP
    gop_size: int = DEFAULT_GOP_SIZE
    inter_offset: float = DEFAULT_INTER_OFFSET
    layer_step: float = DEFAULT_LAYER_STEP
    anchor_offset: float = DEFAULT_ANCHOR_OFFSET
    filter_radius: int = DEFAULT_FILTER_RADIUS
    filter_strength: float = DEFAULT_FILTER_STRENGTH
    exact: str = DEFAULT_EXACT

    def __post_init__(self) -> None:
        if self.exact not in EXACT_LAYERS:
            raise SpikecodecError(f"exact layer must be one of {', '.join(EXACT_LAYERS)}, got {self.exact!r}")
        scene_centres(0, self.window, self.offset)  # raises on a bad window or offset
        for name, low, high in (("intra_period", 1, None), ("gop_size", 1, MAX_GOP_SIZE), ("filter_radius", 0, 8)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
                bound = f"in {low}..{high}" if high else f">= {low}"
                raise SpikecodecError(f"{name.replace('_', ' ')} must be an integer {bound}, got {value!r}")
        if self.gop not in GOP_STRUCTURES:
            raise SpikecodecError(f"unknown GOP structure {self.gop!r} (known: {', '.join(GOP_STRUCTURES)})")
        for name in ("inter_offset", "layer_step", "anchor_offset", "filter_strength"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise SpikecodecError(f"{name.replace('_', ' ')} must be a finite number >= 0, got {value!r}")

    @property
    def first_centre(self) -> int:
        """``C0``: the given offset, else ``K//2``."""
        return default_offset(self.window) if self.offset is None else self.offset
