"""Speed of stream coding in each scene structure, against vvenc random access on the same scenes.

A 250x400 stream (the REDS recording ``reds_203_part2`` when the shared data is
beside the repo, else a simulated synthetic pan) is encoded and decoded by the
product's Encoder and Decoder at 2 torch threads in each GOP structure (intra,
low delay, random access), and its TFP scenes are coded by vvenc (preset medium,
random access, ``-qpa 0``) in the same run. Printed per structure: ms per scene
for encoding (reconstruction and temporal filter, scene coding) and decoding
(scene decoding, regeneration), bytes, and the speed-up of our encoding over
vvenc's (target: >= 10x). Run: ``python -m bench.bench_gop [--quality Q] [--planes N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from codec.options import GOP_STRUCTURES

SHARED_STREAM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "spikes" / "reds_203_part2.dat"


def test_planes(num_planes: int) -> tuple[np.ndarray, str]:
    """``(T, 250, 400)`` uint8 planes: the REDS recording if present, else a simulated pan."""
    if SHARED_STREAM.is_file():
        from codec.io import open_spikes

        with open_spikes(SHARED_STREAM) as reader:
            return reader.read(0, min(num_planes, reader.num_planes)), SHARED_STREAM.name
    from codec.sensor import SensorParams
    from codec.simulate import open_source, simulate

    source = open_source("synthetic", 250, 400, 20000.0, fps=500.0, seed=0)
    return np.concatenate(list(simulate(source, num_planes, SensorParams()))), "synthetic pan"


def code_stream(planes: np.ndarray, gop: str, quality: float) -> dict:
    """Encode and decode ``planes`` in structure ``gop``: ms per scene of each part."""
    from codec.pipeline import Decoder, Encoder, EncoderConfig

    _, height, width = planes.shape
    encoder = Encoder(EncoderConfig(quality=quality, gop=gop), height, width, num_planes=len(planes))
    records = [encoder.header_record(), *encoder.push(planes), *encoder.finish()]
    decoder = Decoder()
    for record in records:
        decoder.push(record)
    stats = decoder.finish()
    n = stats["scenes"]
    return {"gop": gop, "scenes": n, "bytes": stats["bytes"], "modes": encoder.predictor.modes,
            "encode_ms_per_scene": {k: round(1000 * v / n, 1) for k, v in encoder.timings.items() if k != "setup"},
            "decode_ms_per_scene": {k: round(1000 * v / n, 1) for k, v in decoder.timings.items() if k != "setup"}}


def vvenc_random_access(planes: np.ndarray, qp: int, threads: int) -> dict:
    """vvenc medium random access on the TFP scenes of ``planes``: ms per scene."""
    from bench.bench_anchors import measure
    from codec.reconstruct import get_reconstructor
    from codec.reconstruct.stream import SceneStream

    stream = SceneStream(get_reconstructor("tfp", 32), 32)
    scenes = [s for _, s in stream.push(planes)] + [s for _, s in stream.finish()]
    return measure("vvc-ra", "medium", np.stack(scenes), qp, threads)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_gop", description=__doc__.splitlines()[0])
    parser.add_argument("--quality", type=float, default=3.0)
    parser.add_argument("--planes", type=int, default=301)
    parser.add_argument("--qp", type=int, default=32, help="vvenc QP")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    planes, source = test_planes(args.planes)
    runs = [code_stream(planes, gop, args.quality) for gop in GOP_STRUCTURES]
    vvenc = vvenc_random_access(planes, args.qp, args.threads)
    for run in runs:
        run["encode_speedup_vs_vvenc_ra"] = round(vvenc["encode_ms_per_scene"]
                                                  / sum(run["encode_ms_per_scene"].values()), 1)
    result = {"bench": "gop", "source": source, "planes": len(planes), "threads": args.threads,
              "load_average": os.getloadavg()[0], "runs": runs, "vvenc_random_access": vvenc}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
