"""What an encoder is asked to do: quality, scene timing, reconstruction, attention, model."""

from __future__ import annotations

from dataclasses import dataclass

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
        recon: scene reconstruction, ``"tfp"``, ``"tfi"`` or ``"net"``.
        attention: encoder attention over the spikes, ``"none"``, ``"soam"``
            (``K`` planes before each centre) or ``"bisoam"`` (and ``K`` after).
        model: scene codec name in the model registry.
    """

    quality: float
    window: int = 32
    offset: int | None = None
    recon: str = "tfp"
    attention: str = "none"
    model: str = "spikecodec-base"

    def __post_init__(self) -> None:
        scene_centres(0, self.window, self.offset)  # raises on a bad window or offset

    @property
    def first_centre(self) -> int:
        """``C0``: the given offset, else ``K//2``."""
        return default_offset(self.window) if self.offset is None else self.offset
