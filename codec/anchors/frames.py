"""Scenes <-> 10-bit 4:2:0 video frames, with padding to codec-friendly sizes.

A scene (``(H, W)`` float32 in ``[0, 1]``) becomes the luma of a
``yuv420p10le`` frame, ``Y = round(scene * 1023)``, with flat chroma (512).
Frames are padded on the bottom/right by edge replication to a multiple of
:data:`ALIGN` (250 rows -> 256) and decoded frames are cropped back.
"""

from __future__ import annotations

import numpy as np

from codec.anchors.base import AnchorError

#: frame sizes are padded to a multiple of this (VVC/HEVC minimum CU size, even for 4:2:0)
ALIGN = 8
#: peak code value of 10-bit video
PEAK_10BIT = 1023
#: chroma value of a gray 10-bit frame
FLAT_CHROMA = 512


def padded_size(height: int, width: int, align: int = ALIGN) -> tuple[int, int]:
    """``(H', W')``: the smallest multiples of ``align`` at least ``(height, width)``."""
    return -(-height // align) * align, -(-width // align) * align


def scenes_to_yuv420p10(scenes: np.ndarray) -> tuple[bytes, tuple[int, int]]:
    """Pack scenes as raw ``yuv420p10le`` frames.

    Args:
        scenes: ``(N, H, W)`` float array in ``[0, 1]`` (values outside are clipped).

    Returns:
        ``(raw, (H', W'))``: ``N`` frames of ``H'*W'*3`` bytes (Y then U, V at
        half size, little-endian uint16) and the padded frame size.
    """
    scenes = np.asarray(scenes)
    if scenes.ndim != 3 or 0 in scenes.shape:
        raise AnchorError(f"expected a non-empty (N, H, W) array of scenes, got shape {scenes.shape}")
    n, h, w = scenes.shape
    ph, pw = padded_size(h, w)
    luma = np.rint(np.clip(scenes, 0.0, 1.0) * PEAK_10BIT).astype("<u2")
    luma = np.pad(luma, ((0, 0), (0, ph - h), (0, pw - w)), mode="edge")
    chroma = np.full((n, 2 * (ph // 2) * (pw // 2)), FLAT_CHROMA, dtype="<u2")
    frames = np.concatenate([luma.reshape(n, ph * pw), chroma], axis=1)
    return frames.tobytes(), (ph, pw)


def frame_bytes(height: int, width: int) -> int:
    """Bytes of one ``yuv420p10le`` frame of ``height x width``."""
    return 2 * (height * width + 2 * (height // 2) * (width // 2))


def coded_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """Frame sizes a coded ``height x width`` scene may come back at: exact (conformance
    window), or padded to multiples of 8 (ours), 16, ..., 128 (other encoders' CTUs)."""
    sizes = [(height, width)] + [padded_size(height, width, align) for align in (8, 16, 32, 64, 128)]
    return list(dict.fromkeys(sizes))


def yuv420p10_to_scenes(raw: bytes, num_frames: int, height: int, width: int) -> np.ndarray:
    """Luma of raw ``yuv420p10le`` frames as scenes, cropped top-left to ``(height, width)``.

    Args:
        raw: ``num_frames`` frames at one of :func:`coded_sizes` (the one whose
            size matches the buffer).
        num_frames: frames expected.

    Returns:
        ``(N, H, W)`` float32 ``Y / 1023`` clipped to ``[0, 1]``.

    Raises:
        AnchorError: if ``raw`` is not ``num_frames`` frames of any coded size (saying how many
            frames of which size it holds, if any), or holds values above 1023.
    """
    for ph, pw in coded_sizes(height, width):
        if len(raw) == num_frames * frame_bytes(ph, pw):
            frames = np.frombuffer(raw, dtype="<u2").reshape(num_frames, frame_bytes(ph, pw) // 2)
            luma = frames[:, : ph * pw].reshape(num_frames, ph, pw)[:, :height, :width]
            if luma.size and int(luma.max()) > PEAK_10BIT:
                raise AnchorError(f"luma values up to {int(luma.max())}: not yuv420p10le (10 bits in the low "
                                  "bits of each 16-bit word; P010 or 16-bit data?)")
            return (luma.astype(np.float32) / np.float32(PEAK_10BIT)).clip(0.0, 1.0)
    raise AnchorError(f"{len(raw)} bytes of decoded video are not {num_frames} yuv420p10le frames of {width}x{height} "
                      f"(or padded){_what_it_holds(len(raw), height, width)}")


def _what_it_holds(size: int, height: int, width: int) -> str:
    """``"; they are 7 frames of 128x64"`` when ``size`` bytes fit another frame count or 8-bit frames."""
    for ph, pw in coded_sizes(height, width):
        for bits, per_frame in ((10, frame_bytes(ph, pw)), (8, frame_bytes(ph, pw) // 2)):
            if size and size % per_frame == 0:
                return f"; they are {size // per_frame} {'8-bit yuv420p ' if bits == 8 else ''}frames of {pw}x{ph}"
    return ""
