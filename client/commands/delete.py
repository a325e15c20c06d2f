"""``spikecodec delete ID --server HOST:PORT``: remove a stored stream."""

from __future__ import annotations

import argparse

HELP = "delete a stream a server stores"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_server_arguments

    parser.add_argument("stream_id", metavar="ID", help="the stored stream's id (spikecodec list shows them)")
    add_server_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from client.remote import connected, summary_dict

    with connected(args) as conn:
        deleted = conn.delete_stream(args.stream_id)
    return {"deleted": args.stream_id, **{k: v for k, v in summary_dict(deleted).items() if k != "id"}}
