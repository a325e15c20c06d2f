"""External VVC outputs end to end, as a user makes them: ``reconstruct --format yuv`` exports the
bench's scenes, the bundled ffmpeg (libvvenc) codes them outside the bench's anchor code, and
``bench --vvc-outputs`` imports them; every way of getting the import wrong is refused or warned."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from client.cli import main
from codec.anchors.ffmpeg import ffmpeg_exe
from codec.anchors.frames import scenes_to_yuv420p10
from codec.evaluate.sweep import BenchSettings, prepare

PLANES, CROP = 96, "168x176"  # 3 scenes; more than 160 px a side, so MS-SSIM has its 5 scales
QPS = (27, 32, 37, 42)
STEM = "reds_203_part2"


def bench_argv(reds_dat: Path, out: Path, *extra: str) -> list[str]:
    """A bench of the built-in VVC all-intra anchor only (no codec curves), small and quick."""
    return ["bench", str(reds_dat), "-o", str(out), "--planes", str(PLANES), "--crop", CROP, "--attention", "",
            "--anchor", "vvc", "--qps", ",".join(map(str, QPS)), "--json", *extra]


def run(capsys, argv: list[str]) -> tuple[int, dict | str]:
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def export(capsys, reds_dat: Path, folder: Path, *extra: str) -> dict:
    code, result = run(capsys, ["reconstruct", str(reds_dat), "-o", str(folder), "--planes", str(PLANES),
                                "--crop", CROP, "--json", *extra])
    assert code == 0, result
    assert isinstance(result, dict)
    return result


def encode_as_a_user(folder: Path, command: str, qps=QPS) -> None:
    """Run the manifest's command line in ``folder`` through a shell, once per QP."""
    for qp in qps:
        subprocess.run(command, shell=True, check=True, cwd=folder, capture_output=True,
                       env={**os.environ, "FFMPEG": ffmpeg_exe(), "QP": str(qp)})


def bench_with_import(capsys, reds_dat: Path, out: Path, outputs: Path) -> tuple[dict, dict, dict, dict]:
    """The bench of :func:`bench_argv` with ``--vvc-outputs outputs``: its summary, ``rd.json``, and
    the ``vvc-ext`` and ``vvc`` points by label."""
    code, result = run(capsys, bench_argv(reds_dat, out, "--vvc-outputs", str(outputs)))
    assert code == 0 and isinstance(result, dict), result
    rd = json.loads((out / "rd.json").read_text())
    ext, vvc = ({p["label"]: p for p in rd["points"] if p["curve"] == curve} for curve in ("vvc-ext", "vvc"))
    return result, rd, ext, vvc


@pytest.fixture(scope="module")
def exported(reds_dat: Path, tmp_path_factory) -> Path:
    """The exported YUV of the bench's scenes, coded by ffmpeg + libvvenc at :data:`QPS`."""
    folder = tmp_path_factory.mktemp("vvc")
    code = main(["reconstruct", str(reds_dat), "-o", str(folder), "--planes", str(PLANES), "--crop", CROP,
                 "--format", "yuv", "--bit-depth", "10"])
    assert code == 0
    manifest = json.loads((folder / f"{STEM}.scenes.json").read_text())
    encode_as_a_user(folder, manifest["encode"]["ffmpeg"])
    return folder


@pytest.mark.slow
def test_export_is_exactly_the_bench_reference_and_its_import_matches_the_builtin_vvc(
        reds_dat: Path, exported: Path, tmp_path: Path, capsys) -> None:
    manifest = json.loads((exported / f"{STEM}.scenes.json").read_text())
    source = prepare(str(reds_dat), BenchSettings(planes=PLANES, crop=(168, 176)))
    # the very frames the built-in anchor feeds libvvenc: same reconstruction, centres, crop, padding
    assert (exported / f"{STEM}.yuv").read_bytes() == scenes_to_yuv420p10(source.reference)[0]
    assert manifest["centres"] == source.centres == [16, 48, 80]
    assert (manifest["recon"], manifest["height"], manifest["width"]) == ("tfp", 168, 176)
    assert (manifest["frame_width"], manifest["frame_height"]) == (176, 168)
    assert set(manifest["encode"]) == {"ffmpeg", "vvencapp", "EncoderApp"}
    assert "-s 176x168" in manifest["encode"]["vvencapp"] and "-f 3 " in manifest["encode"]["EncoderApp"]
    sizes = json.loads((exported / "sizes.json").read_text())
    assert sizes == {f"{STEM}_qp{qp}": None for qp in (22, 27, 32, 37, 42, 47)}

    out = tmp_path / "bench"
    result, rd, ext, builtin = bench_with_import(capsys, reds_dat, out, exported)
    assert sorted(ext) == [f"qp{qp}" for qp in QPS] and not any(p["warning"] for p in ext.values())
    # BD of the imported curve against the built-in anchor: within +-1 % in the scene domains (ISI PSNR
    # of regenerated spikes is not monotonic over these 4 QPs: 3 points on its front, no BD there)
    rows = {r["domain"]: r for r in rd["bd"] if (r["curve"], r["anchor"]) == ("vvc-ext", "vvc")}
    assert set(rows) == {"scene PSNR", "scene MS-SSIM", "ISI PSNR"}
    for domain in ("scene PSNR", "scene MS-SSIM"):
        row = rows[domain]
        assert row["bd_rate"] is not None and abs(row["bd_rate"]) <= 1.0, row
        assert row["overlap"] > 90 and row["curve_points"] == "4/4" and row["anchor_points"] == "4/4"
    assert rows["ISI PSNR"]["bd_rate"] is None or abs(rows["ISI PSNR"]["bd_rate"]) <= 1.0
    # in fact the same encoder on the same frames: the same bits (no encoder chatter in the built-in rate)
    assert {label: p["bits"] for label, p in builtin.items()} == {label: p["bits"] for label, p in ext.items()}
    assert result["bd_rate"]["vs vvc"]["scene PSNR"][f"{STEM}/vvc-ext"] == pytest.approx(rows["scene PSNR"]["bd_rate"],
                                                                                       abs=0.005)
    assert all(0 < p["scene_msssim"] < 1 for p in rd["points"])

    # --bd-anchor picks the imported curve as the anchor instead
    code, result = run(capsys, bench_argv(reds_dat, out, "--vvc-outputs", str(exported), "--bd-anchor", "vvc-ext"))
    assert code == 0 and isinstance(result, dict) and result["computed"] == 0
    assert list(result["bd_rate"]) == ["vs vvc-ext"]
    assert abs(result["bd_rate"]["vs vvc-ext"]["scene PSNR"][f"{STEM}/vvc"]) <= 1.0
    assert "### scene PSNR against vvc-ext (imported VVC outputs)" in (out / "bd_rate.md").read_text()
    code, err = run(capsys, bench_argv(reds_dat, out, "--bd-anchor", "vtm"))
    assert code == 2 and "--bd-anchor vtm: no such curve" in err


@pytest.mark.slow
def test_limited_range_frames_from_the_ordinary_ffmpeg_step_are_converted_with_a_warning(
        reds_dat: Path, exported: Path, tmp_path: Path, capsys) -> None:
    pngs = tmp_path / "png"
    export(capsys, reds_dat, pngs, "--bit-depth", "16")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    # what a user does without reading the recipe: PNGs straight into libvvenc (gray -> limited-range YUV)
    command = (f"\"$FFMPEG\" -y -pattern_type glob -i '{pngs}/scene_*.png' -c:v libvvenc -pix_fmt yuv420p10le "
               f"-preset medium -qp $QP -qpa 0 -vvenc-params IntraPeriod=1 -f vvc {STEM}_qp$QP.266")
    encode_as_a_user(outputs, command)
    out = tmp_path / "bench"
    _, rd, ext, vvc = bench_with_import(capsys, reds_dat, out, outputs)
    assert all(p["warning"].startswith("limited-range luma 64..940 converted to full range; ") for p in ext.values())
    # once converted about as good as the anchor (unconverted, the scene PSNR is 8 dB or more below it)
    assert abs(ext["qp32"]["scene_psnr"] - vvc["qp32"]["scene_psnr"]) < 2.0
    row = next(r for r in rd["bd"] if (r["curve"], r["anchor"], r["domain"]) == ("vvc-ext", "vvc", "scene PSNR"))
    assert abs(row["bd_rate"]) < 10.0
    assert "limited-range luma 64..940 converted to full range (4 of 4 points)" in row["note"]
    assert "limited-range luma" in (out / "bd_rate.md").read_text()


def test_outputs_named_for_nothing_or_outside_the_layout_are_refused(reds_dat: Path, tmp_path: Path,
                                                                      capsys) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "reds_qp32.266").write_bytes(b"\0" * 10)
    code, err = run(capsys, bench_argv(reds_dat, tmp_path / "b", "--vvc-outputs", str(folder)))
    assert code == 2 and f"no VVC output for source {STEM}; expected {STEM}_qp<QP>.266" in err
    assert "the folder holds reds_qp32.266" in err
    (folder / f"{STEM}_qp32.h266").write_bytes(b"\0" * 10)
    code, err = run(capsys, bench_argv(reds_dat, tmp_path / "b", "--vvc-outputs", str(folder)))
    assert code == 2 and f"{STEM}_qp32.h266 not in the layout" in err


def test_outputs_of_scenes_exported_with_other_settings_are_refused(reds_dat: Path, tmp_path: Path,
                                                                     capsys) -> None:
    folder = tmp_path / "outputs"
    export(capsys, reds_dat, folder, "--format", "yuv", "--method", "tfi")
    (folder / f"{STEM}_qp32.yuv").write_bytes((folder / f"{STEM}.yuv").read_bytes())
    code, err = run(capsys, bench_argv(reds_dat, tmp_path / "b", "--vvc-outputs", str(folder)))
    assert code == 2 and "exported with recon tfi (bench: tfp)" in err


@pytest.mark.parametrize("case", ["frames", "p010", "png-size"])
def test_wrong_frames_sizes_and_values_are_refused(case: str, reds_dat: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "outputs"
    export(capsys, reds_dat, folder, "--format", "yuv")
    frames = np.frombuffer((folder / f"{STEM}.yuv").read_bytes(), dtype="<u2")
    sizes = {f"{STEM}_qp32": 5000}
    (folder / "sizes.json").write_text(json.dumps(sizes))
    if case == "frames":
        (folder / f"{STEM}_qp32.yuv").write_bytes(frames[: 2 * len(frames) // 3].tobytes())
        expected = "they are 2 frames of 176x168"
    elif case == "p010":  # 10 bits in the high bits of each word
        (folder / f"{STEM}_qp32.yuv").write_bytes((frames << 6).astype("<u2").tobytes())
        expected = "not yuv420p10le"
    else:  # full 250x400 frames where the bench scores the 168x176 centre crop
        (folder / f"{STEM}_qp32").mkdir()
        for i in range(3):
            Image.fromarray(np.zeros((250, 400), np.uint8)).save(folder / f"{STEM}_qp32" / f"{i}.png")
        (folder / f"{STEM}.scenes.json").unlink()
        expected = "400x250 PNG, but the bench scores 176x168 scenes"
    code, err = run(capsys, bench_argv(reds_dat, tmp_path / "b", "--anchor", "", "--vvc-outputs", str(folder)))
    assert code == 2 and expected in err, err


def test_png_export_writes_8_and_16_bit_scenes_and_refuses_depths_a_format_cannot_hold(
        reds_dat: Path, tmp_path: Path, capsys) -> None:
    result = export(capsys, reds_dat, tmp_path / "p16", "--bit-depth", "16")
    assert result["scenes"] == 3 and result["frame_size"] == "176x168"
    with Image.open(tmp_path / "p16" / "scene_00016.png") as image:
        assert image.size == (176, 168) and np.asarray(image).dtype == np.uint16
    code, err = run(capsys, ["reconstruct", str(reds_dat), "-o", str(tmp_path / "y"), "--format", "yuv",
                             "--bit-depth", "8"])
    assert code == 2 and "--format yuv is written at bit depth 10, not 8" in err
    code, err = run(capsys, ["reconstruct", str(reds_dat), "-o", str(tmp_path / "y"), "--format", "yuv",
                             "--gain", "2"])
    assert code == 2 and "drop --gain" in err
