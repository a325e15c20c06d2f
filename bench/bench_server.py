"""gRPC service speed over loopback at 250x400: live-Encode ingest, latency, and many clients.

A ``spikecodec serve`` process (its own interpreter, as deployed) on a free port;
spikes from the synthetic source, simulated before timing starts.

* **ingest**: one client streams ``--planes`` planes into a live ``Encode``;
  planes/s from its first chunk sent to the end record received, and the ratio
  to the camera's 20,000 planes/s.
* **latency** per scene record: on the server, from the arrival of the chunk
  that completed the scene to the record leaving (``server_latency_s``); at the
  client, from sending the chunk that holds the scene's centre plane to
  receiving its record (this includes waiting for the planes after the centre).
* **concurrency**: ``--clients`` clients at once, each uploads its own
  ``--planes`` planes then fetches them back; wall time, planes/s, and every
  stream checked bit for bit against an in-process ``Encoder``/``Decoder``
  (stored bytes by sha256, fetched planes exactly).

::

    python -m bench.bench_server [--planes 2000] [--clients 8] [--window 500] [--recon tfp] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

import grpc
import numpy as np

from client.local_server import LocalServer
from codec.options import ATTENTIONS, DEFAULT_ATTENTION, DEFAULT_QUALITY, DEFAULT_RECONSTRUCTION, RECONSTRUCTIONS
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from codec.simulate import SyntheticSource, simulate
from spikecodec_proto.v1 import service_pb2, service_pb2_grpc, spikes_pb2
from spikecodec_proto.wire import read_spikes, spike_messages, stream_header

HEIGHT, WIDTH = 250, 400
SENSOR = SensorParams()


def messages(planes: np.ndarray, options: spikes_pb2.CodecOptions, chunk_planes: int, sent: list[float] | None = None,
             num_planes: int = 0) -> Iterator[spikes_pb2.SpikeMessage]:
    """Header, chunks packed as they are sent (send times appended to ``sent``), end."""
    blocks = (planes[start : start + chunk_planes] for start in range(0, len(planes), chunk_planes))
    stamp = None if sent is None else (lambda chunk: sent.append(time.perf_counter()))
    header = stream_header(HEIGHT, WIDTH, SENSOR, options, num_planes=num_planes)
    return spike_messages(header, blocks, chunk_planes, stamp)


def ingest(stub: service_pb2_grpc.SpikeCodecStub, planes: np.ndarray, options: spikes_pb2.CodecOptions,
           chunk_planes: int) -> dict:
    """One live Encode: throughput and per-scene latencies."""
    sent: list[float] = []
    received = []
    start = time.perf_counter()
    for record in stub.Encode(messages(planes, options, chunk_planes, sent)):
        received.append((time.perf_counter(), record))
    seconds = received[-1][0] - start
    scenes = [(t, r) for t, r in received if r.kind == 2]
    client = [t - sent[min(r.centre // chunk_planes, len(sent) - 1)] for t, r in scenes]
    server = [r.server_latency_s for _, r in scenes]
    rate = len(planes) / seconds
    return {
        "planes": len(planes), "scenes": len(scenes), "seconds": round(seconds, 3),
        "planes_per_s": round(rate, 1), "realtime_ratio": round(rate / CAMERA_PLANE_RATE, 4),
        "bits": 8 * sum(len(r.data) for _, r in received),
        "server_latency_s": _spread(server), "client_latency_from_centre_s": _spread(client),
    }


def reference(planes: np.ndarray, config: EncoderConfig) -> tuple[str, np.ndarray]:
    """sha256 of the ``.spkc`` stream and the decoded planes, in-process."""
    encoder = Encoder(config, HEIGHT, WIDTH, SENSOR, num_planes=len(planes))
    records = [encoder.header_record(), *encoder.push(planes), *encoder.finish()]
    decoder = Decoder()
    decoded = np.concatenate([decoder.push(r) for r in records])
    decoder.finish()
    return hashlib.sha256(b"".join(records)).hexdigest(), decoded


def concurrency(stub: service_pb2_grpc.SpikeCodecStub, streams: list[np.ndarray], options: spikes_pb2.CodecOptions,
                chunk_planes: int) -> tuple[dict, list[tuple[str, np.ndarray]]]:
    """Every client uploads then fetches its stream, all at once."""

    def client(planes: np.ndarray) -> tuple[str, np.ndarray, float, float]:
        tic = time.perf_counter()
        summary = stub.Upload(messages(planes, options, chunk_planes, num_planes=len(planes))).stream
        uploaded = time.perf_counter() - tic
        fetch = stub.Fetch(service_pb2.FetchRequest(id=summary.id))
        fetched = np.concatenate([planes for _, planes in read_spikes(fetch)])
        return summary.sha256, fetched, uploaded, time.perf_counter() - tic

    start = time.perf_counter()
    with ThreadPoolExecutor(len(streams)) as pool:
        results = list(pool.map(client, streams))
    wall = time.perf_counter() - start
    planes = sum(len(s) for s in streams)
    return {
        "clients": len(streams), "planes_each": len(streams[0]), "wall_s": round(wall, 2),
        "planes_per_s": round(planes / wall, 1), "realtime_ratio": round(planes / wall / CAMERA_PLANE_RATE, 4),
        "upload_s": _spread([r[2] for r in results]), "round_trip_s": _spread([r[3] for r in results]),
    }, [(r[0], r[1]) for r in results]


def _spread(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 4), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 4),
            "max": round(ordered[-1], 4), "n": len(ordered)}


def client_streams(num_streams: int, num_planes: int) -> list[np.ndarray]:
    """``num_streams`` (at most 8) distinct ``(num_planes, 250, 400)`` streams: views of one
    synthetic simulation, mirrored in x, y and time (simulating each would dominate the run)."""
    if not 1 <= num_streams <= 8:
        raise ValueError(f"1 to 8 streams, got {num_streams}")
    base = np.concatenate(list(simulate(SyntheticSource(HEIGHT, WIDTH, seed=0), num_planes, SENSOR)))
    flips = [(t, y, x) for t in (1, -1) for y in (1, -1) for x in (1, -1)]
    return [base[::t, ::y, ::x] for t, y, x in flips[:num_streams]]


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_server", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=2000, help="planes per stream (default 2000)")
    parser.add_argument("--clients", type=int, default=8, choices=range(9), metavar="0..8",
                        help="concurrent clients (default 8; 0 skips)")
    parser.add_argument("--quality", type=float, default=DEFAULT_QUALITY)
    parser.add_argument("--window", type=int, default=500, help="K (default 500: the cheapest real config)")
    parser.add_argument("--recon", default=DEFAULT_RECONSTRUCTION, choices=RECONSTRUCTIONS)
    parser.add_argument("--attention", default=DEFAULT_ATTENTION, choices=ATTENTIONS)
    parser.add_argument("--chunk-planes", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    config = EncoderConfig(quality=args.quality, window=args.window, recon=args.recon, attention=args.attention)
    options = spikes_pb2.CodecOptions(quality=args.quality, window=args.window, recon=args.recon,
                                      attention=args.attention)
    streams = client_streams(max(args.clients, 1), args.planes)
    base = streams[0]
    result: dict = {"height": HEIGHT, "width": WIDTH, "window": args.window, "recon": args.recon,
                    "quality": args.quality, "attention": args.attention, "chunk_planes": args.chunk_planes}
    slots = str(max(args.clients, 1))
    with tempfile.TemporaryDirectory() as store, LocalServer(store, "--max-streams", slots) as server:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(
            f"127.0.0.1:{server.port}", options=[("grpc.max_receive_message_length", 4 << 20)]))
        ingest(stub, base[: 4 * args.window], options, args.chunk_planes)  # warm-up
        result["ingest"] = ingest(stub, base, options, args.chunk_planes)
        if args.clients:
            result["concurrency"], got = concurrency(stub, streams[: args.clients], options, args.chunk_planes)
            with ThreadPoolExecutor(len(streams)) as pool:
                refs = list(pool.map(lambda planes: reference(planes, config), streams))
            exact = [sha == ref_sha and np.array_equal(decoded, ref)
                     for (sha, decoded), (ref_sha, ref) in zip(got, refs)]
            result["concurrency"]["bit_exact"] = f"{sum(exact)}/{len(exact)}"
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        r = result["ingest"]
        print(f"server {HEIGHT}x{WIDTH}, K={args.window}, {args.recon}/{args.attention}, q={args.quality:g}, "
              f"{args.chunk_planes} planes/chunk")
        print(f"  ingest (live Encode, 1 client): {r['planes_per_s']:.1f} planes/s = {r['realtime_ratio']:.4f}x of "
              f"{CAMERA_PLANE_RATE:,.0f} planes/s")
        print(f"  latency per scene: server {r['server_latency_s']}, "
              f"client from centre {r['client_latency_from_centre_s']}")
        if args.clients:
            c = result["concurrency"]
            print(f"  {c['clients']} clients x {c['planes_each']} planes (upload + fetch): wall {c['wall_s']} s, "
                  f"{c['planes_per_s']:.1f} planes/s, bit-exact {c['bit_exact']}")
    return result


if __name__ == "__main__":
    main()
