"""Reconstruction, regeneration and stream-metric speed at 250x400.

Spikes come from the synthetic source (no shared data needed), simulated before
timing starts. Reconstruction times :class:`codec.reconstruct.SceneStream` fed in
256-plane blocks (TFP, TFI, net; scenes every ``K`` planes); regeneration times
:func:`codec.regenerate.regenerate` of the TFP scenes; the stream metrics time
:func:`codec.metrics.stream_fidelity` (ISI / firing-rate PSNR) of a ``--isi-planes``
stream read from ``.dat`` files, with its peak traced memory. Rates are compared
with the camera's 20,000 planes/s::

    python -m bench.bench_reconstruct [--planes 640] [--window 32] [--isi-planes 2000] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from codec.io import open_spikes, open_writer
from codec.metrics import stream_fidelity
from codec.options import DEFAULT_WINDOW, RECONSTRUCTIONS
from codec.reconstruct import SceneStream, get_reconstructor
from codec.regenerate import regenerate
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from codec.simulate import SyntheticSource, simulate

HEIGHT, WIDTH = 250, 400
BLOCK_PLANES = 256


def _rate(seconds: float, planes: int, scenes: int) -> dict:
    rate = planes / seconds
    return {"seconds": round(seconds, 3), "planes_per_s": round(rate, 1),
            "ms_per_scene": round(1000 * seconds / scenes, 2),
            "realtime_ratio": round(rate / CAMERA_PLANE_RATE, 4)}


def time_reconstruction(planes: np.ndarray, method: str, window: int) -> tuple[dict, list[tuple[int, np.ndarray]]]:
    """Reconstruct every scene of ``planes`` ``(T, H, W)``; returns rates and the scenes."""
    recon = get_reconstructor(method, window)
    recon.reconstruct(planes[:33], 16)  # warm-up (weights, kernels)
    tic = time.perf_counter()
    stream = SceneStream(recon, window)
    scenes = []
    for start in range(0, len(planes), BLOCK_PLANES):
        scenes += stream.push(planes[start : start + BLOCK_PLANES])
    scenes += stream.finish()
    return _rate(time.perf_counter() - tic, len(planes), len(scenes)), scenes


def time_regeneration(scenes: list[tuple[int, np.ndarray]], num_planes: int,
                      sensor: SensorParams) -> tuple[dict, np.ndarray]:
    tic = time.perf_counter()
    out = regenerate([s for _, s in scenes], [c for c, _ in scenes], num_planes, sensor)
    return _rate(time.perf_counter() - tic, num_planes, len(scenes)), out


def time_stream_metrics(num_planes: int, window: int, sensor: SensorParams) -> dict:
    """ISI / firing-rate PSNR of a simulated stream vs its TFP regeneration, both read from ``.dat``."""
    with tempfile.TemporaryDirectory() as tmp:
        orig_path, regen_path = Path(tmp) / "orig.dat", Path(tmp) / "regen.dat"
        recon = get_reconstructor("tfp", window)
        stream = SceneStream(recon, window)
        scenes = []
        with open_writer(orig_path, HEIGHT, WIDTH, sensor) as writer:
            for block in simulate(SyntheticSource(HEIGHT, WIDTH, seed=1), num_planes, sensor):
                writer.write(block)
                scenes += stream.push(block)
        scenes += stream.finish()
        with open_writer(regen_path, HEIGHT, WIDTH, sensor) as writer:
            writer.write(regenerate([s for _, s in scenes], [c for c, _ in scenes], num_planes, sensor))
        with open_spikes(orig_path) as orig, open_spikes(regen_path) as regen:
            tracemalloc.start()
            tic = time.perf_counter()
            fidelity = stream_fidelity(orig, regen, window=window)
            seconds = time.perf_counter() - tic
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return {"planes": num_planes, "seconds": round(seconds, 2), "planes_per_s": round(num_planes / seconds, 1),
            "peak_traced_mb": round(peak / 1e6, 1), "isi_psnr": round(fidelity.isi_psnr, 3),
            "fr_instant_psnr": round(fidelity.fr_instant_psnr, 3), "fr_window_psnr": round(fidelity.fr_window_psnr, 3)}


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_reconstruct", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=640, help="planes to reconstruct and regenerate (default 640)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help=f"K: planes between scene centres (default {DEFAULT_WINDOW})")
    parser.add_argument("--isi-planes", type=int, default=2000, help="stream length for the metric timing (0: skip)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    sensor = SensorParams()
    planes = np.concatenate(list(simulate(SyntheticSource(HEIGHT, WIDTH, seed=0), args.planes, sensor)))
    result: dict = {"height": HEIGHT, "width": WIDTH, "planes": args.planes, "window": args.window,
                    "torch_threads": torch.get_num_threads(), "load_average_1min": os.getloadavg()[0],
                    "reconstruct": {}}
    for method in RECONSTRUCTIONS:
        rates, scenes = time_reconstruction(planes, method, args.window)
        result["reconstruct"][method] = rates
        if method == "tfp":
            result["regenerate"], _ = time_regeneration(scenes, args.planes, sensor)
    if args.isi_planes:
        result["stream_metrics"] = time_stream_metrics(args.isi_planes, args.window, sensor)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"reconstruct/regenerate {HEIGHT}x{WIDTH}, {args.planes} planes, K={args.window}, "
              f"{result['torch_threads']} torch threads, load average {result['load_average_1min']:.1f} "
              f"on {os.cpu_count()} cores")
        for name, r in [*result["reconstruct"].items(), ("regenerate", result["regenerate"])]:
            print(f"  {name:>10}: {r['planes_per_s']:>10.1f} planes/s  {r['ms_per_scene']:>8.2f} ms/scene  "
                  f"{r['realtime_ratio']:.3f}x of {CAMERA_PLANE_RATE:,.0f} planes/s")
        if "stream_metrics" in result:
            m = result["stream_metrics"]
            print(f"  metrics: ISI/FR PSNR of {m['planes']} planes in {m['seconds']} s "
                  f"({m['planes_per_s']} planes/s), peak {m['peak_traced_mb']} MB traced")
    return result


if __name__ == "__main__":
    main()
