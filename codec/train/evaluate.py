"""Rate-distortion of a scene model with real bitstreams, for the training records.

- :func:`rd_points`: gray images (Kodak, evaluation only) coded as ``(H,W)`` scenes
  in [0,1]; PSNR after rounding the decoded scene to 8 bits; bpp counts the
  whole payload (including its 13-byte header).
- :func:`reds_inter_points`: every scene (``K = 32``) of the two REDS recordings,
  reconstructed by the learned reconstructor, coded all intra and with inter
  scenes (one intra scene, the rest predicted, at the default inter quality
  offset); bpp and PSNR against the
  uncoded scenes, so the inter codec's saving is measured at equal quality.
- :func:`reds_points`: the two real REDS spike recordings: the scene of plane 150
  reconstructed by the learned reconstructor from the real spikes, coded with the
  16 planes before/after it given to the attention, and compared with the
  ground-truth PNG as a firing rate (intensity / 425; PSNR peak = white = 255/425).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from codec.io import open_spikes
from codec.metrics.scene import psnr
from codec.models.scene_codec import SceneCodec
from codec.options import DEFAULT_INTER_OFFSET
from codec.pipeline.prediction import PredictiveEncoder, SceneReconstructor
from codec.reconstruct import get_reconstructor
from codec.reconstruct.stream import iter_scenes

#: (recording, centre plane with a ground-truth PNG)
REDS = (("reds_203_part2", 150), ("reds_203_part3", 150))
GT_RATE_PER_LEVEL = 1.0 / 425.0
CONTEXT = 16


def load_gray(folder: Path) -> list[np.ndarray]:
    """All PNG images of ``folder`` as float32 ``(H,W)`` in [0,1], sorted by name."""
    out = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as img:
            out.append(np.asarray(img.convert("L"), dtype=np.float32) / 255.0)
    return out


def rd_points(codec: SceneCodec, images: list[np.ndarray]) -> list[dict]:
    """Mean bpp and 8-bit PSNR (dB) over ``images`` at each integer quality."""
    points = []
    for q in codec.qualities:
        bits = pixels = 0
        psnrs = []
        for img in images:
            payload = codec.encode_scene(img, q)
            bits += 8 * len(payload)
            pixels += img.size
            out = np.round(codec.decode_scene(payload, *img.shape, q) * 255.0)
            psnrs.append(psnr(img * 255.0, out, peak=255.0))
        points.append({"quality": q, "lambda": codec.lambdas[q - 1], "bpp": round(bits / pixels, 4),
                       "psnr": round(float(np.mean(psnrs)), 3)})
    return points


def reds_points(codec: SceneCodec, spikes_dir: Path) -> list[dict]:
    """Mean bpp and PSNR against ground truth over the REDS recordings, per quality."""
    recon = get_reconstructor("net", 2 * CONTEXT)
    cases = []
    for name, plane in REDS:
        with open_spikes(spikes_dir / f"{name}.dat") as reader:
            planes = reader.read(plane - CONTEXT, plane + CONTEXT + 1)
        with Image.open(spikes_dir / f"{name}_gt.png") as img:
            truth = np.asarray(img.convert("L"), dtype=np.float32) * GT_RATE_PER_LEVEL
        cases.append((recon.reconstruct(planes, CONTEXT), planes, truth))
    points = []
    for q in codec.qualities:
        bits = 0
        psnrs = []
        for scene, planes, truth in cases:
            payload = codec.encode_scene(scene, q, spikes_before=planes[:CONTEXT],
                                         spikes_after=planes[CONTEXT + 1 :])
            bits += 8 * len(payload)
            out = codec.decode_scene(payload, *scene.shape, q)
            psnrs.append(psnr(truth, out, peak=255.0 * GT_RATE_PER_LEVEL))
        points.append({"quality": q, "bpp": round(bits / (len(cases) * cases[0][0].size), 4),
                       "psnr_vs_gt": round(float(np.mean(psnrs)), 3)})
    return points


def reds_inter_points(intra: SceneCodec, inter: SceneCodec, spikes_dir: Path, window: int = 32) -> list[dict]:
    """Per quality: bpp and PSNR (dB, against the uncoded scenes) of the REDS scenes coded
    all intra and with inter scenes, and the inter bitrate saving in percent."""
    sequences = []
    for name, _ in REDS:
        with open_spikes(spikes_dir / f"{name}.dat") as reader:
            sequences.append([scene for _, scene in iter_scenes(reader, "net", window)])
    points = []
    for q in intra.qualities:
        row: dict = {"quality": q}
        for label, coder, period in (("intra", None, 1), ("inter", inter, len(sequences[0]) + 1)):
            bits = pixels = 0
            psnrs = []
            for scenes in sequences:
                encoder = PredictiveEncoder(intra, coder, period, *scenes[0].shape, q, DEFAULT_INTER_OFFSET)
                decoder = SceneReconstructor(intra, coder, *scenes[0].shape, q, DEFAULT_INTER_OFFSET)
                for i, scene in enumerate(scenes):
                    mode, payload = encoder.encode(i, scene)
                    bits += 8 * len(payload)
                    pixels += scene.size
                    psnrs.append(psnr(scene * 255.0, decoder.decode(mode, payload).astype(np.float32), peak=255.0))
            row[label] = {"bpp": round(bits / pixels, 4), "psnr": round(float(np.mean(psnrs)), 3)}
        row["inter_saving_percent"] = round(100 * (1 - row["inter"]["bpp"] / row["intra"]["bpp"]), 2)
        points.append(row)
    return points
