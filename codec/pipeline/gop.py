"""Scene structures: which scenes are anchors, the coding order of the B scenes, their layers.

Random access codes an anchor every ``gop_size`` scenes (intra, or P from the
previous anchor) and then the scenes between two anchors as hierarchical B
scenes, middle first, depth first (as VVC's random-access configuration)::

    gop_size 8, anchors 0 and 8:   coding order 0 8 4 2 1 3 6 5 7
    layers                         0 0 1 2 3 3 2 3 3

Each B scene is predicted from the nearest decoded scenes on both sides, which in
this order are the ends of the interval it bisects. Deeper layers are referenced
less (layer 3 not at all), so they are coded coarser (:func:`layer_quality`).
At the end of a stream the last scene becomes an anchor and the scenes before it
are bisected the same way. Low delay codes every scene in time order, each
predicted from the one before (P); intra codes every scene alone.
"""

from __future__ import annotations

from typing import Iterator


def bisection(first: int, last: int, layer: int = 1) -> Iterator[tuple[int, int, int, int]]:
    """``(index, layer, earlier, later)`` of the scenes strictly between decoded scenes
    ``first < last``, in coding order; ``earlier`` and ``later`` are its references."""
    if last - first < 2:
        return
    middle = (first + last) // 2
    yield middle, layer, first, last
    yield from bisection(first, middle, layer + 1)
    yield from bisection(middle, last, layer + 1)


def layer_quality(quality: float, layer: int, offset: float, step: float) -> float:
    """Quality of a scene of temporal ``layer`` (0: anchors) in a stream coded at ``quality``:
    ``quality - offset - step * (layer - 1)`` for B layers (the coder clamps it to its range)."""
    if layer == 0:
        return quality
    return quality - offset - step * (layer - 1)
