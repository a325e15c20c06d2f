"""Task fidelity (issue 21): labelled sets, views, the classifier and its training, the mosaic,
threshold rates, and ``spikecodec task`` end to end on a small user-supplied labelled file."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from client.cli import main
from codec.errors import SpikecodecError, SpikeFormatError
from codec.task.classifier import DEFAULT_CLASSIFIER, load_classifier
from codec.task.data import digit_images, digits_set, load_labelled
from codec.task.mosaic import grid, tile, untile
from codec.task.options import DIGITS_EVAL
from codec.task.report import threshold
from codec.task.train import train_classifier
from codec.task.views import apply_view

#: the small user set of the end-to-end tests: clips of 12x12, 16 planes
SMALL = {"size": 12, "planes": 16}


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's labelled spike file: 24 simulated digit clips of 12x12 x 16 planes with labels and class names."""
    data = digits_set("train", samples=24, **SMALL)
    path = tmp_path_factory.mktemp("set") / "mydigits.npz"
    np.savez(path, spikes=data.spikes.astype(bool), labels=data.labels,
             classes=np.array([f"digit {c}" for c in range(10)]))
    return path


@pytest.fixture(scope="module")
def small_classifier(small_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier trained on the small file through ``spikecodec train --stage classifier``, on the
    spike planes in 4 time bins (the shipped one reads the TFP scene)."""
    out = tmp_path_factory.mktemp("clf") / "mine.pth"
    assert main(["train", "--stage", "classifier", "--set", str(small_file), "--steps", "60", "--batch", "8",
                 "--view", "planes", "--view-window", "4", "--output", str(out), "--json"]) == 0
    return out


@pytest.mark.parametrize("n", [1, 7, 12, 360, 17])
def test_mosaic_round_trip(n: int) -> None:
    rng = np.random.default_rng(n)
    clips = (rng.random((n, 3, 4, 8)) < 0.5).astype(np.uint8)
    rows, cols = grid(n)
    assert rows * cols >= n and rows * cols - n < cols
    planes = tile(clips)
    assert planes.shape == (3, rows * 4, cols * 8)
    np.testing.assert_array_equal(untile(planes, n, 4, 8), clips)
    assert planes.sum() == clips.sum()  # blank tiles hold no spikes


def test_mosaic_grid_is_exact_when_a_divisor_is_near_the_root() -> None:
    assert grid(360) == (20, 18)
    assert grid(12) == (4, 3)
    assert grid(17) == (4, 5)  # prime: blanks instead of a 1x17 strip


def test_digits_split_is_fixed_and_stratified() -> None:
    train_images, train_labels = digit_images("train")
    eval_images, eval_labels = digit_images("eval")
    assert len(eval_labels) == DIGITS_EVAL and len(train_labels) + DIGITS_EVAL == 1797
    assert set(np.bincount(eval_labels)) <= {35, 36, 37}
    np.testing.assert_array_equal(digit_images("eval")[0], eval_images)
    with pytest.raises(SpikeFormatError, match="split"):
        digit_images("test")


def test_simulated_digits_move_and_repeat() -> None:
    first = digits_set("eval", samples=3, size=16, planes=24)
    assert first.spikes.shape == (3, 24, 16, 16) and first.spikes.dtype == np.uint8
    np.testing.assert_array_equal(first.spikes, digits_set("eval", samples=3, size=16, planes=24).spikes)
    early = first.spikes[:, :12].mean(axis=1)
    late = first.spikes[:, 12:].mean(axis=1)
    assert np.abs(early - late).mean() > 0.02  # the digit drifted between the halves
    assert 0.1 < first.spikes.mean() < 0.6  # a lit background fires too


def test_views_read_the_spikes() -> None:
    spikes = (np.random.default_rng(0).random((2, 8, 4, 4)) < 0.3).astype(np.uint8)
    np.testing.assert_allclose(apply_view("tfp", spikes, 0)[:, 0], spikes.mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(apply_view("tfp", spikes, 4)[:, 0], spikes[:, 2:6].mean(axis=1), atol=1e-6)
    bins = apply_view("planes", spikes, 2)
    assert bins.shape == (2, 2, 4, 4)
    np.testing.assert_allclose(bins[:, 1], spikes[:, 4:].mean(axis=1), atol=1e-6)
    with pytest.raises(SpikecodecError, match="unknown view"):
        apply_view("optical-flow", spikes, 0)


def test_labelled_files_in_both_formats_and_bad_ones(tmp_path: Path) -> None:
    spikes = np.zeros((3, 4, 8, 8), bool)
    labels = np.array([0, 2, 1])
    with h5py.File(tmp_path / "set.h5", "w") as f:
        f["spikes"], f["labels"] = spikes, labels
    data = load_labelled(tmp_path / "set.h5")
    assert data.shape == (3, 4, 8, 8) and data.classes == ("0", "1", "2") and data.name == "set"
    np.savez(tmp_path / "nolabels.npz", spikes=spikes)
    np.savez(tmp_path / "flat.npz", spikes=spikes[0], labels=labels)
    np.savez(tmp_path / "counts.npz", spikes=spikes.astype(np.uint8) + 2, labels=labels)
    np.savez(tmp_path / "short.npz", spikes=spikes, labels=labels[:2])
    (tmp_path / "set.txt").write_text("0 1")
    for name, reason in [("nolabels.npz", "no labels array"), ("flat.npz", r"\(N, T, H, W\)"),
                         ("counts.npz", "0/1"), ("short.npz", "3 non-negative integers"), ("set.txt", ".npz, .h5")]:
        with pytest.raises(SpikeFormatError, match=reason):
            load_labelled(tmp_path / name)


def test_threshold_interpolates_on_a_log_rate_axis() -> None:
    def pts(*pairs: tuple[float, float]) -> list[dict]:
        return [{"bpsp": r, "accuracy": a, "label": f"p{i}"} for i, (r, a) in enumerate(pairs)]

    row = threshold(pts((0.01, 50.0), (0.04, 90.0), (0.16, 97.0)), 95.0)
    # 95 is 5/7 of the way from 90 to 97: rate 0.04 * 4 ** (5/7)
    assert row["threshold_bpsp"] == pytest.approx(0.04 * 4 ** (5 / 7), rel=1e-4)
    assert row["lowest_point_bpsp"] == 0.16 and row["bracketed"] and row["first_within_bpsp"] == 0.16
    # a dip after the first crossing moves the threshold above the dip
    row = threshold(pts((0.01, 96.0), (0.02, 94.0), (0.04, 96.0)), 95.0)
    assert row["lowest_point"] == "p2" and 0.02 < row["threshold_bpsp"] < 0.04 and row["first_within_bpsp"] == 0.01
    row = threshold(pts((0.01, 96.0), (0.02, 97.0)), 95.0)
    assert row["threshold_bpsp"] == 0.01 and not row["bracketed"]
    row = threshold(pts((0.01, 96.0), (0.02, 90.0)), 95.0)
    assert row["threshold_bpsp"] is None and row["first_within_bpsp"] == 0.01


def test_shipped_classifier_matches_its_record_and_recognises_digits() -> None:
    classifier = load_classifier()
    record = json.loads(DEFAULT_CLASSIFIER.with_suffix(".json").read_text())
    assert DEFAULT_CLASSIFIER.stat().st_size < 2**20
    assert record["view"] == "tfp" and record["eval"]["samples"] == DIGITS_EVAL
    for key in ("data", "steps", "wall_seconds", "train_accuracy", "command"):
        assert record[key]
    data = digits_set("eval", samples=60)
    assert data.digest == digits_set("eval", samples=60).digest
    assert classifier.accuracy(data.spikes, data.labels) >= 90.0


def test_training_is_deterministic(small_file: Path) -> None:
    data = load_labelled(small_file)
    first, record = train_classifier(data, steps=5, batch=8)
    second, _ = train_classifier(data, steps=5, batch=8)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    assert record["classes"][3] == "digit 3" and record["height"] == 12 and record["steps"] == 5


def test_task_on_a_user_labelled_file(small_file: Path, small_classifier: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    out = tmp_path / "out"
    args = ["task", str(small_file), "-o", str(out), "--classifier", str(small_classifier), "--qualities", "1,4",
            "--gop", "intra,low-delay", "--anchor", "count,vvc", "--qps", "27,47", "--preset", "faster", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["set"] == "mydigits" and result["samples"] == 24 and result["computed"] == result["points"] == 12
    task = json.loads((out / "task.json").read_text())
    points = json.loads((out / "rd.json").read_text())["points"]
    reference = next(p for p in points if p["curve"] == "uncompressed")
    assert reference["bpsp"] == 1.0 and reference["exact"] and reference["accuracy"] == task["uncompressed_accuracy"]
    assert {p["curve"] for p in points} == {"uncompressed", "spikecodec-none", "spikecodec-none-ld", "count", "vvc"}
    for p in points:
        assert p["correct"] == round(p["accuracy"] * 24 / 100) and p["samples"] == 24
    by_curve = {r["curve"]: r for r in task["thresholds"]}
    assert set(by_curve) == {"spikecodec-none", "spikecodec-none-ld", "count", "vvc"}
    count = sorted((p for p in points if p["curve"] == "count"), key=lambda p: p["bpsp"])
    assert count[0]["bpsp"] < count[-1]["bpsp"] < 1.0
    assert task["set"]["grid"] == [6, 4] and task["set"]["width"] == 48 and task["classifier"]["view"] == "planes"
    assert (out / "accuracy.png").stat().st_size > 0 and "| count |" in (out / "task.md").read_text()
    rows = (out / "task.csv").read_text().splitlines()
    assert rows[0].startswith("source,curve,family,label,param,bits,bpsp,accuracy") and len(rows) == 14
    # a rerun computes nothing; the results page renders from the folder
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["computed"] == 0
    from codec.task.report import main as report

    assert report([str(out), "-o", str(tmp_path / "page.md")]) == 0
    page = (tmp_path / "page.md").read_text()
    assert "Uncompressed top-1 accuracy" in page and f"spikecodec task {small_file}" in page
    assert "![top-1 accuracy against bpsp](out_accuracy.png)" in page and (tmp_path / "out_accuracy.png").is_file()


def test_task_flags_default_to_the_options() -> None:
    from client.cli import build_parser
    from codec import options
    from codec.task import options as task

    args = build_parser().parse_args(["task", "-o", "out"])
    assert (args.set, args.size, args.planes, args.window) == (task.DIGITS, task.DIGITS_SIZE, task.DIGITS_PLANES,
                                                              task.TASK_WINDOW)
    assert args.gop == options.GOP_STRUCTURES and args.attention == (options.DEFAULT_ATTENTION,)
    assert (args.anchor, args.qps, args.preset) == (options.TASK_ANCHORS, task.TASK_QPS, task.TASK_PRESET)
    assert set(options.TASK_ANCHORS) <= set(options.ANCHOR_NAMES) and args.tolerance == task.DEFAULT_TOLERANCE
    train = build_parser().parse_args(["train", "--stage", "classifier"])
    assert (train.set, train.view, train.view_window) == (task.DIGITS, task.DEFAULT_VIEW, 0)


def test_task_refuses_a_set_the_classifier_was_not_trained_on(small_file: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["task", str(small_file), "-o", str(tmp_path), "--gop", "elsewhere"])
    assert exit_info.value.code == 2 and "unknown GOP structure(s) elsewhere" in capsys.readouterr().err
    assert main(["task", str(small_file), "-o", str(tmp_path), "--anchor", "count"]) == 2
    assert "trained on 16x16 clips, the set has 12x12" in capsys.readouterr().err
    assert main(["task", str(tmp_path / "missing.npz"), "-o", str(tmp_path)]) == 2
    assert main(["task", str(small_file), "-o", str(tmp_path), "--window", "17", "--anchor", "count"]) == 2
    assert "window must be 1..16 planes" in capsys.readouterr().err
    assert main(["train", "--stage", "classifier", "--set", str(small_file)]) == 2
    assert "only the digits TFP classifier is shipped: give --output PATH" in capsys.readouterr().err
