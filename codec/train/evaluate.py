"""Rate-distortion of a scene model on a folder of images, with real bitstreams.

Used for the training records (Kodak, gray, evaluation only). Images are coded
as ``(H,W)`` gray scenes in [0,1]; PSNR is measured after rounding the decoded
scene to 8 bits, bpp counts the y and z strings (not the 9-byte payload header).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from codec.models.scene_model import GainedMeanScaleHyperprior
from codec.models.shapes import crop_to, pad_to_multiple


def load_gray(folder: Path) -> list[np.ndarray]:
    """All PNG images of ``folder`` as float32 ``(H,W)`` in [0,1], sorted by name."""
    out = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as img:
            out.append(np.asarray(img.convert("L"), dtype=np.float32) / 255.0)
    return out


def rd_points(model: GainedMeanScaleHyperprior, images: list[np.ndarray],
              levels: list[float]) -> list[dict]:
    """Mean bpp and PSNR (dB, 8-bit) over ``images`` at each 0-based quality level."""
    points = []
    for level in levels:
        bits = pixels = 0
        psnrs = []
        for img in images:
            x = pad_to_multiple(torch.from_numpy(img)[None, None])
            enc = model.compress(x, level)
            bits += 8 * sum(len(s[0]) for s in enc["strings"])
            x_hat = model.decompress(enc["strings"], enc["shape"], level)["x_hat"]
            x_hat = crop_to(x_hat, *img.shape)[0, 0].clamp(0, 1).mul(255).round().numpy()
            mse = float(np.mean((x_hat - img * 255.0) ** 2))
            psnrs.append(10 * math.log10(255.0**2 / max(mse, 1e-10)))
            pixels += img.size
        points.append({"quality": level + 1, "lambda": _lambda_at(model, level),
                       "bpp": round(bits / pixels, 4), "psnr": round(float(np.mean(psnrs)), 3)})
    return points


def _lambda_at(model: GainedMeanScaleHyperprior, level: float) -> float:
    low = min(int(level), len(model.lambdas) - 2)
    frac = level - low
    return round(model.lambdas[low] ** (1 - frac) * model.lambdas[low + 1] ** frac, 5)
