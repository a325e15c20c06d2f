"""``spikecodec convert IN -o OUT``: lossless conversion between .dat and .h5.

A ``.dat`` recording carries neither ground truth nor sensor parameters; converting
it to HDF5 can attach both (``--gt PNG@PLANE``, ``--alpha``), so that ``stream``
and ``bench`` score the decoded scenes against ground truth. For the shared REDS
recordings (mean firing rate = 8-bit intensity / 425)::

    spikecodec convert reds_203_part2.dat -o part2.h5 --gt reds_203_part2_gt.png@150 --alpha 0.6
"""

from __future__ import annotations

import argparse

from codec import options

HELP = "convert a spike file between .dat and .h5 (lossless, block by block)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments

    parser.add_argument("input", help="spike file: PKU .dat, or .h5/.hdf5")
    parser.add_argument("-o", "--output", required=True, help="file to write (.dat, .h5 or .hdf5)")
    add_file_arguments(parser, dataset_of="input")
    parser.add_argument("--compression", choices=options.HDF5_COMPRESSIONS, default="none",
                        help="HDF5 output: lossless chunk compression (default none)")
    parser.add_argument("--gt", action="append", default=[], metavar="PNG[@PLANE]",
                        help="HDF5 output: store this ground-truth scene for PLANE "
                             "(default: the middle plane); repeatable")
    parser.add_argument("--alpha", type=float, default=None,
                        help="set the sensor's alpha (firing rate of intensity 1.0 per threshold), e.g. for a .dat")


def run(args: argparse.Namespace) -> dict:
    from client.commands.compare import parse_gt
    from codec.io import convert, open_spikes
    from codec.reconstruct.pngs import read_scene_png

    options = {} if args.compression == "none" else {"compression": args.compression}
    truths = {}
    if args.gt:
        with open_spikes(args.input, args.height, args.width, args.dataset) as reader:
            num_planes = reader.num_planes
        for spec in args.gt:
            path, plane = parse_gt(spec, num_planes)
            truths[plane] = read_scene_png(path)
    sensor = {"alpha": args.alpha} if args.alpha is not None else None
    stats = convert(args.input, args.output, args.height, args.width, args.dataset,
                    ground_truth=truths, sensor=sensor, **options)
    return {"input": args.input, "output": args.output, **stats}
