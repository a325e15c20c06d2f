"""Run every speed benchmark ``bench/bench_*.py`` in turn (``make bench``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench

#: ``bench_*`` modules that are not speed benchmarks (kept for their command name)
NOT_SPEED = {"bench_kodak"}


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__)
                   if m.name.startswith("bench_") and m.name not in NOT_SPEED)
    failed = []
    for name in names:
        print(f"== bench.{name}", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main([])
        except Exception as err:  # one broken benchmark must not hide the others
            print(f"bench.{name} failed: {type(err).__name__}: {err}", file=sys.stderr)
            failed.append(name)
        print(f"== bench.{name} took {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
