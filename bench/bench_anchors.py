"""Speed of the VVC anchor: libvvenc encode and ffmpeg ``vvc`` decode, ms per 250x400 scene.

Run ``python -m bench.bench_anchors [--scenes N] [--qp QP] [--threads T]``. Scenes are
procedural images (``codec.simulate.procedural``) scaled to the firing-rate range
of real recordings (peak 0.6); each preset codes them all-intra at one QP. Prints
one JSON object per preset (and for libx265 for context) and a summary line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from codec.anchors import get_anchor
from codec.metrics.scene import psnr
from codec.simulate.procedural import procedural_image

HEIGHT, WIDTH = 250, 400
#: peak firing rate of the shared REDS recordings (spikes/plane)
PEAK_RATE = 0.6


def measure(name: str, preset: str, scenes: np.ndarray, qp: int, threads: int) -> dict:
    """Encode and decode ``scenes`` once with anchor ``name``; times per scene in ms."""
    anchor = get_anchor(name, preset=preset, threads=threads)
    tic = time.perf_counter()
    stream = anchor.encode(scenes, qp)
    encoded = time.perf_counter()
    decoded = anchor.decode(stream, *scenes.shape)
    done = time.perf_counter()
    n = len(scenes)
    return {
        "anchor": name,
        "preset": preset,
        "qp": qp,
        "threads": threads,
        "scenes": n,
        "encode_ms_per_scene": round(1000 * (encoded - tic) / n, 1),
        "decode_ms_per_scene": round(1000 * (done - encoded) / n, 1),
        "bytes_per_scene": round(len(stream) / n, 1),
        "psnr_db": round(psnr(scenes, decoded), 2),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_anchors", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8, help="scenes coded per run (default 8)")
    parser.add_argument("--qp", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="encoder threads (default 1)")
    args = parser.parse_args(argv)
    scenes = np.stack([procedural_image(HEIGHT, WIDTH, seed=i) * PEAK_RATE for i in range(args.scenes)])
    runs = [("vvc", "medium"), ("vvc", "faster"), ("hevc-intra", "medium")]
    results = [measure(name, preset, scenes, args.qp, args.threads) for name, preset in runs]
    for result in results:
        print(json.dumps(result))
    vvc = {r["preset"]: r for r in results if r["anchor"] == "vvc"}
    print(
        f"vvenc {HEIGHT}x{WIDTH} all-intra qp {args.qp}: medium {vvc['medium']['encode_ms_per_scene']} ms encode, "
        f"faster {vvc['faster']['encode_ms_per_scene']} ms encode, "
        f"decode {vvc['medium']['decode_ms_per_scene']} ms per scene"
    )
    return results


if __name__ == "__main__":
    main()
