"""End-to-end pipeline speed: encode and decode planes/s and ms per scene at 250x400.

Spikes come from the synthetic source (no shared data needed) and are
simulated before timing starts. Encoding times ``Encoder`` (header, ``push`` in
256-plane blocks, ``finish``); decoding times ``Decoder`` fed record by record,
regeneration included. Both are compared with the camera's 20,000 planes/s::

    python -m bench.bench_pipeline [--planes 640] [--quality 3] [--recon tfp] [--attention none] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

import numpy as np

from codec import options
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from codec.simulate import SyntheticSource, simulate

HEIGHT, WIDTH = 250, 400
BLOCK_PLANES = 256


def measure(planes: np.ndarray, config: EncoderConfig, sensor: SensorParams) -> dict:
    """Encode then decode ``planes`` ``(T, H, W)``; returns sizes, timings and rates."""
    num_planes, height, width = planes.shape
    encoder = Encoder(config, height, width, sensor)  # model loading shows as the "setup" stage
    tic = time.perf_counter()
    records = [encoder.header_record()]
    for start in range(0, num_planes, BLOCK_PLANES):
        records += encoder.push(planes[start : start + BLOCK_PLANES])
    records += encoder.finish()
    encode = time.perf_counter() - tic

    decoder = Decoder()
    decoder.push(records[0])  # loads the scene codec ("setup"), outside the timed steady state
    tic = time.perf_counter()
    decoded = sum(len(decoder.push(record)) for record in records[1:])
    decoder.finish()
    decode = time.perf_counter() - tic

    scenes = encoder.num_scenes
    bits = 8 * sum(map(len, records))
    return {
        "planes": num_planes, "height": height, "width": width, "scenes": scenes,
        "quality": config.quality, "window": config.window, "recon": config.recon, "attention": config.attention,
        "bits": bits, "bpsp": bits / (num_planes * height * width),
        "encode": _rates(encode, num_planes, scenes, encoder.timings),
        "decode": _rates(decode, decoded, scenes, decoder.timings),
    }


def _rates(seconds: float, planes: int, scenes: int, stages: dict[str, float]) -> dict:
    rate = planes / seconds
    return {
        "seconds": round(seconds, 3),
        "planes_per_s": round(rate, 1),
        "ms_per_scene": round(1000 * seconds / scenes, 2),
        "realtime_ratio": round(rate / CAMERA_PLANE_RATE, 4),
        "stages_s": {name: round(value, 3) for name, value in stages.items()},
    }


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=640, help="planes to encode (default 640)")
    parser.add_argument("--quality", type=float, default=options.DEFAULT_QUALITY)
    parser.add_argument("--window", type=int, default=options.DEFAULT_WINDOW)
    parser.add_argument("--recon", default=options.DEFAULT_RECONSTRUCTION, choices=options.RECONSTRUCTIONS)
    parser.add_argument("--attention", default=options.DEFAULT_ATTENTION, choices=options.ATTENTIONS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    sensor = SensorParams()
    source = SyntheticSource(HEIGHT, WIDTH, seed=0)
    planes = np.concatenate(list(simulate(source, args.planes, sensor)))
    config = EncoderConfig(quality=args.quality, window=args.window, recon=args.recon, attention=args.attention)
    result = measure(planes, config, sensor)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"pipeline {HEIGHT}x{WIDTH}, {result['planes']} planes, {result['scenes']} scenes, "
              f"K={config.window}, q={config.quality:g}, {config.recon}/{config.attention}, "
              f"bpsp {result['bpsp']:.4f}")
        for name in ("encode", "decode"):
            r = result[name]
            print(f"  {name}: {r['planes_per_s']:>9.1f} planes/s  {r['ms_per_scene']:>8.2f} ms/scene  "
                  f"{r['realtime_ratio']:.3f}x of {CAMERA_PLANE_RATE:,.0f} planes/s  stages {r['stages_s']}")
    return result


if __name__ == "__main__":
    main()
