"""Codec training stages on a small real data folder: data split, resume, export."""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from codec.errors import SpikecodecError
from codec.models.conditional import ConditionalResidualHyperprior
from codec.models.registry import archived_version, load_model
from codec.train.attention_stage import binned, train_attention
from codec.train.codec_stage import train_codec
from codec.train.data import CropSampler, training_paths
from codec.train.export import export_model
from codec.train.inter_stage import make_samples, train_inter
from codec.train.recon import config_from
from codec.train.recon_data import SceneSampler
from codec.train.runs import RunDir
from codec.train.spike_batches import spike_batch


@pytest.fixture(scope="module")
def data_root(shared_data: Path, tmp_path_factory) -> Path:
    """A copy of a few real training files, plus evaluation files that must be skipped."""
    root = tmp_path_factory.mktemp("data")
    images = shared_data / "images"
    for folder, count in (("train400", 3), ("sun_hays80", 1)):
        (root / "images" / folder).mkdir(parents=True)
        for path in sorted((images / folder).iterdir())[:count]:
            shutil.copy(path, root / "images" / folder)
    (root / "images" / "kodak").mkdir()
    Image.open(images / "kodak" / "kodim23.png").crop((0, 0, 192, 128)).save(root / "images" / "kodak" / "k.png")
    for seq in ("bmx-trees", "blackswan"):
        src = shared_data / "video" / "davis2016" / seq
        (root / "video" / "davis2016" / seq).mkdir(parents=True)
        for path in sorted(src.iterdir())[:6]:
            shutil.copy(path, root / "video" / "davis2016" / seq)
    return root


def test_training_set_never_contains_evaluation_data(data_root):
    paths = training_paths(data_root)
    assert len(paths) == 3 + 1 + 2  # every 3rd of 6 bmx-trees frames
    assert not any("blackswan" in p.parts or "kodak" in p.parts for p in paths)


def test_crops_are_scaled_by_a_random_gain(data_root):
    sampler = CropSampler(training_paths(data_root), crop=64, gain=(0.3, 0.5), seed=1)
    batch = sampler.batch(6)
    assert batch.shape == (6, 1, 64, 64) and batch.dtype == torch.float32
    assert 0 <= batch.min() and batch.max() <= 0.5


def test_codec_stage_resumes_from_its_run_dir(data_root, tmp_path):
    run = RunDir(tmp_path / "codec")
    _, first = train_codec(run, data_root, steps=2, batch=2, crop=64)
    assert first["step"] == 2 and run.checkpoint_path.is_file()
    model, second = train_codec(run, data_root, steps=3, batch=2, crop=64, device="cpu")  # the --device path
    assert second["step"] == 3
    events = [json.loads(line) for line in run.log_path.read_text().splitlines()]
    assert {"event": "resume", "step": 2}.items() <= next(e for e in events if e.get("event") == "resume").items()
    assert events[-1]["step"] == 3 and events[-1]["loss"] > 0


def test_a_checkpoint_of_other_parameters_is_refused_clearly(data_root, tmp_path):
    run = RunDir(tmp_path / "codec")
    train_codec(run, data_root, steps=1, batch=2, crop=64)
    state = torch.load(run.checkpoint_path, weights_only=False)
    moments = state["optimizer"]["state"]
    first, other = 0, next(i for i, m in moments.items() if m["exp_avg"].shape != moments[0]["exp_avg"].shape)
    moments[first], moments[other] = moments[other], moments[first]  # as a changed parameter order leaves it
    run.save(state)
    with pytest.raises(SpikecodecError, match="cannot resume this run"):
        train_codec(run, data_root, steps=2, batch=2, crop=64)


@pytest.mark.slow
def test_export_writes_weights_the_registry_loads(data_root, tmp_path):
    model, summary = train_codec(RunDir(tmp_path / "run"), data_root, steps=1, batch=2, crop=64)
    record = export_model(model, "spikecodec-base", "none", "intra", {"steps": summary["step"]},
                          data_root, tmp_path / "weights", reds=False)
    assert record["file_bytes"] <= 10 * 2**20
    assert [p["quality"] for p in record["kodak_gray"]] == [1, 2, 3, 4, 5, 6]
    loaded, digest, loaded_record = load_model("spikecodec-base", weights_dir=tmp_path / "weights")
    assert digest == record["sha256"] == loaded_record["sha256"]
    assert loaded.gaussian_conditional._quantized_cdf.numel() > 0  # tables shipped, not rebuilt


def test_replaced_weights_stay_loadable_from_the_archive(tmp_path):
    """A retraining that exports over installed weights archives them: streams coded with them
    (which name their sha256) still find them, and the installed ones are the new."""
    weights = tmp_path / "weights"
    first = load_model("spikecodec-base")[0]
    old = export_model(first, "spikecodec-base", "none", "intra", {}, tmp_path, weights, kodak=False, reds=False)
    second = copy.deepcopy(first)
    with torch.no_grad():
        second.g_s[-1].bias.add_(0.25)
    new = export_model(second, "spikecodec-base", "none", "intra", {}, tmp_path, weights, kodak=False, reds=False)
    assert new["sha256"] != old["sha256"]
    assert load_model("spikecodec-base", weights_dir=weights)[1] == new["sha256"]
    assert archived_version("spikecodec-base", "none", "intra", old["sha256"], weights) == old["sha256"]
    assert archived_version("spikecodec-base", "none", "intra", new["sha256"], weights) is None
    archived, digest, record = load_model("spikecodec-base", sha256=old["sha256"], weights_dir=weights)
    assert digest == record["sha256"] == old["sha256"]
    assert torch.equal(archived.g_s[-1].bias, first.g_s[-1].bias.half().float())


def test_spike_batches_for_the_spike_stages(data_root):
    import numpy as np

    data = spike_batch(SceneSampler(data_root), np.random.default_rng(0), batch=2, size=64)
    assert data.spikes.shape == (2, 33, 64, 64) and data.spikes.dtype == torch.uint8
    assert data.target.shape == (2, 1, 64, 64) and data.features.shape[:1] == (2,)
    before, after = binned(data, steps=4)
    assert before.shape == after.shape == (2, 4, 64, 64)
    # rates of the binned spikes follow the true rates on average
    assert abs(float(before.mean()) - float(data.target.mean())) < 0.1


@pytest.mark.slow
def test_attention_stage_trains_only_the_attention(data_root, tmp_path):
    base = load_model("spikecodec-base")[0].state_dict()
    model, summary = train_attention(RunDir(tmp_path / "soam"), data_root, "soam", steps=2, batch=1, crop=64)
    assert summary["step"] == 2
    state = model.state_dict()
    for name, tensor in base.items():  # the codec, quantiles included, is the base bit for bit
        assert torch.equal(state[name], tensor), name
    assert not torch.equal(state["attention.head.weight"], torch.zeros_like(state["attention.head.weight"]))


def test_train_command_arguments():
    from client.commands import train

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(["--stage", "attention", "--attention", "bisoam", "--steps", "10"])
    assert args.stage == "attention" and args.steps == 10 and args.data.name == "data" and args.device == "cpu"
    # the recon stage reads its device from the same arguments as every other stage
    assert config_from(parser.parse_args(["--stage", "recon", "--device", "cuda"])).device == "cuda"
    with pytest.raises(SystemExit):
        parser.parse_args(["--stage", "nope"])


@pytest.mark.slow
def test_joint_stage_trains_reconstruction_and_codec_together(data_root, tmp_path):
    from codec.reconstruct.net import load_weights
    from codec.train.joint_stage import train_joint

    before = load_weights().state_dict()
    base = load_model("spikecodec-base")[0].state_dict()
    model, recon, summary = train_joint(RunDir(tmp_path), data_root, steps=2, batch=1, crop=64, anneal=(1, 1e-6))
    assert summary["step"] == 2 and not hasattr(model, "recon")
    logged = [json.loads(line) for line in RunDir(tmp_path).log_path.read_text().splitlines()]
    assert [e["lr"] for e in logged if "loss" in e] == [1e-6]  # the last step runs annealed
    assert not torch.equal(recon.state_dict()["tail.weight"], before["tail.weight"])
    assert not torch.equal(model.state_dict()["g_s.0.weight"], base["g_s.0.weight"])


def _panned_bank(shared_data: Path, run: RunDir) -> list:
    """A one-sequence scene bank cached where the inter stage looks for it: a photo panning 2 px a scene."""
    with Image.open(shared_data / "images" / "kodak" / "kodim05.png") as img:
        gray = np.asarray(img.convert("L"))[100:196, 200:360]  # the bank holds uint8 scenes
    sequence = np.stack([gray[:, 2 * t : 2 * t + 96] for t in range(9)])
    run.path.mkdir(parents=True, exist_ok=True)
    np.savez(run.path / "bank.npz", sequence)
    return [sequence]


def test_inter_samples_are_scenes_with_their_predictions_from_coded_references(shared_data, tmp_path):
    bank = _panned_bank(shared_data, RunDir(tmp_path / "inter"))
    intra = load_model("spikecodec-base")[0]
    samples = make_samples(intra, bank, np.random.default_rng(0), 6, 64, levels=6, below=0)
    for target, prediction, level in samples:
        assert target.shape == prediction.shape == (64, 64) and prediction.dtype == np.float32
        assert 0 <= level < 6 and 0 <= prediction.min() and prediction.max() <= 1
        # the pan is predictable: the prediction is far closer to the scene than a flat guess
        assert np.mean((target - prediction) ** 2) < 0.5 * np.var(target)


def test_inter_stage_trains_the_conditional_codec_from_its_pool_and_resumes(shared_data, data_root, tmp_path):
    run = RunDir(tmp_path / "inter")
    _panned_bank(shared_data, run)
    model, first = train_inter(run, data_root, steps=2, batch=2, crop=64, pool_size=4)
    assert isinstance(model, ConditionalResidualHyperprior) and first["step"] == 2
    assert "conditional" in first["data"]["sources"] and "pool of 4 samples" in first["data"]["sources"]
    model, second = train_inter(run, data_root, steps=3, batch=2, crop=64, pool_size=4)
    assert second["step"] == 3
    # the exported codec is measured under the hash its file gets (streams coded for it carry it)
    record = export_model(model, "spikecodec-base", "none", "inter", {"steps": 3}, data_root,
                          weights_dir=tmp_path / "weights", kodak=False, reds=False,
                          evaluations={"measured_sha256": lambda codec: codec.weights_sha256})
    assert record["measured_sha256"] == record["sha256"]
