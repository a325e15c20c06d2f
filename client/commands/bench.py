"""``spikecodec bench SOURCES... -o DIR``: rate-distortion sweep of the codec against anchors
(a thin command over :func:`codec.evaluate.bench.run_bench`).

Writes ``DIR/rd.json``, ``DIR/rd.csv``, ``DIR/bd_rate.md``, ``DIR/compressai/`` (CompressAI's
``eval_model`` layout) and ``DIR/rd_{scene_psnr,scene_msssim,isi_psnr,fr_psnr}.png``; every
point is cached under ``DIR/points/`` as soon as it is computed, so a rerun (after an
interruption, or with more curves) computes only the missing points, and the results of
earlier runs in ``DIR`` are merged in.
``python -m codec.evaluate.results DIR... -o docs/results.md`` renders result folders.
"""

from __future__ import annotations

import argparse

HELP = "rate-distortion sweep of the codec against VVC/HEVC/count/lossless anchors; BD-rate tables and plots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import (
        add_device_argument,
        add_file_arguments,
        add_fr_window_argument,
        comma_list,
        existing_folder,
    )
    from codec import options

    def names(values: tuple) -> str:
        return ",".join(map(str, values))

    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help=".dat/.h5 recording, davis:FOLDER (frames simulated, with ground truth), "
                             "an image folder, a video, or 'synthetic'")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    parser.add_argument("--anchor", type=comma_list(str, options.ANCHOR_NAMES, "anchor"),
                        default=options.DEFAULT_ANCHORS,
                        help=f"anchors: {names(options.ANCHOR_NAMES)} (default {names(options.DEFAULT_ANCHORS)})")
    parser.add_argument("--vvc-outputs", default=None, metavar="DIR", type=existing_folder,
                        help="external VVC outputs <source>_qp<QP>.266|.vvc|.yuv|/ of the scenes "
                             "`spikecodec reconstruct --format yuv` exports (see codec.anchors.imported)")
    parser.add_argument("--bd-anchor", type=comma_list(str), default=None, metavar="CURVE[,CURVE...]",
                        help="curves the BD tables measure against, any of the run's (vvc-ext, hevc, "
                             "spikecodec-none, vvc@net, ...; default vvc,vvc-ra, else vvc-ext)")
    parser.add_argument("--qualities", type=comma_list(float), default=None,
                        help="codec qualities (default: all the model has)")
    parser.add_argument("--attention", type=comma_list(str, options.ATTENTIONS, "attention"),
                        default=options.ATTENTIONS,
                        help=f"attention variants of the codec (default {names(options.ATTENTIONS)})")
    parser.add_argument("--intra-period", type=comma_list(int), default=(1, options.DEFAULT_INTRA_PERIOD),
                        help="intra periods of the codec curves: 1 = all intra (spikecodec-<attention>), "
                             "N > 1 = predicted scenes with an intra scene every N (spikecodec-<attention>-<gop>, "
                             f"-ipN unless N = {options.DEFAULT_INTRA_PERIOD}) "
                             f"(default 1,{options.DEFAULT_INTRA_PERIOD})")
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
    parser.add_argument("--offset", type=int, default=options.DEFAULT_OFFSET,
                        help="C0, first scene centre (default K//2)")
    parser.add_argument("--recon", type=comma_list(str, options.RECONSTRUCTIONS, "reconstruction"),
                        default=(options.DEFAULT_RECONSTRUCTION,),
                        help=f"reconstruction(s) of the codec and of the reference scenes: one of "
                             f"{names(options.RECONSTRUCTIONS)} or a list (e.g. tfp,net: every curve once per "
                             f"reconstruction, named curve@recon; default {options.DEFAULT_RECONSTRUCTION})")
    add_fr_window_argument(parser)
    parser.add_argument("--planes", type=int, default=None,
                        help="planes per source (recordings: at most; simulated: exactly, default 1000)")
    add_file_arguments(parser, simulated=True, dataset_of="sources")
    parser.add_argument("--crop", default=None, metavar="HxW", help="centre crop of recordings, e.g. 64x128")
    parser.add_argument("--fps", type=float, default=None,
                        help="simulated sources: keyframes per second of camera time")
    parser.add_argument("--seed", type=int, default=0, help="simulated sources: seed (default 0)")
    add_device_argument(parser, "the codec curves' learned parts (as in encode and decode; anchors and reference "
                                "scenes use the CPU)")


def run(args: argparse.Namespace) -> dict:
    from pathlib import Path

    from codec.device import check_device
    from codec.evaluate.bench import run_bench
    from codec.evaluate.sources import parse_crop
    from codec.evaluate.sweep import BenchSettings

    device = check_device(args.device)
    settings = BenchSettings(
        window=args.window, offset=args.offset, model=args.model, qualities=args.qualities,
        attentions=args.attention, intra_periods=args.intra_period, gops=args.gop, inter_offsets=args.inter_offset,
        anchors=args.anchor, qps=args.qps, preset=args.preset, threads=args.threads, vvc_outputs=args.vvc_outputs,
        fr_window=args.fr_window, height=args.height, width=args.width, planes=args.planes,
        crop=parse_crop(args.crop), fps=args.fps, seed=args.seed, dataset=args.dataset, bd_anchors=args.bd_anchor,
        device=device,
    )
    return run_bench(args.sources, settings, args.recon, Path(args.output))
