"""Rate-distortion of a scene model with real bitstreams, for the training records.

- :func:`rd_points`: gray images (Kodak, evaluation only) coded as ``(H,W)`` scenes
  in [0,1]; PSNR after rounding the decoded scene to 8 bits; bpp counts the
  whole payload (including its 13-byte header).
- :func:`reds_inter_points`: the two REDS recordings encoded by the product's
  encoder (learned reconstruction, ``K = 32``) all intra and random access with
  the given codecs; bpp and PSNR against the uncoded scenes, so the inter codec's
  saving is measured at equal quality.
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
from codec.options import DEFAULT_GOP
from codec.models.scene_codec import SceneCodec
from codec.pipeline.config import EncoderConfig
from codec.pipeline.encoder import Encoder
from codec.pipeline.prediction import scene_values
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
        points.append({"quality": q, "lambda": codec.lambdas[q - codec.qualities[0]], "bpp": round(bits / pixels, 4),
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
    """Per intra quality: bpp and PSNR (dB, against the uncoded scenes) of the REDS recordings
    encoded all intra and random access, and the random-access bitrate saving in percent."""
    recordings = []
    for name, _ in REDS:
        with open_spikes(spikes_dir / f"{name}.dat") as reader:
            planes = reader.read(0, reader.num_planes)
            uncoded = [scene for _, scene in iter_scenes(reader, "net", window)]
        recordings.append((planes, uncoded))
    points = []
    for q in intra.qualities:
        row: dict = {"quality": q}
        for gop in ("intra", DEFAULT_GOP):
            bits = pixels = 0
            psnrs = []
            for planes, uncoded in recordings:
                decoded: dict[int, np.ndarray] = {}
                config = EncoderConfig(quality=q, window=window, recon="net", gop=gop)
                encoder = Encoder(config, *planes.shape[1:], codecs=(intra, inter), num_planes=len(planes))
                encoder.predictor.on_coded = decoded.__setitem__
                records = [encoder.header_record(), *encoder.push(planes), *encoder.finish()]
                bits += 8 * sum(map(len, records))
                pixels += len(uncoded) * uncoded[0].size
                psnrs += [psnr(scene * 255.0, scene_values(decoded[i]) * 255.0, peak=255.0)
                          for i, scene in enumerate(uncoded)]
            row[gop] = {"bpp": round(bits / pixels, 4), "psnr": round(float(np.mean(psnrs)), 3)}
        row["inter_saving_percent"] = round(100 * (1 - row["random-access"]["bpp"] / row["intra"]["bpp"]), 2)
        points.append(row)
    return points
