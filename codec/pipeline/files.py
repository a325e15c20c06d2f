"""File to file: ``encode_file`` (spikes -> ``.spkc``) and ``decode_file`` (``.spkc`` -> spikes).

Both stream in blocks (memory does not grow with the file), write to a temporary
name beside the destination and rename it only on success, so a failed run
never leaves a partial output that looks complete. Both return a summary dict:
``bits`` (container size, all records included), ``bpsp = bits / (T*H*W)``,
``bpp = bits / (scenes*H*W)`` (``None`` without scenes), ``scenes``, ``planes``, the stream parameters
and ``timings`` (seconds, planes/s, ms per scene).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
from tqdm import tqdm

from codec.bitstream import StreamHeader
from codec.device import CPU
from codec.io import open_spikes, open_writer, spike_format
from codec.metrics import bpp, bpsp
from codec.pipeline.config import EncoderConfig
from codec.pipeline.decoder import Decoder
from codec.pipeline.encoder import Encoder
from codec.pipeline.prediction import scene_values
from codec.reconstruct.pngs import scene_filename, write_scene_png

if TYPE_CHECKING:
    from codec.pipeline.workers import WorkerPool

#: planes read per block when encoding, bytes read per chunk when decoding
BLOCK_PLANES = 256
CHUNK_BYTES = 1 << 16


@contextmanager
def _atomic_output(dst: Path) -> Iterator[Path]:
    """A temporary path with ``dst``'s suffix, renamed to ``dst`` if the body succeeds."""
    tmp = dst.with_name(f".{dst.stem}.partial{dst.suffix}")
    try:
        yield tmp
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _progress(total: int | None, desc: str, show: bool) -> tqdm:
    """A planes progress bar on stderr (shown only if ``show`` and stderr is a terminal)."""
    return tqdm(total=total, desc=desc, unit="plane", file=sys.stderr, leave=False, disable=None if show else True)


def encode_file(src: str | Path, dst: str | Path, config: EncoderConfig,
                height: int | None = None, width: int | None = None, progress: bool = False,
                dataset: str | None = None, pool: WorkerPool | None = None, device: str = CPU) -> dict:
    """Encode a spike file (``.dat`` needs ``height``/``width``, default 250x400) to ``dst`` (``.spkc``).

    Args:
        progress: show a progress bar on stderr (when it is a terminal).
        dataset: HDF5: read this plain ``(T, H, W)`` dataset (:func:`codec.io.open_spikes`).
        pool: code the scenes on these Ray workers (the same bytes).
        device: where the learned parts compute (:class:`~codec.pipeline.encoder.Encoder`).
    """
    dst = Path(dst)
    start = time.perf_counter()
    read = 0.0
    with open_spikes(src, height, width, dataset) as reader, _atomic_output(dst) as tmp, open(tmp, "wb") as out:
        encoder = Encoder(config, reader.height, reader.width, reader.sensor, num_planes=reader.num_planes, pool=pool,
                          device=device)
        out.write(encoder.header_record())
        blocks = reader.iter_blocks(BLOCK_PLANES)
        with _progress(reader.num_planes, "encode", progress) as bar:
            while True:
                tic = time.perf_counter()
                block = next(blocks, None)
                read += time.perf_counter() - tic
                if block is None:
                    break
                out.writelines(encoder.push(block))
                bar.update(len(block))
        out.writelines(encoder.finish())
        size = out.tell()
    timings = {"read": read, **encoder.timings}
    return _summary(src, dst, encoder.header, size, encoder.num_planes, encoder.num_scenes,
                    timings, time.perf_counter() - start)


def decode_file(src: str | Path, dst: str | Path, scenes_dir: str | Path | None = None,
                progress: bool = False, pool: WorkerPool | None = None, device: str = CPU) -> dict:
    """Decode ``src`` (``.spkc``) to spikes at ``dst`` (``.dat`` or ``.h5``).

    Args:
        scenes_dir: if given, every decoded 8-bit scene is saved there as
            ``scene_<centre>.png`` (:func:`codec.reconstruct.pngs.scene_filename`; created if missing).
        progress: show a progress bar on stderr (when it is a terminal).
        pool: decode the scenes on these Ray workers (the same planes).
        device: where the synthesis transform computes (:class:`~codec.pipeline.decoder.Decoder`).
    """
    dst = Path(dst)
    spike_format(dst)  # an unknown suffix fails before any decoding
    start = time.perf_counter()
    on_scene = None
    if scenes_dir is not None:
        scenes_dir = Path(scenes_dir)
        scenes_dir.mkdir(parents=True, exist_ok=True)

        def on_scene(centre: int, scene: np.ndarray) -> None:
            write_scene_png(scenes_dir / scene_filename(centre), scene_values(scene))

    decoder = Decoder(on_scene=on_scene, pool=pool, device=device)
    write = 0.0
    with open(src, "rb") as stream, _atomic_output(dst) as tmp, _progress(None, "decode", progress) as bar:
        writer = None
        try:
            while chunk := stream.read(CHUNK_BYTES):
                for planes in decoder.blocks(chunk):
                    tic = time.perf_counter()
                    if writer is None:
                        h = decoder.header
                        writer = open_writer(tmp, h.height, h.width, sensor=h.sensor)
                        bar.reset(total=h.num_planes or None)
                    writer.write(planes)
                    bar.update(len(planes))
                    write += time.perf_counter() - tic
            stats = decoder.finish()
        finally:
            if writer is not None:
                writer.close()
    timings = {**decoder.timings, "write": write}
    return _summary(src, dst, decoder.header, stats["bytes"], stats["planes"], stats["scenes"],
                    timings, time.perf_counter() - start)


def _summary(src: str | Path, dst: Path, header: StreamHeader, size: int, planes: int, scenes: int,
             timings: dict[str, float], total: float) -> dict:
    bits = 8 * size
    return {
        "input": str(src),
        "output": str(dst),
        "bits": bits,
        "bpsp": bpsp(bits, planes, header.height, header.width),
        "bpp": bpp(bits, scenes, header.height, header.width) if scenes else None,
        "scenes": scenes,
        "planes": planes,
        "height": header.height,
        "width": header.width,
        "window": header.window,
        "offset": header.offset,
        "quality": header.quality,
        "recon": header.recon,
        "attention": header.attention,
        "model": header.model,
        "intra_period": header.intra_period,
        "exact": header.exact,
        "timings": {
            **{f"{name}_s": round(value, 4) for name, value in timings.items()},
            "total_s": round(total, 4),
            "planes_per_s": round(planes / total, 1) if total else 0.0,
            "ms_per_scene": round(1000 * total / scenes, 2) if scenes else 0.0,
        },
    }
