"""``spikecodec reconstruct IN -o DIR``: scenes of a spike file as PNGs named by centre plane."""

from __future__ import annotations

import argparse
import time

HELP = "reconstruct scenes (TFP, TFI or the learned network) from spikes, one PNG per centre plane"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments, add_scene_arguments

    parser.add_argument("input", help="spike file: .dat, .h5 or .hdf5")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for scene_<centre>.png")
    add_scene_arguments(parser, recon_flag="--method")
    parser.add_argument("--gain", type=float, default=1.0,
                        help="scene value per unit firing rate (default 1: rate 1 is white)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for --method/--recon net (default: torch's choice)")
    add_file_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from pathlib import Path

    from tqdm import tqdm

    from codec.io import open_spikes
    from codec.reconstruct import iter_scenes, scene_centres
    from codec.reconstruct.pngs import scene_filename, write_scene_png

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open_spikes(args.input, args.height, args.width, args.dataset) as reader:
        total = len(scene_centres(reader.num_planes, args.window, args.offset))
        centres = []
        scenes = iter_scenes(reader, args.recon, args.window, args.offset, gain=args.gain)
        for centre, scene in tqdm(scenes, total=total, desc="reconstruct", unit="scene", leave=False):
            write_scene_png(out / scene_filename(centre), scene)
            centres.append(centre)
        num_planes = reader.num_planes
    seconds = time.perf_counter() - started
    return {
        "output": str(out), "method": args.recon, "window": args.window,
        "offset": centres[0] if centres else args.offset, "num_planes": num_planes, "scenes": len(centres),
        "first_centre": centres[0] if centres else None, "last_centre": centres[-1] if centres else None,
        "seconds": round(seconds, 3),
    }
