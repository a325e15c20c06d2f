"""Files a bench run writes: ``rd.json``, ``rd.csv``, ``bd_rate.md``, ``compressai/`` and the plots
(:mod:`codec.evaluate.plots`); the BD rows come from :mod:`codec.evaluate.bdtable`.

- ``rd.json``: the runs merged into the folder (date, commit, settings of each), the
  sources, every point, the BD rows (with overlap and points used).
- ``rd.csv``: one row per point.
- ``bd_rate.md``: per source, one table per anchor and domain, each titled with its anchor.
- ``compressai/<source>/<curve>.json``: each lossy curve in the layout of CompressAI's
  ``eval_model`` (``{"name", "description", "results": {"bpp": [...], "psnr-rgb": [...],
  "ms-ssim-rgb": [...], ...}}``), so ``python -m compressai.utils.plot -f compressai/<source>/*.json``
  draws them. ``bpp`` is bits per scene pixel (bits / (scenes*H*W)); ``psnr-rgb`` and
  ``ms-ssim-rgb`` are the scene PSNR / MS-SSIM of the one gray channel; ``bpsp``,
  ``isi-psnr``, ``fr-psnr`` are extra keys.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from codec.evaluate.bdtable import DOMAINS, anchor_title, curve_name

CSV_COLUMNS = (
    "source", "name", "curve", "recon", "family", "label", "param", "bits", "bpsp", "bpp", "compression_ratio",
    "scene_psnr", "scene_psnr_ref", "scene_psnr_gt", "scene_msssim", "scene_reference", "isi_psnr",
    "fr_instant_psnr", "fr_window_psnr", "fr_window", "spike_count_mae", "spike_count_relative", "exact",
    "num_planes", "num_scenes", "height", "width", "seconds", "warning",
)  # fmt: skip


def _fmt(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:+.2f}{unit}"


#: what the BD tables mean, printed above them
BD_LEGEND = [
    "Rate: bits per spike-pixel (bpsp). Negative BD-rate = fewer bits than the anchor at equal quality;",
    "positive BD (dB) = higher PSNR (MS-SSIM in dB, -10 log10(1 - MS-SSIM)) at equal rate. Bjøntegaard (Akima)",
    "via codec.metrics / bjontegaard; a curve needs >= 4 points on its rate-distortion front (points beaten",
    "by a cheaper one are left out); points = on the front / measured; overlap = shared share of the two",
    "curves' quality ranges (below 75 % the value is an extrapolation and the note says LOW OVERLAP).",
]


def bd_markdown(rows: list[dict], points: list[dict], sources: dict[str, dict], level: int = 2) -> list[str]:
    """Markdown lines: per source one table per anchor and domain (titled with that anchor), the
    lossless points, then the means over sources; headings start at ``level``."""
    h = "#" * level
    lines: list[str] = []
    for source, info in sources.items():
        lines += [f"{h} {source}", "",
                  f"{info['num_planes']} planes, {info['height']}x{info['width']}, {info['num_scenes']} scenes; "
                  f"scene PSNR and MS-SSIM against the **{info['scene_reference']}**.", ""]
        mine = [r for r in rows if r["source"] == source]
        for anchor in dict.fromkeys(r["anchor"] for r in mine):
            for domain in DOMAINS:
                selected = [r for r in mine if r["anchor"] == anchor and r["domain"] == domain.name]
                if not selected:
                    continue
                unit = domain.name.split()[-1]
                lines += [f"{h}# {domain.name} against {anchor_title(anchor)}", "",
                          f"| curve | BD-rate | BD-{unit} (dB) | overlap | points (curve, anchor) | note |",
                          "|---|---:|---:|---:|---|---|"]
                lines += [f"| {r['curve']} | {_fmt(r['bd_rate'], ' %')} | {_fmt(r['bd_psnr'], ' dB')} "
                          f"| {r['overlap']:.0f} % | {r['curve_points']}, {r['anchor_points']} | {r['note']} |"
                          for r in selected]
                lines.append("")
        exact = [p for p in points if p["source"] == source and p["exact"]]
        if exact:
            lines += ["Exact (lossless) points: " + ", ".join(f"{curve_name(p)} {p['label']} {p['bpsp']:.4f} bpsp"
                                                              for p in exact), ""]
    averages = _averages(rows)
    if len(sources) > 1 and averages:
        lines += [f"{h} Mean over sources", "",
                  "| curve | anchor | domain | sources | mean BD-rate | mean BD (dB) |", "|---|---|---|---:|---:|---:|"]
        lines += [f"| {c} | {a} | {d} | {n} | {_fmt(r, ' %')} | {_fmt(g, ' dB')} |"
                  for (c, a, d), (n, r, g) in averages.items()]
        lines.append("")
    return lines


def write_bd_markdown(path: Path, rows: list[dict], points: list[dict], sources: dict[str, dict]) -> None:
    """``bd_rate.md``: :func:`bd_markdown` under the legend."""
    lines = ["# BD-rate and BD-PSNR", "", *BD_LEGEND, "", *bd_markdown(rows, points, sources)]
    path.write_text("\n".join(lines))


def _averages(rows: list[dict]) -> dict[tuple[str, str, str], tuple[int, float, float]]:
    grouped: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if r["bd_rate"] is not None:
            grouped[(r["curve"], r["anchor"], r["domain"])].append(r)
    return {k: (len(v), sum(r["bd_rate"] for r in v) / len(v), sum(r["bd_psnr"] for r in v) / len(v))
            for k, v in grouped.items()}


def compressai_results(pts: list[dict]) -> dict[str, list]:
    """The ``results`` of one curve in CompressAI's ``eval_model`` keys (module docstring); the
    points with a scene PSNR, by rate; a key whose values are not all known is left out."""
    pts = sorted((p for p in pts if p.get("scene_psnr") is not None), key=lambda p: p["bpsp"])
    columns = {"bpp": "bpp", "bpsp": "bpsp", "psnr-rgb": "scene_psnr", "ms-ssim-rgb": "scene_msssim",
               "isi-psnr": "isi_psnr", "fr-psnr": "fr_window_psnr", "seconds": "seconds"}
    results: dict[str, list] = {"label": [p["label"] for p in pts]}
    for key, column in columns.items():
        values = [p.get(column) for p in pts]
        if all(v is not None for v in values):
            results[key] = values
    return results


def write_compressai(directory: Path, points: list[dict]) -> list[str]:
    """``compressai/<source>/<curve>.json`` per lossy curve (module docstring); returns the paths
    relative to ``directory``."""
    written = []
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in points:
        grouped[(p["source"], curve_name(p))].append(p)
    for (source, name), pts in grouped.items():
        results = compressai_results(pts)
        if not results["label"]:
            continue  # exact curves: no scene distortion to plot
        folder = directory / "compressai" / source
        folder.mkdir(parents=True, exist_ok=True)
        description = (f"spikecodec bench: {source}, {pts[0].get('recon', '')} scenes against the "
                       f"{pts[0]['scene_reference']}; gray scenes (psnr-rgb = PSNR of the one channel); "
                       "bpp = bits per scene pixel, bpsp = bits per spike-pixel")
        payload = {"name": name, "description": description, "results": results}
        (folder / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
        written.append(str((folder / f"{name}.json").relative_to(directory)))
    return written


def write_tables(directory: Path, points: list[dict], sources: dict[str, dict], runs: list[dict],
                 rows: list[dict]) -> None:
    """``rd.json`` (module docstring; ``run`` and ``settings`` are the latest run's) and ``rd.csv``."""
    payload = {"run": runs[-1]["run"], "settings": runs[-1]["settings"], "runs": runs, "sources": sources,
               "points": points, "bd": rows}
    (directory / "rd.json").write_text(json.dumps(payload, indent=1, default=str))
    with open(directory / "rd.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(points)

