"""``spikecodec stream SOURCE --server HOST:PORT``: live round trip through a server, with a report.

Spikes go to the server's Encode call chunk by chunk while the records it returns
feed its Decode call; the regenerated spikes come back live (optionally written
to ``-o``). The report: bits, bpsp, compression ratio vs raw, ISI PSNR, firing-rate
PSNRs, spike-count error, throughput and per-chunk latency; with ``--score-scenes``
also scene PSNR (against ground truth where the source knows it, and against the
reference reconstruction), for which the client decodes the scenes itself. Without
it the command is a thin client: it imports neither torch nor compressai.
"""

from __future__ import annotations

import argparse

HELP = "stream spikes through a server (live encode + decode) and report rate, fidelity, throughput, latency"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import (
        add_codec_arguments,
        add_exact_arguments,
        add_fr_window_argument,
        add_scene_arguments,
        add_server_arguments,
        add_source_arguments,
        suffixed,
    )

    parser.add_argument("source", help=".dat/.h5 recording, image folder, video file, davis:FOLDER or 'synthetic'")
    add_server_arguments(parser)
    parser.add_argument("-o", "--output", default=None, help="write the decoded spikes here (.h5 or .dat)")
    parser.add_argument("--report", default=None, metavar="R.json", help="also write the report as JSON here")
    parser.add_argument("--bitstream", default=None, metavar="OUT.spkc",
                        type=suffixed(".spkc", "this is the encoded .spkc bitstream"),
                        help="also keep the encoded stream here")
    parser.add_argument("--score-scenes", action="store_true",
                        help="also decode the scenes here and report their PSNR (needs the codec stack, "
                             "spikecodec[codec]; without it the client imports no torch)")
    codec = parser.add_argument_group("codec (default: the server's)")
    add_codec_arguments(codec, inherit=True)
    add_scene_arguments(codec, inherit=True)
    add_exact_arguments(codec, inherit=True)
    add_source_arguments(parser)
    add_fr_window_argument(parser)


def run(args: argparse.Namespace) -> dict:
    import json
    import sys
    from pathlib import Path

    from tqdm import tqdm

    from client.recorder import StreamRecorder
    from client.remote import connected, open_source, source_header
    from client.report import stream_report
    from client.streaming import round_trip

    with open_source(args) as source, connected(args) as conn:
        recorder = StreamRecorder(source, args.output)
        header = source_header(source, args)
        with recorder, tqdm(total=source.num_planes, unit="plane", file=sys.stderr, disable=None,
                            desc="round trip") as progress:

            def on_planes(first: int, planes) -> None:
                recorder.decoded(planes)
                progress.update(len(planes))

            trip = round_trip(conn, header, recorder.originals(), args.chunk_planes, on_planes)
        report = stream_report(source, recorder, trip, args.server, args.chunk_planes, args.fr_window,
                               score_scenes=args.score_scenes)
    if args.output:
        report["output"] = str(args.output)
    if args.bitstream:
        Path(args.bitstream).write_bytes(b"".join(trip.records))
        report["bitstream"] = str(args.bitstream)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2))
        report["report"] = str(args.report)
    return report
