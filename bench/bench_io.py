"""Planes per second of spike I/O, bit packing and the camera simulator at 250x400.

Run ``python -m bench.bench_io [--planes N] [--repeats R]``. Each figure is the
best of R runs over N planes, in wall-clock planes/s and in planes per CPU
second of this process (the one-core figure when the machine is shared), with
the ratio to real time (the Vidar camera's 20,000 planes/s). Targets: I/O and
packing >= 5x real time, the simulator >= 1x. Files are in a temporary folder
(page cache warm: this measures the code, not the disk).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from codec.io import open_spikes, open_writer, pack_planes, unpack_planes
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from codec.simulate import SyntheticSource, simulate

HEIGHT, WIDTH = 250, 400
BLOCK = 256


def best_rates(run: Callable[[], int], repeats: int) -> tuple[float, float]:
    """Best (wall, cpu) planes/s of ``run`` (which returns the planes it handled)."""
    wall_rates, cpu_rates = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        planes = run()
        wall_rates.append(planes / (time.perf_counter() - wall))
        cpu_rates.append(planes / max(time.process_time() - cpu, 1e-9))
    return max(wall_rates), max(cpu_rates)


def measure(planes: int, repeats: int) -> list[dict]:
    """Run every measurement; one dict per figure."""
    rng = np.random.default_rng(0)
    blocks = [(rng.random((BLOCK, HEIGHT, WIDTH)) < 0.2).astype(np.uint8) for _ in range(planes // BLOCK)]
    packed = [pack_planes(b) for b in blocks]
    n = len(blocks) * BLOCK
    results = []

    def record(name: str, target: float, run: Callable[[], int]) -> None:
        wall, cpu = best_rates(run, repeats)
        results.append({
            "what": name, "planes_per_s": round(wall), "planes_per_cpu_s": round(cpu),
            "x_real_time": round(wall / CAMERA_PLANE_RATE, 2), "x_real_time_cpu": round(cpu / CAMERA_PLANE_RATE, 2),
            "target_x": target, "meets_target": bool(max(wall, cpu) / CAMERA_PLANE_RATE >= target),
        })  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        dat, h5 = Path(tmp) / "b.dat", Path(tmp) / "b.h5"
        for path in (dat, h5):
            with open_writer(path, HEIGHT, WIDTH) as writer:
                for p in packed:
                    writer.write_packed(p)

        def read(path: Path, unpack: bool) -> int:
            with open_spikes(path, HEIGHT, WIDTH) as reader:
                it = reader.iter_blocks(BLOCK) if unpack else reader.iter_packed_blocks(BLOCK)
                return sum(len(b) for b in it)

        record(".dat read + unpack", 5.0, lambda: read(dat, True))
        record(".dat read (packed)", 5.0, lambda: read(dat, False))
        record("HDF5 read (packed)", 5.0, lambda: read(h5, False))
        record("HDF5 read + unpack", 5.0, lambda: read(h5, True))
        record("pack", 5.0, lambda: sum(len(pack_planes(b)) for b in blocks))
        record("unpack", 5.0, lambda: sum(len(unpack_planes(p, HEIGHT, WIDTH)) for p in packed))

        def write(path: Path) -> int:
            with open_writer(path, HEIGHT, WIDTH) as writer:
                for b in blocks:
                    writer.write(b)
            return n

        record(".dat pack + write", 5.0, lambda: write(Path(tmp) / "w.dat"))
        record("HDF5 pack + write", 5.0, lambda: write(Path(tmp) / "w.h5"))

    source = SyntheticSource(HEIGHT, WIDTH, seed=0)
    source.frame(0)  # render the still outside the timing
    record("simulator (synthetic, subtract)", 1.0, lambda: sum(len(b) for b in simulate(source, n, SensorParams())))
    mod = SensorParams(reset_mechanism="mod", alpha=0.6)
    record("simulator (synthetic, mod, alpha 0.6)", 1.0, lambda: sum(len(b) for b in simulate(source, n, mod)))
    leaky = SensorParams(tau=200.0)
    record("simulator (leaky, stepwise path)", 1.0,
           lambda: sum(len(b) for b in simulate(source, n // 8, leaky)))  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_io", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=4096,
                        help=f"planes per run, a multiple of {BLOCK} (default 4096)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure, best kept (default 3)")
    args = parser.parse_args(argv)
    results = measure(max(args.planes, BLOCK), args.repeats)
    for row in results:
        print(json.dumps(row))
    print(f"{'what':40s} {'planes/s':>10s} {'/cpu-s':>10s} {'x real':>7s} {'x cpu':>7s} {'target':>7s}")
    for r in results:
        mark = "ok" if r["meets_target"] else "BELOW"
        print(f"{r['what']:40s} {r['planes_per_s']:10d} {r['planes_per_cpu_s']:10d} {r['x_real_time']:7.2f} "
              f"{r['x_real_time_cpu']:7.2f} {r['target_x']:6.1f}x {mark}")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
