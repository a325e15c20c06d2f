"""Scores of a decoded stream, as used by ``stream`` and ``bench`` (DESIGN.md, Metrics).

Everything is computed by :mod:`codec.metrics`; this module only chooses what is
reported and names it. PSNRs are in dB; an exact reconstruction scores ``inf``,
written to JSON as ``null`` together with ``"exact": true``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from codec.errors import SpikecodecError
from codec.metrics import bpp, bpsp, psnr, stream_fidelity
from codec.reconstruct import SceneStream, get_reconstructor

#: planes of the windowed firing rate reported by default
FR_WINDOW = 32


def finite_or_none(value: float) -> float | None:
    """``value`` rounded to 4 decimals, or ``None`` if infinite/NaN (JSON has no ``inf``)."""
    return round(float(value), 4) if math.isfinite(value) else None


def scene_psnr(reference: Sequence[np.ndarray], test: Sequence[np.ndarray]) -> float:
    """PSNR (peak 1) of all test scenes against their references, pooled over scenes."""
    return psnr(np.stack(reference), np.stack(test))


def reference_scenes(planes: np.ndarray, recon: str, window: int, offset: int | None = None) -> tuple[list[int], np.ndarray]:
    """Centres and ``(N, H, W)`` float32 scenes of ``planes`` by reconstructor ``recon``: the
    reference decoded scenes are scored against when no ground truth is known.

    Raises:
        SpikecodecError: if no scene centre lies inside the planes.
    """
    stream = SceneStream(get_reconstructor(recon, window), window, offset)
    pairs = stream.push(planes) + stream.finish()
    if not pairs:
        raise SpikecodecError(f"{len(planes)} planes hold no scene centre (window {window})")
    return [c for c, _ in pairs], np.stack([s for _, s in pairs]).astype(np.float32)


def latency_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """``{"p50", "p95", "max"}`` of latencies given in seconds, in ms (``None`` if none)."""
    if len(seconds) == 0:
        return {"p50": None, "p95": None, "max": None}
    p50, p95 = np.percentile(np.asarray(seconds) * 1000.0, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "max": round(1000.0 * max(seconds), 2)}


def rate_fields(bits: int, num_planes: int, num_scenes: int, height: int, width: int) -> dict:
    """Bitstream size and rates: ``bits``, ``bpsp``, ``bpp``, ``compression_ratio`` vs raw 1 bit/spike-pixel."""
    rate = bpsp(bits, num_planes, height, width)
    return {
        "bits": bits,
        "bpsp": rate,
        "bpp": bpp(bits, num_scenes, height, width) if num_scenes else None,
        "compression_ratio": round(1.0 / rate, 3) if rate > 0 else None,
    }


def fidelity_fields(original: np.ndarray, decoded: np.ndarray, fr_window: int = FR_WINDOW) -> dict:
    """ISI PSNR, instantaneous and windowed firing-rate PSNR, spike-count error.

    Args:
        original, decoded: ``(T, H, W)`` uint8 0/1 streams of equal size.
        fr_window: planes of the windowed firing rate (clipped to ``T``).
    """
    fid = stream_fidelity(original, decoded, window=min(fr_window, len(original)))
    return {
        "isi_psnr": finite_or_none(fid.isi_psnr),
        "fr_instant_psnr": finite_or_none(fid.fr_instant_psnr),
        "fr_window_psnr": finite_or_none(fid.fr_window_psnr),
        "fr_window": fid.fr_window,
        "spike_count_mae": round(fid.count_mae, 4),
        "spike_count_max_abs": fid.count_max_abs,
        "spike_count_relative": finite_or_none(fid.count_relative),
        "original_rate": round(fid.original_rate, 5),
        "decoded_rate": round(fid.decoded_rate, 5),
        "exact": bool(np.array_equal(original, decoded)),
    }


def decoded_scenes(records: Sequence[bytes]) -> tuple[dict, list[int], np.ndarray]:
    """Decode a ``.spkc`` stream's scenes locally (the round trip returns spikes only).

    Returns:
        ``(header fields, centres, (N, H, W) float32 scenes)``, the scenes being
        the 8-bit scenes the decoder regenerated from, as values in ``[0, 1]``.
    """
    from codec.pipeline import Decoder
    from codec.pipeline.prediction import scene_values

    centres, scenes = [], []

    def keep(centre: int, scene: np.ndarray) -> None:
        centres.append(centre)
        scenes.append(scene_values(scene))

    decoder = Decoder(on_scene=keep)
    for record in records:
        decoder.push(record)
    decoder.finish()
    header = decoder.header
    fields = {"quality": header.quality, "window": header.window, "offset": header.offset, "recon": header.recon,
              "attention": header.attention, "model": header.model, "intra_period": header.intra_period}
    return fields, centres, np.stack(scenes)


def stream_report(source, recorder, trip, server: str, chunk_planes: int, fr_window: int = FR_WINDOW) -> dict:
    """The report of ``spikecodec stream``: a flat dict (printed as ``key: value`` lines or JSON).

    Args:
        source: the :class:`client.sources.SpikeInput` sent.
        recorder: its :class:`client.recorder.StreamRecorder`.
        trip: the :class:`client.streaming.RoundTrip`.
    """
    original, decoded = recorder.sent_planes(), recorder.received_planes()
    t, h, w = original.shape
    codec, centres, scenes = decoded_scenes(trip.records)
    _, reference = reference_scenes(original, codec["recon"], codec["window"], codec["offset"])
    truths = [(i, source.ground_truth(c)) for i, c in enumerate(centres)]
    known = [(i, gt) for i, gt in truths if gt is not None]
    seconds = trip.seconds
    chunk, record = latency_ms(trip.chunk_latency_s), latency_ms(trip.record_latency_s)
    return {
        "source": source.name,
        "server": server,
        "planes": t,
        "size": f"{h}x{w}",
        "scenes": len(centres),
        **codec,
        **rate_fields(trip.bits, t, len(centres), h, w),
        **fidelity_fields(original, decoded, fr_window),
        "scene_psnr_gt": finite_or_none(scene_psnr([g for _, g in known], scenes[[i for i, _ in known]]))
        if known else None,
        "scene_psnr_gt_scenes": len(known),
        "scene_psnr_ref": finite_or_none(scene_psnr(reference, scenes)),
        "scene_reference": f"reconstruction of the original spikes ({codec['recon']}, K={codec['window']})",
        "round_trip_seconds": round(seconds, 3),
        "throughput_planes_per_s": round(t / seconds, 1),
        "throughput_raw_mbit_per_s": round(t * h * w / seconds / 1e6, 3),
        "chunk_planes": chunk_planes,
        "chunks": len(trip.chunk_sent),
        "latency_chunk_ms_p50": chunk["p50"],
        "latency_chunk_ms_p95": chunk["p95"],
        "latency_record_ms_p50": record["p50"],
        "latency_record_ms_p95": record["p95"],
    }
