"""Rate-distortion of a scene codec, or of an anchor, on still gray images.

Both sides code ``(H, W)`` images in [0, 1] one by one and are scored the same
way: bpp = total bits over total pixels; PSNR (dB, peak 255) of the decoded image
rounded to 8 bits, averaged over images. Used for the training records (Kodak,
evaluation only) and by :mod:`codec.evaluate.kodak`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from codec.metrics.scene import psnr

#: ``code(image, param) -> (bitstream, decoded image in [0, 1])``
Coder = Callable[[np.ndarray, int], tuple[bytes, np.ndarray]]


def load_gray(folder: Path) -> list[np.ndarray]:
    """All PNG images of ``folder`` as float32 ``(H, W)`` in [0, 1], sorted by name."""
    out = []
    for path in sorted(Path(folder).glob("*.png")):
        with Image.open(path) as img:
            out.append(np.asarray(img.convert("L"), dtype=np.float32) / 255.0)
    return out


def image_rd(code: Coder, images: list[np.ndarray], params: Iterable[int]) -> list[dict]:
    """``{"param", "bpp", "psnr"}`` per parameter (quality or QP) of ``code`` over ``images``."""
    points = []
    for param in params:
        bits = pixels = 0
        psnrs = []
        for img in images:
            stream, decoded = code(img, param)
            bits += 8 * len(stream)
            pixels += img.size
            psnrs.append(psnr(img * 255.0, np.round(decoded * 255.0), peak=255.0))
        points.append({"param": param, "bpp": round(bits / pixels, 4), "psnr": round(float(np.mean(psnrs)), 3)})
    return points


def codec_rd(codec, images: list[np.ndarray]) -> list[dict]:
    """:func:`image_rd` of a :class:`codec.models.SceneCodec` at each of its integer qualities;
    bpp counts the whole scene payload (including its header)."""

    def code(img: np.ndarray, quality: int) -> tuple[bytes, np.ndarray]:
        payload = codec.encode_scene(img, quality)
        return payload, codec.decode_scene(payload, *img.shape, quality)

    first = codec.qualities[0]
    return [{"quality": p["param"], "lambda": codec.lambdas[p["param"] - first], "bpp": p["bpp"], "psnr": p["psnr"]}
            for p in image_rd(code, images, codec.qualities)]


def anchor_rd(anchor, images: list[np.ndarray], qps: Iterable[int]) -> list[dict]:
    """:func:`image_rd` of a video anchor (:mod:`codec.anchors.video`) coding each image as one
    frame at each QP (10-bit 4:2:0 with flat chroma; rate = elementary stream bytes)."""

    def code(img: np.ndarray, qp: int) -> tuple[bytes, np.ndarray]:
        stream = anchor.encode(img[None], qp)
        return stream, anchor.decode(stream, 1, *img.shape)[0]

    return [{"qp": p["param"], "bpp": p["bpp"], "psnr": p["psnr"]} for p in image_rd(code, images, qps)]
