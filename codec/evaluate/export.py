"""The reference scenes a bench run scores, as files an external VVC encoder reads
(``spikecodec reconstruct SOURCE -o DIR --format yuv --bit-depth 10``).

The source is opened and reconstructed by the bench's own code (:func:`codec.evaluate.sweep.open_source`,
:func:`codec.evaluate.scores.iter_reference_scenes`): same reconstruction, window, centres,
planes and crop, read block by block. Written to ``DIR``:

- ``--format yuv``: ``<stem>.yuv``, the frames the built-in VVC anchor feeds libvvenc
  (:func:`codec.anchors.frames.scenes_to_yuv420p10`: ``yuv420p10le``, ``Y = round(1023 * scene)``
  full range, chroma 512, padded bottom/right to multiples of 8 by edge replication);
  ``--format png``: ``scene_<centre>.png``, 8- or 16-bit gray at the scene size;
- ``<stem>.scenes.json``: the manifest (settings, frame size, centres, and encoder command
  lines for this file), which ``bench --vvc-outputs`` checks against its own scenes;
- ``sizes.json``: the template ``{"<stem>_qp<QP>": null}`` for decoded-only imports
  (earlier entries are kept).

Encoded outputs go into the same folder (:mod:`codec.anchors.imported`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from codec.anchors.frames import PEAK_10BIT, padded_size, scenes_to_yuv420p10
from codec.anchors.imported import MANIFEST_SUFFIX
from codec.errors import SpikecodecError
from codec.evaluate.scores import iter_reference_scenes
from codec.evaluate.sweep import BenchSettings, open_source
from codec.options import DEFAULT_QPS
from codec.reconstruct.pngs import scene_filename, write_scene_png
from codec.reconstruct.windows import scene_centres

#: bit depths each format can be written at
BIT_DEPTHS = {"png": (8, 16), "yuv": (10,)}


def encode_commands(stem: str, frame_width: int, frame_height: int, frames: int, preset: str = "medium") -> dict:
    """Command lines coding ``<stem>.yuv`` at ``$QP`` into ``<stem>_qp$QP.266`` (run in the export folder),
    all intra with the settings of the built-in ``vvc`` anchor (``-qpa 0``, one thread)."""
    size = f"{frame_width}x{frame_height}"
    out = f"{stem}_qp$QP.266"
    return {
        "ffmpeg": (f"\"$FFMPEG\" -loglevel error -y -f rawvideo -pix_fmt yuv420p10le -s {size} -r 25 -i {stem}.yuv "
                   f"-c:v libvvenc -preset {preset} -threads 1 -qp $QP -qpa 0 -vvenc-params IntraPeriod=1 "
                   f"-f vvc {out}"),
        "vvencapp": (f"vvencapp -i {stem}.yuv -s {size} -c yuv420_10 -r 25 --preset {preset} -t 1 -q $QP --qpa 0 "
                     f"--intraperiod 1 -o {out}"),
        "EncoderApp": (f"EncoderApp -c encoder_intra_vtm.cfg -i {stem}.yuv -wdt {frame_width} -hgt {frame_height} "
                       f"-fr 25 -f {frames} --InputBitDepth=10 --OutputBitDepth=10 -q $QP -b {out} -o /dev/null"),
    }


def _write_sizes_template(output: Path, stem: str, qps: Sequence[int]) -> None:
    path = output / "sizes.json"
    sizes = json.loads(path.read_text()) if path.exists() else {}
    for qp in qps:
        sizes.setdefault(f"{stem}_qp{qp}", None)
    path.write_text(json.dumps(sizes, indent=1) + "\n")


def export_scenes(spec: str, settings: BenchSettings, output: Path, fmt: str = "png", bit_depth: int = 8,
                  qps: Sequence[int] = DEFAULT_QPS, gain: float = 1.0) -> dict:
    """Write the reference scenes of ``spec`` under ``settings`` to ``output`` (module docstring).

    Args:
        spec: a bench source (:func:`codec.evaluate.sources.open_input`).
        settings: the bench's source settings (reconstruction, window, offset, planes, crop, ...).
        fmt: ``yuv`` or ``png``; bit_depth: one of :data:`BIT_DEPTHS` of ``fmt``.
        qps: the keys of the ``sizes.json`` template.
        gain: scene value per unit firing rate (PNG only: the bench scores gain 1).

    Returns:
        a summary: files, scene count and centres, frame size, and the command lines.

    Raises:
        SpikecodecError: for a bit depth the format cannot hold, or a gain other than 1 for YUV.
    """
    from tqdm import tqdm

    if fmt not in BIT_DEPTHS or bit_depth not in BIT_DEPTHS[fmt]:
        raise SpikecodecError(f"--format {fmt} is written at bit depth "
                              f"{' or '.join(map(str, BIT_DEPTHS.get(fmt, ())))}, not {bit_depth}")
    if fmt == "yuv" and gain != 1.0:
        raise SpikecodecError("--format yuv exports the bench's scenes, which have gain 1; drop --gain")
    output.mkdir(parents=True, exist_ok=True)
    with open_source(spec, settings) as source:
        stem, height, width = source.name, source.height, source.width
        frame_height, frame_width = padded_size(height, width) if fmt == "yuv" else (height, width)
        total = len(scene_centres(source.num_planes, settings.window, settings.offset))
        scenes = iter_reference_scenes(source.blocks, settings.recon, settings.window, settings.offset, gain)
        centres = []
        video = open(output / f"{stem}.yuv", "wb") if fmt == "yuv" else None
        try:
            for centre, scene in tqdm(scenes, total=total, desc="reconstruct", unit="scene", leave=False,
                                      file=sys.stderr, disable=None):
                if video is not None:
                    video.write(scenes_to_yuv420p10(scene[None])[0])
                else:
                    write_scene_png(output / scene_filename(centre), scene, bit_depth)
                centres.append(centre)
        finally:
            if video is not None:
                video.close()
        num_planes = source.num_planes
    commands = encode_commands(stem, frame_width, frame_height, len(centres)) if fmt == "yuv" else {}
    manifest = {
        "source": stem, "spec": str(spec), "format": fmt, "bit_depth": bit_depth,
        "file": f"{stem}.yuv" if fmt == "yuv" else "scene_<centre>.png",
        "pix_fmt": "yuv420p10le" if fmt == "yuv" else f"gray{'' if bit_depth == 8 else '16'}",
        "luma": (f"Y = round({PEAK_10BIT} * scene), full range; chroma 512; padded bottom/right by edge replication"
                 if fmt == "yuv" else f"round({(1 << bit_depth) - 1} * scene), full range"),
        "recon": settings.recon, "window": settings.window, "offset": centres[0] if centres else settings.offset,
        "planes": num_planes, "crop": list(settings.crop) if settings.crop else None, "gain": gain,
        "height": height, "width": width, "frame_height": frame_height, "frame_width": frame_width,
        "frames": len(centres), "centres": centres, "encode": commands,
    }  # fmt: skip
    (output / f"{stem}{MANIFEST_SUFFIX}").write_text(json.dumps(manifest, indent=1) + "\n")
    _write_sizes_template(output, stem, qps)
    return {"output": str(output), "source": stem, "format": fmt, "bit_depth": bit_depth, "method": settings.recon,
            "window": settings.window, "offset": manifest["offset"], "num_planes": num_planes, "scenes": len(centres),
            "first_centre": centres[0] if centres else None, "last_centre": centres[-1] if centres else None,
            "frame_size": f"{frame_width}x{frame_height}", "encode": commands}
