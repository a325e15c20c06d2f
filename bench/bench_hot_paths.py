"""Hot paths at camera speed on one core: before (numpy reference) and after (numba), 250x400.

For each hot path of issue 19, planes per second and the ratio to real time (the Vidar
camera's 20,000 planes/s), best of ``--repeats`` runs, with one torch and one numba
thread. Figures are wall-clock and per CPU second of this process (the one-core figure
when the machine is shared); a target counts as met when either reaches it. "Before" is
the numpy implementation kept in :mod:`bench.reference` and :mod:`codec.simulate.numpy_neuron`
(the thin client's simulator), "after" the shipped code with numba loaded::

    python -m bench.bench_hot_paths [--planes 2048] [--repeats 3] [--json]

- simulator: :func:`codec.simulate.simulate` of the synthetic source (its keyframes, one
  every 200 planes, rendered inside the timing), default sensor and with a 200-plane leak;
- regeneration: :class:`codec.regenerate.Regenerator` fed TFP scenes every 32 planes, as the
  decoder feeds it;
- TFP / TFI windows: scenes every 32 planes, before from unpacked planes (unpacking
  included), after from the packed planes;
- ``.dat`` read + unpack: :meth:`DatReader.iter_blocks` of a file in the page cache.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numba
import numpy as np
import torch

from bench.bench_io import best_rates
from bench.reference import flip_packed
from bench.reference import unpack_planes as reference_unpack
from codec.io import open_spikes, open_writer, pack_planes
from codec.io.packing import unpack_planes
from codec.reconstruct import SceneStream
from codec.reconstruct.tfi import TFI
from codec.reconstruct.tfp import TFP
from codec.regenerate import Regenerator
from codec.sensor import CAMERA_PLANE_RATE, SensorParams
from codec.simulate import SyntheticSource, simulate
from codec.simulate.numpy_neuron import NumpySensor

HEIGHT, WIDTH = 250, 400
WINDOW = 32
BLOCK = 256


def _simulated(planes: int) -> np.ndarray:
    return np.concatenate(list(simulate(SyntheticSource(HEIGHT, WIDTH, seed=0), planes, SensorParams())))


def _scenes(reconstruct: Callable[[np.ndarray, int], np.ndarray], blocks: Sequence[np.ndarray]) -> int:
    """Every scene of ``blocks`` (``WINDOW`` planes each, centre in the middle); returns planes."""
    for block in blocks:
        reconstruct(block, WINDOW // 2)
    return WINDOW * len(blocks)


def measure(planes: int, repeats: int) -> list[dict]:
    """One dict per hot path: before/after planes/s and x real time."""
    planes = max(planes // BLOCK, 1) * BLOCK
    spikes = _simulated(planes)
    packed = pack_planes(spikes)
    scenes = [TFP(WINDOW).reconstruct(spikes[c - WINDOW // 2 : c + WINDOW // 2], WINDOW // 2)
              for c in range(WINDOW // 2, planes, WINDOW)]
    centres = list(range(WINDOW // 2, planes, WINDOW))
    windows = [packed[a : a + WINDOW] for a in range(0, planes - WINDOW + 1, WINDOW)]
    leaky = SensorParams(tau=200.0)
    rows = []

    def row(name: str, target: float, before: Callable[[], int], after: Callable[[], int]) -> None:
        figures: dict = {"what": name, "target_x": target}
        for label, run in (("before", before), ("after", after)):
            wall, cpu = best_rates(run, repeats if label == "after" else max(1, repeats - 1))
            figures[label] = {"planes_per_s": round(wall), "planes_per_cpu_s": round(cpu),
                              "x_real_time": round(wall / CAMERA_PLANE_RATE, 2),
                              "x_real_time_cpu": round(cpu / CAMERA_PLANE_RATE, 2)}  # fmt: skip
        after_x = max(figures["after"]["x_real_time"], figures["after"]["x_real_time_cpu"])
        figures["speedup_cpu"] = round(figures["after"]["planes_per_cpu_s"] / figures["before"]["planes_per_cpu_s"], 1)
        figures["meets_target"] = bool(after_x >= target)
        rows.append(figures)

    def simulated(sensor: SensorParams, n: int) -> Callable[[], int]:
        """Simulate ``n`` planes; each run gets a source of its own, so keyframes render inside the timing."""
        sources = [SyntheticSource(HEIGHT, WIDTH, seed=0) for _ in range(repeats)]
        return lambda: sum(len(b) for b in simulate(sources.pop(), n, sensor))

    # the reference simulators run on fewer planes: they are that much slower
    row("simulator (synthetic, subtract)", 1.0, simulated(NumpySensor(), planes // 2),
        simulated(SensorParams(), planes))
    row("simulator (synthetic, leak tau 200)", 0.5, simulated(NumpySensor(**leaky.to_dict()), planes // 4),
        simulated(leaky, planes))
    def regenerated(sensor: SensorParams) -> Callable[[], int]:
        """Scene by scene, as the decoder regenerates (each block of planes handed on, not kept)."""
        def run() -> int:
            regen = Regenerator(HEIGHT, WIDTH, sensor)
            done = sum(len(regen.push(c, s)) for c, s in zip(centres, scenes))
            return done + len(regen.finish(planes))
        return run

    row("regeneration (K=32, subtract)", 1.0, regenerated(NumpySensor()), regenerated(SensorParams()))
    for recon in (TFP(WINDOW), TFI(WINDOW)):
        def from_unpacked(recon: TFP | TFI = recon) -> int:
            return _scenes(lambda w, c: recon.reconstruct(reference_unpack(w, HEIGHT, WIDTH), c), windows)

        def from_packed(recon: TFP | TFI = recon) -> int:
            return _scenes(lambda w, c: recon.reconstruct_packed(w, c, HEIGHT, WIDTH), windows)

        row(f"{recon.name.upper()} windows (K=32) from packed planes", 5.0, from_unpacked, from_packed)
    with tempfile.TemporaryDirectory() as tmp:
        dat = Path(tmp) / "bench.dat"
        with open_writer(dat, HEIGHT, WIDTH) as writer:
            writer.write_packed(packed)

        def read_before() -> int:
            raw = np.fromfile(dat, dtype=np.uint8).reshape(planes, -1)  # the reader read blocks; same bytes
            return sum(len(reference_unpack(flip_packed(raw[a : a + BLOCK], HEIGHT, WIDTH), HEIGHT, WIDTH))
                       for a in range(0, planes, BLOCK))

        def read_after() -> int:
            with open_spikes(dat, HEIGHT, WIDTH) as reader:
                return sum(len(b) for b in reader.iter_blocks(BLOCK))

        row(".dat read + unpack", 5.0, read_before, read_after)
    return rows


def stream_check() -> None:
    """The packed scene stream gives the unpacked one's scenes (guards the figures above)."""
    spikes = _simulated(WINDOW * 4)
    a, b = SceneStream(TFI(WINDOW), WINDOW), SceneStream(TFI(WINDOW), WINDOW, packed=(HEIGHT, WIDTH))
    for (_, x), (_, y) in zip(a.push(spikes) + a.finish(), b.push(pack_planes(spikes)) + b.finish()):
        assert np.array_equal(x, y)
    assert np.array_equal(unpack_planes(pack_planes(spikes), HEIGHT, WIDTH), spikes)


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_hot_paths", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=2048, help=f"planes per run, rounded to a multiple of {BLOCK}")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure, best kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    tic = time.perf_counter()
    stream_check()  # also compiles (or loads) every kernel outside the timings
    warm = time.perf_counter() - tic
    rows = measure(args.planes, args.repeats)
    if args.json:
        print(json.dumps({"rows": rows, "warm_up_s": round(warm, 2)}, indent=2))
        return rows
    print(f"hot paths at {HEIGHT}x{WIDTH}, one core (torch {torch.get_num_threads()} thread, numba "
          f"{numba.get_num_threads()}); real time = {CAMERA_PLANE_RATE:,.0f} planes/s; warm-up {warm:.1f} s")
    print(f"{'what':42s} {'before/cpu-s':>12s} {'x':>6s} {'after/cpu-s':>12s} {'x':>6s} {'after/s':>9s} {'x':>6s} "
          f"{'speedup':>7s} {'target':>7s}")
    for r in rows:
        b, a = r["before"], r["after"]
        print(f"{r['what']:42s} {b['planes_per_cpu_s']:12d} {b['x_real_time_cpu']:6.2f} {a['planes_per_cpu_s']:12d} "
              f"{a['x_real_time_cpu']:6.2f} {a['planes_per_s']:9d} {a['x_real_time']:6.2f} {r['speedup_cpu']:6.1f}x "
              f"{r['target_x']:5.1f}x {'ok' if r['meets_target'] else 'BELOW'}")  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
