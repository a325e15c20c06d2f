"""``spikecodec simulate SOURCE -o OUT``: simulate the spike camera looking at a scene source."""

from __future__ import annotations

import argparse
import math

from codec import options

HELP = "simulate a spike camera on an image folder, a video file or 'synthetic' (writes .h5 or .dat)"


def _plane_list(text: str) -> list[int]:
    try:
        planes = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated plane numbers, got {text!r}") from None
    if any(p < 0 for p in planes):
        raise argparse.ArgumentTypeError("plane numbers must be >= 0")
    return planes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source",
                        help="folder of images, video file, or 'synthetic' (built-in moving procedural image)")
    parser.add_argument("-o", "--output", required=True, help="spike file to write (.h5/.hdf5 or .dat)")
    parser.add_argument("--planes", type=int, default=1000, help="planes to simulate (default 1000)")
    parser.add_argument("--height", type=int, default=250, help="plane height in pixels (default 250)")
    parser.add_argument("--width", type=int, default=400, help="plane width in pixels (default 400)")
    parser.add_argument("--fps", type=float, default=None,
                        help="source frames per second of camera time "
                             "(default: video rate; 25 for folders; 100 synthetic)")
    parser.add_argument("--image", default=None, help="synthetic: move this still image instead of the procedural one")
    parser.add_argument("--model", choices=("if", "poisson"), default="if",
                        help="integrate-and-fire camera, or Poisson rate coding for comparison (default if)")
    sensor = parser.add_argument_group("sensor")
    sensor.add_argument("--threshold", type=float, default=1.0, help="firing threshold theta (default 1)")
    sensor.add_argument("--alpha", type=float, default=1.0, help="membrane gain per plane at scene value 1 (default 1)")
    sensor.add_argument("--reset", choices=options.RESET_MECHANISMS, default=options.DEFAULT_RESET,
                        help=f"reset mechanism (default {options.DEFAULT_RESET})")
    sensor.add_argument("--tau", type=float, default=None, help="leak time constant in planes (default: no leak)")
    sensor.add_argument("--init", choices=options.INIT_STATES, default=options.DEFAULT_INIT,
                        help=f"initial membrane (default {options.DEFAULT_INIT})")
    sensor.add_argument("--plane-rate", type=float, default=20000.0, help="planes per second (default 20000)")
    sensor.add_argument("--shot-noise", action="store_true", help="Poisson photon shot noise (slow)")
    sensor.add_argument("--electrons-per-threshold", type=float, default=1000.0,
                        help="shot noise: photo-electrons that make one threshold (default 1000; fewer = noisier)")
    sensor.add_argument("--dark-current", type=float, default=0.0,
                        help="input added to every pixel, scene units (default 0)")
    sensor.add_argument("--seed", type=int, default=0,
                        help="seed of initial membrane, noise and synthetic path (default 0)")
    parser.add_argument("--gt-planes", type=_plane_list, default=[],
                        help="record the ground-truth scene of these planes, e.g. 150,300 "
                             "(in the .h5; PNGs with --gt-dir)")
    parser.add_argument("--gt-dir", default=None,
                        help="write ground truth as 8-bit PNGs here (default for .dat output: beside it)")
    parser.add_argument("--compression", choices=options.HDF5_COMPRESSIONS, default="none",
                        help="HDF5 output: lossless chunk compression (default none)")


def run(args: argparse.Namespace) -> dict:
    import json
    import sys
    import time
    from pathlib import Path

    import numpy as np
    from PIL import Image
    from tqdm import tqdm

    from codec.errors import SpikeFormatError
    from codec.io import count_spikes, open_writer, pack_planes, spike_format
    from codec.sensor import SensorParams
    from codec.simulate import open_source, poisson_spikes, simulate

    output = Path(args.output)
    fmt = spike_format(output)
    if args.planes <= 0:
        raise SpikeFormatError(f"--planes must be positive, got {args.planes}")
    if not (0 <= args.dark_current < math.inf and 0 < args.electrons_per_threshold < math.inf):
        raise SpikeFormatError("--dark-current must be finite and >= 0, --electrons-per-threshold finite and > 0")
    late = [p for p in args.gt_planes if p >= args.planes]
    if late:
        raise SpikeFormatError(f"--gt-planes {late} lie beyond the {args.planes} simulated planes")
    sensor = SensorParams(threshold=args.threshold, alpha=args.alpha, reset_mechanism=args.reset, tau=args.tau,
                          init=args.init, seed=args.seed, plane_rate=args.plane_rate)
    source = open_source(args.source, args.height, args.width, args.plane_rate, args.fps, args.seed, args.image)
    gt_dir = Path(args.gt_dir) if args.gt_dir else (output.parent if fmt == "dat" else None)
    recipe = {"source": str(args.source), "model": args.model, "frame_period_planes": source.frame_period,
              "shot_noise": args.shot_noise, "electrons_per_threshold": args.electrons_per_threshold,
              "dark_current": args.dark_current, "seed": args.seed}
    options: dict = {}
    if fmt == "hdf5":
        options["attrs"] = {"simulation": json.dumps(recipe)}
        if args.compression != "none":
            options["compression"] = args.compression
    elif args.compression != "none":
        raise SpikeFormatError("--compression applies to HDF5 output only")
    if args.model == "if":
        blocks = simulate(source, args.planes, sensor, shot_noise=args.shot_noise, dark_current=args.dark_current,
                          seed=args.seed, electrons_per_threshold=args.electrons_per_threshold)
    else:
        blocks = poisson_spikes(source, args.planes, sensor, seed=args.seed)
    spikes, gt_files = 0, []
    started = time.perf_counter()
    try:
        with open_writer(output, args.height, args.width, sensor, **options) as writer, \
                tqdm(total=args.planes, unit="plane", file=sys.stderr, disable=None) as progress:
            for block in blocks:
                first = writer.num_planes
                packed = pack_planes(block)
                writer.write_packed(packed)
                spikes += count_spikes(packed)
                for plane in (p for p in args.gt_planes if first <= p < writer.num_planes):
                    scene = source.scene_at(plane)
                    if fmt == "hdf5":
                        writer.write_ground_truth(plane, scene)
                    if gt_dir is not None:
                        gt_dir.mkdir(parents=True, exist_ok=True)
                        png = gt_dir / f"{output.stem}_gt_{plane:06d}.png"
                        Image.fromarray(np.rint(scene * 255).astype(np.uint8)).save(png)
                        gt_files.append(str(png))
                progress.update(len(block))
    finally:
        source.close()
    seconds = time.perf_counter() - started
    return {
        "output": str(output),
        "planes": args.planes,
        "height": args.height,
        "width": args.width,
        "spikes": spikes,
        "mean_rate": spikes / (args.planes * args.height * args.width),
        "seconds": round(seconds, 3),
        "planes_per_s": round(args.planes / seconds, 1),
        "ground_truth_planes": args.gt_planes,
        "ground_truth_png": gt_files,
        **recipe,
    }
