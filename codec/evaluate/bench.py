"""A whole rate-distortion sweep (what ``spikecodec bench`` runs): plan, compute or reuse
every point, write the result files.

::

    for each source x reconstruction: plan() -> jobs; a job cached in DIR/points/ is reused,
    else the source is read once (prepare()) and the job computed (run_job()) and cached
    -> rd.json, rd.csv, bd_rate.md, rd_*.png (codec.evaluate.outputs)
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from codec.errors import SpikecodecError
from codec.evaluate.cache import PointCache
from codec.evaluate.outputs import bd_table, write_bd_markdown, write_plots, write_tables
from codec.evaluate.sweep import BenchSettings, plan, prepare, run_job, settings_dict, source_key, source_name


def run_bench(specs: Sequence[str], settings: BenchSettings, recons: Sequence[str], output: Path) -> dict:
    """Sweep ``specs`` once per reconstruction in ``recons`` into the folder ``output``.

    Args:
        specs: sources (:func:`codec.evaluate.sources.open_input`).
        settings: everything but the reconstruction, which each pass sets.
        recons: reconstructions; with more than one, curves are named ``curve@recon``.
        output: folder (created); points already in its cache are not recomputed.

    Returns:
        a summary: files written, points computed and reused, BD-rates per
        ``source/curve/vs anchor/domain``, seconds.
    """
    from tqdm import tqdm

    recons = tuple(dict.fromkeys(recons))
    if not recons:
        raise SpikecodecError("no reconstruction to sweep")
    output.mkdir(parents=True, exist_ok=True)
    cache = PointCache(output)
    started = time.perf_counter()
    passes = [replace(settings, recon=r) for r in recons]
    plans = [(spec, s, plan(spec, s, f"@{s.recon}" if len(passes) > 1 else "")) for spec in specs for s in passes]
    points, computed = [], 0
    total = sum(len(jobs) for *_, jobs in plans)
    with tqdm(total=total, unit="point", file=sys.stderr, disable=None, desc="bench") as progress:
        for spec, pass_settings, jobs in plans:
            key = source_key(spec, source_name(spec, pass_settings), pass_settings)
            source = None  # read (or simulated) only when one of its points is missing
            for job in jobs:
                path = cache.path(key, job.curve, job.label, job.config)
                point = cache.load(path)
                if point is None:
                    if source is None:
                        progress.set_postfix_str(f"reading {spec} ({pass_settings.recon})")
                        source = prepare(spec, pass_settings)
                    progress.set_postfix_str(f"{source.name} {job.curve}{job.tag} {job.label}")
                    point = run_job(source, job, pass_settings)
                    cache.store(path, point)
                    computed += 1
                points.append({**point, "curve": job.curve + job.tag, "recon": pass_settings.recon})
                progress.update(1)
    sources = {p["source"]: {k: p[k] for k in ("num_planes", "height", "width", "num_scenes", "scene_reference")}
               for p in points}
    write_tables(output, points, sources, {**settings_dict(settings), "recon": list(recons), "specs": list(specs)})
    write_bd_markdown(output / "bd_rate.md", points, sources)
    plots = write_plots(output, points)
    return {
        "output": str(output),
        "points": len(points),
        "computed": computed,
        "cached": len(points) - computed,
        "sources": ", ".join(sources),
        "files": ", ".join(["rd.json", "rd.csv", "bd_rate.md", *plots]),
        "bd_rate": bd_summary(points),
        "seconds": round(time.perf_counter() - started, 1),
    }


def bd_summary(points: list[dict]) -> dict[str, float]:
    """BD-rates (percent, two decimals) of ``points`` keyed ``source/curve/vs anchor/domain``,
    for the rows that have one (:func:`codec.evaluate.outputs.bd_table`)."""
    return {f"{r['source']}/{r['curve']}/vs {r['anchor']}/{r['domain']}": round(r["bd_rate"], 2)
            for r in bd_table(points) if r["bd_rate"] is not None}
