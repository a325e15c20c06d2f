"""Inputs of stream/bench: recordings (cropped, limited) and simulated sources with ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codec.errors import SpikeFormatError
from codec.evaluate.sources import open_input, parse_crop
from codec.io import open_spikes
from codec.simulate import SyntheticSource


def test_recording_is_limited_and_centre_cropped(reds_dat: Path) -> None:
    with open_spikes(reds_dat) as reader:
        full = reader.read(0, 40)
    with open_input(str(reds_dat), planes=40, crop=(64, 128)) as source:
        assert (source.name, source.height, source.width, source.num_planes) == ("reds_203_part2", 64, 128, 40)
        assert not source.simulated and source.ground_truth(20) is None
        np.testing.assert_array_equal(source.read_all(), full[:, 93:157, 136:264])


@pytest.mark.parametrize("spec", ["recording", "synthetic"])
def test_blocks_are_bounded_and_hold_the_same_planes(spec: str, reds_dat: Path) -> None:
    """What a client holds of its source is one block: ``block_planes`` bounds it, and the planes do not
    depend on it."""
    recording = spec == "recording"
    opened = {"spec": str(reds_dat) if recording else spec, "height": None if recording else 32,
              "width": None if recording else 64, "planes": 70, "crop": (32, 64) if recording else None}
    with open_input(**opened) as source:
        whole = source.read_all()
    with open_input(**opened, block_planes=16) as source:
        blocks = list(source.blocks)
    assert [len(b) for b in blocks] == [16, 16, 16, 16, 6]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)


def test_simulated_source_knows_its_ground_truth() -> None:
    with open_input("synthetic", 32, 64, planes=40, seed=3) as source:
        planes = source.read_all()
        assert planes.shape == (40, 32, 64) and source.simulated and source.name == "synthetic-s3"
        reference = SyntheticSource(32, 64, 20000.0 / 100.0, seed=3).scene_at(17)
        np.testing.assert_allclose(source.ground_truth(17), reference, atol=1e-6)
        # the spikes follow the ground truth: mean firing rate ~ mean scene value
        assert abs(planes.mean() - reference.mean()) < 0.05


def test_bad_inputs_name_the_problem(tmp_path: Path, reds_dat: Path) -> None:
    with pytest.raises(SpikeFormatError, match="crop must be HxW"):
        parse_crop("64by128")
    with pytest.raises(SpikeFormatError, match="must be positive"):
        parse_crop("0x3")
    assert parse_crop("3x3") == (3, 3)  # any size
    with pytest.raises(SpikeFormatError, match="larger than the 250x400"):
        open_input(str(reds_dat), crop=(256, 128))
    with pytest.raises(SpikeFormatError, match="not a folder of frames"):
        open_input(f"davis:{tmp_path / 'missing'}")
    with pytest.raises(SpikeFormatError, match="planes must be positive"):
        open_input("synthetic", planes=0)
    with pytest.raises(SpikeFormatError, match="block_planes must be positive, got 0"):
        open_input("synthetic", planes=8, block_planes=0)
