"""Write the golden ``.spkc`` streams of the current format version, and their manifest.

Run only when a change of the bitstream is intended (``python tests/golden/make_golden.py``
from the repository root): after bumping ``FORMAT_VERSION`` (``codec/bitstream/header.py``),
which adds a set for the new version and keeps the older sets, or, when the format is the
same and only the encoder's choices or weights changed, with ``--replace`` to overwrite
the current version's set. A replaced stream whose scene codec weights were retrained is
kept as ``v<V>-<case>-w<sha12>.spkc`` (``"archived_weights": true``): it must go on decoding
through the weights archive (:mod:`codec.models.registry`). ``tests/test_golden.py`` checks
the files against the code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from codec.bitstream import FORMAT_VERSION, RecordParser
from codec.models import load_inter_codec, load_scene_codec
from codec.pipeline import Decoder, Encoder, EncoderConfig
from codec.sensor import SensorParams

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "golden.json"
INPUT = HERE / "input.npz"
#: ``(T, H, W)`` of the golden input
SHAPE = (160, 48, 64)
SENSOR = SensorParams(seed=11)
#: one stream per coding path a decoder must keep reading: motion-compensated B and P scenes,
#: the exact layer over scenes and alone, intra scenes from another reconstruction
CASES: dict[str, EncoderConfig] = {
    "random-access": EncoderConfig(quality=4.0, window=16, gop="random-access", gop_size=4, intra_period=8),
    "low-delay-exact": EncoderConfig(quality=1.0, window=16, gop="low-delay", intra_period=8, exact="scenes"),
    "lossless": EncoderConfig(quality=3.0, exact="alone"),
    "intra-tfi": EncoderConfig(quality=4.0, window=32, recon="tfi", gop="intra", intra_period=1),
}


def golden_input() -> np.ndarray:
    """``SHAPE`` uint8 spikes of a bright spot drifting over a gradient, read from :data:`INPUT`."""
    with np.load(INPUT) as saved:
        return np.unpackbits(saved["packed"]).reshape(SHAPE)


def simulate_input() -> np.ndarray:
    """The spikes :data:`INPUT` holds, simulated (only :func:`main` calls this, once)."""
    t, h, w = SHAPE
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    time = np.arange(t, dtype=np.float32)[:, None, None]
    spot = np.exp(-((y - 0.5 * h) ** 2 + (x - 0.3 * w - 0.12 * time) ** 2) / (0.02 * h * w))
    return SENSOR.neurons((h, w))(0.05 + 0.3 * x / w + 0.5 * spot)


def encode(planes: np.ndarray, config: EncoderConfig) -> bytes:
    """The ``.spkc`` bytes of ``planes`` (all pushed at once) under ``config``."""
    encoder = Encoder(config, planes.shape[1], planes.shape[2], SENSOR)
    return b"".join([encoder.header_record(), *encoder.push(planes), *encoder.finish()])


def decode(data: bytes) -> np.ndarray:
    """The ``(T, H, W)`` uint8 planes a :class:`Decoder` makes of ``data``."""
    decoder = Decoder()
    planes = decoder.push(data)
    decoder.finish()
    return planes


def digest(planes: np.ndarray) -> str:
    """sha256 of ``planes``' shape and bits."""
    return hashlib.sha256(repr(planes.shape).encode() + np.packbits(planes).tobytes()).hexdigest()


def cpu_capability() -> str:
    """The instruction set torch's CPU kernels use here (``"AVX2"``, ``"AVX512"``, ...).

    Scene layers come from float transforms whose last bits depend on it, so their bytes are
    promised only where it matches; the exact layer alone is integer arithmetic throughout.
    """
    return torch.backends.cpu.get_cpu_capability()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def retrained(stream: dict) -> bool:
    """Whether ``stream`` (a manifest entry) was coded with scene codec weights that are no longer installed."""
    header = RecordParser().feed((HERE / stream["file"]).read_bytes())[0]
    if not header.has_scenes:
        return False
    installed = {load_scene_codec(header.model, header.attention).weights_sha256}
    if header.inter_sha256:
        installed.add(load_inter_codec(header.model).weights_sha256)
    return not {header.model_sha256, header.inter_sha256} - {""} <= installed


def keep_retrained(stream: dict) -> dict:
    """Rename ``stream``'s file to ``...-w<sha12>.spkc`` and mark it as made with archived weights."""
    header = RecordParser().feed((HERE / stream["file"]).read_bytes())[0]
    name = stream["file"].removesuffix(".spkc") + f"-w{header.model_sha256[:12]}.spkc"
    (HERE / stream["file"]).replace(HERE / name)
    print(f"kept {stream['file']} as {name} (its weights are archived)")
    return {**stream, "file": name, "archived_weights": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replace", action="store_true", help="overwrite the current version's set")
    args = parser.parse_args()
    manifest: dict = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {"input": INPUT.name, "streams": []}
    if any(s["version"] == FORMAT_VERSION for s in manifest["streams"]) and not args.replace:
        parser.error(f"version {FORMAT_VERSION} already has goldens: bump FORMAT_VERSION, or pass --replace")
    if not INPUT.is_file():
        np.savez_compressed(INPUT, packed=np.packbits(simulate_input()))
    planes = golden_input()
    streams = [s if s["version"] != FORMAT_VERSION or s.get("archived_weights") else keep_retrained(s)
               for s in manifest["streams"]
               if s["version"] != FORMAT_VERSION or s.get("archived_weights") or retrained(s)]
    for case, config in CASES.items():
        data = encode(planes, config)
        name = f"v{FORMAT_VERSION}-{case}.spkc"
        (HERE / name).write_bytes(data)
        streams.append({"file": name, "version": FORMAT_VERSION, "config": asdict(config), "cpu": cpu_capability(),
                        "sensor": asdict(SENSOR), "bytes": len(data), "spkc_sha256": sha256(data),
                        "decoded_sha256": digest(decode(data))})
        print(f"{name}: {len(data)} bytes")
    manifest["streams"] = streams
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
