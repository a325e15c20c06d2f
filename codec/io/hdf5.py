"""HDF5 spike files: the spikecodec schema, and plain ``(T, H, W)`` datasets.

Schema ``spikecodec-spikes`` version 1::

    /spikes            uint8 (T, B)       packed planes, B = ceil(H*W/8) bytes each,
                                          row-major, top row first, LSB-first bytes,
                                          the last byte's pad bits zero (codec.io.packing);
                                          chunked by planes, maxshape (None, B),
                                          compression optional (gzip or lzf)
        @schema            "spikecodec-spikes"
        @schema_version    1
        @height, @width    plane size in pixels (any; the true size of the padded planes)
        @bit_order         "little"  (first pixel in the least significant bit)
        @plane_rate_hz     planes per second
        @sensor_threshold, @sensor_alpha, @sensor_reset_mechanism,
        @sensor_init, @sensor_seed, @sensor_tau (absent: no leak)
    /ground_truth/plane_<P>   float32 (H, W) in [0, 1], optional: the scene that
        @plane                drove plane P (simulated files)
    /@simulation        optional JSON string: how the file was simulated

Padding each plane to a whole byte came with any ``H x W``; every size with ``H*W`` a
multiple of 8 (the only ones version 1 held before) keeps exactly its bytes, so the
schema version did not change.

A *plain* file holds a ``(T, H, W)`` bool or uint8 (0/1) dataset under any name
(top row first); it is read with ``dataset=NAME`` and default sensor parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from codec.errors import SpikecodecError, SpikeFormatError
from codec.io.base import SpikeReader, SpikeWriter
from codec.io.packing import BIT_ORDER, check_padding, pack_planes, plane_bytes
from codec.options import HDF5_COMPRESSIONS
from codec.sensor import SensorParams

SCHEMA = "spikecodec-spikes"
SCHEMA_VERSION = 1
SPIKES = "spikes"
GROUND_TRUTH = "ground_truth"
#: HDF5 filters of :data:`codec.options.HDF5_COMPRESSIONS` (``"none"`` is ``compression=None``)
COMPRESSIONS = tuple(c for c in HDF5_COMPRESSIONS if c != "none")
#: target bytes per HDF5 chunk (chunks hold whole planes)
_CHUNK_BYTES = 1 << 20
_SENSOR_PREFIX = "sensor_"


def _open_h5(path: Path, mode: str) -> h5py.File:
    try:
        return h5py.File(path, mode)
    except FileNotFoundError:
        raise
    except OSError as err:
        if mode != "r":
            raise SpikecodecError(f"cannot create {path}: {_first_line(err)}") from None
        if not path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(path)) from None
        raise SpikeFormatError(f"{path.name}: not a readable HDF5 file ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _sensor_attrs(sensor: SensorParams) -> dict[str, Any]:
    values = sensor.to_dict()
    attrs: dict[str, Any] = {"plane_rate_hz": float(values.pop("plane_rate"))}
    for key, value in values.items():
        if value is not None:
            attrs[_SENSOR_PREFIX + key] = value
    return attrs


def _sensor_from_attrs(attrs: h5py.AttributeManager) -> SensorParams:
    values: dict[str, Any] = {}
    for key, value in attrs.items():
        if key.startswith(_SENSOR_PREFIX):
            value = _text(value) if isinstance(value, bytes) else value
            values[key[len(_SENSOR_PREFIX) :]] = value.item() if isinstance(value, np.generic) else value
    if "plane_rate_hz" in attrs:
        values["plane_rate"] = float(attrs["plane_rate_hz"])
    return SensorParams.from_dict(values)


#: what h5py raises on damaged files, besides our own SpikeFormatError
_H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)


class _H5Reader(SpikeReader):
    """Common part of the two HDF5 readers: file handling and error translation.

    Subclasses implement ``_parse(*args)`` (check the metadata, set the size,
    ``sensor`` and ``_data``); anything h5py raises on a damaged file becomes a
    one-line :class:`SpikeFormatError`.
    """

    _data: h5py.Dataset

    def __init__(self, path: str | Path, *args: Any) -> None:
        self.path = Path(path)
        self._file = _open_h5(self.path, "r")
        try:
            self._parse(*args)
        except SpikeFormatError:
            self.close()
            raise
        except _H5_ERRORS as err:
            self.close()
            raise SpikeFormatError(f"{self.path.name}: damaged HDF5 file ({_first_line(err)})") from None

    def _parse(self, *args: Any) -> None:
        raise NotImplementedError

    def _dataset(self, name: str) -> h5py.Dataset:
        obj = self._file.get(name)
        if not isinstance(obj, h5py.Dataset):
            names = sorted(k for k, v in self._file.items() if isinstance(v, h5py.Dataset))
            hint = f"datasets here: {', '.join(names)}" if names else "the file has no datasets"
            raise SpikeFormatError(f"{self.path.name}: no dataset '{name}' ({hint})")
        return obj

    def _fail(self, message: str) -> SpikeFormatError:
        return SpikeFormatError(f"{self.path.name}: {message}")

    def _read_rows(self, start: int, stop: int) -> np.ndarray:
        try:
            return self._data[start:stop]
        except _H5_ERRORS as err:
            raise SpikeFormatError(
                f"{self.path.name}: cannot read planes {start}..{stop} ({_first_line(err)})"
            ) from None

    def close(self) -> None:
        if self._file.id.valid:
            self._file.close()


class H5Reader(_H5Reader):
    """Reader of the ``spikecodec-spikes`` schema (module docstring)."""

    format_name = "hdf5"

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)

    def _parse(self) -> None:
        data = self._dataset(SPIKES)
        attrs = data.attrs
        try:
            schema = _text(attrs["schema"])
            version = int(attrs["schema_version"])
            self.height, self.width = int(attrs["height"]), int(attrs["width"])
            bit_order = _text(attrs["bit_order"])
        except KeyError as err:
            raise self._fail(f"'/{SPIKES}' lacks attribute {err}") from None
        except (TypeError, ValueError) as err:
            raise self._fail(f"bad attribute on '/{SPIKES}': {_first_line(err)}") from None
        if schema != SCHEMA or version != SCHEMA_VERSION:
            raise self._fail(f"unsupported schema {schema!r} version {version} (expected {SCHEMA!r} {SCHEMA_VERSION})")
        if bit_order != BIT_ORDER:
            raise self._fail(f"unsupported bit_order {bit_order!r} (expected {BIT_ORDER!r})")
        try:
            nbytes = plane_bytes(self.height, self.width)
        except SpikeFormatError as err:
            raise self._fail(str(err)) from None
        try:
            self.sensor = _sensor_from_attrs(attrs)
        except SpikeFormatError as err:
            raise self._fail(f"sensor attributes: {err}") from None
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != nbytes:
            raise self._fail(
                f"'/{SPIKES}' must be uint8 (T, {nbytes}) for {self.height}x{self.width}, "
                f"got {data.dtype} {data.shape}"
            )
        self._data = data
        self.num_planes = int(data.shape[0])

    def read_packed(self, start: int, stop: int) -> np.ndarray:
        start, stop = self._clip(start, stop)
        packed = self._read_rows(start, stop)
        try:
            check_padding(packed, self.height, self.width, start)
        except SpikeFormatError as err:
            raise self._fail(str(err)) from None
        return packed

    def simulation(self) -> dict[str, Any] | None:
        """How the file was simulated (the ``/@simulation`` JSON), or ``None``."""
        text = self._file.attrs.get("simulation")
        if text is None:
            return None
        try:
            return json.loads(_text(text))
        except ValueError:
            raise self._fail("the 'simulation' attribute is not JSON") from None

    def ground_truth_planes(self) -> list[int]:
        """Planes whose ground-truth scene the file holds, ascending."""
        try:
            group = self._file.get(GROUND_TRUTH)
            return [] if group is None else sorted(int(ds.attrs["plane"]) for ds in group.values())
        except _H5_ERRORS as err:
            raise self._fail(f"damaged ground truth ({_first_line(err)})") from None

    def ground_truth(self, plane: int) -> np.ndarray:
        """Ground-truth scene of ``plane``: ``(H, W)`` float32 in [0, 1]."""
        try:
            ds = self._file.get(f"{GROUND_TRUTH}/plane_{plane:06d}")
            scene = None if ds is None else ds[()]
        except _H5_ERRORS as err:
            raise self._fail(f"damaged ground truth ({_first_line(err)})") from None
        if scene is None:
            raise self._fail(f"no ground truth for plane {plane}")
        if scene.shape != (self.height, self.width):
            raise self._fail(f"ground truth of plane {plane} is {scene.shape}, not {self.height}x{self.width}")
        return scene.astype(np.float32, copy=False)


class PlainH5Reader(_H5Reader):
    """Reader of a plain ``(T, H, W)`` bool/uint8 dataset (top row first, values 0/1)."""

    format_name = "hdf5-plain"

    def __init__(self, path: str | Path, dataset: str) -> None:
        super().__init__(path, dataset)

    def _parse(self, dataset: str) -> None:
        data = self._dataset(dataset)
        if data.ndim != 3 or data.dtype not in (np.bool_, np.uint8):
            raise self._fail(f"dataset '{dataset}' must be (T, H, W) bool or uint8, got {data.dtype} {data.shape}")
        self.num_planes, self.height, self.width = (int(n) for n in data.shape)
        try:
            plane_bytes(self.height, self.width)
        except SpikeFormatError as err:
            raise self._fail(str(err)) from None
        self.sensor = SensorParams()
        self._data = data
        self._name = dataset

    def read_packed(self, start: int, stop: int) -> np.ndarray:
        start, stop = self._clip(start, stop)
        planes = self._read_rows(start, stop)
        if planes.dtype == np.uint8 and planes.size and planes.max() > 1:
            raise SpikeFormatError(
                f"{self.path.name}: dataset '{self._name}' holds values other than 0/1 in planes {start}..{stop}"
            )
        return pack_planes(planes)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class H5Writer(SpikeWriter):
    """Writes the ``spikecodec-spikes`` schema, appending blocks of planes.

    Args:
        compression: ``None``, ``"gzip"`` or ``"lzf"`` (lossless HDF5 filters).
        attrs: extra root attributes (e.g. ``simulation`` as a JSON string).
    """

    def __init__(
        self,
        path: str | Path,
        height: int,
        width: int,
        sensor: SensorParams = SensorParams(),
        compression: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(path, height, width, sensor)
        if compression not in (None, *COMPRESSIONS):
            raise SpikeFormatError(f"compression must be one of {COMPRESSIONS} or none, got {compression!r}")
        self._file = _open_h5(self._partial, "w")
        chunk_planes = max(1, min(256, _CHUNK_BYTES // self.plane_bytes))
        self._data = self._file.create_dataset(
            SPIKES,
            shape=(0, self.plane_bytes),
            maxshape=(None, self.plane_bytes),
            dtype=np.uint8,
            chunks=(chunk_planes, self.plane_bytes),
            compression=compression,
        )
        self._data.attrs.update(
            {
                "schema": SCHEMA,
                "schema_version": SCHEMA_VERSION,
                "height": self.height,
                "width": self.width,
                "bit_order": BIT_ORDER,
                **_sensor_attrs(sensor),
            }
        )
        self._file.attrs.update(attrs or {})

    def write_packed(self, packed: np.ndarray) -> None:
        packed = self._check_packed(packed)
        n = packed.shape[0]
        self._data.resize(self.num_planes + n, axis=0)
        self._data[self.num_planes :] = packed
        self.num_planes += n

    def write_ground_truth(self, plane: int, scene: np.ndarray) -> None:
        """Store the ground-truth scene ``(H, W)`` float in [0, 1] of ``plane``."""
        scene = np.asarray(scene, dtype=np.float32)
        if scene.shape != (self.height, self.width):
            raise SpikeFormatError(f"ground truth must be {self.height}x{self.width}, got {scene.shape}")
        ds = self._file.require_group(GROUND_TRUTH).create_dataset(f"plane_{plane:06d}", data=scene)
        ds.attrs["plane"] = int(plane)

    def _close_file(self) -> None:
        if self._file.id.valid:
            self._file.close()
