"""``python -m bench.bench_kodak``: the Kodak rate-distortion comparison, kept under this name
for the commands in the issues; it lives in :mod:`codec.evaluate.kodak` (not a speed benchmark,
so ``make bench`` skips it)."""

from __future__ import annotations

from typing import Sequence

from codec.evaluate import kodak


def main(argv: Sequence[str] | None = None) -> dict:
    return kodak.main(argv, prog="python -m bench.bench_kodak")


if __name__ == "__main__":
    main()
