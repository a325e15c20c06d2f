"""Importer of VVC outputs produced elsewhere (vvencapp, VTM's EncoderApp, ffmpeg ...), joined to our scenes.

The scenes to code come from ``spikecodec reconstruct SOURCE -o DIR --format yuv --bit-depth 10``
with the bench's own flags (:mod:`codec.evaluate.export`): ``<stem>.yuv``, its manifest
``<stem>.scenes.json`` and a ``sizes.json`` template. Encoded outputs go into the same
folder, given to the bench as ``--vvc-outputs DIR``. Layout for a source whose label is
``<stem>`` (``reds_203_part2`` for ``reds_203_part2.dat``), one entry per QP, frames in
scene order (frame ``i`` is scene ``i``, centred on plane ``C0 + i*K``):

- ``<stem>_qp<QP>.266`` or ``<stem>_qp<QP>.vvc``: the bitstream; its file size is
  the rate, decoded here with ffmpeg's ``vvc`` decoder.
- ``<stem>_qp<QP>.yuv``: decoded ``yuv420p10le`` frames, ``H x W`` or padded to
  multiples of 8..128 (cropped top-left); the rate comes from ``sizes.json``.
- ``<stem>_qp<QP>/``: a folder of decoded 8- or 16-bit gray PNGs, one per scene,
  in name order, ``H x W`` or padded like the YUV; the rate comes from ``sizes.json``.
- ``sizes.json``: ``{"<stem>_qp<QP>": bitstream_bytes, ...}`` for decoded-only entries.

Scene values are ``Y / peak`` (1023 for 10-bit, 255 or 65535 for PNG), full range.
What the bench checks, so that a wrong import fails loudly instead of scoring a wrong curve:

- a source without entries, or an entry named ``<stem>_qp...`` outside the layout (``.h266``,
  a file where a folder belongs): refused, naming the entries expected and those found;
- ``<stem>.scenes.json`` (when present) against the bench's scenes: reconstruction, centres
  (window, offset, planes) and size (crop) must agree;
- frame count and frame size of every entry; 10-bit values above 1023 (P010 / 16-bit data);
- limited-range ("TV") luma, which ffmpeg's ordinary gray/RGB -> YUV step produces
  (black 64, white 940 at 10 bits): detected against the reference scenes
  (:func:`to_full_range`) and converted, with a warning kept in the point.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from codec.anchors.base import AnchorError, AnchorOutput
from codec.anchors.frames import coded_sizes, yuv420p10_to_scenes
from codec.anchors.video import vvc

_NAME = re.compile(r"^(?P<stem>.+)_qp(?P<qp>\d+)(?P<ext>\.266|\.vvc|\.yuv)?$")
BITSTREAM_SUFFIXES = (".266", ".vvc")
#: the manifest the export writes beside ``<stem>.yuv``
MANIFEST_SUFFIX = ".scenes.json"
#: settings of the manifest that must equal the bench's
MANIFEST_KEYS = ("recon", "centres", "height", "width", "gain")
#: a limited-range conversion is applied when it raises the PSNR against the reference by this much
LIMITED_RANGE_GAIN_DB = 1.0


def expected_names(stem: str) -> str:
    """The entry names the importer looks for (for error messages)."""
    return f"{stem}_qp<QP>.266 (or .vvc, or decoded .yuv), or a folder {stem}_qp<QP>/ of PNGs"


def find_outputs(directory: Path, stem: str) -> dict[int, Path]:
    """``{qp: path}`` of the entries of ``directory`` named for source ``stem``.

    Raises:
        AnchorError: if ``directory`` is not a folder, holds no entry for ``stem``, holds two
            entries for one QP, or holds an entry named ``<stem>_qp...`` outside the layout.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise AnchorError(f"--vvc-outputs {directory}: not a directory")
    found: dict[int, Path] = {}
    stray = []
    entries = sorted(directory.iterdir())
    for path in entries:
        match = _NAME.match(path.name)
        if not match or match["stem"] != stem or (match["ext"] is None) != path.is_dir():
            if path.name.lower().startswith(f"{stem.lower()}_qp"):
                stray.append(path.name)
            continue
        qp = int(match["qp"])
        if qp in found:
            raise AnchorError(f"{directory}: two VVC outputs for {stem} at qp {qp}: {found[qp].name}, {path.name}")
        found[qp] = path
    if stray:
        raise AnchorError(f"--vvc-outputs {directory}: {', '.join(stray)} not in the layout; expected "
                          f"{expected_names(stem)}")
    if not found:
        names = [p.name for p in entries]
        held = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") or "nothing"
        raise AnchorError(f"--vvc-outputs {directory}: no VVC output for source {stem}; expected "
                          f"{expected_names(stem)}; the folder holds {held}")
    return found


def read_manifest(directory: Path, stem: str) -> dict | None:
    """``<stem>.scenes.json`` of ``directory`` (written by the export), or ``None`` if absent."""
    path = Path(directory) / f"{stem}{MANIFEST_SUFFIX}"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as err:
        raise AnchorError(f"{path}: not valid JSON: {err}") from err


def check_manifest(directory: Path, stem: str, expected: dict) -> None:
    """Refuse outputs whose export manifest disagrees with the scenes the bench scores.

    Args:
        expected: the bench's ``recon``, ``centres`` (list of planes), ``height``, ``width`` and ``gain`` (1).

    Raises:
        AnchorError: naming every setting that differs.
    """
    manifest = read_manifest(directory, stem)
    if manifest is None:
        return
    differ = [f"{key} {_short(manifest.get(key))} (bench: {_short(expected[key])})"
              for key in MANIFEST_KEYS if manifest.get(key) != expected[key]]
    if differ:
        raise AnchorError(f"{directory / (stem + MANIFEST_SUFFIX)}: the scenes were exported with "
                          f"{'; '.join(differ)}; export them again with the bench's flags "
                          f"(spikecodec reconstruct --method/--window/--offset/--planes/--crop)")


def _short(value: object) -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"{len(value)} centres {value[0]}, {value[1]}, ..., {value[-1]}"
    return str(value)


def read_gray_pngs(paths: list[Path], height: int, width: int) -> tuple[np.ndarray, int]:
    """Read gray PNGs (8 or 16 bit) as ``(N, H, W)`` float32 in ``[0, 1]`` and their bit depth.

    Each must be ``height x width`` or padded to one of :func:`codec.anchors.frames.coded_sizes`
    (cropped top-left, as the export pads); a full frame where the bench scores a crop is refused.
    """
    scenes, depths = [], set()
    sizes = coded_sizes(height, width)
    for path in paths:
        with Image.open(path) as image:
            data = np.asarray(image)
        if data.ndim != 2:
            raise AnchorError(f"{path}: expected a gray PNG, got shape {data.shape}")
        if data.shape not in sizes:
            raise AnchorError(f"{path}: {data.shape[1]}x{data.shape[0]} PNG, but the bench scores "
                              f"{width}x{height} scenes; export them with the bench's --crop and --planes "
                              f"(spikecodec reconstruct --crop {height}x{width})")
        depths.add(8 if data.dtype == np.uint8 else 16)
        peak = 255.0 if data.dtype == np.uint8 else 65535.0
        scenes.append(data[:height, :width].astype(np.float32) / np.float32(peak))
    if len(depths) > 1:
        raise AnchorError(f"{paths[0].parent}: PNGs of mixed bit depths")
    return (np.stack(scenes) if scenes else np.zeros((0, height, width), np.float32)), depths.pop() if depths else 8


def _declared_size(directory: Path, key: str) -> int:
    sizes_path = directory / "sizes.json"
    try:
        sizes = json.loads(sizes_path.read_text())
    except FileNotFoundError:
        raise AnchorError(f"{directory}: decoded output {key} needs its bitstream size in sizes.json") from None
    except json.JSONDecodeError as err:
        raise AnchorError(f"{sizes_path}: not valid JSON: {err}") from err
    if not isinstance(sizes.get(key), int) or sizes[key] <= 0:
        raise AnchorError(f"{sizes_path}: no positive byte count for {key} (fill in the bitstream's size)")
    return sizes[key]


@dataclass(frozen=True)
class ImportedOutput:
    """One imported entry: the coded point and the bit depth its frames were read at."""

    output: AnchorOutput
    bit_depth: int


def import_output(path: Path, num_scenes: int, height: int, width: int) -> ImportedOutput:
    """Read one entry of the layout (a bitstream, decoded YUV or a PNG folder).

    Returns:
        the point: payload = the bitstream's bytes, or ``sizes.json``'s count of zero bytes for
        a decoded entry (only its length counts); ``(N, H, W)`` float32 scenes.

    Raises:
        AnchorError: unreadable entries, wrong frame counts or sizes, failed decodes.
    """
    path = Path(path)
    if path.suffix in BITSTREAM_SUFFIXES:
        payload, depth = path.read_bytes(), 10
        scenes = _frames(path, lambda: vvc().decode(payload, num_scenes, height, width))
    elif path.suffix == ".yuv":
        payload, depth = bytes(_declared_size(path.parent, path.stem)), 10
        scenes = _frames(path, lambda: yuv420p10_to_scenes(path.read_bytes(), num_scenes, height, width))
    else:
        payload = bytes(_declared_size(path.parent, path.name))
        scenes, depth = read_gray_pngs(sorted(path.glob("*.png")), height, width)
    if scenes.shape[0] != num_scenes:
        raise AnchorError(f"{path}: {scenes.shape[0]} frames, expected {num_scenes} scenes")
    return ImportedOutput(AnchorOutput(payload=payload, scenes=scenes), depth)


def _frames(path: Path, read: Callable[[], np.ndarray]) -> np.ndarray:
    """``read()``, its error prefixed with the entry's path."""
    try:
        return read()
    except AnchorError as err:
        raise AnchorError(f"{path}: {err}") from None


def import_vvc_outputs(directory: Path, stem: str, num_scenes: int, height: int, width: int) -> dict[int, AnchorOutput]:
    """Load every external VVC output for one source (:func:`find_outputs`, :func:`import_output`).

    Returns:
        ``{qp: AnchorOutput}``.
    """
    return {qp: import_output(path, num_scenes, height, width).output
            for qp, path in find_outputs(Path(directory), stem).items()}


def limited_range(bit_depth: int) -> tuple[float, float]:
    """Black and white luma of limited ("TV") range at ``bit_depth``, in units of the full-range peak."""
    peak = (1 << bit_depth) - 1
    scale = 1 << (bit_depth - 8)
    return 16 * scale / peak, 235 * scale / peak


def to_full_range(scenes: np.ndarray, reference: np.ndarray, bit_depth: int) -> tuple[np.ndarray, str]:
    """Imported scenes in full range, converted from limited range if that is what they hold.

    The frames are compared with the reference scenes they were coded from: if mapping
    limited-range luma (black 64, white 940 at 10 bits) back to full range brings them
    closer by at least :data:`LIMITED_RANGE_GAIN_DB` of PSNR, they were limited range.

    Args:
        scenes: ``(N, H, W)`` imported scenes, ``Y / peak``.
        reference: ``(N, H, W)`` reference scenes of the bench.
        bit_depth: of the imported frames (10 for YUV / bitstreams, 8 or 16 for PNG).

    Returns:
        ``(scenes, warning)``: the warning (``what; figures``) is empty when nothing was converted.
    """
    from codec.metrics import psnr

    black, white = limited_range(bit_depth)
    converted = np.clip((scenes - black) / (white - black), 0.0, 1.0).astype(np.float32)
    as_is, as_limited = psnr(reference, scenes), psnr(reference, converted)
    if as_limited < as_is + LIMITED_RANGE_GAIN_DB:
        return scenes, ""
    peak = (1 << bit_depth) - 1
    return converted, (f"limited-range luma {round(black * peak)}..{round(white * peak)} converted to full range; "
                       f"{as_is:.1f} -> {as_limited:.1f} dB against the reference")
