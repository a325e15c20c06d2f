"""Integrate-and-fire camera simulator and scene sources.

Light (a scene source, keyframes interpolated in time) becomes binary spike
planes through :class:`~codec.simulate.neuron.IntegrateAndFire`; see
:mod:`codec.simulate.camera` and :mod:`codec.simulate.sources`.
"""

from codec.simulate.camera import poisson_spikes, simulate
from codec.simulate.neuron import IntegrateAndFire
from codec.simulate.sources import (
    FrameSource,
    ImageFolderSource,
    SourceError,
    SyntheticSource,
    VideoSource,
    open_source,
)

__all__ = [
    "FrameSource",
    "ImageFolderSource",
    "IntegrateAndFire",
    "SourceError",
    "SyntheticSource",
    "VideoSource",
    "open_source",
    "poisson_spikes",
    "simulate",
]
