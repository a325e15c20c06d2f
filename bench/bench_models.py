"""Speed of the learned scene codec: encode/decode time per 250x400 scene.

Target: <= 100 ms each way at 2 torch threads. Reports wall time and process
CPU time (all threads; on a busy machine the wall time is inflated by other
processes, the CPU time much less), the load average, and the time of the two
transforms alone, so a regression can be placed (the rest is the hyperprior and
CompressAI's entropy coding). The same scene is then coded all-intra by vvenc
(presets medium and faster, QP 32, as many threads) for the ratio the issue
asks for (target: 10x faster than vvenc medium). Whole streams in each scene
structure are timed by :mod:`bench.bench_gop`. Run: ``python -m bench.bench_models [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from codec.options import ATTENTIONS

SHARED_SCENE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "spikes" / "reds_203_part2_gt.png"


def test_scene() -> tuple[np.ndarray, str]:
    """A 250x400 scene in [0, 0.6]: the REDS ground truth if the shared data is there,
    else a smooth seeded random field."""
    if SHARED_SCENE.is_file():
        from PIL import Image

        return np.asarray(Image.open(SHARED_SCENE).convert("L"), np.float32) / 425.0, SHARED_SCENE.name
    rng = np.random.default_rng(0)
    field = torch.nn.functional.interpolate(torch.rand(1, 1, 25, 40, generator=torch.Generator().manual_seed(0)),
                                            size=(250, 400), mode="bicubic", align_corners=False)
    return (0.6 * field[0, 0].clamp(0, 1).numpy() + 0.02 * rng.random((250, 400))).astype(np.float32), "synthetic"


def median_ms(fn, repeat: int) -> tuple[float, float]:
    """Median wall and process-CPU milliseconds of ``fn()`` over ``repeat`` calls after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        tick, tock = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - tick)
        cpu.append(time.process_time() - tock)
    return round(1000 * statistics.median(wall), 1), round(1000 * statistics.median(cpu), 1)


def bench(attention: str, repeat: int) -> dict:
    from codec.models import load_scene_codec
    from codec.models.shapes import pad_to_multiple

    codec = load_scene_codec(attention=attention)
    scene, source = test_scene()
    h, w = scene.shape
    kwargs = {}
    if attention != "none":
        rng = np.random.default_rng(0)
        block = (rng.random((16, h, w)) < scene).astype(np.uint8)
        kwargs = {"spikes_before": block, "spikes_after": block}
    rows = []
    qualities = sorted({codec.qualities[0], codec.qualities[len(codec.qualities) // 2], codec.qualities[-1]})
    for q in qualities:
        payload = codec.encode_scene(scene, q, **kwargs)
        encode = median_ms(lambda: codec.encode_scene(scene, q, **kwargs), repeat)
        decode = median_ms(lambda: codec.decode_scene(payload, h, w, q), repeat)
        rows.append({"quality": q, "bytes": len(payload), "bpp": round(8 * len(payload) / (h * w), 4),
                     "encode_ms": encode[0], "decode_ms": decode[0],
                     "encode_cpu_ms": encode[1], "decode_cpu_ms": decode[1]})
    model = codec.model
    x = pad_to_multiple(torch.from_numpy(scene)[None, None])
    with torch.inference_mode():
        y = model.analysis(x, None)
        parts = {"g_a_ms": median_ms(lambda: model.analysis(x, None), repeat)[0],
                 "g_s_ms": median_ms(lambda: model.g_s(y), repeat)[0]}
    return {"attention": attention, "scene": source, "size": [h, w],
            "threads": torch.get_num_threads(), "load_average": os.getloadavg()[0],
            "qualities": rows, **parts}


def vvenc_times(threads: int, copies: int = 4, qp: int = 32) -> dict:
    """vvenc all-intra encode / ffmpeg ``vvc`` decode ms per scene on :func:`test_scene`,
    per preset (``copies`` frames of it, so start-up is amortised)."""
    from bench.bench_anchors import measure

    scene, _ = test_scene()
    scenes = np.stack([scene] * copies)
    return {preset: measure("vvc", preset, scenes, qp, threads) for preset in ("medium", "faster")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--attention", nargs="+", default=list(ATTENTIONS), choices=ATTENTIONS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {"bench": "models", "runs": [bench(a, args.repeat) for a in args.attention],
              "vvenc_same_scene": vvenc_times(args.threads)}
    base = next((r for r in result["runs"] if r["attention"] == "none"), None)
    if base is not None:
        encode = statistics.median(q["encode_ms"] for q in base["qualities"])
        result["speedup_vs_vvenc"] = {preset: round(v["encode_ms_per_scene"] / encode, 1)
                                      for preset, v in result["vvenc_same_scene"].items()}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
