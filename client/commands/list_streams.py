"""``spikecodec list --server HOST:PORT``: the streams a server stores, newest first."""

from __future__ import annotations

import argparse

HELP = "list the streams a server stores, newest first"

#: text columns: heading, result key
COLUMNS = (("ID", "id"), ("CREATED (UTC)", "created"), ("PLANES", "planes"), ("SIZE", "size"),
           ("BYTES", "bytes"), ("BPSP", "bpsp"), ("NAME", "name"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_server_arguments

    add_server_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from client.remote import connected, summary_dict

    with connected(args) as conn:
        streams = [summary_dict(s) for s in conn.list_streams()]
    return {"server": args.server, "streams": streams}


def text(result: dict) -> str:
    """One row per stream under a heading; a sentence when there is none."""
    if not result["streams"]:
        return f"no streams stored on {result['server']}"
    rows = [[heading for heading, _ in COLUMNS]]
    for stream in result["streams"]:
        cells = dict(stream, size=f"{stream['height']}x{stream['width']}", bpsp=f"{stream['bpsp']:.4g}")
        rows.append([str(cells[key]) for _, key in COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
