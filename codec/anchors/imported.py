"""Importer of VVC outputs produced elsewhere (e.g. VTM runs), joined to our scenes.

Layout of ``DIR`` for a source whose file stem is ``<stem>`` (``reds_203_part2``
for ``reds_203_part2.dat``), one entry per QP, frames in scene order (frame ``i``
is scene ``i``, centred on plane ``C0 + i*K``):

- ``<stem>_qp<QP>.266`` or ``<stem>_qp<QP>.vvc``: the bitstream; its file size is
  the rate, decoded here with ffmpeg's ``vvc`` decoder.
- ``<stem>_qp<QP>.yuv``: decoded ``yuv420p10le`` frames, ``H x W`` or padded to
  multiples of 8..128 (cropped top-left); the rate comes from ``sizes.json``.
- ``<stem>_qp<QP>/``: a folder of decoded 8- or 16-bit gray PNGs, one per scene,
  in name order; the rate comes from ``sizes.json``.
- ``sizes.json``: ``{"<stem>_qp<QP>": bitstream_bytes, ...}`` for decoded-only entries.

Scene values are ``Y / peak`` (1023 for 10-bit YUV, 255 or 65535 for PNG).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from codec.anchors.base import AnchorError, AnchorOutput
from codec.anchors.frames import yuv420p10_to_scenes
from codec.anchors.video import vvc

_NAME = re.compile(r"^(?P<stem>.+)_qp(?P<qp>\d+)(?P<ext>\.266|\.vvc|\.yuv)?$")
BITSTREAM_SUFFIXES = (".266", ".vvc")


def read_gray_pngs(paths: list[Path], height: int, width: int) -> np.ndarray:
    """Read gray PNGs (8 or 16 bit) as ``(N, H, W)`` float32 in ``[0, 1]``, cropped top-left."""
    scenes = []
    for path in paths:
        with Image.open(path) as image:
            data = np.asarray(image)
        if data.ndim != 2:
            raise AnchorError(f"{path}: expected a gray PNG, got shape {data.shape}")
        if data.shape[0] < height or data.shape[1] < width:
            raise AnchorError(f"{path}: {data.shape[1]}x{data.shape[0]} is smaller than the scenes ({width}x{height})")
        peak = 255.0 if data.dtype == np.uint8 else 65535.0
        scenes.append(data[:height, :width].astype(np.float32) / np.float32(peak))
    return np.stack(scenes) if scenes else np.zeros((0, height, width), np.float32)


def find_outputs(directory: Path, stem: str) -> dict[int, Path]:
    """``{qp: path}`` of the entries of ``directory`` named for source ``stem``."""
    found: dict[int, Path] = {}
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if not match or match["stem"] != stem:
            continue
        if (match["ext"] is None) != path.is_dir():
            continue
        qp = int(match["qp"])
        if qp in found:
            raise AnchorError(f"{directory}: two VVC outputs for {stem} at qp {qp}: {found[qp].name}, {path.name}")
        found[qp] = path
    return found


def _declared_size(directory: Path, key: str) -> int:
    sizes_path = directory / "sizes.json"
    try:
        sizes = json.loads(sizes_path.read_text())
    except FileNotFoundError:
        raise AnchorError(f"{directory}: decoded output {key} needs its bitstream size in sizes.json") from None
    except json.JSONDecodeError as err:
        raise AnchorError(f"{sizes_path}: not valid JSON: {err}") from err
    if not isinstance(sizes.get(key), int) or sizes[key] <= 0:
        raise AnchorError(f"{sizes_path}: no positive byte count for {key}")
    return sizes[key]


def import_vvc_outputs(directory: Path, stem: str, num_scenes: int, height: int, width: int) -> dict[int, AnchorOutput]:
    """Load the external VVC outputs for one source.

    Args:
        directory: the ``--vvc-outputs`` folder (layout in the module docstring).
        stem: the source's file stem.
        num_scenes, height, width: the scenes they must match.

    Returns:
        ``{qp: AnchorOutput}``; the payload of a bitstream entry is its bytes, of a
        decoded entry ``sizes.json``'s count of zero bytes (only its length counts).

    Raises:
        AnchorError: unreadable entries, wrong frame counts or sizes, failed decodes.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise AnchorError(f"--vvc-outputs {directory} is not a directory")
    outputs: dict[int, AnchorOutput] = {}
    for qp, path in find_outputs(directory, stem).items():
        if path.suffix in BITSTREAM_SUFFIXES:
            payload = path.read_bytes()
            scenes = vvc().decode(payload, num_scenes, height, width)
        elif path.suffix == ".yuv":
            payload = bytes(_declared_size(directory, path.stem))
            scenes = yuv420p10_to_scenes(path.read_bytes(), num_scenes, height, width)
        else:
            payload = bytes(_declared_size(directory, path.name))
            scenes = read_gray_pngs(sorted(path.glob("*.png")), height, width)
        if scenes.shape[0] != num_scenes:
            raise AnchorError(f"{path.name}: {scenes.shape[0]} frames, expected {num_scenes} scenes of {stem}")
        outputs[qp] = AnchorOutput(payload=payload, scenes=scenes)
    return outputs
