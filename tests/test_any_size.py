"""Planes of any ``H x W``: packing with a padded last byte per plane, every format that
carries packed planes (HDF5, ``.spkc`` exact layer, the gRPC chunks), ``.dat``'s refusal of
sizes it cannot hold, and the old multiple-of-8 layout unchanged (golden digests). The
property tests of packing and files of any size: ``tests/test_io_properties.py``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
import pytest

from client.cli import main
from codec.errors import SpikeFormatError
from codec.exact import ExactDecoder, ExactEncoder
from codec.io import convert, open_spikes, open_writer, pack_planes, plane_bytes, unpack_planes
from codec.pipeline import EncoderConfig, decode_file, encode_file
from spikecodec_proto.v1 import spikes_pb2
from spikecodec_proto.wire import read_spikes, spike_messages, stream_header

ODD_SIZES = [(250, 250), (251, 97), (1, 1), (3, 5), (7, 13)]


def _planes(t: int, h: int, w: int, seed: int = 0, rate: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random((t, h, w)) < rate).astype(np.uint8)


@pytest.mark.parametrize("height,width", [(250, 250), (3, 5)])
def test_pad_bits_set_are_refused(height: int, width: int) -> None:
    packed = pack_planes(_planes(4, height, width))
    packed[2, -1] |= np.uint8(0x80)  # the plane's very last bit is padding
    with pytest.raises(SpikeFormatError, match=r"plane 2 has pad bits set"):
        unpack_planes(packed, height, width)


def test_multiple_of_8_layout_is_unchanged() -> None:
    """Golden: the bytes every size that packed before still packs to (flat LSB-first bits,
    4x250 included, whose rows are not whole bytes; those two digests were computed by the
    code before padding existed), and the padded 250x250 ones."""
    digests = {}
    for h, w in ((250, 400), (4, 250), (250, 250)):
        planes = (np.arange(3 * h * w, dtype=np.int64).reshape(3, h, w) * 7919 % 13 < 4).astype(np.uint8)
        packed = pack_planes(planes)
        if (h * w) % 8 == 0:
            flat = np.packbits(planes.reshape(-1), bitorder="little").reshape(3, -1)  # the layout before padding
            assert np.array_equal(packed, flat)
        each = np.stack([np.packbits(p.reshape(-1), bitorder="little") for p in planes])  # zero-padded per plane
        assert np.array_equal(packed, each)
        digests[f"{h}x{w}"] = hashlib.sha256(packed.tobytes()).hexdigest()[:16]
    assert digests == {"250x400": "bf5ea72612f7d4ff", "4x250": "ed69de124195b46a", "250x250": "dc57694e21b7827a"}


@pytest.mark.parametrize("height,width", ODD_SIZES)
def test_hdf5_schema_round_trip(tmp_path: Path, height: int, width: int) -> None:
    planes = _planes(7, height, width, seed=height)
    with open_writer(tmp_path / "x.h5", height, width) as writer:
        writer.write(planes[:3])
        writer.write(planes[3:])
    with h5py.File(tmp_path / "x.h5") as f:
        assert f["spikes"].shape == (7, plane_bytes(height, width))
        assert (f["spikes"].attrs["height"], f["spikes"].attrs["width"]) == (height, width)
    with open_spikes(tmp_path / "x.h5") as reader:
        assert (reader.num_planes, reader.height, reader.width) == (7, height, width)
        assert np.array_equal(reader.read(), planes)
        assert np.array_equal(np.concatenate(list(reader.iter_blocks(2))), planes)


@pytest.mark.parametrize("dtype", [np.uint8, np.bool_])
def test_plain_hdf5_any_size_through_info_and_convert(tmp_path: Path, dtype: type, capsys) -> None:
    planes = _planes(9, 250, 250, seed=1)
    with h5py.File(tmp_path / "cap.h5", "w") as f:
        f.create_dataset("capture/spikes", data=planes.astype(dtype))
    assert main(["info", str(tmp_path / "cap.h5"), "--dataset", "capture/spikes", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"height": 250' in out and '"width": 250' in out and f'"spikes": {int(planes.sum())}' in out
    assert main(["convert", str(tmp_path / "cap.h5"), "-o", str(tmp_path / "schema.h5"), "--dataset",
                 "capture/spikes"]) == 0
    with open_spikes(tmp_path / "schema.h5") as reader:
        assert np.array_equal(reader.read(), planes)


def test_hdf5_with_pad_bits_set_is_refused(tmp_path: Path) -> None:
    with open_writer(tmp_path / "x.h5", 3, 5) as writer:
        writer.write(_planes(4, 3, 5))
    with h5py.File(tmp_path / "x.h5", "r+") as f:
        f["spikes"][1, -1] = 0xFF
    with open_spikes(tmp_path / "x.h5") as reader, pytest.raises(SpikeFormatError, match="x.h5: .*plane 1 has pad"):
        reader.read()


def test_dat_refuses_sizes_it_cannot_hold(tmp_path: Path, capsys) -> None:
    message = r"\.dat cannot hold 250x250 planes: .*H\*W must be a multiple of 8 .*use \.h5"
    with pytest.raises(SpikeFormatError, match=message):
        open_writer(tmp_path / "x.dat", 250, 250)
    (tmp_path / "y.dat").write_bytes(bytes(62500))
    with pytest.raises(SpikeFormatError, match=message):
        open_spikes(tmp_path / "y.dat", 250, 250)
    with open_writer(tmp_path / "x.h5", 250, 250) as writer:
        writer.write(_planes(2, 250, 250))
    assert main(["convert", str(tmp_path / "x.h5"), "-o", str(tmp_path / "x.dat")]) == 2
    assert ".dat cannot hold 250x250 planes" in capsys.readouterr().err
    assert not (tmp_path / "x.dat").exists()
    # a size .dat can hold keeps working, rows of any width: 4x250 = 125 bytes a plane
    planes = _planes(3, 4, 250)
    with open_writer(tmp_path / "z.dat", 4, 250) as writer:
        writer.write(planes)
    assert (tmp_path / "z.dat").stat().st_size == 3 * 125
    assert np.array_equal(open_spikes(tmp_path / "z.dat", 4, 250).read(), planes)


@pytest.mark.parametrize("height,width", [(250, 250), (7, 13)])
def test_wire_chunks_of_any_size(height: int, width: int) -> None:
    planes = _planes(10, height, width, seed=3)
    messages = list(spike_messages(stream_header(height, width), [planes[:4], planes[4:]], chunk_planes=3))
    chunk = messages[1].chunk
    assert len(chunk.packed) == 3 * plane_bytes(height, width)
    got = np.concatenate([p for _, p in read_spikes(messages)])
    assert np.array_equal(got, planes)
    bad = bytearray(chunk.packed)
    bad[plane_bytes(height, width) - 1] |= 0x80  # pad bit of the chunk's first plane
    messages[1] = spikes_pb2.SpikeMessage(chunk=spikes_pb2.SpikeChunk(
        sequence=0, first_plane=0, num_planes=3, packed=bytes(bad)))
    with pytest.raises(SpikeFormatError, match="chunk 0: .*plane 0 has pad bits set"):
        list(read_spikes(messages))


@pytest.mark.parametrize("height,width", [(250, 250), (13, 7)])
def test_exact_layer_of_any_size(height: int, width: int) -> None:
    planes = _planes(40, height, width, seed=4, rate=0.1)
    encoder, decoder = ExactEncoder(height, width, chunk_planes=16), ExactDecoder(height, width)
    chunks = encoder.push(planes) + encoder.finish()
    assert np.array_equal(np.concatenate([decoder.decode(c) for c in chunks]), planes)


def test_lossless_spkc_of_an_odd_size_round_trips(tmp_path: Path) -> None:
    planes = _planes(50, 31, 17, seed=5, rate=0.5)  # dense: the raw coding is used for some chunks
    with h5py.File(tmp_path / "odd.h5", "w") as f:
        f.create_dataset("s", data=planes)
    summary = encode_file(tmp_path / "odd.h5", tmp_path / "odd.spkc", EncoderConfig(quality=3.0, exact="alone"), dataset="s")
    assert (summary["height"], summary["width"], summary["planes"]) == (31, 17, 50)
    decode_file(tmp_path / "odd.spkc", tmp_path / "back.h5")
    assert np.array_equal(open_spikes(tmp_path / "back.h5").read(), planes)


def test_hdf5_to_dat_round_trip_keeps_bytes_for_multiples_of_8(tmp_path: Path) -> None:
    planes = _planes(5, 6, 12)
    with open_writer(tmp_path / "a.dat", 6, 12) as writer:
        writer.write(planes)
    convert(tmp_path / "a.dat", tmp_path / "a.h5", 6, 12)
    convert(tmp_path / "a.h5", tmp_path / "b.dat")
    assert (tmp_path / "a.dat").read_bytes() == (tmp_path / "b.dat").read_bytes()


def test_simulate_an_odd_size(tmp_path: Path, capsys) -> None:
    argv = ["simulate", "synthetic", "--planes", "40", "--height", "251", "--width", "97", "--json"]
    assert main([*argv, "-o", str(tmp_path / "s.h5")]) == 0
    capsys.readouterr()
    with open_spikes(tmp_path / "s.h5") as reader:
        planes = reader.read()
    assert planes.shape == (40, 251, 97) and 0 < planes.mean() < 1
    assert main([*argv, "-o", str(tmp_path / "s.dat")]) == 2
    assert ".dat cannot hold 251x97 planes" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.dat"))
