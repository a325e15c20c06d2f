"""Client memory: peak resident set of ``spikecodec stream`` processes, and what they imported.

A ``spikecodec serve`` process on loopback; each case runs ``spikecodec stream`` in its
own interpreter against it, ``--planes`` planes of 250x400 at K = 32, and reports the
process's peak resident set and whether torch and numba were imported (the stream command
prints nothing about that: a ``sitecustomize``-free probe runs the command through
:func:`client.cli.main`, then lists ``sys.modules`` and reads its own ``VmHWM``).

The peak is the client's ``VmHWM`` (the high-water mark of its address space), not
``ru_maxrss`` from ``wait4``: Linux carries the high-water mark of the address space an
``exec`` replaces into ``ru_maxrss``, and ``subprocess`` spawns with ``vfork``, whose child
runs in this process's address space until its ``exec``; so ``ru_maxrss`` is never below
this bench's own peak (it simulated the inputs), whatever the client uses.

Cases (``--cases``, default all): ``h5``, an HDF5 recording, ``dat``, a ``.dat`` recording,
``synthetic``, simulated by the client (the thin client in all three: no torch, no numba, no
scipy), and ``h5-score-scenes``, the HDF5 recording with ``--score-scenes`` (decodes the scenes:
torch). The server's figures are in :mod:`bench.bench_server_memory`.

``--client-pythonpath DIR`` runs the clients from another source tree (a ``git archive``
of an older commit, for the before/after figures)::

    python -m bench.bench_client_memory [--planes 256] [--cases h5,dat] [--client-pythonpath DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from client.local_server import LocalServer

HEIGHT, WIDTH = 250, 400
#: the ``stream`` arguments of each case, from the input files made by :func:`make_inputs`
CASES: dict[str, Callable[[dict[str, Path]], list[str]]] = {
    "h5": lambda inputs: [str(inputs["h5"])],
    "dat": lambda inputs: [str(inputs["dat"]), "--height", str(HEIGHT), "--width", str(WIDTH)],
    "synthetic": lambda inputs: ["synthetic", "--height", str(HEIGHT), "--width", str(WIDTH)],
    "h5-score-scenes": lambda inputs: [str(inputs["h5"]), "--score-scenes"],
}
#: runs ``spikecodec stream`` in-process, then prints which heavy packages it imported and its own
#: peak resident set, kB (JSON, last line)
PROBE = """
import json, sys
from client.cli import main
code = main(sys.argv[1:])
heavy = [m for m in ("torch", "compressai", "numba", "scipy") if m in sys.modules]
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"exit": code, "imported": heavy, "vm_hwm_kb": int(status["VmHWM"].split()[0])}))
"""


def peak_rss_mb(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, dict]:
    """Run the probe ``argv`` in ``cwd`` (not this tree: ``python -c`` imports from its working directory
    first); its peak resident set in MB (10^6 bytes) and its JSON line."""
    proc = subprocess.run(argv, capture_output=True, env=env, text=True, cwd=cwd)
    if proc.returncode:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return round(probe["vm_hwm_kb"] * 1024 / 1e6, 1), probe


def make_inputs(folder: Path, planes: int) -> dict[str, Path]:
    """The synthetic stream as ``.h5`` and ``.dat`` (simulated here, before anything is measured)."""
    from codec.evaluate.sources import open_input
    from codec.io import open_writer

    with open_input("synthetic", HEIGHT, WIDTH, planes, None, None, 0) as source:
        spikes = source.read_all()
        sensor = source.sensor
    paths = {"h5": folder / "in.h5", "dat": folder / "in.dat"}
    for path in paths.values():
        with open_writer(path, HEIGHT, WIDTH, sensor) as writer:
            writer.write(spikes)
    return paths


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_client_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=256, help="planes per stream (default 256)")
    parser.add_argument("--client-pythonpath", default="", help="run the clients from this source tree")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated cases (default {','.join(CASES)})")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.client_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([args.client_pythonpath, str(Path(args.client_pythonpath) / "proto")])
    result: dict = {"height": HEIGHT, "width": WIDTH, "planes": args.planes, "client": args.client_pythonpath or
                    "this tree", "cases": []}
    names = [name for name in args.cases.split(",") if name]
    if unknown := set(names) - set(CASES):
        parser.error(f"unknown cases {', '.join(sorted(unknown))}; known: {', '.join(CASES)}")
    # a loaded machine can take longer than the default 30 s for a GOP; the client's memory does not depend on it
    flags = ("--grace-s", "0", "--idle-timeout-s", "600")
    with tempfile.TemporaryDirectory() as tmp, LocalServer(Path(tmp) / "store", *flags) as server:
        inputs = make_inputs(Path(tmp), args.planes)
        common = ["--server", f"127.0.0.1:{server.port}", "--planes", str(args.planes), "--timeout", "60"]
        for name in names:
            argv = [sys.executable, "-c", PROBE, "stream", *CASES[name](inputs), *common, "--json"]
            try:
                peak, probe = peak_rss_mb(argv, env, Path(tmp))
                case = {"case": name, "peak_mb": peak, "imported": probe["imported"]}
            except RuntimeError as err:  # an older client may lack a flag: report, go on
                case = {"case": name, "error": str(err)}
            result["cases"].append(case)
            if not args.json:  # as measured: the server's shutdown comes after
                if not result["cases"][1:]:
                    print(f"spikecodec stream, {args.planes} planes of {HEIGHT}x{WIDTH}, K=32 ({result['client']})")
                print(f"  {name:<20} " + (f"failed: {case['error']}" if "error" in case else
                                           f"peak {case['peak_mb']:6.0f} MB   imported: "
                                           f"{', '.join(case['imported']) or 'no torch, numba or scipy'}"), flush=True)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    return result


if __name__ == "__main__":
    main()
