"""Reference codecs the learned codec is measured against.

``get_anchor(name)`` returns an anchor (:class:`codec.anchors.base.Anchor`):

========== ==================================================================
vvc        VVC all-intra, libvvenc (``IntraPeriod=1``, ``-qpa 0``), on scenes
vvc-ra     VVC random access (inter prediction, default GOP), on scenes
hevc       HEVC, libx265, default GOP, ``-tune psnr``, on scenes
hevc-intra HEVC all-intra (``keyint=1``), on scenes
count      count of spikes per pixel per window, quantized, zstd
lossless   zstd / xz on packed planes (exact)
exact      spikecodec's exact layer, alone and over the lowest-quality scenes (exact)
========== ==================================================================

plus :func:`import_vvc_outputs` for VVC runs made elsewhere.
"""

from __future__ import annotations

from typing import Callable

from codec.anchors.base import Anchor, AnchorError, AnchorInput, AnchorOutput
from codec.anchors.count import CountAnchor
from codec.anchors.exact import ExactAnchor
from codec.anchors.imported import import_vvc_outputs
from codec.anchors.lossless import LosslessAnchor
from codec.anchors.video import hevc, vvc
from codec.options import ANCHOR_NAMES

#: one factory per name of :data:`codec.options.ANCHOR_NAMES` (a test keeps them equal)
_FACTORIES: dict[str, Callable[[str, int], Anchor]] = {
    "vvc": lambda preset, threads: vvc(preset, intra=True, threads=threads),
    "vvc-ra": lambda preset, threads: vvc(preset, intra=False, threads=threads),
    "hevc": lambda preset, threads: hevc(preset, intra=False, threads=threads),
    "hevc-intra": lambda preset, threads: hevc(preset, intra=True, threads=threads),
    "count": lambda preset, threads: CountAnchor(),
    "lossless": lambda preset, threads: LosslessAnchor(),
    "exact": lambda preset, threads: ExactAnchor(),
}


def get_anchor(name: str, preset: str = "medium", threads: int = 1) -> Anchor:
    """The anchor called ``name`` (table above); ``preset``/``threads`` apply to video encoders.

    Raises:
        AnchorError: for an unknown name.
    """
    if name not in _FACTORIES:
        raise AnchorError(f"unknown anchor {name!r}; choose from {', '.join(ANCHOR_NAMES)}")
    return _FACTORIES[name](preset, threads)


__all__ = [
    "ANCHOR_NAMES",
    "Anchor",
    "AnchorError",
    "AnchorInput",
    "AnchorOutput",
    "get_anchor",
    "import_vvc_outputs",
]
