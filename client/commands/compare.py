"""``spikecodec compare ORIG DECODED``: bitrate, ISI / firing-rate fidelity and scene PSNR.

Scene PSNR comes in two labelled kinds: against ground truth (``--gt PNG[@PLANE]``,
gain-normalized: least-squares global gain, since a PNG and a firing rate differ
in scale) and, for decoded scenes in ``--scenes DIR``, against the reconstruction
of the original spikes by the same reconstructor (``--recon``, ``--window``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

HELP = "compare a decoded spike stream with the original: bpsp, ISI/firing-rate PSNR, scene PSNR"
_GT = re.compile(r"^(?P<path>.+?)(@(?P<plane>\d+))?$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_file_arguments, add_fr_window_argument, add_scene_arguments

    parser.add_argument("original", help="original spikes (.dat, .h5)")
    parser.add_argument("decoded", help="decoded spikes (.dat, .h5)")
    parser.add_argument("--gt", action="append", default=[], metavar="PNG[@PLANE]",
                        help="ground-truth scene of plane PLANE (default: the middle plane T//2); repeatable")
    parser.add_argument("--scenes", metavar="DIR", default=None, help="decoded scenes scene_<centre>.png to score")
    parser.add_argument("--bitstream", default=None, help="the .spkc (or any) file whose size gives bpsp and bpp")
    add_scene_arguments(parser, recon_help="reconstructor of the reference scenes")
    add_fr_window_argument(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for --method/--recon net (default: torch's choice)")
    add_file_arguments(parser, dataset_of="original (DECODED is read as written by decode)")


def parse_gt(spec: str, num_planes: int) -> tuple[Path, int]:
    """``PNG[@PLANE]`` -> (path, plane); the plane defaults to ``num_planes // 2``."""
    match = _GT.match(spec)
    assert match is not None  # the pattern matches every string
    plane = match.group("plane")
    return Path(match.group("path")), int(plane) if plane is not None else num_planes // 2


def _scene_scores(reference, scene) -> dict:
    from codec.errors import SpikecodecError
    from codec.metrics import gain_normalized_psnr, least_squares_gain, ms_ssim

    scores = {"psnr_gain_normalized": gain_normalized_psnr(reference, scene),
              "gain": least_squares_gain(reference, scene)}
    try:
        scores["ms_ssim_gain_normalized"] = ms_ssim(reference, (scene * scores["gain"]).clip(0, 1))
    except SpikecodecError:
        pass  # scene too small for 5-scale MS-SSIM
    return scores


def run(args: argparse.Namespace) -> dict:
    import numpy as np

    from codec.errors import SpikecodecError
    from codec.io import open_spikes
    from codec.metrics import bpp, bpsp, ms_ssim, psnr, stream_fidelity
    from codec.reconstruct import get_reconstructor, reconstruct_at, scene_centres
    from codec.reconstruct.pngs import list_scene_pngs, read_scene_png

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    reconstructor = get_reconstructor(args.recon, args.window)
    label = f"{args.recon} K={args.window}"
    with open_spikes(args.original, args.height, args.width, args.dataset) as orig, \
            open_spikes(args.decoded, args.height, args.width) as dec:
        result: dict = stream_fidelity(orig, dec, window=args.fr_window).to_dict()
        t, h, w = orig.num_planes, orig.height, orig.width
        scenes = list_scene_pngs(args.scenes) if args.scenes else {}
        if args.bitstream:
            bits = Path(args.bitstream).stat().st_size * 8
            num_scenes = len(scenes) or len(scene_centres(t, args.window, args.offset))
            result.update(bitstream_bits=bits, bpsp=bpsp(bits, t, h, w), bpp=bpp(bits, num_scenes, h, w))
        for spec in args.gt:
            path, plane = parse_gt(spec, t)
            if not 0 <= plane < t:
                raise SpikecodecError(f"--gt {spec}: plane {plane} outside the stream's {t} planes")
            gt = read_scene_png(path)
            if gt.shape != (h, w):
                raise SpikecodecError(f"--gt {path} is {gt.shape[0]}x{gt.shape[1]}, the stream is {h}x{w}")
            entry: dict = {"plane": plane, "kind": "gain-normalized vs ground truth",
                           "original_recon": _scene_scores(gt, reconstruct_at(orig, reconstructor, plane)),
                           "decoded_recon": _scene_scores(gt, reconstruct_at(dec, reconstructor, plane)),
                           "reconstructor": label}
            if scenes:
                centre = min(scenes, key=lambda c: abs(c - plane))
                entry["decoded_scene"] = {"centre": centre, **_scene_scores(gt, read_scene_png(scenes[centre]))}
            result.setdefault("ground_truth", {})[str(path)] = entry
        if scenes:
            psnrs, ssims = [], []
            for centre, png in scenes.items():
                if centre >= t:
                    raise SpikecodecError(f"{png.name}: centre {centre} is beyond the stream's {t} planes")
                reference = reconstruct_at(orig, reconstructor, centre)
                decoded = read_scene_png(png)
                psnrs.append(psnr(reference, decoded))
                if min(h, w) > 160:
                    ssims.append(ms_ssim(reference, decoded))
            result["scene_psnr"] = float(np.mean(psnrs))
            result["scene_ms_ssim"] = float(np.mean(ssims)) if ssims else None
            result["scene_reference"] = f"reconstruction of the original spikes ({label}), {len(psnrs)} scenes"
    return result
