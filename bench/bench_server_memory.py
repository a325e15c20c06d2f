"""Server memory: resident set of a ``spikecodec serve`` process idle and under concurrent live round trips.

The server runs as deployed (its own interpreter, models loaded at start-up). After
one warm-up round trip its resident set (``VmRSS``) is the idle figure; then
``--clients`` clients each stream ``--planes`` planes of 250x400 through ``Encode``
and the records straight back through ``Decode`` (``client.streaming.round_trip``),
all at once; the peak is the process's high-water mark (``VmHWM``) afterwards.
``--window-sweep`` repeats one round trip at each window to show what one stream adds.

``--server-pythonpath DIR`` runs the server from another source tree (for example a
``git archive`` of an older commit) to compare versions with the same client::

    python -m bench.bench_server_memory [--planes 1000] [--clients 8] [--window 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from bench.bench_server import HEIGHT, SENSOR, WIDTH, client_streams
from client.connection import Connection
from client.local_server import LocalServer
from client.streaming import round_trip
from spikecodec_proto.v1 import spikes_pb2
from spikecodec_proto.wire import stream_header


def memory_mb(pid: int) -> dict[str, float]:
    """``VmRSS`` (now) and ``VmHWM`` (peak so far) of process ``pid``, MB (10^6 bytes)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: round(int(fields[key].split()[0]) * 1024 / 1e6, 1) for key in ("VmRSS", "VmHWM")}


def run_round_trips(port: int, streams: list, options: spikes_pb2.CodecOptions, chunk_planes: int) -> float:
    """All ``streams`` through live round trips at once; returns the wall time, seconds."""

    def one(planes) -> int:
        with Connection(f"127.0.0.1:{port}") as conn:
            header = stream_header(HEIGHT, WIDTH, SENSOR, options)
            blocks = (planes[i : i + chunk_planes] for i in range(0, len(planes), chunk_planes))
            return round_trip(conn, header, blocks, chunk_planes).decoded_planes

    tic = time.perf_counter()
    with ThreadPoolExecutor(len(streams)) as pool:
        decoded = list(pool.map(one, streams))
    assert decoded == [len(s) for s in streams], decoded
    return time.perf_counter() - tic


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_server_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=1000, help="planes per client (default 1000)")
    parser.add_argument("--clients", type=int, default=8, choices=range(1, 9), metavar="1..8",
                        help="concurrent round trips (default 8)")
    parser.add_argument("--window", type=int, default=500, help="K (default 500)")
    parser.add_argument("--window-sweep", default="", help="comma-separated windows for one round trip each")
    parser.add_argument("--chunk-planes", type=int, default=32)
    parser.add_argument("--server-pythonpath", default="", help="run the server from this source tree")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    options = spikes_pb2.CodecOptions(quality=3, window=args.window, recon="tfp")
    streams = client_streams(args.clients, args.planes)
    env = dict(os.environ, PYTHONPATH=args.server_pythonpath) if args.server_pythonpath else None
    result: dict = {"height": HEIGHT, "width": WIDTH, "window": args.window, "planes": args.planes,
                    "clients": args.clients, "server": args.server_pythonpath or "this tree"}
    with tempfile.TemporaryDirectory() as store, LocalServer(store, "--max-streams", str(2 * args.clients),
                                                             env=env) as server:
        port, pid = server.port, server.proc.pid
        run_round_trips(port, streams[:1], options, args.chunk_planes)  # warm-up
        result["idle_mb"] = memory_mb(pid)["VmRSS"]
        result["round_trips_s"] = round(run_round_trips(port, streams, options, args.chunk_planes), 1)
        result["peak_mb"] = memory_mb(pid)["VmHWM"]
        result["after_mb"] = memory_mb(pid)["VmRSS"]
        sweep = []
        for window in [int(w) for w in args.window_sweep.split(",") if w]:
            wide = spikes_pb2.CodecOptions(quality=3, window=window, recon="tfp")
            run_round_trips(port, streams[:1], wide, args.chunk_planes)
            sweep.append({"window": window, "peak_mb": memory_mb(pid)["VmHWM"]})
        if sweep:
            result["window_sweep"] = sweep
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"server {HEIGHT}x{WIDTH}, K={args.window}, TFP, q=3 ({result['server']})")
        print(f"  resident memory idle (after one warm-up round trip): {result['idle_mb']:.0f} MB")
        print(f"  {args.clients} concurrent live round trips x {args.planes} planes ({result['round_trips_s']} s): "
              f"peak {result['peak_mb']:.0f} MB, {result['peak_mb'] - result['idle_mb']:.0f} MB over idle; "
              f"{result['after_mb']:.0f} MB after")
        for row in result.get("window_sweep", []):
            print(f"  one round trip at K={row['window']}: peak so far {row['peak_mb']:.0f} MB")
    return result


if __name__ == "__main__":
    main()
