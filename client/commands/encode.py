"""``spikecodec encode IN -o OUT.spkc``: compress a spike file into a ``.spkc`` bitstream."""

from __future__ import annotations

import argparse

HELP = "encode a spike file (.dat or .h5) into a .spkc bitstream"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import (
        add_codec_arguments,
        add_device_argument,
        add_exact_arguments,
        add_file_arguments,
        add_scene_arguments,
        add_worker_arguments,
        suffixed,
    )

    parser.add_argument("input", help="spike file: PKU .dat or .h5")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.spkc",
                        type=suffixed(".spkc", "encode writes a .spkc bitstream (decode turns it into .h5 or .dat)"),
                        help="bitstream to write (.spkc)")
    add_codec_arguments(parser)
    add_scene_arguments(parser)
    add_exact_arguments(parser)
    add_file_arguments(parser)
    add_device_argument(parser, "the reconstruction network (--recon net), the spike attention and the scene "
                                "codec's analysis and synthesis transforms")
    add_worker_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from client.arguments import coding_device, worker_pool
    from codec.pipeline import EncoderConfig, encode_file

    device = coding_device(args)
    config = EncoderConfig(quality=args.quality, window=args.window, offset=args.offset,
                           recon=args.recon, attention=args.attention, model=args.model,
                           intra_period=args.intra_period, gop=args.gop, gop_size=args.gop_size,
                           exact=args.exact)
    with worker_pool(args) as pool:
        summary = encode_file(args.input, args.output, config, height=args.height, width=args.width, progress=True,
                              dataset=args.dataset, pool=pool, device=device)
        return {**summary, "workers": pool.workers if pool else 0}
