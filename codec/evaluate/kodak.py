"""The intra scene codec against VVC all-intra on clean gray photographs (Kodak), away from spikes.

Separates the codec's own capacity from the spike domain: if the BD-rate here is
about the one on reconstructed scenes, the gap to VVC is the model, not noise or
statistics peculiar to spike reconstructions. Both sides code the 8-bit gray Kodak
images (never trained on) one by one and are scored the same way
(:mod:`codec.evaluate.images`); VVC is libvvenc all-intra at the default QPs,
``-qpa 0``. Run::

    python -m codec.evaluate.kodak [--folder DIR] [--images N] [--preset medium] [--threads 1] [-o kodak.json]

(``python -m bench.bench_kodak`` is the same command.) The JSON goes to stdout and,
with ``-o``, to a file :mod:`codec.evaluate.results` renders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

#: the Kodak set in the shared data folder beside the clone (evaluation only)
KODAK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "images" / "kodak"


def evaluate(folder: Path, count: int, preset: str, threads: int) -> dict:
    """Both curves and the BD-rate of ours against VVC (``bd_rate_vs_vvc_percent``)."""
    from codec.anchors import get_anchor
    from codec.evaluate.images import anchor_rd, codec_rd, load_gray
    from codec.evaluate.runinfo import run_info
    from codec.metrics import bd_rate
    from codec.models import load_scene_codec
    from codec.options import DEFAULT_QPS

    images = load_gray(folder)[:count]
    ours = codec_rd(load_scene_codec(), images)
    vvc = anchor_rd(get_anchor("vvc", preset=preset, threads=threads), images, DEFAULT_QPS)
    bd = bd_rate([p["bpp"] for p in vvc], [p["psnr"] for p in vvc], [p["bpp"] for p in ours], [p["psnr"] for p in ours])
    return {"bench": "kodak", "run": run_info(), "images": len(images), "preset": preset, "ours": ours, "vvc": vvc,
            "bd_rate_vs_vvc_percent": round(bd, 1)}


def main(argv: Sequence[str] | None = None, prog: str = "python -m codec.evaluate.kodak") -> dict:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=KODAK, help=f"Kodak PNGs (default {KODAK})")
    parser.add_argument("--images", type=int, default=24, help="first N images (default all 24)")
    parser.add_argument("--preset", default="medium", help="vvenc preset (default medium)")
    parser.add_argument("--threads", type=int, default=1, help="vvenc threads (default 1)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"skipped: {args.folder} not found", file=sys.stderr)
        return {}
    result = evaluate(args.folder, args.images, args.preset, args.threads)
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
