"""Scene-codec figures on the two real REDS spike recordings, for the training records.

- :func:`reds_points`: the scene of plane 150 reconstructed by the learned
  reconstructor from the real spikes, coded with the 16 planes before/after it
  given to the attention, and compared with the ground-truth PNG as a firing rate
  (intensity / 425; PSNR peak = white = 255/425).
- :func:`reds_inter_points`: both recordings encoded by the product's encoder
  (learned reconstruction) all intra and random access with the given codecs; bpp
  and PSNR against the uncoded scenes, so the inter codec's saving is measured at
  equal quality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from codec.io import open_spikes
from codec.metrics.scene import psnr
from codec.models.scene_codec import SceneCodec
from codec.options import DEFAULT_GOP, DEFAULT_WINDOW
from codec.pipeline.config import EncoderConfig
from codec.pipeline.encoder import Encoder
from codec.pipeline.prediction import scene_values
from codec.reconstruct import get_reconstructor
from codec.reconstruct.stream import iter_scenes

#: (recording, centre plane with a ground-truth PNG)
REDS = (("reds_203_part2", 150), ("reds_203_part3", 150))
#: mean firing rate per 8-bit intensity level of the REDS recordings
GT_RATE_PER_LEVEL = 1.0 / 425.0
#: planes before and after the centre given to the attention
CONTEXT = 16


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
            out = codec.decode_scene(payload, scene.shape[0], scene.shape[1], q)
            psnrs.append(psnr(truth, out, peak=255.0 * GT_RATE_PER_LEVEL))
        points.append({"quality": q, "bpp": round(bits / (len(cases) * cases[0][0].size), 4),
                       "psnr_vs_gt": round(float(np.mean(psnrs)), 3)})
    return points


def reds_inter_points(intra: SceneCodec, inter: SceneCodec, spikes_dir: Path,
                      window: int = DEFAULT_WINDOW) -> list[dict]:
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
                _, height, width = planes.shape
                encoder = Encoder(config, height, width, codecs=(intra, inter), num_planes=len(planes))
                assert encoder.predictor is not None
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
