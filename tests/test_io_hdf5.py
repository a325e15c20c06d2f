"""HDF5 schema reader/writer, plain datasets, ground truth and malformed files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from codec.errors import SpikeFormatError
from codec.io import convert, open_spikes, open_writer
from codec.io.hdf5 import COMPRESSIONS, SCHEMA
from codec.sensor import SensorParams

SENSOR = SensorParams(threshold=2.0, alpha=0.6, reset_mechanism="mod", tau=150.0, init="zero", seed=7,
                      plane_rate=40000.0)


def _planes(t: int = 20, h: int = 10, w: int = 12, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((t, h, w)) < 0.3).astype(np.uint8)


@pytest.mark.parametrize("compression", [None, *COMPRESSIONS])
def test_schema_round_trip(tmp_path: Path, compression: str | None) -> None:
    planes = _planes()
    path = tmp_path / "x.h5"
    with open_writer(path, 10, 12, SENSOR, compression=compression) as writer:
        writer.write(planes[:5])
        writer.write(planes[5:])
        writer.write_ground_truth(7, np.full((10, 12), 0.25))
    with open_spikes(path) as reader:
        assert (reader.num_planes, reader.height, reader.width) == (20, 10, 12)
        assert reader.sensor == SENSOR
        assert np.array_equal(reader.read(), planes)
        assert np.array_equal(np.concatenate(list(reader.iter_blocks(6))), planes)
        assert reader.ground_truth_planes() == [7]
        assert np.all(reader.ground_truth(7) == np.float32(0.25))
    with h5py.File(path) as f:
        data = f["spikes"]
        assert data.dtype == np.uint8 and data.shape == (20, 15) and data.chunks[1] == 15
        assert data.compression == compression
        assert data.attrs["schema"] == SCHEMA and data.attrs["bit_order"] == "little"
        assert data.attrs["plane_rate_hz"] == 40000.0 and data.attrs["sensor_tau"] == 150.0


def test_no_leak_has_no_tau_attribute(tmp_path: Path) -> None:
    with open_writer(tmp_path / "x.h5", 8, 8, SensorParams()) as writer:
        writer.write(_planes(3, 8, 8))
    with h5py.File(tmp_path / "x.h5") as f:
        assert "sensor_tau" not in f["spikes"].attrs
    assert open_spikes(tmp_path / "x.h5").sensor == SensorParams()


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8])
def test_plain_dataset(tmp_path: Path, dtype: type) -> None:
    planes = _planes(9, 6, 4)
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f.create_dataset("group/spk", data=planes.astype(dtype), chunks=(2, 6, 4))
    with open_spikes(tmp_path / "p.h5", dataset="group/spk") as reader:
        assert reader.format_name == "hdf5-plain"
        assert (reader.num_planes, reader.height, reader.width) == (9, 6, 4)
        assert np.array_equal(reader.read(), planes)
    convert(tmp_path / "p.h5", tmp_path / "q.h5", dataset="group/spk")
    assert np.array_equal(open_spikes(tmp_path / "q.h5").read(), planes)


def _write_raw(path: Path, **datasets: np.ndarray) -> None:
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f.create_dataset(name, data=value)


def test_plain_dataset_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.h5"
    _write_raw(path, a=np.full((2, 4, 4), 3, np.uint8), b=np.zeros((2, 16), np.uint8), c=np.zeros((2, 3, 3), bool),
               d=np.zeros((2, 4, 4), np.float32))
    with pytest.raises(SpikeFormatError, match="other than 0/1"):
        open_spikes(path, dataset="a").read()
    for name, message in (("b", "must be"), ("d", "must be"), ("zz", "no dataset 'zz'")):
        with pytest.raises(SpikeFormatError, match=message):
            open_spikes(path, dataset=name)
    assert open_spikes(path, dataset="c").read().shape == (2, 3, 3)  # any size (tests/test_any_size.py)


def test_missing_schema_dataset_names_what_is_there(tmp_path: Path) -> None:
    _write_raw(tmp_path / "p.h5", frames=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(SpikeFormatError, match="no dataset 'spikes' .*frames"):
        open_spikes(tmp_path / "p.h5")


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.attrs.__delitem__("height"), "lacks attribute"),
        (lambda d: d.attrs.__setitem__("bit_order", "big"), "bit_order"),
        (lambda d: d.attrs.__setitem__("schema", "other"), "unsupported schema"),
        (lambda d: d.attrs.__setitem__("width", 13), "must be uint8"),
        (lambda d: d.attrs.__setitem__("width", 16), "must be uint8"),
        (lambda d: d.attrs.__setitem__("sensor_reset_mechanism", "maybe"), "reset_mechanism"),
        (lambda d: d.attrs.__setitem__("sensor_gain", 2.0), "unknown sensor"),
        (lambda d: d.attrs.__setitem__("sensor_threshold", "high"), "sensor"),
    ],
)
def test_malformed_schema(tmp_path: Path, change, message: str) -> None:
    path = tmp_path / "x.h5"
    with open_writer(path, 8, 8) as writer:
        writer.write(_planes(4, 8, 8))
    with h5py.File(path, "r+") as f:
        change(f["spikes"])
    with pytest.raises(SpikeFormatError, match=message):
        open_spikes(path)


def test_wrong_dtype_of_schema_dataset(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    with open_writer(path, 8, 8) as writer:
        writer.write(_planes(4, 8, 8))
    with h5py.File(path, "r+") as f:
        attrs = dict(f["spikes"].attrs)
        del f["spikes"]
        f.create_dataset("spikes", data=np.zeros((4, 8), np.int16)).attrs.update(attrs)
    with pytest.raises(SpikeFormatError, match="must be uint8"):
        open_spikes(path)


def test_height_width_must_agree(tmp_path: Path) -> None:
    with open_writer(tmp_path / "x.h5", 8, 8) as writer:
        writer.write(_planes(4, 8, 8))
    assert open_spikes(tmp_path / "x.h5", 8, 8).num_planes == 4
    with pytest.raises(SpikeFormatError, match="is 8x8, but height 250"):
        open_spikes(tmp_path / "x.h5", 250, None)


def test_truncated_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    with open_writer(path, 64, 64) as writer:
        writer.write(_planes(200, 64, 64))
    data = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(SpikeFormatError):
        with open_spikes(tmp_path / "cut.h5") as reader:
            list(reader.iter_blocks())
    (tmp_path / "text.h5").write_text("not hdf5\n")
    with pytest.raises(SpikeFormatError, match="not a readable HDF5 file"):
        open_spikes(tmp_path / "text.h5")
    with pytest.raises(FileNotFoundError):
        open_spikes(tmp_path / "missing.h5")


@pytest.mark.parametrize("suffix", [".h5", ".dat"])
def test_failed_writes_leave_no_file(tmp_path: Path, suffix: str) -> None:
    _write_raw(tmp_path / "p.h5", a=np.concatenate([np.zeros((300, 8, 8), np.uint8), np.full((1, 8, 8), 2, np.uint8)]))
    out = tmp_path / f"out{suffix}"
    with pytest.raises(SpikeFormatError, match="other than 0/1"):
        convert(tmp_path / "p.h5", out, dataset="a")  # fails in the second block, after writing the first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.h5"]
    writer = open_writer(out, 8, 8)
    writer.write(_planes(2, 8, 8))
    assert not out.exists()  # not published before close
    writer.close()
    assert open_spikes(out, 8, 8).num_planes == 2
