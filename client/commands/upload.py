"""``spikecodec upload SOURCE --server HOST:PORT``: the server encodes a spike stream and stores it.

Prints the stored stream's id alone (``ID=$(spikecodec upload ...)``); ``--json`` prints
its whole summary. The server codes with the same defaults as ``spikecodec encode``, and
a stored stream's ``.spkc`` (``spikecodec fetch ID --bitstream``) is byte for byte what
``encode`` writes for the same input and flags.
"""

from __future__ import annotations

import argparse

HELP = "encode a spike stream on a server and store it there; prints the stored stream's id"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import (
        add_codec_arguments,
        add_exact_arguments,
        add_scene_arguments,
        add_server_arguments,
        add_source_arguments,
    )

    parser.add_argument("source", help=".dat/.h5 recording, image folder, video file, davis:FOLDER or 'synthetic'")
    add_server_arguments(parser)
    parser.add_argument("--name", default=None, help="label stored with the stream (default: the source's name)")
    codec = parser.add_argument_group("codec (default: the server's)")
    add_codec_arguments(codec, inherit=True)
    add_scene_arguments(codec, inherit=True)
    add_exact_arguments(codec, inherit=True)
    add_source_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    import sys

    from tqdm import tqdm

    from client.remote import connected, open_source, source_header, summary_dict
    from spikecodec_proto.wire import spike_messages

    with open_source(args) as source, connected(args) as conn:
        header = source_header(source, args, args.name)
        with tqdm(total=source.num_planes, unit="plane", file=sys.stderr, disable=None, desc="upload") as progress:
            response = conn.upload(spike_messages(header, source.blocks, args.chunk_planes,
                                                  lambda chunk: progress.update(chunk.num_planes)))
    return {**summary_dict(response.stream), "server": args.server, "upload_s": response.timings.total_s}


def text(result: dict) -> str:
    """The id alone, for ``ID=$(spikecodec upload ...)``."""
    return result["id"]
