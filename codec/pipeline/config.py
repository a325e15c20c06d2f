"""What an encoder is asked to do: quality, scene timing, reconstruction, attention, model."""

from __future__ import annotations

from dataclasses import dataclass

from codec.errors import SpikecodecError
from codec.reconstruct.windows import default_offset, scene_centres

#: scenes from one intra scene to the next by default (32 scenes of K = 32 planes:
#: an intra scene every 1024 planes, 51 ms at 20 kHz)
DEFAULT_INTRA_PERIOD = 32
#: quality steps inter scenes are coded below the stream's quality. Scene-PSNR BD-rates
#: against VVC all-intra on the same scenes (``spikecodec bench --inter-offset``; README,
#: "Measured"), DAVIS learned / TFP scenes and REDS learned / TFP: with format 4 and the
#: 6,000-step inter weights +6.1 / +5.2 % and -39.8 / -42.6 % at 1, +5.5 / +4.4 % and
#: -41.5 / -44.5 % at 1.5, +5.3 / +4.2 % and -43.7 / -46.9 % at 2; with format 5 and the
#: 7,000-step weights -2.6 / -3.5 % and -45.0 / -48.1 % at 1.5, -3.0 / -3.5 % and -46.7 /
#: -50.1 % at 2. 1.5 keeps most of that and has the better ISI-PSNR BD-rates (format 5:
#: DAVIS +40 / +32 % against +45 / +31 %, REDS +2.1 / +0.9 % against +4.2 / +22.0 %)
DEFAULT_INTER_OFFSET = 1.5


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
        recon: scene reconstruction, ``"tfp"``, ``"tfi"`` or ``"net"``.
        attention: encoder attention over the spikes, ``"none"``, ``"soam"``
            (``K`` planes before each centre) or ``"bisoam"`` (and ``K`` after).
        model: scene codec name in the model registry.
        intra_period: scene ``i`` is intra coded when ``i % intra_period == 0``;
            the scenes between may be coded as residuals against the previous
            decoded scene (:mod:`codec.pipeline.prediction`). 1 = all intra.
        inter_offset: inter scenes are coded at quality ``max(1, quality - inter_offset)``.
    """

    quality: float
    window: int = 32
    offset: int | None = None
    recon: str = "tfp"
    attention: str = "none"
    model: str = "spikecodec-base"
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
