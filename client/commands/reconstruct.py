"""``spikecodec reconstruct IN -o DIR``: the scenes of a spike stream, exactly as ``bench`` scores
them (same reconstruction, window, centres, planes and crop: :mod:`codec.evaluate.export`),
as PNGs named by centre plane or as one 10-bit YUV file for an external VVC encoder."""

from __future__ import annotations

import argparse

HELP = ("reconstruct scenes (TFP, TFI or the learned network): PNGs by centre plane, or the 10-bit YUV "
        "the bench's VVC anchor codes (--format yuv)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments, add_scene_arguments, comma_list
    from codec import options

    parser.add_argument("input", help="spike file (.dat, .h5, .hdf5) or any bench source (synthetic, folder, ...)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder for scene_<centre>.png or <stem>.yuv, <stem>.scenes.json and sizes.json")
    add_scene_arguments(parser, recon_flag="--method")
    parser.add_argument("--format", choices=("png", "yuv"), default="png",
                        help="png: one gray PNG per scene; yuv: <stem>.yuv, yuv420p10le frames padded to "
                             "multiples of 8, what the bench's VVC anchor codes (default png)")
    parser.add_argument("--bit-depth", type=int, default=None,
                        help="png: 8 or 16 (default 8); yuv: 10 (the default)")
    parser.add_argument("--gain", type=float, default=1.0,
                        help="png: scene value per unit firing rate (default 1: rate 1 is white, as the bench)")
    parser.add_argument("--planes", type=int, default=None, help="first N planes, as bench --planes")
    parser.add_argument("--crop", default=None, metavar="HxW", help="centre crop, as bench --crop")
    parser.add_argument("--qps", type=comma_list(int), default=options.DEFAULT_QPS,
                        help="QPs of the sizes.json template (default "
                             f"{','.join(map(str, options.DEFAULT_QPS))})")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for --method/--recon net (default: torch's choice)")
    add_file_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    import time
    from pathlib import Path

    from codec.evaluate.export import export_scenes
    from codec.evaluate.sources import parse_crop
    from codec.evaluate.sweep import BenchSettings

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    settings = BenchSettings(window=args.window, offset=args.offset, recon=args.recon, height=args.height,
                             width=args.width, planes=args.planes, crop=parse_crop(args.crop), dataset=args.dataset)
    bit_depth = args.bit_depth or (10 if args.format == "yuv" else 8)
    result = export_scenes(args.input, settings, Path(args.output), args.format, bit_depth, args.qps, args.gain)
    return {**result, "seconds": round(time.perf_counter() - started, 3)}
