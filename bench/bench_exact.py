"""Speed and size of the exact layer next to xz -9 and zstd -19 on the same 250x400 planes.

Run ``python -m bench.bench_exact [FILE.dat|random] [--planes N] [--repeat R]``. Reads the
first ``N`` planes of a PKU ``.dat`` recording (default: a simulated 250x400
stream with shot noise, so the benchmark needs no data; ``random``: coin flips,
the worst case), then codes them on one
core with the exact layer alone (:mod:`codec.exact`, kernels compiled before
timing), xz -9 and zstd -19 on the packed planes. Prints one JSON object per
coder (bpsp, encode and decode planes per second, best of ``R`` runs) and a
summary line. Times are CPU seconds of this process (every coder here runs on one
thread), so other work on the machine does not count against them.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Callable, TypeVar

import numpy as np

from codec.anchors.lossless import compress, decompress
from codec.exact import ExactDecoder, ExactEncoder
from codec.io import open_spikes, pack_planes
from codec.sensor import SensorParams
from codec.simulate import SyntheticSource, simulate

HEIGHT, WIDTH = 250, 400


def read_planes(path: str | None, planes: int) -> np.ndarray:
    """``(planes, 250, 400)`` uint8 planes of ``path``, simulated ones, or random ones."""
    if path == "random":
        return (np.random.default_rng(0).random((planes, HEIGHT, WIDTH)) < 0.5).astype(np.uint8)
    if path is None:
        source = SyntheticSource(HEIGHT, WIDTH, frame_period=20.0, seed=0)
        return np.concatenate(list(simulate(source, planes, SensorParams(alpha=0.6), shot_noise=True)))
    with open_spikes(path, height=HEIGHT, width=WIDTH) as reader:
        blocks, have = [], 0
        for block in reader.iter_blocks(min(planes, 256)):
            blocks.append(block[: planes - have])
            have += len(blocks[-1])
            if have == planes:
                break
        return np.concatenate(blocks)

T = TypeVar("T")


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    """Shortest CPU time of ``repeat`` (>= 1) runs of ``run`` and its last result."""
    times = []
    for _ in range(repeat):
        tic = time.process_time()
        result = run()
        times.append(time.process_time() - tic)
    return min(times), result


def exact_coder(planes: np.ndarray, repeat: int) -> dict:
    """The exact layer alone: chunks out, planes back, checked."""
    _, h, w = planes.shape

    def encode() -> list:
        encoder = ExactEncoder(h, w)
        return encoder.push(planes) + encoder.finish()

    def decode(chunks: list) -> np.ndarray:
        decoder = ExactDecoder(h, w)
        return np.concatenate([decoder.decode(c) for c in chunks])

    warm = ExactEncoder(8, 16)  # compile the kernels before timing
    ExactDecoder(8, 16).decode((warm.push(planes[:2, :8, :16]) + warm.finish())[0])
    enc_s, chunks = best_of(repeat, encode)
    dec_s, decoded = best_of(repeat, lambda: decode(chunks))
    assert np.array_equal(decoded, planes), "exact layer round trip differs"
    return _row("exact", 8 * sum(len(c.payload) for c in chunks), planes, enc_s, dec_s)


def general_coder(name: str, planes: np.ndarray, repeat: int) -> dict:
    packed = pack_planes(planes).tobytes()
    enc_s, payload = best_of(repeat, lambda: compress(packed, name))
    dec_s, raw = best_of(repeat, lambda: decompress(payload, name))
    assert raw == packed, f"{name} round trip differs"
    label = {"xz": "xz -9", "zstd": "zstd -19"}[name]
    return _row(label, 8 * len(payload), planes, enc_s, dec_s)


def _row(coder: str, bits: int, planes: np.ndarray, enc_s: float, dec_s: float) -> dict:
    n = len(planes)
    return {"coder": coder, "planes": n, "height": planes.shape[1], "width": planes.shape[2],
            "bpsp": round(bits / planes.size, 4), "encode_planes_per_s": round(n / enc_s, 1),
            "decode_planes_per_s": round(n / dec_s, 1)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_exact", description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=None,
                        help="PKU .dat recording, 250x400, or 'random' (default: simulated)")
    parser.add_argument("--planes", type=int, default=100, help="planes coded (default 100)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per coder, the best counts (default 2)")
    args = parser.parse_args(argv)
    planes = read_planes(args.source, args.planes)
    results = [exact_coder(planes, args.repeat)] + [general_coder(m, planes, args.repeat) for m in ("xz", "zstd")]
    for result in results:
        print(json.dumps(result))
    exact, xz, zstd = results
    print(f"exact {exact['bpsp']} bpsp ({exact['bpsp'] / xz['bpsp']:.2f} of xz -9, {exact['bpsp'] / zstd['bpsp']:.2f} "
          f"of zstd -19); encode {exact['encode_planes_per_s']} planes/s (xz {xz['encode_planes_per_s']}, "
          f"zstd {zstd['encode_planes_per_s']}), decode {exact['decode_planes_per_s']} planes/s "
          f"(xz {xz['decode_planes_per_s']}, zstd {zstd['decode_planes_per_s']})")
    return results


if __name__ == "__main__":
    main()
