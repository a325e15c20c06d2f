"""Encoding and decoding give identical bytes whatever the torch thread count.

Each coder runs in its own process (OMP/torch threads 1 or 2), as a decoder on
another host would: the payloads and the decoded scenes must match bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

CODER = """
import sys, numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
from codec.models import load_scene_codec
codec = load_scene_codec(sys.argv[2])
mode, src, dst = sys.argv[3:6]
if mode == "encode":
    open(dst, "wb").write(codec.encode_scene(np.load(src), 3.5))
else:
    np.save(dst, codec.decode_scene(open(src, "rb").read(), 250, 400, 3.5))
"""


def run_coder(threads: int, mode: str, src: Path, dst: Path, model: str = "spikecodec-base") -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, "-c", CODER, str(threads), model, mode, str(src), str(dst)],
                   cwd=REPO, env=env, check=True, timeout=120)


@pytest.mark.slow
def test_bytes_and_scenes_identical_across_thread_counts(shared_data, tmp_path):
    img = Image.open(shared_data / "spikes" / "reds_203_part3_gt.png").convert("L")
    np.save(tmp_path / "scene.npy", np.asarray(img, dtype=np.float32) / 425.0)
    for threads in (1, 2):
        run_coder(threads, "encode", tmp_path / "scene.npy", tmp_path / f"enc{threads}.bin")
    assert (tmp_path / "enc1.bin").read_bytes() == (tmp_path / "enc2.bin").read_bytes()
    for threads in (1, 2):
        run_coder(threads, "decode", tmp_path / "enc1.bin", tmp_path / f"dec{threads}.npy")
    one, two = np.load(tmp_path / "dec1.npy"), np.load(tmp_path / "dec2.npy")
    assert one.shape == (250, 400)
    assert one.tobytes() == two.tobytes()
