"""A whole rate-distortion sweep (what ``spikecodec bench`` runs): plan, compute or reuse
every point, merge with the folder's earlier results, write the result files.

::

    for each source x reconstruction: plan() -> jobs; a job cached in DIR/points/ is reused,
    else the source is read once (prepare()) and the job computed (run_job()) and cached
    -> merged with the points of DIR/rd.json that this run did not redo
    -> rd.json, rd.csv, bd_rate.md, compressai/, rd_*.png (codec.evaluate.outputs, .plots)

Merging: an earlier point stays unless this run computed the same curve and label on the
same source settings, or this run reads its source with other settings (planes, crop,
window, ...: its points would not be comparable); the reconstruction may differ (one plot
row per reconstruction).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from codec.errors import SpikecodecError
from codec.evaluate.bdtable import bd_summary, bd_table, low_overlap
from codec.evaluate.cache import PointCache, config_hash
from codec.evaluate.outputs import write_bd_markdown, write_compressai, write_tables
from codec.evaluate.plots import write_plots
from codec.evaluate.runinfo import run_info
from codec.evaluate.sweep import BenchSettings, plan, prepare, run_job, settings_dict, source_key, source_name

#: what identifies a point across runs
_IDENTITY = ("source_key", "curve", "label")


def setup_key(spec: str, settings: BenchSettings) -> str:
    """Hash of everything a source's points depend on except the reconstruction."""
    return config_hash({k: v for k, v in settings.source_config(spec).items() if k != "recon"})


def _earlier(output: Path) -> tuple[list[dict], list[dict]]:
    """Points and runs of the folder's ``rd.json`` (none if absent or from before merging)."""
    try:
        data = json.loads((output / "rd.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return [], []
    points = [p for p in data.get("points", []) if "source_key" in p and "setup" in p]
    return points, data.get("runs", [])


def merge(earlier: list[dict], current: list[dict]) -> list[dict]:
    """``current`` plus the ``earlier`` points it neither redoes nor contradicts (module docstring)."""
    done = {tuple(p[k] for k in _IDENTITY) for p in current}
    setups = {p["source"]: p["setup"] for p in current}
    kept = [p for p in earlier
            if tuple(p[k] for k in _IDENTITY) not in done and setups.get(p["source"], p["setup"]) == p["setup"]]
    return kept + current


def _named(points: list[dict]) -> list[dict]:
    """Points with their display name: ``curve@recon`` where a source has several reconstructions."""
    recons: dict[str, set] = {}
    for p in points:
        recons.setdefault(p["source"], set()).add(p["recon"])
    return [{**p, "name": p["curve"] + (f"@{p['recon']}" if len(recons[p["source"]]) > 1 else "")} for p in points]


def run_bench(specs: Sequence[str], settings: BenchSettings, recons: Sequence[str], output: Path) -> dict:
    """Sweep ``specs`` once per reconstruction in ``recons`` into the folder ``output``.

    Args:
        specs: sources (:func:`codec.evaluate.sources.open_input`).
        settings: everything but the reconstruction, which each pass sets.
        recons: reconstructions; where results hold more than one, curves are named ``curve@recon``.
        output: folder (created); points already in its cache are not recomputed, and its
            earlier results are merged (module docstring).

    Returns:
        a summary: files written, points computed, reused and merged, BD-rates keyed by
        anchor and domain, the rows of low curve overlap, seconds.

    Raises:
        SpikecodecError: no reconstruction; a ``--bd-anchor`` that names no curve.
    """
    from tqdm import tqdm

    recons = tuple(dict.fromkeys(recons))
    if not recons:
        raise SpikecodecError("no reconstruction to sweep")
    output.mkdir(parents=True, exist_ok=True)
    cache = PointCache(output)
    started = time.perf_counter()
    passes = [replace(settings, recon=r) for r in recons]
    plans = [(spec, s, plan(spec, s)) for spec in specs for s in passes]
    earlier, runs = _earlier(output)
    _check_bd_anchors(settings.bd_anchors, {job.curve for *_, jobs in plans for job in jobs}
                      | {p["curve"] for p in earlier})
    points, computed = [], 0
    total = sum(len(jobs) for *_, jobs in plans)
    with tqdm(total=total, unit="point", file=sys.stderr, disable=None, desc="bench") as progress:
        for spec, pass_settings, jobs in plans:
            key = source_key(spec, source_name(spec, pass_settings), pass_settings)
            setup = setup_key(spec, pass_settings)
            source = None  # read (or simulated) only when one of its points is missing
            for job in jobs:
                path = cache.path(key, job.curve, job.label, job.config)
                point = cache.load(path)
                if point is None:
                    if source is None:
                        progress.set_postfix_str(f"reading {spec} ({pass_settings.recon})")
                        source = prepare(spec, pass_settings)
                    progress.set_postfix_str(f"{source.name} {job.curve}@{pass_settings.recon} {job.label}")
                    point = run_job(source, job, pass_settings)
                    cache.store(path, point)
                    computed += 1
                points.append({**point, "curve": job.curve, "recon": pass_settings.recon, "source_key": key,
                               "setup": setup})
                progress.update(1)
    merged = _named(merge(earlier, points))
    sources = {p["source"]: {k: p[k] for k in ("num_planes", "height", "width", "num_scenes", "scene_reference")}
               for p in merged}
    current = {"run": run_info(), "settings": {**settings_dict(settings), "recon": list(recons), "specs": list(specs)}}
    runs = [r for r in runs if r.get("settings") != current["settings"]] + [current]
    rows = bd_table(merged, settings.bd_anchors)
    write_tables(output, merged, sources, runs, rows)
    write_bd_markdown(output / "bd_rate.md", rows, merged, sources)
    plots = write_plots(output, merged, runs)
    compressai = write_compressai(output, merged)
    return {
        "output": str(output),
        "points": len(points),
        "computed": computed,
        "cached": len(points) - computed,
        "merged": len(merged) - len(points),
        "sources": ", ".join(sources),
        "files": ", ".join(["rd.json", "rd.csv", "bd_rate.md", *plots, f"compressai/ ({len(compressai)} curves)"]),
        "bd_anchors": ", ".join(dict.fromkeys(r["anchor"] for r in rows)) or "none",
        "bd_rate": bd_summary(rows),
        "low_overlap": low_overlap(rows),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _check_bd_anchors(chosen: Sequence[str] | None, curves: set[str]) -> None:
    """Refuse ``--bd-anchor`` names (``curve`` or ``curve@recon``) that match no curve of the run
    or of the folder's earlier results."""
    missing = [name for name in chosen or () if name.split("@")[0] not in curves]
    if missing:
        raise SpikecodecError(f"--bd-anchor {', '.join(missing)}: no such curve; curves: {', '.join(sorted(curves))}")
