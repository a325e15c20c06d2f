"""Scenes as 8- or 16-bit gray PNG files named by centre plane (``scene_00150.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from codec.errors import SpikecodecError

_NAME = re.compile(r"^scene_(\d+)\.png$")


def scene_filename(centre: int) -> str:
    """``scene_<centre, 5 digits>.png``."""
    return f"scene_{centre:05d}.png"


def write_scene_png(path: str | Path, scene: np.ndarray, bit_depth: int = 8) -> None:
    """Write an ``(H, W)`` scene in ``[0, 1]`` as gray PNG, ``round(peak * s)`` with peak 255
    (``bit_depth`` 8) or 65535 (16)."""
    scene = np.asarray(scene)
    if scene.ndim != 2:
        raise SpikecodecError(f"a scene is (H, W), got shape {scene.shape}")
    if bit_depth not in (8, 16):
        raise SpikecodecError(f"PNG scenes are 8 or 16 bit, got {bit_depth}")
    dtype, peak = (np.uint8, 255.0) if bit_depth == 8 else (np.uint16, 65535.0)
    Image.fromarray(np.round(np.clip(scene, 0.0, 1.0) * peak).astype(dtype)).save(path)


def read_scene_png(path: str | Path) -> np.ndarray:
    """An 8-bit (or 16-bit) PNG as an ``(H, W)`` float32 scene in ``[0, 1]`` (colour is converted to gray)."""
    try:
        image = Image.open(path)
        image.load()
    except (OSError, ValueError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise SpikecodecError(f"{path}: not a readable image ({err})") from None
    if image.mode in ("I;16", "I;16B", "I"):
        return (np.asarray(image, dtype=np.float32) / 65535.0).clip(0, 1)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def list_scene_pngs(folder: str | Path) -> dict[int, Path]:
    """``{centre: path}`` of the ``scene_<centre>.png`` files in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpikecodecError(f"scene folder not found: {folder}")
    found = {}
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))
