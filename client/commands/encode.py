"""``spikecodec encode IN -o OUT.spkc``: compress a spike file into a ``.spkc`` bitstream."""

from __future__ import annotations

import argparse

HELP = "encode a spike file (.dat or .h5) into a .spkc bitstream"

#: quality used when --quality is not given (the middle of the shipped 1..6 range)
DEFAULT_QUALITY = 3.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="spike file: PKU .dat or .h5")
    parser.add_argument("-o", "--output", required=True, help="bitstream to write (.spkc)")
    parser.add_argument("--quality", type=float, default=DEFAULT_QUALITY,
                        help=f"scene codec quality, within the model's range (default {DEFAULT_QUALITY:g})")
    parser.add_argument("--window", type=int, default=32, help="K: planes between scene centres (default 32)")
    parser.add_argument("--offset", type=int, default=None, help="C0: centre plane of the first scene (default K//2)")
    parser.add_argument("--recon", choices=("tfp", "tfi", "net"), default="tfp", help="scene reconstruction (default tfp)")
    parser.add_argument("--attention", choices=("none", "soam", "bisoam"), default="none",
                        help="encoder attention over the spikes (default none)")
    parser.add_argument("--model", default="spikecodec-base", help="scene codec name (default spikecodec-base)")
    parser.add_argument("--intra-period", type=int, default=None,
                        help="every n-th scene is intra coded, the others may be coded against the "
                             "previous scene; 1 = all intra (default 32)")
    parser.add_argument("--height", type=int, default=None, help=".dat plane height (default 250)")
    parser.add_argument("--width", type=int, default=None, help=".dat plane width (default 400)")


def run(args: argparse.Namespace) -> dict:
    from codec.pipeline import EncoderConfig, encode_file
    from codec.pipeline.config import DEFAULT_INTRA_PERIOD

    intra_period = DEFAULT_INTRA_PERIOD if args.intra_period is None else args.intra_period
    config = EncoderConfig(quality=args.quality, window=args.window, offset=args.offset,
                           recon=args.recon, attention=args.attention, model=args.model,
                           intra_period=intra_period)
    return encode_file(args.input, args.output, config, height=args.height, width=args.width, progress=True)
