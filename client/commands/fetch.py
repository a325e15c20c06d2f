"""``spikecodec fetch ID --server HOST:PORT``: a stored stream, decoded (``-o``) or as stored (``--bitstream``).

``-o OUT.h5|.dat`` writes the spikes the server decodes from the stored stream;
``--bitstream OUT.spkc`` writes the stored ``.spkc`` file itself, byte for byte: the
server sends its size and sha256 first, and the file appears only if what arrived
matches both. Either file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import argparse

HELP = "download a stored stream: decoded spikes (-o OUT.h5|.dat) and/or its .spkc bitstream (--bitstream)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_server_arguments, suffixed

    parser.add_argument("stream_id", metavar="ID", help="the stored stream's id (spikecodec list shows them)")
    add_server_arguments(parser)
    parser.add_argument("-o", "--output", default=None, help="write the decoded spikes here (.h5 or .dat)")
    parser.add_argument("--bitstream", default=None, metavar="OUT.spkc",
                        type=suffixed(".spkc", "this is the stored .spkc bitstream"),
                        help="write the stored .spkc file here, checked against the server's size and sha256")
    parser.add_argument("--chunk-planes", type=int, default=0,
                        help="planes per decoded chunk the server sends (default: the server's)")


def run(args: argparse.Namespace) -> dict:
    import sys

    from tqdm import tqdm

    from client.remote import connected, summary_dict
    from codec.errors import SpikecodecError
    from codec.io import open_writer, spike_format
    from spikecodec_proto.wire import SpikeStreamReader

    if args.output is None and args.bitstream is None:
        raise SpikecodecError("nothing to fetch to: give -o DECODED.h5|.dat and/or --bitstream OUT.spkc")
    if args.output is not None:
        spike_format(args.output)  # refuse a wrong suffix before anything is downloaded
    result: dict = {}
    with connected(args) as conn:
        if args.bitstream is not None:
            info = conn.download_bitstream(args.stream_id, args.bitstream)
            result.update(summary_dict(info.stream), bitstream=str(args.bitstream), bitstream_bytes=info.size)
        if args.output is not None:
            reader = SpikeStreamReader(conn.fetch(args.stream_id, args.chunk_planes))
            h = reader.header
            with open_writer(args.output, h.height, h.width, h.sensor) as writer, \
                    tqdm(total=h.num_planes, unit="plane", file=sys.stderr, disable=None, desc="fetch") as progress:
                for chunk in reader.chunks():
                    writer.write_packed(chunk.packed)
                    progress.update(len(chunk.packed))
            if not result:
                result.update(summary_dict(conn.get_stream(args.stream_id)))
            result.update(output=str(args.output), decoded_planes=reader.num_planes)
    return result
