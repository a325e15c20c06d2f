"""8 concurrent clients, each uploading then fetching 2,000 planes of 250x400 through an
in-process server: all complete, all bit-exact with the in-process pipeline.

A cheap but complete configuration (TFP reconstruction, K=1000: two scenes per
stream, so regeneration still interpolates between centres) keeps it near a
minute on 2 cores; ``python -m bench.bench_server`` runs the same load (K=500 by
default) against a ``spikecodec serve`` process and reports the rates.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from bench.bench_server import HEIGHT, WIDTH, client_streams, concurrency, reference
from codec.pipeline import EncoderConfig
from server.app import Server
from server.config import ServerConfig
from spikecodec_proto.v1 import service_pb2_grpc, spikes_pb2

pytestmark = pytest.mark.slow

CLIENTS, PLANES = 8, 2000
CONFIG = EncoderConfig(quality=3, window=1000, recon="tfp")


def test_eight_clients_of_2000_planes_are_all_bit_exact(tmp_path) -> None:
    streams = client_streams(CLIENTS, PLANES)
    options = spikes_pb2.CodecOptions(quality=CONFIG.quality, window=CONFIG.window, recon=CONFIG.recon)
    with Server(ServerConfig(host="127.0.0.1", port=0, store=tmp_path, max_streams=CLIENTS, grace_s=0)) as server:
        stub = service_pb2_grpc.SpikeCodecStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        tic = time.perf_counter()
        stats, results = concurrency(stub, streams, options, chunk_planes=32)
        wall = time.perf_counter() - tic
        assert server.store.count() == CLIENTS
    print(f"\n{CLIENTS} clients x {PLANES} planes {HEIGHT}x{WIDTH}: wall {wall:.1f} s, "
          f"{stats['planes_per_s']:.0f} planes/s")
    with ThreadPoolExecutor(CLIENTS) as pool:
        references = list(pool.map(lambda planes: reference(planes, CONFIG), streams))
    for (sha, fetched), (ref_sha, decoded) in zip(results, references):
        assert sha == ref_sha
        np.testing.assert_array_equal(fetched, decoded)
