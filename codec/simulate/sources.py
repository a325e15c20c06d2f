"""Scene sources: what the simulated camera looks at.

A source is a sequence of gray keyframes, frame ``k`` shown at plane
``k * frame_period``; between keyframes the scene is linearly interpolated in
time, so a 25-60 fps video drives hundreds to thousands of planes per frame
interval, and the simulator integrates each interval in closed form
(:meth:`codec.simulate.neuron.IntegrateAndFire.ramp`). After the last frame the
scene holds. :meth:`FrameSource.scene_at` gives the ground truth of any plane.

Sources: :class:`ImageFolderSource` (one image per frame), :class:`VideoSource`
(decoded by the ffmpeg of ``imageio-ffmpeg``), :class:`SyntheticSource` (a still
image moved along a smooth seeded pan/zoom/rotate path). Images are converted
to gray, scaled to cover ``height x width`` and centre-cropped; values in [0, 1].
"""

from __future__ import annotations

import math
import subprocess
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from codec.errors import SpikecodecError
from codec.simulate.procedural import procedural_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm")
#: keyframes kept decoded per source
_CACHE_FRAMES = 4


class SourceError(SpikecodecError):
    """A scene source that cannot be read (empty folder, undecodable image or video)."""


class FrameSource(ABC):
    """Keyframes interpolated linearly in time (module docstring).

    Attributes:
        height, width: scene size in pixels.
        frame_period: planes between consecutive keyframes (``plane_rate / fps``).
        num_frames: number of keyframes, ``None`` if unbounded.
    """

    height: int
    width: int
    frame_period: float
    num_frames: int | None

    def __init__(self, height: int, width: int, frame_period: float) -> None:
        if height <= 0 or width <= 0:
            raise SourceError(f"scene size must be positive, got {height}x{width}")
        if not frame_period > 0:
            raise SourceError(f"frame period must be positive planes, got {frame_period}")
        self.height, self.width, self.frame_period = int(height), int(width), float(frame_period)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    @abstractmethod
    def _load(self, index: int) -> np.ndarray:
        """Keyframe ``index`` (already clamped to existing frames), ``(H, W)`` float32 in [0, 1]."""

    def frame(self, index: int) -> np.ndarray:
        """Keyframe ``index`` (held after the last one), ``(H, W)`` float32 in [0, 1]."""
        if self.num_frames is not None:
            index = min(index, self.num_frames - 1)
        index = max(index, 0)
        if index not in self._cache:
            self._cache[index] = self._load(index)
            while len(self._cache) > _CACHE_FRAMES:
                self._cache.popitem(last=False)
        return self._cache[index]

    def segment(self, plane: int) -> tuple[int, int]:
        """``(k, end)``: plane ``plane`` lies between keyframes ``k`` and ``k+1``;
        ``end`` is the first plane of the next interval."""
        k = math.floor(plane / self.frame_period)
        return k, max(math.ceil((k + 1) * self.frame_period), plane + 1)

    def ramp(self, plane: int) -> tuple[np.ndarray, np.ndarray, int]:
        """``(scene, step, end)``: the scene at ``plane``, its change per plane up
        to the next keyframe interval, and the first plane of that interval."""
        k, end = self.segment(plane)
        first, second = self.frame(k), self.frame(k + 1)
        step = (second - first) / np.float32(self.frame_period)
        return first + np.float32(plane - k * self.frame_period) * step, step, end

    def scene_at(self, plane: float) -> np.ndarray:
        """Ground-truth scene driving ``plane``: ``(H, W)`` float32 in [0, 1]."""
        k = math.floor(plane / self.frame_period)
        weight = np.float32(plane / self.frame_period - k)
        first, second = self.frame(k), self.frame(k + 1)
        return np.clip(first + weight * (second - first), 0.0, 1.0)

    @property
    def num_planes(self) -> int | None:
        """Planes up to the last keyframe inclusive (``None`` if unbounded)."""
        if self.num_frames is None:
            return None
        return math.floor((self.num_frames - 1) * self.frame_period) + 1

    def close(self) -> None:
        """Release decoders (idempotent)."""


def _fit(image: Image.Image, height: int, width: int) -> np.ndarray:
    """Gray, scaled to cover ``height x width`` and centre-cropped; float32 in [0, 1]."""
    gray = image.convert("L")
    scale = max(height / gray.height, width / gray.width)
    size = (max(width, round(gray.width * scale)), max(height, round(gray.height * scale)))
    gray = gray.resize(size, Image.Resampling.BILINEAR)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    gray = gray.crop((left, top, left + width, top + height))
    return np.asarray(gray, dtype=np.float32) / np.float32(255.0)


def _read_image(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
        return image
    except (UnidentifiedImageError, OSError) as err:
        raise SourceError(f"cannot read image {path.name}: {str(err).splitlines()[0]}") from None


class ImageFolderSource(FrameSource):
    """One image per keyframe: the image files of a folder in name order.

    Args:
        folder: directory of images (``IMAGE_SUFFIXES``).
        height, width: scene size.
        frame_period: planes between images.
    """

    def __init__(self, folder: str | Path, height: int, width: int, frame_period: float) -> None:
        super().__init__(height, width, frame_period)
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder} is not a folder of images")
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {self.folder}")
        self.num_frames = len(self.files)

    def _load(self, index: int) -> np.ndarray:
        return _fit(_read_image(self.files[index]), self.height, self.width)


def video_fps(path: str | Path) -> float:
    """Frame rate of a video file as reported by ffmpeg."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as err:
        raise SourceError(f"cannot decode video {Path(path).name}: {str(err).strip().splitlines()[-1]}") from None
    finally:
        reader.close()
    fps = float(meta.get("fps") or 0.0)
    if not fps > 0:
        raise SourceError(f"{Path(path).name}: ffmpeg reports no frame rate; give one")
    return fps


class VideoSource(FrameSource):
    """Keyframes decoded from a video file, gray, by the ffmpeg of ``imageio-ffmpeg``.

    Frames are decoded sequentially in a subprocess (only a few are kept); going
    back in time restarts the decoder.

    Args:
        path: any video ffmpeg can decode.
        height, width: scene size (ffmpeg scales to cover and centre-crops).
        frame_period: planes between video frames, e.g. ``20000 / fps``.
    """

    def __init__(self, path: str | Path, height: int, width: int, frame_period: float) -> None:
        super().__init__(height, width, frame_period)
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(2, "No such file or directory", str(self.path))
        self.num_frames = None  # known once the decoder reaches the end
        self._process: subprocess.Popen | None = None
        self._next = 0
        self._last: np.ndarray | None = None
        self.frame(0)  # fail early on undecodable input

    def _start(self) -> None:
        import imageio_ffmpeg

        self.close()
        w, h = self.width, self.height
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(self.path),
            "-vf", f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}",
            "-f", "rawvideo", "-pix_fmt", "gray", "-",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._next = 0

    def _load(self, index: int) -> np.ndarray:
        if self._process is None or index < self._next:
            self._start()
        nbytes = self.height * self.width
        while self._next <= index:
            assert self._process is not None and self._process.stdout is not None
            data = self._process.stdout.read(nbytes)
            if len(data) < nbytes:
                return self._end_of_video()
            self._last = np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width)
            self._next += 1
        assert self._last is not None
        return self._last.astype(np.float32) / np.float32(255.0)

    def _end_of_video(self) -> np.ndarray:
        assert self._process is not None and self._process.stderr is not None
        error = self._process.stderr.read().decode(errors="replace").strip()
        self._process.wait()
        if self._next == 0:
            reason = error.splitlines()[-1] if error else "no frames"
            raise SourceError(f"cannot decode video {self.path.name}: {reason}")
        self.num_frames = self._next
        self.close()
        assert self._last is not None
        return self._last.astype(np.float32) / np.float32(255.0)

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()
            self._process = None


class SyntheticSource(FrameSource):
    """A still image seen by a camera on a smooth random pan/zoom/rotate path.

    The path is a sum of slow sinusoids with seeded phases (pan up to ~6 % of
    the width, rotation up to ~6 degrees, zoom within +-8 %), evaluated at every
    keyframe and warped with bilinear resampling.

    Args:
        height, width: scene size.
        frame_period: planes between rendered keyframes.
        seed: seeds the path and, without ``image``, the procedural image.
        image: optional still image file; default a procedural image.
        speed: multiplies the path's pace (1.0: about 0.02 pixel per plane).
    """

    num_frames = None

    def __init__(
        self,
        height: int,
        width: int,
        frame_period: float = 200.0,
        seed: int = 0,
        image: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        super().__init__(height, width, frame_period)
        margin = 1.5  # the still is larger than the view so the path stays inside it
        big_h, big_w = math.ceil(height * margin), math.ceil(width * margin)
        if image is None:
            still = procedural_image(big_h, big_w, seed)
        else:
            still = _fit(_read_image(Path(image)), big_h, big_w)
        self._still = Image.fromarray(still, mode="F")
        rng = np.random.default_rng([seed, 1])
        self._periods = rng.uniform(8000.0, 24000.0, size=(4, 3)) / speed  # planes, per parameter
        self._phases = rng.uniform(0.0, 2.0 * np.pi, size=(4, 3))

    def _path(self, plane: float) -> np.ndarray:
        """(pan_x, pan_y, angle, zoom) at ``plane``: pixels, pixels, radians, factor."""
        waves = np.sin(2.0 * np.pi * plane / self._periods + self._phases).mean(axis=1)
        return np.array([0.06 * self.width, 0.06 * self.height, 0.1, 0.08]) * waves + [0.0, 0.0, 0.0, 1.0]

    def _load(self, index: int) -> np.ndarray:
        pan_x, pan_y, angle, zoom = self._path(index * self.frame_period)
        cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
        cx, cy = self.width / 2.0, self.height / 2.0
        sx, sy = self._still.width / 2.0 + pan_x, self._still.height / 2.0 + pan_y
        # output (x, y) -> still (a*x + b*y + c, d*x + e*y + f): rotate and scale about the centres
        data = (cos, -sin, sx - cos * cx + sin * cy, sin, cos, sy - sin * cx - cos * cy)
        view = self._still.transform((self.width, self.height), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR)
        return np.clip(np.asarray(view, dtype=np.float32), 0.0, 1.0)


#: keyframe rate of the synthetic source when none is given (frames per second)
SYNTHETIC_FPS = 100.0
#: frame rate of an image folder when none is given
FOLDER_FPS = 25.0


def open_source(
    spec: str | Path,
    height: int,
    width: int,
    plane_rate: float,
    fps: float | None = None,
    seed: int = 0,
    image: str | Path | None = None,
) -> FrameSource:
    """A scene source from a command-line spec.

    Args:
        spec: ``"synthetic"``, a folder of images, or a video file (a single image is refused:
            it would be a still scene).
        height, width: scene size.
        plane_rate: camera planes per second; keyframes come every ``plane_rate / fps`` planes.
        fps: keyframes per second (default: the video's rate, 25 for a folder,
            100 for synthetic).
        seed, image: for ``synthetic``: path seed and optional still image.
    """
    if fps is not None and not fps > 0:
        raise SourceError(f"fps must be positive, got {fps}")
    if str(spec) == "synthetic":
        return SyntheticSource(height, width, plane_rate / (fps or SYNTHETIC_FPS), seed=seed, image=image)
    if image is not None:
        raise SourceError("--image applies to the 'synthetic' source only")
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, height, width, plane_rate / (fps or FOLDER_FPS))
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        # ffmpeg would read it as a one-frame video: a still scene, whose spikes and scores say nothing
        # about moving ones, and most often the ground-truth PNG given where the recording was meant
        raise SourceError(
            f"{path.name} is a single image, not a spike recording or a video: give a .dat/.h5 recording, a folder "
            f"of images or a video, or simulate the image moving first (spikecodec simulate synthetic --image "
            f"{spec} -o spikes.h5)")
    if path.is_file():
        return VideoSource(path, height, width, plane_rate / (fps or video_fps(path)))
    raise FileNotFoundError(2, "No such file or directory", str(path))
