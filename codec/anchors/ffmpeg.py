"""The ffmpeg binary shipped by ``imageio-ffmpeg`` (libvvenc, ``vvc`` decoder, libx265)."""

from __future__ import annotations

import functools
import subprocess

from codec.anchors.base import AnchorError

#: ffmpeg's own chatter is silenced; errors still reach stderr
QUIET = ("-hide_banner", "-nostdin", "-loglevel", "error")


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary.

    Raises:
        AnchorError: if ``imageio-ffmpeg`` is not installed or has no binary.
    """
    try:
        import imageio_ffmpeg
    except ImportError as err:  # pragma: no cover - a dependency of the project
        raise AnchorError("the anchors need the imageio-ffmpeg package (pip install imageio-ffmpeg)") from err
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise AnchorError(f"imageio-ffmpeg has no ffmpeg binary: {err}") from err


@functools.lru_cache(maxsize=None)
def _codec_list(kind: str) -> str:
    return run_ffmpeg([f"-{kind}"]).decode(errors="replace")


def require_encoder(name: str) -> None:
    """Raise :class:`AnchorError` unless the bundled ffmpeg has encoder ``name`` (e.g. ``libvvenc``)."""
    if not any(line.split()[1:2] == [name] for line in _codec_list("encoders").splitlines()):
        raise AnchorError(f"encoder {name} is missing from the ffmpeg binary {ffmpeg_exe()}")


def require_decoder(name: str) -> None:
    """Raise :class:`AnchorError` unless the bundled ffmpeg has decoder ``name`` (e.g. ``vvc``)."""
    if not any(line.split()[1:2] == [name] for line in _codec_list("decoders").splitlines()):
        raise AnchorError(f"decoder {name} is missing from the ffmpeg binary {ffmpeg_exe()}")


def run_ffmpeg(args: list[str], stdin: bytes | None = None, what: str = "ffmpeg") -> bytes:
    """Run the bundled ffmpeg with ``args`` and return its stdout.

    Args:
        args: arguments after the executable (``-i pipe:`` reads ``stdin``,
            ``pipe:`` as output writes stdout).
        stdin: bytes fed to the process.
        what: short description used in the error message ("VVC encode", ...).

    Raises:
        AnchorError: on a non-zero exit, with the last line ffmpeg printed.
    """
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), *QUIET, *args], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False
        )
    except OSError as err:
        raise AnchorError(f"{what}: cannot run ffmpeg: {err}") from err
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise AnchorError(f"{what} failed: {reason}")
    return proc.stdout
