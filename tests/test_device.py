"""``--device``: what runs where, and why a stream decodes whatever device coded it.

This machine has no GPU and none is faked: the device plumbing runs with ``"cpu"`` through
the code path ``cuda`` takes, ``cuda`` is refused with its reason, which modules a model moves
is checked on torch's ``meta`` device (real placement, no data), and transforms that round
differently (as another device's do) are shown to leave every stream decodable.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from client.cli import main
from codec.device import CPU, check_device, coding_device, scene_codec_device
from codec.errors import SpikecodecError
from codec.models import SceneCodec, load_inter_codec, load_scene_codec
from codec.models.registry import build_model, get_config
from codec.models.scene_model import GainedMeanScaleHyperprior
from codec.pipeline import EncoderConfig, decode_file, encode_file
from codec.reconstruct import get_reconstructor

DEVICE_MODULES = GainedMeanScaleHyperprior.DEVICE_MODULES
#: what must stay on the CPU: everything that decides a CDF index or a symbol
ENTROPY_PATH = {"h_a", "h_s", "gain", "hyper_gain", "entropy_bottleneck"}


def test_devices_are_checked() -> None:
    assert check_device("cpu") == "cpu"
    with pytest.raises(SpikecodecError, match=r"^--device tpu: unknown device \(choose from cpu, cuda\)$"):
        check_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_cuda_device_is_refused_with_the_reason() -> None:
    with pytest.raises(SpikecodecError, match=r"^--device cuda: torch finds no CUDA device on this machine "
                                              r"\(torch .*\); use --device cpu$"):
        check_device("cuda")


def test_a_device_and_ray_workers_exclude_each_other() -> None:
    with pytest.raises(SpikecodecError, match=r"^--device cuda computes in this process, Ray workers"):
        coding_device("cuda", pool=2)
    assert coding_device("cpu", pool=2) == coding_device("cpu") == "cpu"


def test_an_exact_layer_read_with_the_scenes_keeps_the_scene_codec_on_the_cpu() -> None:
    assert scene_codec_device("cuda", "scenes") == CPU
    assert scene_codec_device("cuda", "none") == scene_codec_device("cuda", "alone") == "cuda"


@pytest.mark.parametrize(("name", "attention", "role"), [("spikecodec-base", "bisoam", "intra"),
                                                         ("spikecodec-ctx", "none", "intra"),
                                                         ("spikecodec-base", "none", "inter")])
def test_place_moves_only_the_transforms_that_decide_no_symbol(name: str, attention: str, role: str) -> None:
    config = replace(get_config(name), conditional_inter=True)
    model = build_model(config, attention, role).place("meta")
    moved = {key.split(".")[0] for key, p in model.named_parameters() if p.is_meta}
    kept = {key.split(".")[0] for key, p in model.named_parameters() if not p.is_meta}
    device_modules = set(model.DEVICE_MODULES)
    assert moved == device_modules - ({"attention"} if attention == "none" else set())
    # the context model's parameter networks and the conditional codec's prior decide symbols
    assert kept == ENTROPY_PATH | ({"contexts"} if config.context else set()) | (
        {"context_prior"} if role == "inter" else set())
    buffers = {key.split(".")[0] for key, b in model.named_buffers() if not b.is_meta}
    assert {"entropy_bottleneck", "gaussian_conditional"} <= buffers  # CDF tables, scale table
    assert not {key.split(".")[0] for key, b in model.named_buffers() if b.is_meta} - device_modules
    assert model.transform_device.type == "meta"


def test_the_cpu_codecs_are_the_default_ones() -> None:
    assert load_scene_codec(device=CPU) is load_scene_codec()
    assert load_inter_codec(device=CPU) is load_inter_codec()
    assert load_scene_codec().device == torch.device("cpu")


def _rounded_otherwise(codec: SceneCodec) -> SceneCodec:
    """``codec`` with the device transforms' weights changed in their last bits, as another
    device's arithmetic changes their results."""
    other = SceneCodec(copy.deepcopy(codec.model), codec.name, codec.attention, codec.weights_sha256, codec.record)
    with torch.no_grad():
        for name in DEVICE_MODULES:
            for p in getattr(other.model, name).parameters() if getattr(other.model, name) else ():
                p.mul_(1 + 2.0**-20)
    return other


@pytest.mark.parametrize("name", ["spikecodec-base", "spikecodec-ctx"])
def test_a_stream_decodes_whatever_rounding_its_transforms_had(name: str) -> None:
    yy, xx = np.mgrid[0:80, 0:112] / 16.0
    scene = (0.45 + 0.3 * np.sin(xx) * np.cos(yy) + 0.05 * np.random.default_rng(0).random((80, 112)))
    scene = scene.astype(np.float32)
    here = load_scene_codec(name)
    there = _rounded_otherwise(here)
    for encoder, decoder in ((there, here), (here, there)):
        payload, mirror = encoder.encode_and_decode(scene, 4)
        assert encoder.decode_scene(payload, 80, 112, 4).tobytes() == mirror.tobytes()
        # the same latent decoded: only the synthesis' rounding differs (a wrong CDF index would not be close)
        assert np.abs(decoder.decode_scene(payload, 80, 112, 4) - mirror).max() < 1e-3


@pytest.fixture
def spikes(tmp_path: Path) -> Path:
    path = tmp_path / "spikes.h5"
    assert main(["simulate", "synthetic", "-o", str(path), "--planes", "96", "--height", "48", "--width", "64"]) == 0
    return path


def test_coding_on_the_cpu_device_takes_the_device_path_and_gives_the_same_bytes(spikes: Path, tmp_path: Path) -> None:
    config = EncoderConfig(quality=3, recon="net", attention="soam", intra_period=2)
    encode_file(spikes, tmp_path / "default.spkc", config)
    encode_file(spikes, tmp_path / "cpu.spkc", config, device="cpu")
    assert (tmp_path / "cpu.spkc").read_bytes() == (tmp_path / "default.spkc").read_bytes()
    decode_file(tmp_path / "cpu.spkc", tmp_path / "default.h5")
    decode_file(tmp_path / "cpu.spkc", tmp_path / "cpu.h5", device="cpu")
    assert (tmp_path / "cpu.h5").read_bytes() == (tmp_path / "default.h5").read_bytes()


def test_only_the_learned_reconstructor_takes_a_device() -> None:
    planes = (np.random.default_rng(1).random((33, 16, 24)) < 0.3).astype(np.uint8)
    net = get_reconstructor("net", 32, device="cpu")
    assert net.reconstruct(planes, 16).tobytes() == get_reconstructor("net", 32).reconstruct(planes, 16).tobytes()
    get_reconstructor("tfp", 32, device="cuda")  # computes with numpy: no device to check


def test_the_commands_say_what_runs_where(capsys: pytest.CaptureFixture) -> None:
    for command, runs in (("encode", "analysis and synthesis"), ("decode", "synthesis"), ("bench", "learned parts"),
                          ("train", "networks and batches")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert runs in text and "always runs on the CPU in float32" in text, command


def test_encode_with_cuda_and_workers_is_refused_before_ray_starts(spikes: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(["encode", str(spikes), "-o", str(tmp_path / "x.spkc"), "--device", "cuda", "--workers", "2"]) == 2
    assert capsys.readouterr().err.strip().endswith("Ray workers (--workers/--ray) code on their CPUs: use one "
                                                   "or the other")
    assert not (tmp_path / "x.spkc").exists()
