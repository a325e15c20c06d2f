"""Spike-stream fidelity: ISI map, ISI PSNR, firing-rate PSNRs, spike-count error (DESIGN.md, Metrics).

Definitions, for plane ``t`` and pixel ``p`` of a ``T``-plane stream:

- ``prev(t,p)``: last spike at or before ``t`` (``-1`` if none); ``next(t,p)``: first
  spike after ``t`` (``T`` if none); ``ISI(t,p) = next - prev``. A pixel that never
  fires reads ``T+1`` everywhere, one that fires every plane reads 1.
- ISI PSNR: PSNR(ISI_orig, ISI_decoded) with peak ``max ISI_orig``.
- instantaneous firing rate ``1/ISI`` (peak 1); windowed firing rate
  ``count / w`` over consecutive non-overlapping ``w``-plane windows (a trailing
  partial window is left out; peak 1).
- spike-count error: per pixel, decoded count minus original count over the stream.

Whole streams are processed in chunks of pixels (all planes of a few thousand
pixels at a time, vectorized over time with running max/min), so a 2,000-plane
250x400 stream needs a few tens of MB besides its packed planes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Union

import numpy as np

from codec.errors import SpikecodecError
from codec.io.packing import BIT_ORDER
from codec.metrics.scene import psnr_from_mse
from codec.options import DEFAULT_FR_WINDOW

if TYPE_CHECKING:
    from codec.io import SpikeReader

#: elements (planes x pixels) per chunk of the streaming metrics
#: pixel-plane elements per column chunk: the temporaries are about 30 bytes an element (32 MB
#: here), what keeps a thin client's report under 200 MB; larger chunks were not faster
CHUNK_ELEMENTS = 1 << 20


def _isi_columns(spikes: np.ndarray) -> np.ndarray:
    """ISI of a ``(T, P)`` 0/1 array, int32 ``(T, P)``.

    Running max/min over time row by row (each row a vector operation over the
    ``P`` pixels; ``ufunc.accumulate`` along axis 0 is an order of magnitude slower).
    """
    fired = spikes.astype(bool, copy=False)
    t_count = fired.shape[0]
    t = np.arange(t_count, dtype=np.int32)[:, None]
    prev = np.where(fired, t, np.int32(-1))  # becomes: last spike at or before t
    for i in range(1, t_count):
        np.maximum(prev[i - 1], prev[i], out=prev[i])
    first = np.where(fired, t, np.int32(t_count))  # becomes: first spike at or after t
    for i in range(t_count - 2, -1, -1):
        np.minimum(first[i + 1], first[i], out=first[i])
    isi = first  # next(t) = first spike at or after t+1, T after the last plane
    isi[:-1] = first[1:]
    isi[-1] = t_count
    isi -= prev
    return isi


def isi_map(spikes: np.ndarray) -> np.ndarray:
    """ISI map of ``(T, ...)`` 0/1 spikes (time first), int32 of the same shape."""
    spikes = np.asarray(spikes)
    if spikes.ndim < 1 or spikes.shape[0] == 0:
        raise SpikecodecError(f"need at least one plane, got shape {spikes.shape}")
    flat = spikes.reshape(spikes.shape[0], -1)
    out = np.empty(flat.shape, dtype=np.int32)
    step = _chunk_pixels(flat.shape[0])
    for start in range(0, flat.shape[1], step):
        out[:, start : start + step] = _isi_columns(flat[:, start : start + step])
    return out.reshape(spikes.shape)


def windowed_rate(spikes: np.ndarray, window: int) -> np.ndarray:
    """Firing rate ``count/window`` over consecutive windows: ``(T // window, ...)`` float64."""
    spikes = np.asarray(spikes)
    if window < 1 or spikes.shape[0] < window:
        raise SpikecodecError(f"window must be in [1, T={spikes.shape[0]}], got {window}")
    n = spikes.shape[0] // window
    counts = spikes[: n * window].reshape(n, window, *spikes.shape[1:]).sum(axis=1, dtype=np.int64)
    return counts / window


def _chunk_pixels(num_planes: int) -> int:
    return max(8, (CHUNK_ELEMENTS // max(1, num_planes)) // 8 * 8)


ColumnReader = Callable[[int, int], np.ndarray]
SpikeSource = Union[np.ndarray, "SpikeReader"]


def _columns(source: SpikeSource) -> tuple[tuple[int, ...], ColumnReader]:
    """``(T, H, W)`` and a reader of pixel columns ``[a, b)`` as ``(T, b-a)`` uint8.

    ``source`` is a ``(T, H, W)`` array or an open :class:`codec.io.SpikeReader`
    (read packed in full: ``T*ceil(H*W/8)`` bytes; columns are unpacked chunk by chunk).
    """
    if isinstance(source, np.ndarray):
        if source.ndim != 3:
            raise SpikecodecError(f"expected (T, H, W) spikes, got shape {source.shape}")
        flat = source.reshape(source.shape[0], -1)
        return source.shape, lambda a, b: flat[:, a:b]
    packed = source.read_packed(0, source.num_planes)
    shape = (source.num_planes, source.height, source.width)

    def read(a: int, b: int) -> np.ndarray:
        return np.unpackbits(packed[:, a // 8 : -(-b // 8)], axis=1, bitorder=BIT_ORDER)[:, : b - a]

    return shape, read


@dataclass
class StreamFidelity:
    """Fidelity of a decoded spike stream to the original (DESIGN.md definitions)."""

    num_planes: int
    height: int
    width: int
    isi_psnr: float
    isi_peak: int
    fr_instant_psnr: float
    fr_window: int
    fr_window_psnr: float
    count_mae: float  # mean |count error| per pixel, spikes
    count_max_abs: int
    count_relative: float  # sum |count error| / original spikes
    original_rate: float  # mean spikes per plane-pixel
    decoded_rate: float

    def to_dict(self) -> dict:
        return asdict(self)


def stream_fidelity(original: SpikeSource, decoded: SpikeSource, window: int = DEFAULT_FR_WINDOW) -> StreamFidelity:
    """ISI PSNR, instantaneous and windowed firing-rate PSNR and spike-count error, in pixel chunks.

    Args:
        original, decoded: ``(T, H, W)`` 0/1 arrays or open spike readers of equal size.
        window: ``w`` planes of the windowed firing rate.
    """
    shape, read_orig = _columns(original)
    other, read_dec = _columns(decoded)
    if shape != other:
        raise SpikecodecError(f"streams differ in size: original {shape}, decoded {other}")
    t_count, h, w = shape
    if t_count == 0:
        raise SpikecodecError("cannot compare empty streams")
    if not 1 <= window <= t_count:
        raise SpikecodecError(f"firing-rate window must be in [1, {t_count}] planes, got {window}")
    isi_sse = inst_sse = win_sse = 0.0
    isi_peak = 0
    abs_err = max_abs = orig_spikes = dec_spikes = 0
    step = _chunk_pixels(t_count)
    for a in range(0, h * w, step):
        b = min(h * w, a + step)
        so, sd = read_orig(a, b), read_dec(a, b)
        isi_o, isi_d = _isi_columns(so), _isi_columns(sd)
        isi_peak = max(isi_peak, int(isi_o.max()))
        diff = (isi_o - isi_d).ravel().astype(np.int64)
        isi_sse += float(diff @ diff)
        inst = np.reciprocal(isi_o, dtype=np.float64)
        inst -= np.reciprocal(isi_d, dtype=np.float64)
        inst_sse += float(np.dot(inst.ravel(), inst.ravel()))
        win_sse += float(np.sum(np.square(windowed_rate(so, window) - windowed_rate(sd, window))))
        co, cd = so.sum(axis=0, dtype=np.int64), sd.sum(axis=0, dtype=np.int64)
        abs_err += int(np.abs(cd - co).sum())
        max_abs = max(max_abs, int(np.abs(cd - co).max()))
        orig_spikes += int(co.sum())
        dec_spikes += int(cd.sum())
    pixels = h * w
    return StreamFidelity(
        num_planes=t_count, height=h, width=w,
        isi_psnr=psnr_from_mse(isi_sse / (t_count * pixels), float(isi_peak)),
        isi_peak=isi_peak,
        fr_instant_psnr=psnr_from_mse(inst_sse / (t_count * pixels), 1.0),
        fr_window=window,
        fr_window_psnr=psnr_from_mse(win_sse / ((t_count // window) * pixels), 1.0),
        count_mae=abs_err / pixels,
        count_max_abs=max_abs,
        count_relative=abs_err / orig_spikes if orig_spikes else (0.0 if abs_err == 0 else math.inf),
        original_rate=orig_spikes / (t_count * pixels),
        decoded_rate=dec_spikes / (t_count * pixels),
    )


def isi_psnr(original: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR of the ISI maps of two ``(T, H, W)`` streams, peak ``max ISI_orig`` (dB)."""
    return stream_fidelity(original, decoded, window=1).isi_psnr


def fr_instant_psnr(original: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR of the instantaneous firing rates ``1/ISI`` (peak 1, dB)."""
    return stream_fidelity(original, decoded, window=1).fr_instant_psnr


def fr_window_psnr(original: np.ndarray, decoded: np.ndarray, window: int) -> float:
    """PSNR of the firing rates over consecutive ``window``-plane windows (peak 1, dB)."""
    return stream_fidelity(original, decoded, window=window).fr_window_psnr


def spike_count_error(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Per-pixel ``count(decoded) - count(original)`` over all planes, int64 ``(H, W)``."""
    original, decoded = np.asarray(original), np.asarray(decoded)
    if original.shape != decoded.shape:
        raise SpikecodecError(f"streams differ in size: original {original.shape}, decoded {decoded.shape}")
    return decoded.sum(axis=0, dtype=np.int64) - original.sum(axis=0, dtype=np.int64)
