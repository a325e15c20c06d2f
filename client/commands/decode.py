"""``spikecodec decode IN.spkc -o OUT``: regenerate spikes from a ``.spkc`` bitstream."""

from __future__ import annotations

import argparse

HELP = "decode a .spkc bitstream into spikes (.dat or .h5), optionally saving the decoded scenes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_device_argument, add_worker_arguments

    parser.add_argument("input", help="bitstream (.spkc)")
    parser.add_argument("-o", "--output", required=True, help="spike file to write: .dat or .h5")
    parser.add_argument("--scenes", metavar="DIR", default=None,
                        help="also save the decoded 8-bit scenes as DIR/scene_<centre>.png (what regeneration used)")
    add_device_argument(parser, "the scene codec's synthesis transforms")
    add_worker_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from client.arguments import coding_device, worker_pool
    from codec.pipeline import decode_file

    device = coding_device(args)
    with worker_pool(args) as pool:
        summary = decode_file(args.input, args.output, scenes_dir=args.scenes, progress=True, pool=pool,
                              device=device)
        return {**summary, "workers": pool.workers if pool else 0}
