"""``spikecodec reconstruct`` and ``spikecodec compare`` on real files, plus the real-data yardsticks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from client.cli import main
from codec.io import open_spikes, open_writer
from codec.metrics import gain_normalized_psnr, stream_fidelity
from codec.options import RECONSTRUCTIONS
from codec.reconstruct import get_reconstructor, iter_scenes, scene_centres
from codec.reconstruct.pngs import read_scene_png, scene_filename, write_scene_png
from codec.regenerate import regenerate
from codec.sensor import SensorParams

H, W = 8, 16


@pytest.fixture()
def small_dat(tmp_path):
    rng = np.random.default_rng(0)
    rates = rng.uniform(0.05, 0.9, (H, W))
    planes = SensorParams().neurons((H, W))(np.broadcast_to(rates, (70, H, W)))
    path = tmp_path / "small.dat"
    with open_writer(path, H, W) as writer:
        writer.write(planes)
    return path, planes


def _run(capsys, *argv: str) -> tuple[int, dict | str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and "--json" in argv else err)


def test_reconstruct_writes_one_png_per_centre(tmp_path, small_dat, capsys):
    path, planes = small_dat
    code, result = _run(capsys, "reconstruct", str(path), "-o", str(tmp_path / "sc"), "--method", "tfp",
                        "--window", "16", "--offset", "5", "--height", str(H), "--width", str(W), "--json")
    assert code == 0 and result["scenes"] == 5 and result["first_centre"] == 5
    names = sorted(p.name for p in (tmp_path / "sc").glob("*.png"))
    assert names == [scene_filename(c) for c in scene_centres(70, 16, 5)] == ["scene_00005.png", *names[1:]]
    manifest = json.loads((tmp_path / "sc" / "small.scenes.json").read_text())  # beside them: what they are
    assert (manifest["recon"], manifest["window"], manifest["centres"]) == ("tfp", 16, scene_centres(70, 16, 5))
    expected = get_reconstructor("tfp", 16).reconstruct(planes[0:13], 5)
    np.testing.assert_allclose(read_scene_png(tmp_path / "sc" / "scene_00005.png"), expected, atol=0.5 / 255 + 1e-6)


def test_reconstruct_rejects_bad_window(tmp_path, small_dat, capsys):
    path, _ = small_dat
    code, err = _run(capsys, "reconstruct", str(path), "-o", str(tmp_path / "sc"), "--window", "0",
                     "--height", str(H), "--width", str(W))
    assert code == 2 and "window must be a positive" in err and err.count("\n") == 1


def test_compare_regenerated_stream_with_gt_and_scenes(tmp_path, small_dat, capsys):
    path, planes = small_dat
    with open_spikes(path, H, W) as reader:
        pairs = list(iter_scenes(reader, "tfp", 16))
    regen = regenerate([s for _, s in pairs], [c for c, _ in pairs], 70, SensorParams(seed=3))
    with open_writer(tmp_path / "regen.h5", H, W) as writer:
        writer.write(regen)
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    for centre, scene in pairs:
        write_scene_png(scenes / scene_filename(centre), scene)
    gt = get_reconstructor("tfp", 64).reconstruct(planes, 35)
    write_scene_png(tmp_path / "gt.png", gt)
    (tmp_path / "bits.spkc").write_bytes(bytes(100))
    code, result = _run(capsys, "compare", str(path), str(tmp_path / "regen.h5"), "--gt", f"{tmp_path / 'gt.png'}@35",
                        "--scenes", str(scenes), "--recon", "tfp", "--window", "16", "--bitstream",
                        str(tmp_path / "bits.spkc"), "--height", str(H), "--width", str(W), "--json")
    assert code == 0
    assert result == {**result, **stream_fidelity(planes, regen, window=32).to_dict()}
    assert result["bpsp"] == 800 / (70 * H * W) and result["bpp"] == 800 / (len(pairs) * H * W)
    entry = result["ground_truth"][str(tmp_path / "gt.png")]
    assert entry["plane"] == 35 and entry["decoded_scene"]["centre"] == 40
    gt8 = np.round(gt * 255) / 255
    assert entry["original_recon"]["psnr_gain_normalized"] == pytest.approx(
        gain_normalized_psnr(gt8, get_reconstructor("tfp", 16).reconstruct(planes[27:43], 8)))
    assert result["scene_psnr"] > 45  # 8-bit rounding only
    assert "tfp K=16" in result["scene_reference"]


def test_compare_json_of_identical_streams_is_strict_json(small_dat, capsys):
    path, _ = small_dat
    assert main(["compare", str(path), str(path), "--height", str(H), "--width", str(W), "--json"]) == 0

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    result = json.loads(capsys.readouterr().out, parse_constant=no_constants)
    assert result["isi_psnr"] is None  # infinite: the streams are identical
    assert result["count_mae"] == 0 and result["fr_window_psnr"] is None


def test_compare_rejects_streams_of_different_size(tmp_path, small_dat, capsys):
    path, planes = small_dat
    with open_writer(tmp_path / "short.dat", H, W) as writer:
        writer.write(planes[:60])
    code, err = _run(capsys, "compare", str(path), str(tmp_path / "short.dat"), "--height", str(H), "--width", str(W))
    assert code == 2 and "differ in size" in err
    code, err = _run(capsys, "compare", str(path), str(path), "--gt", f"{tmp_path}/none.png@500",
                     "--height", str(H), "--width", str(W))
    assert code == 2 and "outside the stream" in err


def _recordings(shared_data):
    for part in ("reds_203_part2", "reds_203_part3"):
        with open_spikes(shared_data / "spikes" / f"{part}.dat") as reader:
            planes = reader.read()
        gt = np.asarray(Image.open(shared_data / "spikes" / f"{part}_gt.png").convert("L"), dtype=np.float64) / 255
        yield part, planes, gt


def test_net_beats_tfp_and_tfi_by_2db_on_real_recordings(shared_data):
    """Gain-normalized PSNR at plane 150 against the ground truth, committed weights."""
    for part, planes, gt in _recordings(shared_data):
        classic = max(gain_normalized_psnr(gt, get_reconstructor(m, k).reconstruct(planes, 150))
                      for m in RECONSTRUCTIONS if m != "net" for k in (8, 16, 32))
        net = gain_normalized_psnr(gt, get_reconstructor("net", 32).reconstruct(planes, 150))
        assert net >= classic + 2.0, f"{part}: net {net:.2f} dB vs best TFP/TFI {classic:.2f} dB"


def test_tfp_regeneration_ceiling_on_real_recording(reds_dat):
    """TFP (K=16) -> regenerate, no compression: the fidelity ceiling of the codec."""
    with open_spikes(reds_dat) as reader:
        planes = reader.read()
        pairs = list(iter_scenes(reader, "tfp", 16))
        sensor = reader.sensor
    regen = regenerate([s for _, s in pairs], [c for c, _ in pairs], len(planes), sensor)
    fid = stream_fidelity(planes, regen, window=16)
    assert regen.shape == planes.shape
    assert abs(fid.decoded_rate - fid.original_rate) < 0.002
    assert 25 < fid.isi_psnr < math.inf and 25 < fid.fr_window_psnr < math.inf
