"""Sensor parameters are validated wherever they are read: the dataclass itself, HDF5
attributes, command-line flags, the ``.spkc`` header and the gRPC stream header."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest

from client.cli import main
from codec.bitstream import FORMAT_VERSION, MAGIC, RecordParser, StreamHeader, header_record
from codec.bitstream.records import KIND_HEADER, frame
from codec.errors import BitstreamError, SpikeFormatError
from codec.io import open_spikes, open_writer
from codec.sensor import SensorParams

NON_FINITE = [math.nan, math.inf, -math.inf]
FIELDS = ["threshold", "alpha", "tau", "plane_rate"]


@pytest.mark.parametrize("value", NON_FINITE, ids=str)
@pytest.mark.parametrize("name", FIELDS)
def test_non_finite_sensor_values_are_refused(name: str, value: float) -> None:
    with pytest.raises(SpikeFormatError, match=f"{name} must be a finite number"):
        SensorParams(**{name: value})


def test_hdf5_attributes_with_nan_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    with open_writer(path, 8, 16) as writer:
        writer.write(np.zeros((4, 8, 16), np.uint8))
    with h5py.File(path, "r+") as f:
        f["spikes"].attrs["sensor_alpha"] = np.nan
    with pytest.raises(SpikeFormatError, match="alpha must be a finite number"):
        open_spikes(path)


def test_command_line_flags_with_inf_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "s.h5"
    assert main(["simulate", "synthetic", "-o", str(out), "--planes", "8", "--height", "8", "--width", "16",
                 "--plane-rate", "inf"]) == 2
    assert "plane_rate must be a finite number" in capsys.readouterr().err
    assert not out.exists()


def _header(**sensor) -> StreamHeader:
    return StreamHeader(height=8, width=16, num_planes=0, window=20, offset=10, recon="tfp", attention="none",
                        model="spikecodec-base", model_sha256="ab" * 32, quality=2.0, sensor=SensorParams(**sensor))


@pytest.mark.parametrize("name", FIELDS)
def test_spkc_header_with_nan_sensor_is_a_bitstream_error(name: str) -> None:
    body = bytearray(_header(tau=5.0).to_bytes())
    # sensor f64 fields in the fixed layout of codec.bitstream.header
    at = {"threshold": 39, "alpha": 47, "tau": 56, "plane_rate": 73}[name]
    assert struct.unpack_from(">d", body, at)[0] == getattr(_header(tau=5.0).sensor, name)
    struct.pack_into(">d", body, at, math.nan)
    data = struct.pack(">4sH", MAGIC, FORMAT_VERSION) + frame(KIND_HEADER, bytes(body))  # valid CRCs
    with pytest.raises(BitstreamError, match=f"header field 'sensor': {name} must be a finite number"):
        RecordParser().feed(data)
    assert RecordParser().feed(header_record(_header(tau=5.0)))  # the untouched header reads
