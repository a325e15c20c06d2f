"""Client memory: peak resident set of ``spikecodec stream`` processes, and what they imported.

A ``spikecodec serve`` process on loopback; each case runs ``spikecodec stream`` in its
own interpreter against it, ``--planes`` planes of 250x400 at K = 32, and reports the
process's peak resident set (``ru_maxrss`` from ``wait4``) and whether torch and numba
were imported (the stream command prints nothing about that: a ``sitecustomize``-free
probe runs the command through :func:`client.cli.main` and then lists ``sys.modules``).

Cases: an HDF5 recording (the thin client: no torch, no numba), a ``.dat`` recording
(numba unpacks the flipped planes), the synthetic source (numba simulates), and the HDF5
recording with ``--score-scenes`` (decodes the scenes: torch). The server's figures
are in :mod:`bench.bench_server_memory`.

``--client-pythonpath DIR`` runs the clients from another source tree (a ``git archive``
of an older commit, for the before/after figures)::

    python -m bench.bench_client_memory [--planes 256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from client.local_server import LocalServer

HEIGHT, WIDTH = 250, 400
#: runs ``spikecodec stream`` in-process, then prints which heavy packages it imported (JSON, last line)
PROBE = """
import json, sys
from client.cli import main
code = main(sys.argv[1:])
heavy = [m for m in ("torch", "compressai", "numba", "scipy") if m in sys.modules]
print(json.dumps({"exit": code, "imported": heavy}))
"""


def peak_rss_mb(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, dict]:
    """Run ``argv`` in ``cwd`` (not this tree: ``python -c`` imports from its working directory first);
    its peak resident set in MB (10^6 bytes) and the probe's JSON line."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, text=True, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage, not all children's
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"exit {proc.returncode}: {stderr.strip().splitlines()[-1:]}")
    return round(usage.ru_maxrss * 1024 / 1e6, 1), json.loads(stdout.strip().splitlines()[-1])


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
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.client_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([args.client_pythonpath, str(Path(args.client_pythonpath) / "proto")])
    result: dict = {"height": HEIGHT, "width": WIDTH, "planes": args.planes, "client": args.client_pythonpath or
                    "this tree", "cases": []}
    with tempfile.TemporaryDirectory() as tmp, LocalServer(Path(tmp) / "store", "--grace-s", "0") as server:
        inputs = make_inputs(Path(tmp), args.planes)
        common = ["--server", f"127.0.0.1:{server.port}", "--planes", str(args.planes), "--timeout", "60"]
        cases = {"h5": [str(inputs["h5"])], "dat": [str(inputs["dat"]), "--height", str(HEIGHT), "--width", str(WIDTH)],
                 "synthetic": ["synthetic", "--height", str(HEIGHT), "--width", str(WIDTH)],
                 "h5 --score-scenes": [str(inputs["h5"]), "--score-scenes"]}
        for name, source in cases.items():
            argv = [sys.executable, "-c", PROBE, "stream", *source, *common, "--json"]
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
                                           f"{', '.join(case['imported']) or 'neither torch nor numba'}"), flush=True)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    return result


if __name__ == "__main__":
    main()
