"""``spikecodec convert IN -o OUT``: lossless conversion between .dat and .h5."""

from __future__ import annotations

import argparse

HELP = "convert a spike file between .dat and .h5 (lossless, block by block)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="spike file: PKU .dat, or .h5/.hdf5")
    parser.add_argument("-o", "--output", required=True, help="file to write (.dat, .h5 or .hdf5)")
    parser.add_argument("--height", type=int, default=None, help=".dat input plane height (default 250)")
    parser.add_argument("--width", type=int, default=None, help=".dat input plane width (default 400)")
    parser.add_argument("--dataset", default=None, help="HDF5 input: read this plain (T,H,W) bool/uint8 dataset")
    parser.add_argument("--compression", choices=("none", "gzip", "lzf"), default="none",
                        help="HDF5 output: lossless chunk compression (default none)")


def run(args: argparse.Namespace) -> dict:
    from codec.io import convert

    options = {} if args.compression == "none" else {"compression": args.compression}
    stats = convert(args.input, args.output, args.height, args.width, args.dataset, **options)
    return {"input": args.input, "output": args.output, **stats}
