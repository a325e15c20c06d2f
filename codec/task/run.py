"""A task-fidelity sweep (what ``spikecodec task`` runs): top-1 accuracy of a fixed classifier
on what each codec returns, against bits per spike-pixel.

::

    labelled set (N, T, h, w)  (codec.task.data: simulated digits, or a user's .npz/.h5)
        │ tile (codec.task.mosaic)
    one stream (T, rows*h, cols*w) + its TFP reference scenes: a codec.evaluate.sweep.PreparedSource
        ├── uncompressed: classifier(clips) -> the reference accuracy (curve "uncompressed", 1 bpsp)
        └── every point codec.evaluate.sweep.plan() makes (spikecodec per GOP structure and
            quality, count, vvc, vvc-ra; coded exactly as ``spikecodec bench`` codes them) ->
            run_job(judge=...): decoded spikes -> untile -> classifier -> accuracy, beside the
            bench's own scores (bpsp, scene / ISI PSNR); cached in DIR/points/ like the bench's
        │
    rd.json, rd.csv (codec.evaluate.outputs); task.json, task.md, task.csv, accuracy.png (codec.task.report)

The classifier sees what a user's network would see (:mod:`codec.task.views`): the TFP scene
of the decoded spikes, the same reconstruction for every curve.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from codec.errors import SpikecodecError
from codec.evaluate.bdtable import bd_table
from codec.evaluate.cache import PointCache
from codec.evaluate.outputs import write_tables
from codec.evaluate.runinfo import run_info
from codec.evaluate.scores import reference_scenes
from codec.evaluate.sweep import BenchSettings, Coded, PreparedSource, plan, run_job, score, settings_dict
from codec.options import DEFAULT_ATTENTION, DEFAULT_INTRA_PERIOD, GOP_STRUCTURES, TASK_ANCHORS
from codec.task.classifier import Classifier, load_classifier
from codec.task.data import LabelledSpikes, open_set
from codec.task.mosaic import grid, tile, untile
from codec.task.options import (
    DEFAULT_TOLERANCE,
    DIGITS,
    DIGITS_PLANES,
    DIGITS_SIZE,
    TASK_PRESET,
    TASK_QPS,
    TASK_WINDOW,
)
from codec.task.report import thresholds, write_report

#: curve name of the uncompressed reference row
UNCOMPRESSED = "uncompressed"


@dataclass(frozen=True)
class TaskSettings:
    """What a task sweep codes and how (see ``spikecodec task --help``)."""

    spec: str = DIGITS
    samples: int | None = None
    size: int = DIGITS_SIZE
    planes: int = DIGITS_PLANES
    seed: int = 0
    window: int = TASK_WINDOW
    qualities: tuple[float, ...] | None = None
    gops: tuple[str, ...] = GOP_STRUCTURES
    attentions: tuple[str, ...] = (DEFAULT_ATTENTION,)
    anchors: tuple[str, ...] = TASK_ANCHORS
    qps: tuple[int, ...] = TASK_QPS
    preset: str = TASK_PRESET
    threads: int = 1
    classifier: str | None = None
    tolerance: float = DEFAULT_TOLERANCE

    def bench(self) -> BenchSettings:
        """The bench settings that make this sweep's curves: intra period 1 for ``intra``,
        the default intra period for the predicted structures."""
        predicted = tuple(g for g in self.gops if g != "intra")
        periods = ((1,) if "intra" in self.gops else ()) + ((DEFAULT_INTRA_PERIOD,) if predicted else ())
        return BenchSettings(window=self.window, qualities=self.qualities, attentions=self.attentions,
                             intra_periods=periods, gops=predicted or ("random-access",), anchors=self.anchors,
                             qps=self.qps, preset=self.preset, threads=self.threads)


def prepare_set(data: LabelledSpikes, window: int) -> PreparedSource:
    """The set as one mosaic stream with its TFP reference scenes (no ground truth)."""
    planes = tile(data.spikes)
    centres, reference = reference_scenes(planes, "tfp", window)
    return PreparedSource(name=data.name, sensor=data.sensor, planes=planes, centres=centres, reference=reference,
                          gt_index=[], gt_scenes=None)


def judge(classifier: Classifier, data: LabelledSpikes) -> Callable[[np.ndarray], dict]:
    """``decoded mosaic -> {"accuracy", "correct", "samples"}`` of ``classifier`` on ``data``'s labels."""
    n, _, h, w = data.shape

    def fields(decoded: np.ndarray) -> dict:
        correct = int(np.sum(classifier.predict(untile(decoded, n, h, w)) == data.labels))
        return {"accuracy": round(100.0 * correct / n, 2), "correct": correct, "samples": n}

    return fields


def uncompressed_point(src: PreparedSource, score_fields: Callable[[np.ndarray], dict], fr_window: int) -> dict:
    """The reference row: the original spikes at their raw rate (1 bit per spike-pixel)."""
    t, h, w = src.planes.shape
    return {"source": src.name, "curve": UNCOMPRESSED, "family": "reference", "label": "raw", "recon": "tfp",
            "param": None, **score(src, Coded(t * h * w, src.reference, src.planes), fr_window),
            "num_planes": t, "num_scenes": len(src.centres), "height": h, "width": w, "seconds": 0.0,
            **score_fields(src.planes)}


def run_task(settings: TaskSettings, output: Path) -> dict:
    """Run the sweep of ``settings`` into the folder ``output`` (module docstring).

    Returns:
        a summary: files, points computed and reused, the uncompressed accuracy and, per curve,
        the lowest rate within ``tolerance`` points of it (:func:`codec.task.report.thresholds`).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    classifier = load_classifier(settings.classifier)
    data = open_set(settings.spec, settings.samples, settings.size, settings.planes, settings.seed)
    check_settings(settings, data)
    classifier.inputs(data.spikes[:1])  # refuse a set of another size before coding anything
    bench = settings.bench()
    src = prepare_set(data, settings.window)
    judged = judge(classifier, data)
    reference = uncompressed_point(src, judged, bench.fr_window)
    extra = {"task_set": data.digest, "classifier": classifier.sha256}
    key = f"{data.name}-{data.digest[:8]}"
    output.mkdir(parents=True, exist_ok=True)
    cache = PointCache(output)
    jobs = plan(key, bench)
    points, computed = [reference], 0
    for job in tqdm(jobs, unit="point", file=sys.stderr, disable=None, desc="task"):
        path = cache.path(key, job.curve, job.label, {**job.config, **extra})
        point = cache.load(path)
        if point is None:
            point = run_job(src, job, bench, judged)
            cache.store(path, point)
            computed += 1
        points.append(point)
    rows, cols = grid(len(data.labels))
    info = {**data.info(), "grid": [rows, cols], "num_planes": src.planes.shape[0], "height": src.planes.shape[1],
            "width": src.planes.shape[2], "num_scenes": len(src.centres), "scene_reference": src.scene_reference}
    shown = ("name", "view", "window", "height", "width", "train_accuracy", "eval")
    task = {"run": run_info(), "settings": task_settings_dict(settings), "set": info,
            "classifier": {k: classifier.record.get(k) for k in shown} | {"sha256": classifier.sha256},
            "uncompressed_accuracy": reference["accuracy"], "tolerance": settings.tolerance,
            "thresholds": thresholds(points, reference["accuracy"], settings.tolerance)}
    runs = [{"run": task["run"], "settings": {**settings_dict(bench), "task": task["settings"]}}]
    write_tables(output, points, {data.name: info}, runs, bd_table(points))
    (output / "task.json").write_text(json.dumps(task, indent=1) + "\n")
    files = ["rd.json", "rd.csv", "task.json", *write_report(output, task, points)]
    return {"output": str(output), "set": data.name, "samples": len(data.labels), "points": len(points) - 1,
            "computed": computed, "cached": len(points) - 1 - computed,
            "uncompressed_accuracy": reference["accuracy"],
            "threshold_bpsp": {r["curve"]: r["threshold_bpsp"] for r in task["thresholds"]},
            "files": ", ".join(files), "seconds": round(time.perf_counter() - started, 1)}


def task_settings_dict(settings: TaskSettings) -> dict:
    """JSON-able copy of the settings (lists for tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


def check_settings(settings: TaskSettings, data: LabelledSpikes) -> None:
    """Refuse settings no sweep can run on ``data``.

    Raises:
        SpikecodecError: no curve, a window longer than the clips, a negative tolerance.
    """
    if not settings.gops and not settings.anchors:
        raise SpikecodecError("nothing to sweep: give at least one GOP structure or anchor")
    planes = data.shape[1]
    if not 1 <= settings.window <= planes:
        raise SpikecodecError(f"window must be 1..{planes} planes (the clips' length), got {settings.window}")
    if settings.tolerance < 0:
        raise SpikecodecError(f"tolerance must be >= 0 accuracy points, got {settings.tolerance:g}")
