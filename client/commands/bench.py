"""``spikecodec bench SOURCES... -o DIR``: rate-distortion sweep of the codec against anchors.

Writes ``DIR/rd.json``, ``DIR/rd.csv``, ``DIR/bd_rate.md`` and ``DIR/rd_{scene,isi,fr}_psnr.png``;
every point is cached under ``DIR/points/`` as soon as it is computed, so a rerun
(after an interruption, or with more curves) computes only the missing points.
"""

from __future__ import annotations

import argparse
from typing import Callable

HELP = "rate-distortion sweep of the codec against VVC/HEVC/count/lossless anchors; BD-rate tables and plots"


def _list(kind: type) -> Callable[[str], tuple]:
    """Parser of a comma-separated list of ``kind`` (an empty string is an empty list)."""

    def parse(text: str) -> tuple:
        try:
            return tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__} values, got {text!r}") from None

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help=".dat/.h5 recording, davis:FOLDER (frames simulated, with ground truth), "
                             "an image folder, a video, or 'synthetic'")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    parser.add_argument("--anchor", type=_list(str), default=("vvc", "vvc-ra", "hevc", "count", "lossless"),
                        help="anchors: vvc,vvc-ra,hevc,hevc-intra,count,lossless (default vvc,vvc-ra,hevc,count,lossless)")
    parser.add_argument("--vvc-outputs", default=None, metavar="DIR",
                        help="external VVC outputs <source>_qp<QP>.266|.vvc|.yuv|/ (see codec.anchors.imported)")
    parser.add_argument("--qualities", type=_list(float), default=None, help="codec qualities (default: all the model has)")
    parser.add_argument("--attention", type=_list(str), default=("none", "soam", "bisoam"),
                        help="attention variants of the codec (default none,soam,bisoam)")
    parser.add_argument("--intra-period", type=_list(int), default=(1, 32),
                        help="intra periods of the codec curves: 1 = all intra (spikecodec-<attention>), "
                             "N > 1 = inter coded with an intra scene every N (spikecodec-<attention>-ipN) "
                             "(default 1,32)")
    parser.add_argument("--inter-offset", type=_list(float), default=None,
                        help="quality steps inter scenes are coded below the stream's quality, one curve each "
                             "(spikecodec-<attention>-ipN-o<offset>; default: the encoder's, named without the suffix)")
    parser.add_argument("--qps", type=_list(int), default=(22, 27, 32, 37, 42, 47), help="QPs of the video anchors")
    parser.add_argument("--preset", default="medium", help="video encoder preset (default medium)")
    parser.add_argument("--threads", type=int, default=1, help="video encoder threads (default 1)")
    parser.add_argument("--model", default="spikecodec-base", help="scene codec (default spikecodec-base)")
    parser.add_argument("--window", type=int, default=32, help="K, planes per scene (default 32)")
    parser.add_argument("--offset", type=int, default=None, help="C0, first scene centre (default K//2)")
    parser.add_argument("--recon", type=_list(str), default=("tfp",),
                        help="reconstruction(s) of the codec and of the reference scenes: tfp, tfi, net, or a list "
                             "(e.g. tfp,net: every curve once per reconstruction, named curve@recon; default tfp)")
    parser.add_argument("--fr-window", type=int, default=32, help="planes of the windowed firing rate (default 32)")
    parser.add_argument("--planes", type=int, default=None,
                        help="planes per source (recordings: at most; simulated: exactly, default 1000)")
    parser.add_argument("--height", type=int, default=None, help=".dat height / simulated scene height (default 250)")
    parser.add_argument("--width", type=int, default=None, help=".dat width / simulated scene width (default 400)")
    parser.add_argument("--crop", default=None, metavar="HxW", help="centre crop of recordings, e.g. 64x128")
    parser.add_argument("--fps", type=float, default=None, help="simulated sources: keyframes per second of camera time")
    parser.add_argument("--seed", type=int, default=0, help="simulated sources: seed (default 0)")


def run(args: argparse.Namespace) -> dict:
    import sys
    import time
    from pathlib import Path

    from tqdm import tqdm

    from client.bench.cache import PointCache
    from client.bench.outputs import bd_table, write_bd_markdown, write_plots, write_tables
    from client.bench.sweep import BenchSettings, plan, prepare, run_job, settings_dict, source_key, source_name
    from dataclasses import replace

    from client.sources import parse_crop
    from codec.anchors import ANCHOR_NAMES, AnchorError
    from codec.errors import SpikecodecError
    from codec.reconstruct.registry import RECONSTRUCTORS

    unknown = [a for a in args.anchor if a not in ANCHOR_NAMES]
    if unknown:
        raise AnchorError(f"unknown anchor(s) {', '.join(unknown)}; choose from {', '.join(ANCHOR_NAMES)}")
    recons = tuple(dict.fromkeys(args.recon))
    bad = [r for r in recons if r not in RECONSTRUCTORS] or ([] if recons else ["(none)"])
    if bad:
        raise SpikecodecError(f"unknown reconstruction(s) {', '.join(bad)}; choose from {', '.join(RECONSTRUCTORS)}")
    settings = BenchSettings(
        window=args.window, offset=args.offset, recon=recons[0], model=args.model, qualities=args.qualities,
        attentions=args.attention, intra_periods=args.intra_period,
        inter_offsets=args.inter_offset or BenchSettings.inter_offsets, anchors=args.anchor, qps=args.qps,
        preset=args.preset, threads=args.threads,
        vvc_outputs=args.vvc_outputs, fr_window=args.fr_window, height=args.height, width=args.width,
        planes=args.planes, crop=parse_crop(args.crop), fps=args.fps, seed=args.seed,
    )
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    cache = PointCache(out)
    started = time.perf_counter()
    passes = [replace(settings, recon=r) for r in recons]
    plans = [(spec, s, plan(spec, s, f"@{s.recon}" if len(passes) > 1 else "")) for spec in args.sources for s in passes]
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
    write_tables(out, points, sources, {**settings_dict(settings), "recon": list(recons)})
    write_bd_markdown(out / "bd_rate.md", points, sources)
    plots = write_plots(out, points)
    rows = [r for r in bd_table(points) if r["bd_rate"] is not None]
    return {
        "output": str(out),
        "points": len(points),
        "computed": computed,
        "cached": len(points) - computed,
        "sources": ", ".join(sources),
        "files": ", ".join(["rd.json", "rd.csv", "bd_rate.md", *plots]),
        "bd_rate": {f"{r['source']}/{r['curve']}/{r['domain']}": round(r["bd_rate"], 2) for r in rows},
        "seconds": round(time.perf_counter() - started, 1),
    }
