"""``spikecodec bench SOURCES... -o DIR``: rate-distortion sweep of the codec against anchors.

Writes ``DIR/rd.json``, ``DIR/rd.csv``, ``DIR/bd_rate.md`` and ``DIR/rd_{scene,isi,fr}_psnr.png``;
every point is cached under ``DIR/points/`` as soon as it is computed, so a rerun
(after an interruption, or with more curves) computes only the missing points.
"""

from __future__ import annotations

import argparse

HELP = "rate-distortion sweep of the codec against VVC/HEVC/count/lossless anchors; BD-rate tables and plots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_fr_window_argument, comma_list
    from codec import options

    def names(values: tuple) -> str:
        return ",".join(map(str, values))

    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help=".dat/.h5 recording, davis:FOLDER (frames simulated, with ground truth), "
                             "an image folder, a video, or 'synthetic'")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    parser.add_argument("--anchor", type=comma_list(str, options.ANCHOR_NAMES, "anchor"), default=options.DEFAULT_ANCHORS,
                        help=f"anchors: {names(options.ANCHOR_NAMES)} (default {names(options.DEFAULT_ANCHORS)})")
    parser.add_argument("--vvc-outputs", default=None, metavar="DIR",
                        help="external VVC outputs <source>_qp<QP>.266|.vvc|.yuv|/ (see codec.anchors.imported)")
    parser.add_argument("--qualities", type=comma_list(float), default=None,
                        help="codec qualities (default: all the model has)")
    parser.add_argument("--attention", type=comma_list(str, options.ATTENTIONS, "attention"), default=options.ATTENTIONS,
                        help=f"attention variants of the codec (default {names(options.ATTENTIONS)})")
    parser.add_argument("--intra-period", type=comma_list(int), default=(1, options.DEFAULT_INTRA_PERIOD),
                        help="intra periods of the codec curves: 1 = all intra (spikecodec-<attention>), "
                             "N > 1 = predicted scenes with an intra scene every N (spikecodec-<attention>-<gop>, "
                             f"-ipN unless N = {options.DEFAULT_INTRA_PERIOD}) (default 1,{options.DEFAULT_INTRA_PERIOD})")
    parser.add_argument("--gop", type=comma_list(str, options.GOP_STRUCTURES, "GOP structure"),
                        default=(options.DEFAULT_GOP,),
                        help="scene structures of the predicted curves, named ...-ra (random-access) and ...-ld "
                             f"(low-delay) (default {options.DEFAULT_GOP})")
    parser.add_argument("--inter-offset", type=comma_list(float), default=(options.DEFAULT_INTER_OFFSET,),
                        help="quality steps inter scenes are coded below the stream's quality, one curve each "
                             "(spikecodec-<attention>-ipN-o<offset>; default: the encoder's "
                             f"{options.DEFAULT_INTER_OFFSET:g}, named without the suffix)")
    parser.add_argument("--qps", type=comma_list(int), default=options.DEFAULT_QPS,
                        help=f"QPs of the video anchors (default {names(options.DEFAULT_QPS)})")
    parser.add_argument("--preset", default="medium", help="video encoder preset (default medium)")
    parser.add_argument("--threads", type=int, default=1, help="video encoder threads (default 1)")
    parser.add_argument("--model", default=options.DEFAULT_MODEL, help=f"scene codec (default {options.DEFAULT_MODEL})")
    parser.add_argument("--window", type=int, default=options.DEFAULT_WINDOW,
                        help=f"K, planes per scene (default {options.DEFAULT_WINDOW})")
    parser.add_argument("--offset", type=int, default=options.DEFAULT_OFFSET, help="C0, first scene centre (default K//2)")
    parser.add_argument("--recon", type=comma_list(str, options.RECONSTRUCTIONS, "reconstruction"),
                        default=(options.DEFAULT_RECONSTRUCTION,),
                        help=f"reconstruction(s) of the codec and of the reference scenes: one of "
                             f"{names(options.RECONSTRUCTIONS)} or a list (e.g. tfp,net: every curve once per "
                             f"reconstruction, named curve@recon; default {options.DEFAULT_RECONSTRUCTION})")
    add_fr_window_argument(parser)
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
    from codec.errors import SpikecodecError

    recons = tuple(dict.fromkeys(args.recon))
    if not recons:
        raise SpikecodecError("--recon names no reconstruction")
    settings = BenchSettings(
        window=args.window, offset=args.offset, recon=recons[0], model=args.model, qualities=args.qualities,
        attentions=args.attention, intra_periods=args.intra_period, gops=args.gop,
        inter_offsets=args.inter_offset, anchors=args.anchor, qps=args.qps,
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
