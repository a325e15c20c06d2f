"""The foundation commands end to end: info, convert, simulate, demo (console script and API)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from client.cli import main
from codec.io import open_spikes

REPO = Path(__file__).resolve().parents[1]
SPIKECODEC = REPO / ".venv" / "bin" / "spikecodec"


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    """Run the real console script."""
    return subprocess.run([str(SPIKECODEC), *map(str, args)], capture_output=True, text=True, timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_info_reports_the_real_recording_exactly(reds_dat: Path) -> None:
    proc = cli("info", reds_dat, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    raw = np.fromfile(reds_dat, dtype=np.uint8)
    spikes = int(np.unpackbits(raw).sum())
    assert (info["format"], info["planes"], info["height"], info["width"]) == ("dat", 301, 250, 400)
    assert info["spikes"] == spikes
    assert info["mean_rate"] == spikes / (301 * 250 * 400)
    assert info["bytes"] == raw.size


def test_convert_round_trip_is_byte_identical(reds_dat: Path, tmp_path: Path) -> None:
    for compression in ("none", "gzip"):
        h5 = tmp_path / f"{compression}.h5"
        assert cli("convert", reds_dat, "-o", h5, "--compression", compression).returncode == 0
        back = tmp_path / f"{compression}.dat"
        proc = cli("convert", h5, "-o", back, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["planes"] == 301
        assert back.read_bytes() == reds_dat.read_bytes()
    info = json.loads(cli("info", tmp_path / "gzip.h5", "--json").stdout)
    assert (info["format"], info["planes"], info["mean_rate"]) == ("hdf5", 301, json.loads(
        cli("info", reds_dat, "--json").stdout)["mean_rate"])


def test_convert_attaches_ground_truth_and_the_cameras_alpha(reds_dat: Path, tmp_path: Path) -> None:
    gt_png = reds_dat.with_name("reds_203_part2_gt.png")
    h5 = tmp_path / "gt.h5"
    proc = cli("convert", reds_dat, "-o", h5, "--gt", f"{gt_png}@150", "--alpha", "0.6", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ground_truth_planes"] == [150]
    with open_spikes(h5) as reader:
        assert reader.ground_truth_planes() == [150] and reader.sensor.alpha == 0.6
        truth = reader.ground_truth(150)
        # the REDS convention: mean firing rate = 8-bit level / 425 = intensity * 0.6
        assert abs(truth.mean() * 0.6 - reader.read(0, 301).mean()) < 0.01
    expected = np.asarray(Image.open(gt_png).convert("L"), dtype=np.float32) / 255
    np.testing.assert_array_equal(truth, expected)
    back = tmp_path / "back.dat"
    assert cli("convert", h5, "-o", back).returncode == 0
    assert back.read_bytes() == reds_dat.read_bytes()
    assert_one_line_error(cli("convert", reds_dat, "-o", tmp_path / "x.dat", "--gt", f"{gt_png}@150"), "HDF5")
    assert_one_line_error(cli("convert", reds_dat, "-o", tmp_path / "y.h5", "--gt", f"{gt_png}@301"), "301")
    assert not (tmp_path / "y.h5").exists()


@pytest.fixture
def bad_files(reds_dat: Path, tmp_path: Path) -> Path:
    """A folder of broken and odd spike files next to a good ``x.h5``."""
    (tmp_path / "cut.dat").write_bytes(reds_dat.read_bytes()[: 12500 * 100 + 77])
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.create_dataset("frames", data=np.zeros((3, 8, 8), np.uint8))
        f.create_dataset("floats", data=np.zeros((3, 8, 8), np.float32))
    assert main(["convert", str(reds_dat), "-o", str(tmp_path / "x.h5")]) == 0
    data = (tmp_path / "x.h5").read_bytes()
    (tmp_path / "half.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.h5").write_text("hello")
    return tmp_path


BAD_INPUT = [
    (["info", "cut.dat"], ["not a whole number", "100 planes + 77 bytes"]),
    (["info", "REDS", "--height", "256"], ["not a whole number", "--height/--width"]),
    (["info", "REDS", "--width", "401"], [".dat cannot hold 250x401 planes", "use .h5"]),
    (["convert", "cut.dat", "-o", "y.h5"], ["not a whole number"]),
    (["info", "missing.dat"], ["No such file"]),
    (["info", "plain.h5"], ["no dataset 'spikes'", "frames"]),
    (["info", "plain.h5", "--dataset", "nope"], ["no dataset 'nope'"]),
    (["info", "plain.h5", "--dataset", "floats"], ["bool or uint8"]),
    (["info", "half.h5"], ["half.h5"]),
    (["info", "text.h5"], ["not a readable HDF5 file"]),
    (["info", "x.h5", "--height", "100"], ["is 250x400"]),
    (["convert", "x.h5", "-o", "x.h5"], ["same file"]),
    (["convert", "REDS", "-o", "y.dat", "--compression", "gzip"], ["do not apply to .dat"]),
]


@pytest.mark.parametrize("argv,fragments", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_gives_one_line_errors(
    argv: list[str], fragments: list[str], bad_files: Path, reds_dat: Path, capsys: pytest.CaptureFixture
) -> None:
    capsys.readouterr()
    argv = [str(reds_dat) if a == "REDS" else str(bad_files / a) if "." in a else a for a in argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"spikecodec {argv[0]}: error:"), err
    for fragment in fragments:
        assert fragment in err, err


def test_bad_input_through_the_console_script(bad_files: Path, reds_dat: Path) -> None:
    assert_one_line_error(cli("info", bad_files / "cut.dat"), "spikecodec info: error:", "not a whole number")
    assert_one_line_error(cli("info", reds_dat, "--height", "256"), "--height/--width")
    assert_one_line_error(cli("info", bad_files / "plain.h5"), "no dataset 'spikes'")
    assert_one_line_error(cli("info", bad_files / "half.h5"), "half.h5")


def test_plain_dataset_and_size_choice(bad_files: Path, reds_dat: Path, capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert main(["info", str(bad_files / "plain.h5"), "--dataset", "frames", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["format"], info["planes"], info["spikes"]) == ("hdf5-plain", 3, 0)
    # the caller may choose any size with the same bytes per plane: the file cannot tell
    assert main(["info", str(reds_dat), "--height", "500", "--width", "200", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["planes"] == 301


def test_simulate_argument_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["simulate", "synthetic", "-o", str(tmp_path / "s.h5"), "--planes", "10", "--gt-planes", "10"]) == 2
    assert "beyond" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "nowhere"), "-o", str(tmp_path / "s.h5")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["simulate", "synthetic", "-o", str(tmp_path / "s.txt")]) == 2
    assert "unknown spike file type" in capsys.readouterr().err


def test_simulate_synthetic_with_ground_truth(tmp_path: Path) -> None:
    out, gt = tmp_path / "s.h5", tmp_path / "gt"
    proc = cli("simulate", "synthetic", "-o", out, "--planes", "400", "--height", "40", "--width", "64",
               "--gt-planes", "150,300", "--gt-dir", gt, "--reset", "mod", "--alpha", "0.6", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["planes"] == 400 and 0.05 < result["mean_rate"] < 0.6
    with open_spikes(out) as reader:
        assert (reader.num_planes, reader.height, reader.width) == (400, 40, 64)
        assert reader.sensor.reset_mechanism == "mod" and reader.sensor.alpha == 0.6
        assert reader.ground_truth_planes() == [150, 300]
        assert reader.simulation()["source"] == "synthetic" and reader.simulation()["model"] == "if"
        scene = reader.ground_truth(150)
        spikes = reader.read()
    png = np.asarray(Image.open(gt / "s_gt_000150.png"), dtype=np.float32) / 255
    assert np.abs(png - scene).max() <= 0.5 / 255 + 1e-6
    # the spikes around plane 150 fire at 0.6 x the recorded scene
    window = spikes[100:200].mean(axis=0)
    assert abs(window.mean() - 0.6 * scene.mean()) < 0.01
    assert np.corrcoef(window.ravel(), scene.ravel())[0, 1] > 0.9
    assert result["mean_rate"] == pytest.approx(spikes.mean())


def test_simulate_image_folder_to_dat(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, value in enumerate((40, 200)):
        Image.fromarray(np.full((30, 50), value, np.uint8)).save(folder / f"{i}.png")
    dat = tmp_path / "out.dat"
    proc = cli("simulate", folder, "-o", dat, "--planes", "1600", "--height", "16", "--width", "24",
               "--fps", "25", "--gt-planes", "400", "--init", "zero", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out_gt_000400.png").exists()  # .dat output: PNGs beside it
    with open_spikes(dat, 16, 24) as reader:
        spikes = reader.read()
    # frames 800 planes apart; plane 400 sees the mid-way scene (40+200)/2/255
    gray = np.asarray(Image.open(tmp_path / "out_gt_000400.png"))
    assert np.all(gray == 120)
    ramp = np.linspace(40, 200, 801)[:800] / 255
    assert abs(spikes[:800, 0, 0].sum() - ramp.sum()) <= 1
    assert abs(spikes[800:, 0, 0].sum() - 800 * 200 / 255) <= 1


def test_demo_file_steps(tmp_path: Path) -> None:
    import argparse

    from client.commands import demo

    args = argparse.Namespace(planes=300, height=40, width=64)
    ctx = {"args": args, "dir": tmp_path}
    report = {step.__name__: step(ctx) for step in (demo.step_simulate, demo.step_dat, demo.step_readback)}
    assert report["step_simulate"]["planes"] == 300
    assert report["step_readback"] == {**report["step_readback"], "identical": True, "planes": 300}
    assert report["step_readback"]["spikes"] == ctx["spikes"] > 0
    assert (tmp_path / "spikes.dat").stat().st_size == 300 * 40 * 64 // 8


@pytest.mark.slow
def test_demo_command_runs_every_step(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--planes", "300", "--height", "40", "--width", "64", "--workdir", str(tmp_path),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["readback.identical"] is True
    assert report["simulate.planes"] == 300


def test_foundation_commands_import_light() -> None:
    code = (
        "import sys; import client.commands.info, client.commands.convert, client.commands.simulate, "
        "client.commands.demo; print(sorted(m for m in ('h5py', 'torch', 'PIL', 'tqdm') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert proc.stdout.strip() == "[]"


def test_simulate_poisson_model_matches_the_if_rate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    common = ["--planes", "600", "--height", "40", "--width", "64", "--alpha", "0.5", "--json"]
    rates = {}
    for model in ("if", "poisson"):
        capsys.readouterr()
        assert main(["simulate", "synthetic", "-o", str(tmp_path / f"{model}.h5"), "--model", model, *common]) == 0
        rates[model] = json.loads(capsys.readouterr().out)["mean_rate"]
    # 600*40*64 Bernoulli draws at p ~ 0.27: sigma of the mean ~ 0.0003
    assert abs(rates["poisson"] - rates["if"]) < 0.002
    assert 0.1 < rates["if"] < 0.4
