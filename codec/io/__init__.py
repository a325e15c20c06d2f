"""Spike I/O: bit packing, PKU ``.dat`` and HDF5 readers/writers, block iteration.

``open_spikes`` / ``open_writer`` choose the format by suffix (``.dat``;
``.h5``/``.hdf5``); readers serve blocks so files larger than memory stream
through. Formats: :mod:`codec.io.dat`, :mod:`codec.io.hdf5`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from codec.errors import SpikeFormatError
from codec.io.base import DEFAULT_BLOCK_PLANES, SpikeReader, SpikeWriter
from codec.io.packing import count_spikes, pack_planes, plane_bytes, unpack_planes
from codec.sensor import SensorParams

DAT_SUFFIXES = (".dat",)
H5_SUFFIXES = (".h5", ".hdf5")

__all__ = [
    "DEFAULT_BLOCK_PLANES",
    "SpikeReader",
    "SpikeWriter",
    "convert",
    "count_spikes",
    "open_spikes",
    "open_writer",
    "pack_planes",
    "plane_bytes",
    "spike_format",
    "unpack_planes",
]


def spike_format(path: str | Path) -> str:
    """``"dat"`` or ``"hdf5"`` from the suffix of ``path``.

    Raises:
        SpikeFormatError: for any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix in DAT_SUFFIXES:
        return "dat"
    if suffix in H5_SUFFIXES:
        return "hdf5"
    raise SpikeFormatError(f"{Path(path).name}: unknown spike file type {suffix!r} (expected .dat, .h5 or .hdf5)")


def open_spikes(
    path: str | Path, height: int | None = None, width: int | None = None, dataset: str | None = None
) -> SpikeReader:
    """Open a spike recording for block reading.

    Args:
        path: ``.dat`` (PKU layout) or ``.h5``/``.hdf5`` file.
        height, width: plane size of a ``.dat`` file (default 250x400); for HDF5
            files the file decides, and a different value given here is an error.
        dataset: name of a plain ``(T, H, W)`` bool/uint8 dataset in an HDF5
            file; ``None`` reads the spikecodec schema.

    Raises:
        SpikeFormatError: unknown suffix, malformed file, or sizes that disagree.
        FileNotFoundError: missing file.
    """
    fmt = spike_format(path)
    if fmt == "dat":
        if dataset is not None:
            raise SpikeFormatError("a .dat file has no datasets; --dataset applies to HDF5 files")
        from codec.io.dat import DatReader

        return DatReader(path, height, width)
    from codec.io.hdf5 import H5Reader, PlainH5Reader

    reader = H5Reader(path) if dataset is None else PlainH5Reader(path, dataset)
    for name, given, actual in (("height", height, reader.height), ("width", width, reader.width)):
        if given is not None and given != actual:
            reader.close()
            raise SpikeFormatError(f"{Path(path).name} is {reader.height}x{reader.width}, but {name} {given} was given")
    return reader


def open_writer(
    path: str | Path, height: int, width: int, sensor: SensorParams = SensorParams(), **options: Any
) -> SpikeWriter:
    """Create a spike file (format by suffix) for appending planes.

    Args:
        options: HDF5 only: ``compression`` (``"gzip"``/``"lzf"``), ``attrs``.
    """
    if spike_format(path) == "dat":
        if options:
            raise SpikeFormatError(f"options {sorted(options)} do not apply to .dat files")
        from codec.io.dat import DatWriter

        return DatWriter(path, height, width, sensor)
    from codec.io.hdf5 import H5Writer

    return H5Writer(path, height, width, sensor, **options)


def convert(
    src: str | Path,
    dst: str | Path,
    height: int | None = None,
    width: int | None = None,
    dataset: str | None = None,
    block_planes: int = DEFAULT_BLOCK_PLANES,
    ground_truth: dict[int, np.ndarray] | None = None,
    sensor: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Copy the planes of ``src`` into ``dst`` block by block (lossless).

    ``src`` options as in :func:`open_spikes`, ``dst`` options as in
    :func:`open_writer`; the sensor parameters travel along (``.dat`` keeps none).

    Args:
        ground_truth: ``{plane: (H, W) float scene in [0, 1]}`` to store with the
            planes (HDF5 output only), e.g. the ground-truth PNG of a recording.
        sensor: sensor fields to override (e.g. ``{"alpha": 0.6}``: a ``.dat``
            file carries no sensor parameters, so its camera's are given here).

    Returns:
        ``{"planes", "height", "width", "spikes", "ground_truth_planes"}`` of what was copied.

    Raises:
        SpikeFormatError: same file, bad suffix, ground truth for a ``.dat`` output
            or outside the planes or of the wrong size.
    """
    if Path(src).resolve() == Path(dst).resolve():
        raise SpikeFormatError(f"source and destination are the same file: {src}")
    ground_truth = ground_truth or {}
    if spike_format(dst) != "hdf5" and ground_truth:
        raise SpikeFormatError(f"{Path(dst).name}: ground truth can only be stored in an HDF5 file")
    spikes = 0
    with open_spikes(src, height, width, dataset) as reader:
        params = replace(reader.sensor, **(sensor or {}))
        outside = [p for p in ground_truth if not 0 <= p < reader.num_planes]
        if outside:
            raise SpikeFormatError(f"ground truth for plane(s) {outside} outside the {reader.num_planes} planes")
        with open_writer(dst, reader.height, reader.width, params, **options) as writer:
            for plane, scene in sorted(ground_truth.items()):
                writer.write_ground_truth(plane, scene)
            for packed in reader.iter_packed_blocks(block_planes):
                writer.write_packed(packed)
                spikes += count_spikes(packed)
        return {"planes": writer.num_planes, "height": reader.height, "width": reader.width, "spikes": spikes,
                "ground_truth_planes": sorted(ground_truth)}
