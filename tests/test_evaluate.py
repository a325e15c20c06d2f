"""The evaluation package beside the sweep: still-image rate-distortion (the Kodak command and
its ``bench.bench_kodak`` name) and the results page rendered from its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codec.evaluate import results
from codec.evaluate.images import image_rd
from codec.options import DEFAULT_QPS


def _smooth_images(folder: Path, count: int = 2, shape: tuple[int, int] = (64, 96)) -> None:
    """Gray PNGs of smooth random fields (coarse noise upsampled), like small photographs."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        coarse = rng.uniform(0, 255, (shape[0] // 8, shape[1] // 8)).astype(np.uint8)
        Image.fromarray(coarse).resize(shape[::-1], Image.Resampling.BICUBIC).save(folder / f"img{i:02d}.png")


def test_image_rd_pools_bits_over_pixels_and_averages_8bit_psnr() -> None:
    images = [np.full((4, 8), 0.5, np.float32), np.linspace(0, 1, 32, dtype=np.float32).reshape(4, 8)]

    def coarse(img: np.ndarray, levels: int) -> tuple[bytes, np.ndarray]:
        """A real (if crude) coder: ``levels`` uniform levels, one byte per pixel."""
        q = np.round(img * (levels - 1)).astype(np.uint8)
        return q.tobytes(), q / (levels - 1)

    points = image_rd(coarse, images, (2, 5))
    assert [p["bpp"] for p in points] == [8.0, 8.0]
    assert points[0]["psnr"] < points[1]["psnr"]  # more levels, less error


@pytest.mark.slow
def test_kodak_command_and_its_bench_name_write_json_the_results_page_renders(tmp_path: Path, capsys) -> None:
    from bench import bench_kodak

    _smooth_images(tmp_path / "photos")
    out = tmp_path / "kodak.json"
    result = bench_kodak.main(["--folder", str(tmp_path / "photos"), "--preset", "faster", "-o", str(out)])
    assert json.loads(capsys.readouterr().out) == result == json.loads(out.read_text())
    assert result["images"] == 2 and [p["qp"] for p in result["vvc"]] == list(DEFAULT_QPS)
    for curve in (result["ours"], result["vvc"]):
        ordered = sorted(curve, key=lambda p: p["bpp"])
        assert all(a["psnr"] < b["psnr"] for a, b in zip(ordered, ordered[1:]))
    assert np.isfinite(result["bd_rate_vs_vvc_percent"])

    assert results.main([str(out), "-o", str(tmp_path / "results.md")]) == 0
    page = (tmp_path / "results.md").read_text()
    assert f"commit `{result['run']['commit']}`" in page
    assert f"**{result['bd_rate_vs_vvc_percent']:+.1f} %**" in page and "| vvc | qp22 |" in page


def test_kodak_command_skips_without_images(tmp_path: Path, capsys) -> None:
    from codec.evaluate import kodak

    assert kodak.main(["--folder", str(tmp_path / "none")]) == {}
    assert "skipped" in capsys.readouterr().err


def test_results_refuses_a_folder_without_results(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        results.main([str(tmp_path)])
    assert exit_info.value.code == 2 and "no result file" in capsys.readouterr().err
