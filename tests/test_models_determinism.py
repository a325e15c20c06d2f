"""Encoding and decoding give identical bytes whatever the torch thread count.

Two coders run in their own processes (OMP/torch threads 1 and 2), as a decoder
on another host would: each encodes the same scene and decodes the FIRST
process's payload. Payloads and decoded scenes must match bit for bit, and also
match this (pytest) process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codec.models import load_scene_codec

REPO = Path(__file__).resolve().parents[1]
QUALITY = 3.5

CODER = f"""
import sys, numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
from codec.models import load_scene_codec
codec = load_scene_codec("spikecodec-base")
scene_file, own_payload, payload_to_decode, decoded = sys.argv[2:6]
open(own_payload, "wb").write(codec.encode_scene(np.load(scene_file), {QUALITY}))
np.save(decoded, codec.decode_scene(open(payload_to_decode, "rb").read(), 250, 400, {QUALITY}))
"""


def run_coder(threads: int, *files: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, "-c", CODER, str(threads), *map(str, files)],
                   cwd=REPO, env=env, check=True, timeout=300)


@pytest.mark.slow
def test_bytes_and_scenes_identical_across_thread_counts(shared_data, tmp_path):
    img = Image.open(shared_data / "spikes" / "reds_203_part3_gt.png").convert("L")
    scene = np.asarray(img, dtype=np.float32) / 425.0
    np.save(tmp_path / "scene.npy", scene)
    first = tmp_path / "enc1.bin"
    run_coder(1, tmp_path / "scene.npy", first, first, tmp_path / "dec1.npy")
    run_coder(2, tmp_path / "scene.npy", tmp_path / "enc2.bin", first, tmp_path / "dec2.npy")
    assert first.read_bytes() == (tmp_path / "enc2.bin").read_bytes()
    one, two = np.load(tmp_path / "dec1.npy"), np.load(tmp_path / "dec2.npy")
    assert one.shape == (250, 400)
    assert one.tobytes() == two.tobytes()
    here = load_scene_codec("spikecodec-base")
    assert here.encode_scene(scene, QUALITY) == first.read_bytes()
    assert here.decode_scene(first.read_bytes(), 250, 400, QUALITY).tobytes() == one.tobytes()
