"""``spikecodec demo``: an end-to-end run on built-in data, printed as a report.

The demo is a sequence of steps sharing one context dict; each step adds its
figures to the report. Extend it by appending a step to ``STEPS``::

    simulate  synthetic scene -> spikes.h5 (with ground truth)
    dat       spikes.h5 -> spikes.dat (PKU layout)
    readback  read both files back block by block, check they hold the same planes
    stream    a ``spikecodec serve`` process on loopback; synthetic spikes streamed through it live; the report
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

HELP = "run the end-to-end demo on a built-in synthetic scene and print a report"

Context = dict[str, Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--planes", type=int, default=2000, help="planes to simulate (default 2000)")
    parser.add_argument("--height", type=int, default=250, help="plane height (default 250)")
    parser.add_argument("--width", type=int, default=400, help="plane width (default 400)")
    parser.add_argument("--workdir", default=None, help="keep the demo files here (default: a temporary folder)")


def _timed(step: Callable[[Context], dict]) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        started = time.perf_counter()
        figures = step(ctx)
        figures["seconds"] = round(time.perf_counter() - started, 3)
        return figures

    run.__name__ = step.__name__
    return run


@_timed
def step_simulate(ctx: Context) -> dict:
    """Simulate the camera on the synthetic scene into an HDF5 file."""
    from codec.io import count_spikes, open_writer, pack_planes
    from codec.sensor import SensorParams
    from codec.simulate import SyntheticSource, simulate

    args, h5 = ctx["args"], ctx["dir"] / "spikes.h5"
    sensor = SensorParams()
    source = SyntheticSource(args.height, args.width, seed=0)
    gt_plane = args.planes // 2
    spikes = 0
    with open_writer(h5, args.height, args.width, sensor) as writer:
        started = time.perf_counter()
        for block in simulate(source, args.planes, sensor):
            packed = pack_planes(block)
            writer.write_packed(packed)
            spikes += count_spikes(packed)
        loop = time.perf_counter() - started
        writer.write_ground_truth(gt_plane, source.scene_at(gt_plane))
    ctx.update(h5=h5, source=source, sensor=sensor, spikes=spikes)
    pixels = args.planes * args.height * args.width
    planes_per_s = args.planes / loop
    return {"planes": args.planes, "size": f"{args.height}x{args.width}", "mean_rate": round(spikes / pixels, 4),
            "ground_truth_plane": gt_plane, "h5_bytes": h5.stat().st_size,
            "planes_per_s": round(planes_per_s), "x_real_time": round(planes_per_s / sensor.plane_rate, 2)}


@_timed
def step_dat(ctx: Context) -> dict:
    """Convert the HDF5 file to the PKU .dat layout."""
    from codec.io import convert

    dat = ctx["dir"] / "spikes.dat"
    convert(ctx["h5"], dat)
    ctx["dat"] = dat
    return {"dat_bytes": dat.stat().st_size, "raw_bits_per_plane": ctx["args"].height * ctx["args"].width}


@_timed
def step_readback(ctx: Context) -> dict:
    """Read both files back in blocks and compare them plane by plane."""
    import numpy as np

    from codec.errors import SpikecodecError
    from codec.io import count_spikes, open_spikes

    args = ctx["args"]
    with open_spikes(ctx["h5"]) as h5, open_spikes(ctx["dat"], args.height, args.width) as dat:
        started = time.perf_counter()
        spikes = 0
        for a, b in zip(h5.iter_packed_blocks(), dat.iter_packed_blocks(), strict=True):
            if not np.array_equal(a, b):
                raise SpikecodecError("demo: .h5 and .dat read back differently")
            spikes += count_spikes(a)
        seconds = time.perf_counter() - started
        planes = h5.num_planes
    if spikes != ctx["spikes"] or planes != args.planes:
        raise SpikecodecError("demo: read-back spike count differs from what was written")
    return {"identical": True, "planes": planes, "spikes": spikes, "read_planes_per_s": round(2 * planes / seconds)}


#: planes streamed through the server by the demo (at most)
STREAM_PLANES = 256


@_timed
def step_stream(ctx: Context) -> dict:
    """Start ``spikecodec serve`` on loopback and stream a synthetic sequence through it (``spikecodec stream``)."""
    from client.commands import stream
    from client.local_server import LocalServer

    args, parser = ctx["args"], argparse.ArgumentParser()
    stream.add_arguments(parser)
    with LocalServer(ctx["dir"] / "store", "--grace-s", "0") as server:
        argv = ["synthetic", "--server", f"127.0.0.1:{server.port}", "--planes", str(min(args.planes, STREAM_PLANES)),
                "--height", str(args.height), "--width", str(args.width), "--score-scenes"]
        return stream.run(parser.parse_args(argv))


STEPS: list[Callable[[Context], dict]] = [step_simulate, step_dat, step_readback, step_stream]


def run(args: argparse.Namespace) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="spikecodec-demo-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        ctx: Context = {"args": args, "dir": workdir}
        report: dict[str, Any] = {}
        for step in STEPS:
            name = step.__name__.removeprefix("step_")
            print(f"demo: {name} ...", file=sys.stderr)
            report[name] = step(ctx)
    # one flat "step.figure" key per line, in step order
    return {f"{step}.{key}": value for step, figures in report.items() for key, value in figures.items()}
