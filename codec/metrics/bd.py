"""Bjøntegaard deltas of rate-distortion curves (the ``bjontegaard`` package).

Rates are bpsp (or bpp), distortions PSNR in dB (scene PSNR or ISI PSNR); each
curve needs at least 4 points for the default Akima interpolation.
"""

from __future__ import annotations

from typing import Sequence

from codec.errors import SpikecodecError


def _check(rate: Sequence[float], dist: Sequence[float], label: str) -> None:
    if len(rate) != len(dist):
        raise SpikecodecError(f"{label} curve has {len(rate)} rates but {len(dist)} distortions")
    if len(rate) < 4:
        raise SpikecodecError(f"{label} curve needs at least 4 rate-distortion points, got {len(rate)}")
    if min(rate) <= 0:
        raise SpikecodecError(f"{label} rates must be positive")


def _delta(measure: str, anchor_rate: Sequence[float], anchor_psnr: Sequence[float],
           test_rate: Sequence[float], test_psnr: Sequence[float], method: str) -> float:
    """``bjontegaard.<measure>`` of the curves (imported here: it brings scipy, which the thin
    client, importing :mod:`codec.metrics`, does without)."""
    import bjontegaard

    _check(anchor_rate, anchor_psnr, "anchor")
    _check(test_rate, test_psnr, "test")
    # min_overlap=0: the package's own warning goes to stderr, away from the figure it concerns;
    # callers report the overlap beside the value (codec.evaluate.bdtable)
    return float(getattr(bjontegaard, measure)(anchor_rate, anchor_psnr, test_rate, test_psnr, method=method,
                         require_matching_points=False, min_overlap=0))


def bd_rate(anchor_rate: Sequence[float], anchor_psnr: Sequence[float], test_rate: Sequence[float],
            test_psnr: Sequence[float], method: str = "akima") -> float:
    """Average rate difference of ``test`` vs ``anchor`` at equal PSNR, in percent (negative = saving)."""
    return _delta("bd_rate", anchor_rate, anchor_psnr, test_rate, test_psnr, method)


def bd_psnr(anchor_rate: Sequence[float], anchor_psnr: Sequence[float], test_rate: Sequence[float],
            test_psnr: Sequence[float], method: str = "akima") -> float:
    """Average PSNR difference of ``test`` vs ``anchor`` at equal rate, in dB (positive = better)."""
    return _delta("bd_psnr", anchor_rate, anchor_psnr, test_rate, test_psnr, method)
