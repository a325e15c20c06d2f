"""Rate-distortion plots of a bench folder: ``rd_scene_psnr.png``, ``rd_scene_msssim.png``,
``rd_isi_psnr.png``, ``rd_fr_psnr.png``.

One row of panels per source and reconstruction; in each row the left panel holds every
curve (exact points as vertical lines), the right one only the lossy curves that matter for
BD (video anchors, the codec, imported outputs: no exact lines, no count code), so they are
not squeezed into a corner. Legends sit outside the axes (no label covers a curve) and a
caption under the figure names the settings (window, reconstructions, crop, planes, QPs,
preset, model). Plots show the folder's merged results (:func:`codec.evaluate.bench.run_bench`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from codec.evaluate.bdtable import DOMAINS, Domain

#: the plots: the BD domains plus the windowed firing rate, each to its own file
PLOTS = (
    (DOMAINS[0], "rd_scene_psnr.png"),
    (DOMAINS[1], "rd_scene_msssim.png"),
    (DOMAINS[2], "rd_isi_psnr.png"),
    (Domain("windowed FR PSNR", "fr_window_psnr", "windowed firing-rate PSNR (dB)"), "rd_fr_psnr.png"),
)
#: curves left out of the lossy-range panel besides exact ones (their rates dwarf the lossy curves)
WIDE_CURVES = ("count",)


def caption(runs: list[dict], points: list[dict]) -> str:
    """One line of the settings behind ``points`` (values that differ between runs joined by ``/``)."""

    def values(key: str) -> str:
        seen = []
        for run in runs:
            value = run["settings"].get(key)
            text = "x".join(map(str, value)) if key == "crop" and value else (
                ",".join(map(str, value)) if isinstance(value, list) else str(value))
            if text not in seen:
                seen.append(text)
        return " / ".join(seen)

    recons = ",".join(dict.fromkeys(p.get("recon", "?") for p in points))
    planes = "/".join(sorted({str(p["num_planes"]) for p in points}))
    return (f"K={values('window')}, C0={values('offset').replace('None', 'K//2')}, recon {recons}, "
            f"crop {values('crop').replace('None', 'none')}, {planes} planes, QPs {values('qps')}, "
            f"preset {values('preset')}, model {values('model')}; rate = whole bitstream / (T*H*W)")


def _rows(points: list[dict]) -> dict[tuple[str, str], dict[str, list[dict]]]:
    """``{(source, recon): {curve (base name): points sorted by bpsp}}``."""
    rows: dict[tuple[str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        rows[(p["source"], p.get("recon", ""))][p["curve"]].append(p)
    return {k: {c: sorted(ps, key=lambda p: p["bpsp"]) for c, ps in v.items()} for k, v in rows.items()}


def _draw(ax, by_curve: dict[str, list[dict]], domain: Domain, lossy_only: bool, colors: dict[str, str]) -> None:
    for curve, pts in by_curve.items():
        exact = all(p["exact"] for p in pts)
        if lossy_only and (exact or curve in WIDE_CURVES):
            continue
        if exact:
            for i, p in enumerate(pts):
                ax.axvline(p["bpsp"], linestyle=(0, (1, 1 + i)), color=colors[curve],
                           label=f"{curve} {p['label']} (exact) {p['bpsp']:.4f}")
            continue
        finite = [p for p in pts if domain.value(p) is not None]
        family = pts[0].get("family")
        style = "-o" if family == "ours" else ":^" if family == "imported" else "--s"
        ax.plot([p["bpsp"] for p in finite], [domain.value(p) for p in finite], style, label=curve, markersize=4,
                color=colors[curve])
    ax.set_xscale("log")
    ax.set_xlabel("bits per spike-pixel (bpsp)")
    ax.set_ylabel(domain.axis)
    ax.grid(True, which="both", alpha=0.3)


def write_plots(directory: Path, points: list[dict], runs: list[dict]) -> list[str]:
    """One PNG per plot of :data:`PLOTS` (module docstring); returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _rows(points)
    text = caption(runs, points)
    # one colour per curve in every panel and file (matplotlib's cycle would shift where a panel skips a curve)
    names = list(dict.fromkeys(p["curve"] for p in sorted(points, key=lambda p: p["family"] != "ours")))
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}
    files = []
    for domain, filename in PLOTS:
        fig, axes = plt.subplots(len(rows), 2, figsize=(13.0, 4.2 * len(rows) + 0.6), squeeze=False)
        for (left, right), ((source, recon), by_curve) in zip(axes, rows.items()):
            reference = next(iter(by_curve.values()))[0]["scene_reference"]
            against = f", vs {reference}" if domain.column.startswith("scene") else ""
            _draw(left, by_curve, domain, False, colors)
            left.set_title(f"{source} · {recon} scenes{against}: all curves", fontsize=9)
            _draw(right, by_curve, domain, True, colors)
            right.set_title(f"{source} · {recon} scenes: lossy range", fontsize=9)
            handles, labels = left.get_legend_handles_labels()
            right.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        fig.text(0.01, 0.01, text, fontsize=7, ha="left", va="bottom", wrap=True)
        fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))
        fig.savefig(directory / filename, dpi=110, bbox_inches="tight")
        plt.close(fig)
        files.append(filename)
    return files
