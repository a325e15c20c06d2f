"""``spikecodec info FILE``: format, plane count, size and mean firing rate of a spike file;
``spikecodec info ID --server HOST:PORT``: the summary of a stream the server stores."""

from __future__ import annotations

import argparse

HELP = "show format, T, H, W and mean firing rate of a spike file (.dat or .h5), or with --server a stored stream"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments, add_server_arguments

    parser.add_argument("file", metavar="FILE|ID", help="spike file: PKU .dat, or .h5/.hdf5; with --server: a stored "
                                                        "stream's id")
    add_file_arguments(parser)
    add_server_arguments(parser.add_argument_group("stored streams"), required=False,
                         server_help="show the stream ID stored on this server instead of a file")


def run(args: argparse.Namespace) -> dict:
    if args.server is not None:
        from client.remote import connected, summary_dict

        with connected(args) as conn:
            return summary_dict(conn.get_stream(args.file))
    return _file_info(args)


def _file_info(args: argparse.Namespace) -> dict:
    import os
    import re
    from pathlib import Path

    from codec.io import count_spikes, open_spikes

    if not Path(args.file).exists() and re.fullmatch(r"[0-9a-f]{32}", args.file):
        raise FileNotFoundError(2, "No such file (a stored stream's id? add --server HOST:PORT)", args.file)
    with open_spikes(args.file, args.height, args.width, args.dataset) as reader:
        spikes = sum(count_spikes(block) for block in reader.iter_packed_blocks())
        pixels = reader.num_planes * reader.height * reader.width
        result = {
            "file": str(args.file),
            "format": reader.format_name,
            "planes": reader.num_planes,
            "height": reader.height,
            "width": reader.width,
            "spikes": spikes,
            "mean_rate": spikes / pixels if pixels else 0.0,
            "plane_rate_hz": reader.sensor.plane_rate,
            "duration_s": reader.num_planes / reader.sensor.plane_rate,
            "bytes": os.path.getsize(args.file),
            "sensor": reader.sensor.to_dict(),
        }
        if hasattr(reader, "ground_truth_planes"):  # the spikecodec HDF5 schema
            result["ground_truth_planes"] = reader.ground_truth_planes()
            result["simulation"] = reader.simulation()
    return result
