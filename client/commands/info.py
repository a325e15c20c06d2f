"""``spikecodec info FILE``: format, plane count, size and mean firing rate of a spike file."""

from __future__ import annotations

import argparse

HELP = "show format, T, H, W and mean firing rate of a spike file (.dat or .h5)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments

    parser.add_argument("file", help="spike file: PKU .dat, or .h5/.hdf5")
    add_file_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    import os

    from codec.io import count_spikes, open_spikes

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
