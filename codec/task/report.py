"""What a task sweep reports: per curve the lowest rate that keeps the task, the accuracy
plot, ``task.md``, and the results page of several runs (``docs/task_results.md``).

The threshold of a curve is where its accuracy last climbs to within ``tolerance`` points
of the uncompressed accuracy: from that rate on, every measured point of the curve stays
within. Two figures are given:

- ``lowest_point_bpsp``: the lowest *measured* point from which the curve stays within;
- ``first_within_bpsp``: the lowest measured point within at all, whatever follows it (the
  accuracy of a few hundred clips moves by about a point from one point to the next: a
  binomial standard error of 0.9 points at 97 % on 360 clips, as large as the tolerance);
- ``threshold_bpsp``: that crossing *interpolated* linearly in accuracy on a log-rate axis
  between the last point below and the first point within. When the curve's cheapest point
  is already within, there is nothing to interpolate: ``threshold_bpsp`` is that point and
  ``bracketed`` is false (the true threshold lies at or below it). A curve whose most
  expensive point is not within has no threshold (``None``).

Run ``python -m codec.task.report DIR... -o docs/task_results.md`` to render result folders.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shlex
import shutil
import sys
from pathlib import Path
from typing import Sequence

from codec.evaluate.results import page_command, write_page

#: the accuracy plot of a run
PLOT = "accuracy.png"


def _curves(points: list[dict]) -> dict[str, list[dict]]:
    """Coded points by curve, sorted by rate (the uncompressed reference left out)."""
    out: dict[str, list[dict]] = {}
    for p in points:
        if p["family"] != "reference":
            out.setdefault(p["curve"], []).append(p)
    return {c: sorted(ps, key=lambda p: p["bpsp"]) for c, ps in out.items()}


def threshold(points: list[dict], target: float) -> dict:
    """The threshold of one curve's points (sorted by rate) at accuracy ``target`` (module docstring)."""
    within = [p["accuracy"] >= target for p in points]
    first_within = next((p["bpsp"] for p, ok in zip(points, within) if ok), None)
    if not within or not within[-1]:
        return {"threshold_bpsp": None, "lowest_point_bpsp": None, "lowest_point": None, "bracketed": False,
                "first_within_bpsp": first_within}
    first = len(within) - next(i for i, ok in enumerate(reversed(within)) if not ok) if not all(within) else 0
    low, high = points[first - 1] if first else None, points[first]
    rate = high["bpsp"]
    if low is not None:
        share = (target - low["accuracy"]) / (high["accuracy"] - low["accuracy"])
        rate = math.exp(math.log(low["bpsp"]) + share * (math.log(high["bpsp"]) - math.log(low["bpsp"])))
    return {"threshold_bpsp": round(rate, 5), "lowest_point_bpsp": high["bpsp"], "lowest_point": high["label"],
            "bracketed": low is not None, "first_within_bpsp": first_within}


def thresholds(points: list[dict], reference: float, tolerance: float) -> list[dict]:
    """One row per curve: its points, accuracy range and :func:`threshold` at ``reference - tolerance``."""
    target = reference - tolerance
    return [{"curve": curve, "points": len(pts), "min_bpsp": pts[0]["bpsp"], "max_bpsp": pts[-1]["bpsp"],
             "min_accuracy": min(p["accuracy"] for p in pts), "max_accuracy": max(p["accuracy"] for p in pts),
             **threshold(pts, target)} for curve, pts in _curves(points).items()]


def write_plot(path: Path, task: dict, points: list[dict]) -> None:
    """Accuracy against bpsp (log axis), one line per curve, the uncompressed accuracy and its
    tolerance band, each curve's threshold marked; the whole range on the left, the band's
    neighbourhood on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference, tolerance = task["uncompressed_accuracy"], task["tolerance"]
    marks = {r["curve"]: r["threshold_bpsp"] for r in task["thresholds"]}
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.6))
    for ax, zoom in zip(axes, (False, True)):
        for curve, pts in _curves(points).items():
            style = "-o" if curve.startswith("spikecodec") else "--s"
            (line,) = ax.plot([p["bpsp"] for p in pts], [p["accuracy"] for p in pts], style, label=curve,
                              markersize=4)
            if marks.get(curve) is not None:
                ax.plot([marks[curve]], [reference - tolerance], "v", color=line.get_color(), markersize=8)
        ax.axhline(reference, color="black", linewidth=1, label=f"uncompressed {reference:.2f} %")
        ax.axhspan(reference - tolerance, reference, color="gray", alpha=0.2, label=f"within {tolerance:g} point")
        if zoom:
            ax.set_ylim(reference - 6 * max(tolerance, 1.0), min(100.0, reference + 2 * max(tolerance, 1.0)))
        ax.set_xscale("log")
        ax.set_xlabel("bits per spike-pixel (bpsp)")
        ax.set_ylabel("top-1 accuracy (%)")
        ax.grid(True, which="both", alpha=0.3)
    info = task["set"]
    axes[0].set_title(f"{info['set']}: {info['samples']} clips of {info['planes']} planes, "
                      f"{info['height'] // info['grid'][0]}x{info['width'] // info['grid'][1]}", fontsize=9)
    axes[1].set_title(f"near the uncompressed accuracy (triangles: lowest rate staying within "
                      f"{tolerance:g} point)", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def task_command(settings: dict, output: str) -> str:
    """The ``spikecodec task`` command line that reproduces a run of ``settings``."""
    words = ["spikecodec", "task", settings["spec"], "-o", output]
    flags = (("samples", "--samples"), ("size", "--size"), ("planes", "--planes"), ("seed", "--seed"),
             ("window", "--window"), ("qualities", "--qualities"), ("gops", "--gop"), ("attentions", "--attention"),
             ("anchors", "--anchor"), ("qps", "--qps"), ("preset", "--preset"), ("classifier", "--classifier"),
             ("tolerance", "--tolerance"))
    for name, flag in flags:
        value = settings.get(name)
        if value is not None and value != []:
            words += [flag, ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
                      if isinstance(value, list) else f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(words)


def markdown(task: dict, points: list[dict], folder: str, level: int = 1) -> list[str]:
    """A run as Markdown: what and how, the thresholds, then every point."""
    h, info, clf = "#" * level, task["set"], task["classifier"]
    run = task.get("run") or {}
    lines = [f"{h} Task fidelity: {info['set']} ({folder})", "",
             f"Run {run.get('date', 'date unknown')}, commit `{run.get('commit') or 'unknown'}`.", "",
             "```", task_command(task["settings"], folder), "```", "",
             f"{info['samples']} clips of {info['planes']} planes, {info['height'] // info['grid'][0]}x"
             f"{info['width'] // info['grid'][1]}, coded as one {info['height']}x{info['width']} stream "
             f"({info['grid'][0]}x{info['grid'][1]} tiles, {info['num_scenes']} scenes of "
             f"{task['settings']['window']} planes); mean firing rate {info['mean_rate']:.4f}.",
             f"Classifier `{clf['name']}` ({clf['view']} view, sha256 `{clf['sha256'][:12]}`).", "",
             f"**Uncompressed top-1 accuracy: {task['uncompressed_accuracy']:.2f} %** (raw: 1 bpsp).", "",
             f"{h}# Lowest rate within {task['tolerance']:g} point of it", "",
             "The rate from which a curve stays within, interpolated on a log-rate axis between the last "
             "point below and the first point within (`*`: the curve's cheapest point is already within, so "
             "the threshold is at or below it; n/a: its most expensive point is not within), then the lowest "
             "measured point from which it stays within, and the lowest measured point within at all. "
             f"Accuracy of {info['samples']} clips has a binomial standard error of "
             f"{_standard_error(task['uncompressed_accuracy'], info['samples']):.2f} points here, "
             "so neighbouring points differ by about that much.", "",
             "| curve | points | bpsp range | accuracy range (%) | threshold bpsp | lowest point staying within "
             "| first point within (bpsp) |",
             "|---|---:|---|---|---:|---|---:|"]
    for r in task["thresholds"]:
        mark = "" if r["bracketed"] or r["threshold_bpsp"] is None else " *"
        point = "none" if r["lowest_point"] is None else f"{r['lowest_point']} ({r['lowest_point_bpsp']:.4f})"
        lines.append(f"| {r['curve']} | {r['points']} | {r['min_bpsp']:.4f}-{r['max_bpsp']:.4f} "
                     f"| {r['min_accuracy']:.2f}-{r['max_accuracy']:.2f} | {_rate(r['threshold_bpsp'])}{mark} "
                     f"| {point} | {_rate(r['first_within_bpsp'])} |")
    lines += ["", f"{h}# Every point", "", "| curve | point | bpsp | accuracy (%) | scene PSNR (dB) | ISI PSNR (dB) |",
              "|---|---|---:|---:|---:|---:|"]
    for curve, pts in _curves(points).items():
        lines += [f"| {curve} | {p['label']} | {p['bpsp']:.4f} | {p['accuracy']:.2f} | {_db(p['scene_psnr'])} "
                  f"| {_db(p['isi_psnr'])} |" for p in pts]
    return lines + [""]


def _standard_error(accuracy: float, samples: int) -> float:
    """Binomial standard error (points) of an accuracy (percent) measured on ``samples`` clips."""
    p = accuracy / 100.0
    return 100.0 * math.sqrt(p * (1.0 - p) / samples)


def _db(value: float | None) -> str:
    return "inf" if value is None else f"{value:.2f}"


#: columns of ``task.csv``: one row per point, the uncompressed reference first
CSV_COLUMNS = ("source", "curve", "family", "label", "param", "bits", "bpsp", "accuracy", "correct", "samples",
               "scene_psnr", "isi_psnr", "seconds")


def write_report(folder: Path, task: dict, points: list[dict]) -> list[str]:
    """``task.md``, ``task.csv`` and :data:`PLOT` in ``folder``; returns their names."""
    (folder / "task.md").write_text("\n".join(markdown(task, points, str(folder))))
    with open(folder / "task.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(points)
    write_plot(folder / PLOT, task, points)
    return ["task.md", "task.csv", PLOT]


def render(folders: Sequence[Path], command: str, page: Path | None = None) -> str:
    """The results page of task result folders (their ``task.json`` and ``rd.json``); with ``page``
    (where it will be written) each run's plot is copied beside it as ``<folder name>_accuracy.png`` and shown."""
    lines = ["# Task fidelity results", "", f"Generated by `{command}` from the result files of the runs below; "
             "do not edit by hand.", ""]
    for folder in folders:
        task = json.loads((folder / "task.json").read_text())
        points = json.loads((folder / "rd.json").read_text())["points"]
        lines += markdown(task, points, str(folder), level=2)
        if page is not None:
            plot = page.parent / f"{folder.name}_accuracy.png"
            shutil.copyfile(folder / PLOT, plot)
            lines += [f"![top-1 accuracy against bpsp]({plot.name})", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codec.task.report", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="spikecodec task output folder")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write here (default: stdout)")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not (f / "task.json").is_file() or not (f / "rd.json").is_file()]
    if missing:
        parser.error(f"no task.json and rd.json in {', '.join(missing)}")
    command = page_command("codec.task.report", args.folders, args.output)
    write_page(render(args.folders, command, args.output), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
