"""The report of ``spikecodec stream``: rate, fidelity and scene scores
(:mod:`codec.evaluate.scores`) plus throughput and latency of the round trip."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from codec.evaluate.scores import fidelity_fields, finite_or_none, rate_fields, reference_scenes, scene_psnr
from codec.options import DEFAULT_FR_WINDOW


def latency_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """``{"p50", "p95", "max"}`` of latencies given in seconds, in ms (``None`` if none)."""
    if len(seconds) == 0:
        return {"p50": None, "p95": None, "max": None}
    p50, p95 = np.percentile(np.asarray(seconds) * 1000.0, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "max": round(1000.0 * max(seconds), 2)}


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
    assert header is not None  # finish() raised if the stream had none
    return _fields(header), centres, np.stack(scenes)


def header_fields(records: Sequence[bytes]) -> tuple[dict, int]:
    """The codec fields of a ``.spkc`` stream's header and its number of scenes, without decoding
    (no scene codec: what the thin client reports)."""
    from codec.bitstream import RecordParser, SceneRecord, StreamHeader

    parser, header, scenes = RecordParser(), None, 0
    for record in records:
        for parsed in parser.feed(record):
            header = parsed if isinstance(parsed, StreamHeader) else header
            scenes += isinstance(parsed, SceneRecord)
    parser.close()
    assert header is not None  # close() raised if the stream had none
    return _fields(header), scenes


def _fields(header) -> dict:
    return {"quality": header.quality, "window": header.window, "offset": header.offset, "recon": header.recon,
            "attention": header.attention, "model": header.model, "intra_period": header.intra_period}


def scene_scores(source, original: np.ndarray, records: Sequence[bytes]) -> dict:
    """Scene PSNRs of a stream whose scenes are decoded here (the codec stack, torch): against
    ground truth where the source knows it, and against the reconstruction of the original
    ``(T, H, W)`` spikes."""
    codec, centres, scenes = decoded_scenes(records)
    _, reference = reference_scenes(original, codec["recon"], codec["window"], codec["offset"])
    truths = [(i, source.ground_truth(c)) for i, c in enumerate(centres)]
    known = [(i, gt) for i, gt in truths if gt is not None]
    return {
        "scene_psnr_gt": finite_or_none(scene_psnr([g for _, g in known], scenes[[i for i, _ in known]]))
        if known else None,
        "scene_psnr_gt_scenes": len(known),
        "scene_psnr_ref": finite_or_none(scene_psnr(reference, scenes)),
        "scene_reference": f"reconstruction of the original spikes ({codec['recon']}, K={codec['window']})",
    }


def stream_report(source, recorder, trip, server: str, chunk_planes: int, fr_window: int = DEFAULT_FR_WINDOW,
                  score_scenes: bool = False) -> dict:
    """The report of ``spikecodec stream``: a flat dict (printed as ``key: value`` lines or JSON).

    Args:
        source: the :class:`codec.evaluate.sources.SpikeInput` sent.
        recorder: its :class:`client.recorder.StreamRecorder`.
        trip: the :class:`client.streaming.RoundTrip`.
        score_scenes: decode the scenes here and add their scores (:func:`scene_scores`).
    """
    original, decoded = recorder.sent(), recorder.received()
    t, h, w = original.num_planes, original.height, original.width
    codec, num_scenes = header_fields(trip.records)
    scores = scene_scores(source, original.unpacked(), trip.records) if score_scenes else {}
    seconds = trip.seconds
    chunk, record = latency_ms(trip.chunk_latency_s), latency_ms(trip.record_latency_s)
    return {
        "source": source.name,
        "server": server,
        "planes": t,
        "size": f"{h}x{w}",
        "scenes": num_scenes,
        **codec,
        **rate_fields(trip.bits, t, num_scenes, h, w),
        **fidelity_fields(original, decoded, fr_window),
        **scores,
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
