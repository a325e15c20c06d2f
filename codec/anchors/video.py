"""VVC (libvvenc) and HEVC (libx265) anchors on reconstructed scenes, through ffmpeg.

Scenes travel as 10-bit gray frames (:mod:`codec.anchors.frames`); the rate is
the size of the elementary stream (``.266`` / ``.265``) only, decoded back with
ffmpeg's ``vvc`` / ``hevc`` decoder.

    scenes (N,H,W) -> pad, Y10 -> ffmpeg libvvenc -> .266 bytes -> ffmpeg vvc -> Y10 -> crop -> scenes
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codec.anchors.base import AnchorError, AnchorInput, AnchorOutput
from codec.anchors.ffmpeg import require_decoder, require_encoder, run_ffmpeg
from codec.anchors.frames import scenes_to_yuv420p10, yuv420p10_to_scenes
from codec.options import DEFAULT_QPS


@dataclass(frozen=True)
class VideoAnchor:
    """A video encoder run by ffmpeg at fixed QP.

    Attributes:
        name: curve name (``vvc``, ``vvc-ra``, ``hevc``, ``hevc-intra``).
        encoder: ffmpeg encoder (``libvvenc``, ``libx265``).
        decoder: ffmpeg decoder (``vvc``, ``hevc``).
        muxer: raw elementary-stream format (``vvc``, ``hevc``).
        options: encoder options after ``-c:v``; ``{qp}`` is replaced by the QP.
        preset: encoder speed preset (``medium``, ``faster``, ...).
        threads: ffmpeg ``-threads`` for the encoder (the machine is shared).
    """

    name: str
    encoder: str
    decoder: str
    muxer: str
    options: tuple[str, ...]
    preset: str = "medium"
    threads: int = 1
    default_params: tuple = DEFAULT_QPS

    def label(self, param: Any) -> str:
        return f"qp{int(param)}"

    def encode(self, scenes: np.ndarray, qp: int) -> bytes:
        """Encode ``(N, H, W)`` scenes in ``[0, 1]`` at ``qp``; returns the elementary stream."""
        require_encoder(self.encoder)
        raw, (ph, pw) = scenes_to_yuv420p10(scenes)
        # the stream goes to a file, not stdout: libvvenc prints configuration warnings on stdout
        # ("IntraPeriod is 1, thus GOPSize is set to 1 ..."), which a pipe would add to the bitstream
        with tempfile.TemporaryDirectory(prefix="spikecodec-anchor-") as tmp:
            out = Path(tmp) / f"stream.{self.muxer}"
            args = [
                "-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", f"{pw}x{ph}", "-r", "25", "-i", "pipe:",
                "-c:v", self.encoder, "-preset", self.preset, "-threads", str(self.threads),
                *(opt.format(qp=int(qp)) for opt in self.options),
                "-f", self.muxer, str(out),
            ]  # fmt: skip
            run_ffmpeg(args, stdin=raw, what=f"{self.name} encode (qp {qp})")
            stream = out.read_bytes() if out.exists() else b""
        if not stream:
            raise AnchorError(f"{self.name} encode (qp {qp}) produced no bitstream")
        return stream

    def decode(self, stream: bytes, num_scenes: int, height: int, width: int) -> np.ndarray:
        """Decode an elementary stream of ``num_scenes`` frames to ``(N, H, W)`` float32 scenes.

        Frames stay ``yuv420p10le`` end to end (no range conversion); padded or
        conformance-cropped frame sizes are both accepted. The decoder runs single
        threaded: ffmpeg's multithreaded ``vvc`` decoder occasionally returned a
        corrupt frame (about 1 decode in 12 of the same stream).
        """
        require_decoder(self.decoder)
        raw = run_ffmpeg(
            ["-threads", "1", "-c:v", self.decoder, "-f", self.muxer, "-i", "pipe:",
             "-f", "rawvideo", "-pix_fmt", "yuv420p10le", "pipe:"],
            stdin=stream,
            what=f"{self.name} decode",
        )
        return yuv420p10_to_scenes(raw, num_scenes, height, width)

    def code(self, inp: AnchorInput, param: Any) -> AnchorOutput:
        stream = self.encode(inp.scenes, int(param))
        n, h, w = inp.scenes.shape
        return AnchorOutput(payload=stream, scenes=self.decode(stream, n, h, w))


def vvc(preset: str = "medium", intra: bool = True, threads: int = 1) -> VideoAnchor:
    """VVC with libvvenc: all-intra (``IntraPeriod=1``) or random access (default GOP), ``-qpa 0``."""
    options = ("-qp", "{qp}", "-qpa", "0") + (("-vvenc-params", "IntraPeriod=1") if intra else ())
    return VideoAnchor(
        name="vvc" if intra else "vvc-ra",
        encoder="libvvenc",
        decoder="vvc",
        muxer="vvc",
        options=options,
        preset=preset,
        threads=threads,
    )


def hevc(preset: str = "medium", intra: bool = False, threads: int = 1) -> VideoAnchor:
    """HEVC with libx265 at fixed QP, ``-tune psnr``; all-intra (``keyint=1``) or its default GOP."""
    params = "log-level=error" + (":keyint=1" if intra else "")
    return VideoAnchor(
        name="hevc-intra" if intra else "hevc",
        encoder="libx265",
        decoder="hevc",
        muxer="hevc",
        options=("-qp", "{qp}", "-tune", "psnr", "-x265-params", params),
        preset=preset,
        threads=threads,
    )
