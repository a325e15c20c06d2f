"""BD rows of a bench's points: every curve against each anchor curve, per source and domain.

BD-rate / BD-PSNR (:func:`codec.metrics.bd_rate`, :func:`codec.metrics.bd_psnr`, the
``bjontegaard`` package, Akima) with bpsp as the rate, in each distortion domain of
:data:`DOMAINS`. The anchors are VVC all-intra and random access
(:data:`codec.options.REFERENCE_ANCHORS`; ``vvc-ext`` when only external outputs were
given; with several reconstructions each ``<anchor>@<recon>``), or the curves ``--bd-anchor``
names. Each curve enters on its rate-distortion front (:func:`rate_distortion_front`) and
needs at least 4 points there. Every row keeps the points used and the overlap of the two
curves' distortion ranges (the ``bjontegaard`` definition: intersection over union); below
:data:`MIN_OVERLAP` the BD value is an extrapolation and the row's note says so.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

from codec.errors import SpikecodecError
from codec.metrics import bd_psnr, bd_rate
from codec.options import REFERENCE_ANCHORS

#: overlap below which a row is flagged (the ``bjontegaard`` package's own warning threshold)
MIN_OVERLAP = 0.75
#: what each anchor curve is, for table titles
ANCHOR_TITLES = {
    "vvc": "VVC all-intra, libvvenc", "vvc-ra": "VVC random access, libvvenc", "vvc-ext": "imported VVC outputs",
    "hevc": "HEVC, libx265", "hevc-intra": "HEVC all-intra, libx265", "count": "spike-count code",
}  # fmt: skip


@dataclass(frozen=True)
class Domain:
    """A distortion axis: ``name`` in tables, point field ``column``, axis label; ``msssim``
    values are shown in dB, ``-10 log10(1 - MS-SSIM)``, as CompressAI's plots do."""

    name: str
    column: str
    axis: str
    msssim: bool = False

    def value(self, point: dict) -> float | None:
        v = point.get(self.column)
        if v is None or not self.msssim:
            return v
        return None if v >= 1.0 else -10.0 * math.log10(1.0 - v)


#: the domains of the BD tables, in table order
DOMAINS = (
    Domain("scene PSNR", "scene_psnr", "scene PSNR (dB)"),
    Domain("scene MS-SSIM", "scene_msssim", "scene MS-SSIM (dB)", msssim=True),
    Domain("ISI PSNR", "isi_psnr", "ISI PSNR (dB)"),
)


def curve_name(point: dict) -> str:
    """The name a point's curve is shown under (``curve`` or ``curve@recon``, set by the bench)."""
    return point.get("name") or point["curve"]


def curves(points: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """``{source: {curve name: points sorted by bpsp}}``."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        grouped[p["source"]][curve_name(p)].append(p)
    return {s: {c: sorted(ps, key=lambda p: p["bpsp"]) for c, ps in cs.items()} for s, cs in grouped.items()}


def anchor_curves(names: Sequence[str], chosen: Sequence[str] | None = None) -> list[str]:
    """The curves of ``names`` BD figures are measured against: those ``chosen`` names (a curve
    name, or a base name standing for each ``name@recon``), else ``vvc`` and ``vvc-ra``, else
    ``vvc-ext``."""
    for bases in ((tuple(chosen),) if chosen else (REFERENCE_ANCHORS, ("vvc-ext",))):
        found = [c for c in names if c in bases or c.split("@")[0] in bases]
        if found:
            return found
    return []


def anchor_title(name: str) -> str:
    """``vvc-ra (VVC random access, libvvenc)``; ``vvc@net (VVC all-intra, libvvenc; net scenes)``."""
    base, _, recon = name.partition("@")
    title = ANCHOR_TITLES.get(base, "")
    title = "; ".join(filter(None, [title, f"{recon} scenes" if recon else ""]))
    return f"{name} ({title})" if title else name


def rate_distortion_front(points: list[dict], domain: Domain) -> list[tuple[float, float]]:
    """``(bpsp, distortion)`` of the points no cheaper point beats: distortion strictly rising with rate.

    BD interpolation needs a monotonic curve; ISI PSNR of regenerated spikes can
    fall again at high rates, and those dominated points are left out.
    """
    front: list[tuple[float, float]] = []
    for p in sorted(points, key=lambda p: p["bpsp"]):
        value = domain.value(p)
        if value is not None and (not front or value > front[-1][1]):
            front.append((p["bpsp"], value))
    return front


def overlap(anchor: list[tuple[float, float]], test: list[tuple[float, float]]) -> float:
    """Overlap of two fronts' distortion ranges, intersection over union (0..1): the share of
    the BD-rate integration interval both curves cover."""
    if not anchor or not test:
        return 0.0
    (a0, a1), (t0, t1) = (min(d for _, d in anchor), max(d for _, d in anchor)), (min(d for _, d in test),
                                                                                  max(d for _, d in test))
    union = max(a1, t1) - min(a0, t0)
    return max(min(a1, t1) - max(a0, t0), 0.0) / union if union > 0 else 0.0


def bd_row(anchor: list[dict], test: list[dict], domain: Domain) -> dict:
    """BD-rate (%), BD in the domain (dB), overlap (%), points used and a note for ``test`` vs ``anchor``."""
    a, t = rate_distortion_front(anchor, domain), rate_distortion_front(test, domain)
    share = overlap(a, t)
    row = {"bd_rate": None, "bd_psnr": None, "overlap": round(100 * share, 1), "curve_points": f"{len(t)}/{len(test)}",
           "anchor_points": f"{len(a)}/{len(anchor)}"}
    notes = [f"{name}: {len(front)} of {len(pts)} points on the front"
             for name, front, pts in (("anchor", a, anchor), ("curve", t, test)) if len(front) < len(pts)]
    try:
        rate = bd_rate([r for r, _ in a], [d for _, d in a], [r for r, _ in t], [d for _, d in t])
        gain = bd_psnr([r for r, _ in a], [d for _, d in a], [r for r, _ in t], [d for _, d in t])
    except (SpikecodecError, ValueError, ZeroDivisionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return {**row, "note": "; ".join([reason, *notes])}
    if not (math.isfinite(rate) and math.isfinite(gain)):
        return {**row, "note": "; ".join(["curves do not overlap", *notes])}
    if share < MIN_OVERLAP:
        notes.insert(0, f"LOW OVERLAP {100 * share:.0f} %: extrapolated, not comparable")
    return {**row, "bd_rate": rate, "bd_psnr": gain, "note": "; ".join(notes)}


def _cross_reference_note(anchor: list[dict], test: list[dict]) -> str:
    """Why scene scores of two curves are not comparable (empty if they are)."""
    recons = {p.get("recon") for p in anchor} | {p.get("recon") for p in test}
    if len(recons) > 1 and anchor[0]["scene_reference"] != "ground truth":
        return "scene references differ (each curve against its own reconstruction)"
    return ""


def _warnings(points: list[dict]) -> list[str]:
    """The points' warnings (``what; figures``) by what, with how many points have each."""
    counts = Counter(p["warning"].split("; ")[0] for p in points if p.get("warning"))
    return [f"{what} ({n} of {len(points)} points)" for what, n in counts.items()]


def bd_table(points: list[dict], chosen: Sequence[str] | None = None) -> list[dict]:
    """One row per (source, anchor curve, other curve, domain with values on both sides);
    ``chosen``: the ``--bd-anchor`` names (default: :func:`anchor_curves`)."""
    rows = []
    for source, by_curve in curves(points).items():
        for ref in anchor_curves(list(by_curve), chosen):
            for curve, pts in by_curve.items():
                if curve == ref or all(p["exact"] for p in pts):
                    continue
                for domain in DOMAINS:
                    if not any(domain.value(p) is not None for p in by_curve[ref]):
                        continue
                    row = bd_row(by_curve[ref], pts, domain)
                    extra = [_cross_reference_note(by_curve[ref], pts) if domain.column.startswith("scene") else "",
                             *_warnings(pts)]
                    row["note"] = "; ".join(filter(None, [row["note"], *extra]))
                    rows.append({"source": source, "curve": curve, "anchor": ref, "domain": domain.name, **row})
    return rows


def bd_summary(rows: list[dict]) -> dict:
    """The command's summary: ``{"vs <anchor>": {domain: {"source/curve": BD-rate %}}}`` (two
    decimals, rows that have one), so no anchor's figure hides another's."""
    summary: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["bd_rate"] is not None:
            summary[f"vs {r['anchor']}"][r["domain"]][f"{r['source']}/{r['curve']}"] = round(r["bd_rate"], 2)
    return {anchor: dict(domains) for anchor, domains in summary.items()}


def low_overlap(rows: list[dict]) -> list[str]:
    """``source/curve vs anchor (domain): overlap 42 %`` for the rows with a BD-rate below :data:`MIN_OVERLAP`."""
    return [f"{r['source']}/{r['curve']} vs {r['anchor']} ({r['domain']}): overlap {r['overlap']:.0f} %"
            for r in rows if r["bd_rate"] is not None and r["overlap"] < 100 * MIN_OVERLAP]
