"""The intra codec against VVC all-intra on clean gray photographs (Kodak), away from spikes.

Separates the codec's own capacity from the spike domain: if the BD-rate here
is about the one on reconstructed scenes, the gap to VVC is the model, not noise
or statistics peculiar to spike reconstructions. Both sides code the 8-bit gray
Kodak images (never trained on) and are scored the same way
(:func:`codec.train.evaluate.rd_points`: total bits over total pixels, mean
8-bit PSNR); VVC is libvvenc all-intra at QPs 22-47, ``-qpa 0``, as in the
issue's anchor. Needs ``../shared/data/images/kodak``. Run:
``python -m bench.bench_kodak [--images N] [--preset medium] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

KODAK = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "images" / "kodak"
QPS = (22, 27, 32, 37, 42, 47)


def vvc_points(images: list[np.ndarray], preset: str, threads: int) -> list[dict]:
    """Mean bpp and 8-bit PSNR of ``images`` (``(H, W)`` in [0, 1]) coded one by one at each of :data:`QPS`
    (the anchor codes 10-bit 4:2:0 with flat chroma; its output is rounded to 8 bits like ours)."""
    from codec.anchors import get_anchor
    from codec.metrics.scene import psnr

    anchor = get_anchor("vvc", preset=preset, threads=threads)
    points = []
    for qp in QPS:
        bits = pixels = 0
        psnrs = []
        for img in images:
            stream = anchor.encode(img[None], qp)
            bits += 8 * len(stream)
            pixels += img.size
            decoded = np.round(anchor.decode(stream, 1, *img.shape)[0] * 255.0) / 255.0  # 8 bits, as ours
            psnrs.append(psnr(img, decoded))
        points.append({"qp": qp, "bpp": round(bits / pixels, 4), "psnr": round(float(np.mean(psnrs)), 3)})
    return points


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_kodak", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24, help="first N Kodak images (default all 24)")
    parser.add_argument("--preset", default="medium", help="vvenc preset (default medium)")
    parser.add_argument("--threads", type=int, default=1, help="vvenc threads (default 1)")
    args = parser.parse_args(argv)
    if not KODAK.is_dir():
        print(f"skipped: {KODAK} not found", file=sys.stderr)
        return {}
    from codec.metrics import bd_rate
    from codec.models import load_scene_codec
    from codec.train.evaluate import load_gray, rd_points

    images = load_gray(KODAK)[: args.images]
    ours = rd_points(load_scene_codec(), images)
    vvc = vvc_points(images, args.preset, args.threads)
    result = {"bench": "kodak", "images": len(images), "preset": args.preset, "ours": ours, "vvc": vvc,
              "bd_rate_vs_vvc_percent": round(bd_rate([p["bpp"] for p in vvc], [p["psnr"] for p in vvc],
                                                      [p["bpp"] for p in ours], [p["psnr"] for p in ours]), 1)}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
