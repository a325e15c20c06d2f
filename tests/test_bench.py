"""``spikecodec bench`` on a short real recording with the real VVC encoder (and imported VVC bitstreams):
points, cache, merged reruns, BD tables, CompressAI files and plots."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from client.cli import main
from codec.anchors import get_anchor
from codec.evaluate import results
from codec.evaluate.bdtable import bd_summary, bd_table, low_overlap
from codec.evaluate.scores import reference_scenes
from codec.evaluate.sources import open_input
from codec.options import DEFAULT_INTER_OFFSET

PLANES, CROP, WINDOW = 96, (64, 128), 32
QPS = (32, 42)


def write_external_vvc(reds_dat: Path, directory: Path) -> None:
    """Code the bench's reference scenes of ``reds_dat`` with the bundled vvenc, named ``<stem>_qp<QP>.266``."""
    with open_input(str(reds_dat), planes=PLANES, crop=CROP) as source:
        _, scenes = reference_scenes(source.read_all(), "tfp", WINDOW)
    directory.mkdir()
    for qp in QPS:
        (directory / f"{reds_dat.stem}_qp{qp}.266").write_bytes(get_anchor("vvc", preset="faster").encode(scenes, qp))


def rises_with_rate(points: list[dict], column: str) -> bool:
    ordered = sorted(points, key=lambda p: p["bpsp"])
    return all(a[column] < b[column] for a, b in zip(ordered, ordered[1:]))


@pytest.mark.slow
def test_bench_sweep_files_curves_and_resume(reds_dat: Path, tmp_path: Path, capsys) -> None:
    external = tmp_path / "vvc_outputs"
    write_external_vvc(reds_dat, external)
    out = tmp_path / "bench"
    argv = ["bench", str(reds_dat), "-o", str(out), "--planes", str(PLANES), "--crop", "64x128",
            "--qualities", "2,5", "--attention", "none", "--qps", ",".join(map(str, QPS)), "--preset", "faster",
            "--anchor", "vvc,count,lossless", "--vvc-outputs", str(external), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["computed"] == result["points"] == 2 + 2 + 2 + 6 + 2 + 2  # intra, random access (-ra), vvc, ...
    for name in ("rd.json", "rd.csv", "bd_rate.md", "rd_scene_psnr.png", "rd_scene_msssim.png", "rd_isi_psnr.png",
                 "rd_fr_psnr.png"):
        assert (out / name).stat().st_size > 0, name

    rd = json.loads((out / "rd.json").read_text())
    points = rd["points"]
    assert rd["sources"]["reds_203_part2"]["scene_reference"] == "reference reconstruction"
    with open(out / "rd.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(points)
    by_curve: dict[str, list[dict]] = {}
    for p in points:
        by_curve.setdefault(p["curve"], []).append(p)
    assert set(by_curve) == {"spikecodec-none", "spikecodec-none-ra", "vvc", "count", "lossless", "vvc-ext"}
    for curve, pts in by_curve.items():
        if curve == "lossless":
            assert all(p["exact"] and p["scene_psnr_ref"] is None and 0 < p["bpsp"] < 1 for p in pts)
            continue
        assert rises_with_rate(pts, "scene_psnr_ref"), curve  # scored against the reference reconstruction
        assert all(0 < p["bpsp"] < 1 and p["isi_psnr"] is not None for p in pts), curve
    # imported bitstreams from the same encoder and scenes score exactly like the anchor
    ours_vvc = {p["label"]: (p["bits"], p["scene_psnr_ref"]) for p in by_curve["vvc"]}
    assert {p["label"]: (p["bits"], p["scene_psnr_ref"]) for p in by_curve["vvc-ext"]} == ours_vvc
    table = (out / "bd_rate.md").read_text()
    assert "## reds_203_part2" in table and "reference reconstruction" in table and "| spikecodec-none |" in table
    assert table.startswith("# BD-rate and BD-PSNR") and "### scene PSNR against vvc (VVC all-intra, libvvenc)" in table
    assert result["bd_rate"] == bd_summary(rd["bd"]) == {}  # two QPs: too few points for a BD-rate here
    assert all(r["anchor_points"] == "2/2" and "at least 4" in r["note"] for r in rd["bd"])

    # each lossy curve in CompressAI's eval_model layout, which CompressAI's own plot tool reads
    ours = json.loads((out / "compressai" / "reds_203_part2" / "spikecodec-none.json").read_text())
    assert ours["name"] == "spikecodec-none" and ours["results"]["label"] == ["q2", "q5"]
    assert ours["results"]["psnr-rgb"] == [p["scene_psnr"] for p in by_curve["spikecodec-none"]]
    assert "ms-ssim-rgb" not in ours["results"]  # 64x128 scenes: too small for MS-SSIM's 5 scales
    assert not (out / "compressai" / "reds_203_part2" / "lossless.json").exists()
    files = sorted(str(f) for f in (out / "compressai" / "reds_203_part2").glob("*.json"))
    subprocess.run([sys.executable, "-m", "compressai.utils.plot", "-f", *files, "-m", "psnr", "-o",
                    str(tmp_path / "compressai.png")], check=True, capture_output=True)
    assert (tmp_path / "compressai.png").stat().st_size > 0

    # the results page: date, commit and the command of the run, then its tables
    assert rd["run"]["commit"] and rd["run"]["date"]
    assert results.main([str(out), "-o", str(tmp_path / "results.md")]) == 0
    page = (tmp_path / "results.md").read_text()
    assert f"Run {rd['run']['date']}, commit `{rd['run']['commit']}`" in page
    assert f"spikecodec bench {reds_dat} -o {out} --recon tfp --attention none" in page and "--crop 64x128" in page
    assert "### reds_203_part2" in page and "| spikecodec-none |" in page

    assert main(argv) == 0  # rerun: every point comes from the cache
    again = json.loads(capsys.readouterr().out)
    assert again["computed"] == 0 and again["cached"] == again["points"]

    # inter offsets on the P chain: one curve each, the default one named without a suffix
    offsets = ["bench", str(reds_dat), "-o", str(out), "--planes", str(PLANES), "--crop", "64x128",
               "--qualities", "2,5", "--attention", "none", "--intra-period", "32", "--gop", "low-delay",
               "--inter-offset", f"{DEFAULT_INTER_OFFSET:g},0",
               "--qps", ",".join(map(str, QPS)), "--preset", "faster", "--anchor", "vvc", "--json"]
    assert main(offsets) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["points"], result["computed"]) == (6, 4)  # the vvc points come from the cache
    assert result["merged"] == 14  # the earlier points this run did not redo stay in the results
    bits = {(p["curve"], p["label"]): p["bits"] for p in json.loads((out / "rd.json").read_text())["points"]}
    assert {curve for curve, _ in bits} == set(by_curve) | {"spikecodec-none-ld", "spikecodec-none-ld-o0"}
    for label in ("q2", "q5"):  # offset 0 codes the inter scenes at the stream's quality: more bits
        assert bits["spikecodec-none-ld-o0", label] > bits["spikecodec-none-ld", label]

    # two reconstructions in one run: curves named curve@recon; the tfp pass comes from the cache
    both = ["bench", str(reds_dat), "-o", str(out), "--planes", str(PLANES), "--crop", "64x128", "--qualities", "2,5",
            "--attention", "none", "--intra-period", "1", "--qps", ",".join(map(str, QPS)), "--preset", "faster",
            "--anchor", "vvc", "--recon", "tfp,net", "--json"]
    assert main(both) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["points"], result["computed"]) == (8, 4)
    rd = json.loads((out / "rd.json").read_text())
    names = {p["name"] for p in rd["points"]}
    assert {f"{c}@{r}" for c in ("spikecodec-none", "vvc") for r in ("tfp", "net")} <= names
    assert {n for n in names if n.endswith("@net")} == {"spikecodec-none@net", "vvc@net"}
    assert rd["settings"]["recon"] == ["tfp", "net"] and len(rd["runs"]) == 3
    anchors = {(r["curve"], r["anchor"]) for r in rd["bd"]}
    assert ("spikecodec-none@net", "vvc@tfp") in anchors and ("spikecodec-none@net", "vvc@net") in anchors
    table = (out / "bd_rate.md").read_text()
    assert "against vvc@tfp (VVC all-intra, libvvenc; tfp scenes)" in table and "references differ" in table
    assert "against vvc@net (VVC all-intra, libvvenc; net scenes)" in table
    page = results.render([out], "python -m codec.evaluate.results")
    assert page.count("spikecodec bench ") == 3  # each run merged into the folder, with its command
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "synthetic", "-o", str(out), "--recon", "tfp,mlp"])
    assert exit_info.value.code == 2 and "unknown reconstruction(s) mlp" in capsys.readouterr().err


def test_a_quality_given_or_by_default_is_the_same_cached_point() -> None:
    from codec.evaluate.cache import config_hash
    from codec.evaluate.sweep import BenchSettings, plan

    def ours(settings: BenchSettings) -> dict[str, str]:
        return {job.label: config_hash(job.config) for job in plan("synthetic", settings) if job.family == "ours"}

    given = ours(BenchSettings(qualities=(2.0, 5.0), attentions=("none",), anchors=()))
    default = ours(BenchSettings(attentions=("none",), anchors=()))  # the model's integer qualities
    assert given and all(default[label] == digest for label, digest in given.items())


def test_bench_rejects_unknown_anchor(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "synthetic", "-o", str(tmp_path), "--anchor", "vvc,mpeg2"])
    assert exit_info.value.code == 2 and "unknown anchor(s) mpeg2" in capsys.readouterr().err


def test_bd_rows_measure_against_vvc_in_both_domains(tmp_path: Path) -> None:
    from codec.evaluate.outputs import write_bd_markdown

    def point(curve: str, bpsp: float, psnr: float, exact: bool = False) -> dict:
        return {"source": "s", "curve": curve, "label": f"{bpsp:g}", "bpsp": bpsp, "exact": exact,
                "scene_psnr": None if exact else psnr, "isi_psnr": None if exact else psnr / 2,
                "scene_reference": "ground truth"}

    rates = [0.01, 0.02, 0.04, 0.08]
    psnrs = [30.0, 33.0, 36.0, 39.0]
    points = [point("vvc", r, p) for r, p in zip(rates, psnrs)]
    points += [point("spikecodec-none", 0.9 * r, p) for r, p in zip(rates, psnrs)]  # same quality, 10 % fewer bits
    points += [point("count", r, p) for r, p in zip(rates[:2], psnrs[:2])]
    # a dominated point (more bits, less PSNR) leaves the front; the curve is measured on the other four
    points += [point("vvc-ra", 0.8 * r, p) for r, p in zip(rates, psnrs)] + [point("vvc-ra", 0.1, 35.0)]
    points.append(point("lossless", 0.45, 0.0, exact=True))
    table = bd_table(points)
    rows = {(r["curve"], r["domain"]): r for r in table if r["anchor"] == "vvc"}
    assert set(rows) == {(c, d) for c in ("spikecodec-none", "count", "vvc-ra") for d in ("scene PSNR", "ISI PSNR")}
    # vvc-ra is the second anchor (of inter-coded curves), measured on its front of 4 points
    vs_ra = {(r["curve"], r["domain"]): r for r in table if r["anchor"] == "vvc-ra"}
    assert set(vs_ra) == {(c, d) for c in ("spikecodec-none", "count", "vvc") for d in ("scene PSNR", "ISI PSNR")}
    assert vs_ra[("spikecodec-none", "scene PSNR")]["bd_rate"] == pytest.approx(12.5, abs=0.05)
    assert vs_ra[("vvc", "scene PSNR")]["bd_rate"] == pytest.approx(25.0, abs=0.05)
    for domain in ("scene PSNR", "ISI PSNR"):
        assert rows[("spikecodec-none", domain)]["bd_rate"] == pytest.approx(-10.0, abs=0.05)
        assert rows[("spikecodec-none", domain)]["bd_psnr"] > 0
        assert rows[("count", domain)]["bd_rate"] is None and "at least 4" in rows[("count", domain)]["note"]
        assert rows[("vvc-ra", domain)]["bd_rate"] == pytest.approx(-20.0, abs=0.05)
        assert rows[("vvc-ra", domain)]["note"] == "curve: 4 of 5 points on the front"
        assert rows[("spikecodec-none", domain)]["overlap"] == 100.0
    # the command's summary keeps the rows against each anchor and domain apart
    summary = bd_summary(table)
    assert summary["vs vvc"]["scene PSNR"]["s/spikecodec-none"] == pytest.approx(-10.0, abs=0.05)
    assert summary["vs vvc-ra"]["scene PSNR"]["s/spikecodec-none"] == pytest.approx(12.5, abs=0.05)
    assert summary["vs vvc"]["ISI PSNR"]["s/spikecodec-none"] == pytest.approx(-10.0, abs=0.05)
    assert "s/count" not in summary["vs vvc"]["scene PSNR"]
    info = {"num_planes": 96, "height": 8, "width": 8, "num_scenes": 3, "scene_reference": "ground truth"}
    write_bd_markdown(tmp_path / "bd.md", table, points, {"s": info})
    text = (tmp_path / "bd.md").read_text()
    assert "### scene PSNR against vvc (VVC all-intra, libvvenc)" in text
    assert "### ISI PSNR against vvc-ra (VVC random access, libvvenc)" in text
    assert "| spikecodec-none | -10.00 % |" in text and "| 100 % | 4/4, 4/4 |" in text
    assert "lossless 0.45 0.4500 bpsp" in text

    # a curve sharing only a fifth of the anchor's PSNR range: the value is flagged in the row and the summary
    points += [point("shifted", r, p + 6.0) for r, p in zip(rates, [30.0, 33.0, 36.0, 39.0])]
    row = next(r for r in bd_table(points) if (r["curve"], r["anchor"], r["domain"]) == ("shifted", "vvc", "scene PSNR"))
    assert row["overlap"] == pytest.approx(20.0) and row["bd_rate"] is not None
    assert row["note"].startswith("LOW OVERLAP 20 %")
    assert "s/shifted vs vvc (scene PSNR): overlap 20 %" in low_overlap(bd_table(points))
    # --bd-anchor: any curve, here the codec's own
    chosen = bd_table(points, ["spikecodec-none"])
    assert {r["anchor"] for r in chosen} == {"spikecodec-none"}
    assert next(r for r in chosen if r["curve"] == "vvc")["bd_rate"] == pytest.approx(11.1, abs=0.05)
