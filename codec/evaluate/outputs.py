"""Files a bench run writes: ``rd.json``, ``rd.csv``, ``bd_rate.md`` and ``rd_*.png``.

BD-rate / BD-PSNR (:func:`codec.metrics.bd_rate`, :func:`codec.metrics.bd_psnr`,
the ``bjontegaard`` package, Akima) of every curve against VVC all-intra and
random access (:data:`codec.options.REFERENCE_ANCHORS`; ``vvc-ext`` when only external
outputs were given; with several reconstructions, against each ``vvc@<recon>``), per source, with
bpsp as the rate and two distortion domains: scene PSNR and ISI PSNR. Each curve
enters on its rate-distortion front (:func:`rate_distortion_front`) and needs at
least 4 points there; exact (lossless) points are shown as vertical lines on the
plots and listed with their bpsp only.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

from codec.errors import SpikecodecError
from codec.evaluate.runinfo import run_info
from codec.metrics import bd_psnr, bd_rate
from codec.options import REFERENCE_ANCHORS

#: (column, axis label, file) of each plot
PLOTS = (
    ("scene_psnr", "scene PSNR (dB)", "rd_scene_psnr.png"),
    ("isi_psnr", "ISI PSNR (dB)", "rd_isi_psnr.png"),
    ("fr_window_psnr", "windowed firing-rate PSNR (dB)", "rd_fr_psnr.png"),
)
#: distortion domains of the BD tables
BD_DOMAINS = (("scene_psnr", "scene PSNR"), ("isi_psnr", "ISI PSNR"))
CSV_COLUMNS = (
    "source", "curve", "family", "label", "param", "bits", "bpsp", "bpp", "compression_ratio",
    "scene_psnr", "scene_psnr_ref", "scene_psnr_gt", "scene_reference", "isi_psnr", "fr_instant_psnr",
    "fr_window_psnr", "fr_window", "spike_count_mae", "spike_count_relative", "exact", "num_planes",
    "num_scenes", "height", "width", "seconds",
)  # fmt: skip


def curves(points: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """``{source: {curve: points sorted by bpsp}}``."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        grouped[p["source"]][p["curve"]].append(p)
    return {s: {c: sorted(ps, key=lambda p: p["bpsp"]) for c, ps in cs.items()} for s, cs in grouped.items()}


def reference_curves(by_curve: dict[str, list[dict]]) -> list[str]:
    """The anchors BD figures are measured against: ``vvc`` (all intra) and ``vvc-ra``
    (random access: the fair anchor of the inter-coded curves), each also as
    ``<anchor>@<recon>`` (one per reconstruction); without them, ``vvc-ext`` (likewise)."""
    for bases in (REFERENCE_ANCHORS, ("vvc-ext",)):
        found = [c for c in by_curve if c.split("@")[0] in bases]
        if found:
            return found
    return []


def rate_distortion_front(points: list[dict], column: str) -> list[tuple[float, float]]:
    """``(bpsp, PSNR)`` of the points no cheaper point beats: PSNR strictly rising with rate.

    BD interpolation needs a monotonic curve; ISI PSNR of regenerated spikes can
    fall again at high rates, and those dominated points are left out.
    """
    front: list[tuple[float, float]] = []
    for p in sorted(points, key=lambda p: p["bpsp"]):
        if p[column] is not None and (not front or p[column] > front[-1][1]):
            front.append((p["bpsp"], p[column]))
    return front


def _bd(anchor: list[dict], test: list[dict], column: str) -> tuple[float | None, float | None, str]:
    """``(bd_rate %, bd_psnr dB, note)`` of ``test`` vs ``anchor`` in ``column``, on their fronts."""
    a, t = rate_distortion_front(anchor, column), rate_distortion_front(test, column)
    dropped = [f"{name}: {len(front)} of {len(pts)} points on the front"
               for name, front, pts in (("anchor", a, anchor), ("curve", t, test)) if len(front) < len(pts)]
    note = "; ".join(dropped)
    try:
        rate = bd_rate([r for r, _ in a], [d for _, d in a], [r for r, _ in t], [d for _, d in t])
        gain = bd_psnr([r for r, _ in a], [d for _, d in a], [r for r, _ in t], [d for _, d in t])
    except (SpikecodecError, ValueError, ZeroDivisionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return None, None, "; ".join(filter(None, [reason, note]))
    if not (math.isfinite(rate) and math.isfinite(gain)):
        return None, None, "; ".join(filter(None, ["curves do not overlap", note]))
    return rate, gain, note


def _cross_reference_note(anchor: list[dict], test: list[dict]) -> str:
    """Why scene PSNRs of two curves are not comparable (empty if they are)."""
    recons = {p.get("recon") for p in anchor} | {p.get("recon") for p in test}
    if len(recons) > 1 and anchor[0]["scene_reference"] != "ground truth":
        return "scene PSNR references differ (each curve against its own reconstruction)"
    return ""


def bd_table(points: list[dict]) -> list[dict]:
    """One row per (source, anchor, curve other than that anchor, domain)."""
    rows = []
    for source, by_curve in curves(points).items():
        for ref in reference_curves(by_curve):
            for curve, pts in by_curve.items():
                if curve == ref or all(p["exact"] for p in pts):
                    continue
                for column, domain in BD_DOMAINS:
                    rate, gain, note = _bd(by_curve[ref], pts, column)
                    if column == "scene_psnr":
                        note = "; ".join(filter(None, [note, _cross_reference_note(by_curve[ref], pts)]))
                    rows.append({"source": source, "curve": curve, "anchor": ref, "domain": domain,
                                 "bd_rate": rate, "bd_psnr": gain, "note": note, "points": len(pts)})
    return rows


def _fmt(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:+.2f}{unit}"


#: what the BD tables mean, printed above them
BD_LEGEND = [
    "Rate: bits per spike-pixel (bpsp). Negative BD-rate = fewer bits than the anchor at equal PSNR;",
    "positive BD-PSNR = higher PSNR at equal rate. Bjøntegaard (Akima) via codec.metrics / bjontegaard;",
    "a curve needs >= 4 points on its rate-distortion front (points beaten by a cheaper one are left out).",
]


def bd_markdown(points: list[dict], sources: dict[str, dict], level: int = 2) -> list[str]:
    """Markdown lines: per source a BD table per domain and anchor, the lossless points, then
    the means over sources; headings start at ``level``."""
    rows = bd_table(points)
    h = "#" * level
    lines: list[str] = []
    for source, info in sources.items():
        lines += [f"{h} {source}", "",
                  f"{info['num_planes']} planes, {info['height']}x{info['width']}, {info['num_scenes']} scenes; "
                  f"scene PSNR against the **{info['scene_reference']}**.", ""]
        for _, domain in BD_DOMAINS:
            for anchor in dict.fromkeys(r["anchor"] for r in rows if r["source"] == source):
                selected = [r for r in rows
                            if r["source"] == source and r["domain"] == domain and r["anchor"] == anchor]
                if not selected:
                    continue
                lines += [f"{h}# {domain} (anchor: {anchor})", "",
                          "| curve | points | BD-rate | BD-PSNR | note |", "|---|---:|---:|---:|---|"]
                lines += [f"| {r['curve']} | {r['points']} | {_fmt(r['bd_rate'], ' %')} | {_fmt(r['bd_psnr'], ' dB')} "
                          f"| {r['note']} |" for r in selected]
                lines.append("")
        exact = [p for p in points if p["source"] == source and p["exact"]]
        if exact:
            lines += ["Exact (lossless) points: " + ", ".join(f"{p['curve']} {p['label']} {p['bpsp']:.4f} bpsp"
                                                              for p in exact), ""]
    averages = _averages(rows)
    if averages:
        lines += [f"{h} Mean over sources", "",
                  "| curve | anchor | domain | sources | mean BD-rate | mean BD-PSNR |", "|---|---|---|---:|---:|---:|"]
        lines += [f"| {c} | {a} | {d} | {n} | {_fmt(r, ' %')} | {_fmt(g, ' dB')} |"
                  for (c, a, d), (n, r, g) in averages.items()]
        lines.append("")
    return lines


def write_bd_markdown(path: Path, points: list[dict], sources: dict[str, dict]) -> None:
    """``bd_rate.md``: :func:`bd_markdown` under a title naming the anchors."""
    anchors = ", ".join(dict.fromkeys(r["anchor"] for r in bd_table(points))) or "none"
    lines = [f"# BD-rate and BD-PSNR (anchors: {anchors})", "", *BD_LEGEND, "", *bd_markdown(points, sources)]
    path.write_text("\n".join(lines))


def _averages(rows: list[dict]) -> dict[tuple[str, str, str], tuple[int, float, float]]:
    grouped: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if r["bd_rate"] is not None:
            grouped[(r["curve"], r["anchor"], r["domain"])].append(r)
    return {k: (len(v), sum(r["bd_rate"] for r in v) / len(v), sum(r["bd_psnr"] for r in v) / len(v))
            for k, v in grouped.items()}


def write_plots(directory: Path, points: list[dict]) -> list[str]:
    """One PNG per distortion column, one panel per source; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grouped = curves(points)
    names = []
    for column, label, filename in PLOTS:
        cols = min(len(grouped), 2)
        rows = -(-len(grouped) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 4.4 * rows), squeeze=False)
        for ax in axes.flat[len(grouped):]:
            ax.set_visible(False)
        for ax, (source, by_curve) in zip(axes.flat, grouped.items()):
            for curve, pts in by_curve.items():
                if all(p["exact"] for p in pts):
                    for i, p in enumerate(pts):
                        ax.axvline(p["bpsp"], linestyle=":", color="gray")
                        ax.annotate(f"{curve} {p['label']}", (p["bpsp"], 0.03 + 0.3 * i), rotation=90, fontsize=7,
                                    xycoords=("data", "axes fraction"), color="gray", ha="right")
                    continue
                finite = [p for p in pts if p[column] is not None]
                style = "-o" if curve.startswith("spikecodec") else "--s"
                ax.plot([p["bpsp"] for p in finite], [p[column] for p in finite], style, label=curve, markersize=4)
            ax.set_xscale("log")
            ax.set_xlabel("bits per spike-pixel (bpsp)")
            ax.set_ylabel(label)
            reference = next(iter(by_curve.values()))[0]["scene_reference"]
            ax.set_title(source if column != "scene_psnr" else f"{source} (vs {reference})", fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(directory / filename, dpi=110)
        plt.close(fig)
        names.append(filename)
    return names


def write_tables(directory: Path, points: list[dict], sources: dict[str, dict], settings: dict) -> None:
    """``rd.json`` (run date and commit, settings, sources, points, BD rows) and ``rd.csv`` (one row per point)."""
    payload = {"run": run_info(), "settings": settings, "sources": sources, "points": points, "bd": bd_table(points)}
    (directory / "rd.json").write_text(json.dumps(payload, indent=1, default=str))
    with open(directory / "rd.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(points)
