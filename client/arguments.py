"""Command-line flags shared by several commands: the coding options, the server connection,
the spike source, the device.

Choices and defaults come from :mod:`codec.options`; the help texts are written
once here, so ``encode``, ``stream``, ``upload``, ``reconstruct``, ``compare`` and ``bench``
spell an option the same way. With ``inherit=True`` (``stream``, ``upload``) a flag left out
defaults to ``None``: the server's configuration decides, and it has the same defaults.
Nothing here imports torch or grpc: a parser is built without them.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Callable

from codec import options

#: a parser or an argument group of one
Parser = argparse._ActionsContainer
#: what ``--device`` help says on every command (the reason: :mod:`codec.device`)
DEVICE_HELP = ("the entropy model (hyper transforms, context networks, CDF indexes, rANS) always runs on the CPU "
               "in float32, so a stream coded on either device decodes on either; cpu is bit-exact across runs and "
               "machines with the same CPU instruction set, cuda may round decoded scenes differently by one 8-bit "
               "level at rare pixels; cuda needs a CUDA device and excludes --workers/--ray")


def _default(value: Any, inherit: bool) -> tuple[Any, str]:
    if inherit:
        return None, "default: the server's"
    shown = "K//2" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    return value, f"default {shown}"


def add_scene_arguments(parser: Parser, *, recon_flag: str = "--recon",
                        recon_help: str = "scene reconstruction", inherit: bool = False) -> None:
    """``--window K``, ``--offset C0`` and the reconstruction flag (``recon_flag``; dest ``recon``)."""
    default, shown = _default(options.DEFAULT_WINDOW, inherit)
    parser.add_argument("--window", type=int, default=default, help=f"K: planes between scene centres ({shown})")
    default, shown = _default(options.DEFAULT_OFFSET, inherit)
    parser.add_argument("--offset", type=int, default=default, help=f"C0: centre plane of the first scene ({shown})")
    default, shown = _default(options.DEFAULT_RECONSTRUCTION, inherit)
    parser.add_argument(recon_flag, dest="recon", choices=options.RECONSTRUCTIONS, default=default,
                        help=f"{recon_help} ({shown})")


def add_codec_arguments(parser: Parser, *, inherit: bool = False) -> None:
    """``--quality``, ``--attention``, ``--model``, ``--intra-period``, ``--gop`` and ``--gop-size``."""
    default, shown = _default(options.DEFAULT_QUALITY, inherit)
    parser.add_argument("--quality", type=float, default=default,
                        help=f"scene codec quality, within the model's range ({shown})")
    default, shown = _default(options.DEFAULT_ATTENTION, inherit)
    parser.add_argument("--attention", choices=options.ATTENTIONS, default=default,
                        help=f"encoder attention over the spikes ({shown})")
    default, shown = _default(options.DEFAULT_MODEL, inherit)
    parser.add_argument("--model", default=default, help=f"scene codec name ({shown})")
    default, shown = _default(options.DEFAULT_INTRA_PERIOD, inherit)
    parser.add_argument("--intra-period", type=int, default=default,
                        help=f"every n-th scene is intra coded, the others may be predicted; 1 = all intra ({shown})")
    default, shown = _default(options.DEFAULT_GOP, inherit)
    parser.add_argument("--gop", choices=options.GOP_STRUCTURES, default=default,
                        help="scene structure: random-access (hierarchical B scenes between anchors, "
                             "gop-size scenes of delay), low-delay (each scene predicted from the one before) "
                             f"or intra ({shown})")
    default, shown = _default(options.DEFAULT_GOP_SIZE, inherit)
    parser.add_argument("--gop-size", type=int, default=default,
                        help=f"random access: scenes from one anchor to the next, 1..{options.MAX_GOP_SIZE} ({shown})")


def add_exact_arguments(parser: Parser, *, inherit: bool = False) -> None:
    """``--exact`` and ``--lossless`` (one of them): the exact spike layer, into ``exact``."""
    default, shown = _default(options.DEFAULT_EXACT, inherit)
    exact = parser.add_mutually_exclusive_group()
    exact.add_argument("--exact", action="store_const", dest="exact", const="scenes", default=default,
                       help=f"add the exact layer: decoding returns the input spikes bit for bit ({shown})")
    exact.add_argument("--lossless", action="store_const", dest="exact", const="alone",
                       help="the exact layer alone, without scenes (the scene options are unused)")


def add_file_arguments(parser: Parser, *, simulated: bool = False, dataset_of: str = "") -> None:
    """How spike files are read: ``--height``/``--width`` (a ``.dat`` file does not record its
    size; with ``simulated`` also the size of a simulated source) and ``--dataset`` (read a plain
    ``(T, H, W)`` bool/uint8 dataset of an HDF5 file instead of the spikecodec schema).

    Args:
        simulated: the command also simulates sources (``stream``, ``bench``).
        dataset_of: which input ``--dataset`` applies to, when a command reads several.
    """
    what = ".dat / simulated" if simulated else ".dat plane"
    parser.add_argument("--height", type=int, default=None,
                        help=f"{what} height, any size (default {options.DEFAULT_HEIGHT})")
    parser.add_argument("--width", type=int, default=None,
                        help=f"{what} width, any size (default {options.DEFAULT_WIDTH})")
    parser.add_argument("--dataset", default=None, metavar="NAME",
                        help=f"HDF5{' ' + dataset_of if dataset_of else ''}: read the plain (T, H, W) bool/uint8 "
                             "dataset NAME (default: the spikecodec schema)")


def add_fr_window_argument(parser: Parser) -> None:
    """``--fr-window``: planes of the windowed firing rate the report scores."""
    parser.add_argument("--fr-window", type=int, default=options.DEFAULT_FR_WINDOW,
                        help=f"planes of the windowed firing rate (default {options.DEFAULT_FR_WINDOW})")


def comma_list(kind: Callable[[str], Any], choices: tuple | None = None, what: str = "value") -> Callable[[str], tuple]:
    """An argparse ``type``: a comma-separated list of ``kind`` (an empty string is an empty list),
    each one of ``choices`` if given (else ``unknown <what>(s) ...``)."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            name = getattr(kind, "__name__", "")
            raise argparse.ArgumentTypeError(f"expected comma-separated {name} values, got {text!r}") from None
        bad = [str(v) for v in values if choices is not None and v not in choices]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what}(s) {', '.join(bad)}; choose from {', '.join(map(str, choices or ()))}")
        return values

    return parse


def add_server_arguments(parser: Parser, required: bool = True, server_help: str = "spikecodec server address") -> None:
    """``--server`` and how to reach it: ``--token``, ``--tls``, ``--ca-cert``, ``--timeout``
    (read by :func:`client.remote.connected`)."""
    parser.add_argument("--server", required=required, metavar="HOST:PORT", help=server_help)
    parser.add_argument("--token", default=os.environ.get("SPIKECODEC_TOKEN") or None,
                        help="bearer token (default: $SPIKECODEC_TOKEN)")
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca-cert", default=None, help="PEM CA bundle to check the server certificate (with --tls)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server (default 10)")


def add_source_arguments(parser: Parser) -> None:
    """``--planes``, ``--height``, ``--width``, ``--dataset``, ``--fps``, ``--seed``, ``--chunk-planes`` of a ``SOURCE``
    (:func:`codec.evaluate.sources.open_input`) sent to a server."""
    source = parser.add_argument_group("source")
    source.add_argument("--planes", type=int, default=None,
                        help="planes to send (recordings: at most; simulated: exactly, default 1000)")
    add_file_arguments(source, simulated=True)
    source.add_argument("--fps", type=float, default=None, help="simulated sources: keyframes per second")
    source.add_argument("--seed", type=int, default=0, help="simulated sources: seed (default 0)")
    source.add_argument("--chunk-planes", type=int, default=32, help="planes per chunk sent (default 32)")


def suffixed(suffix: str, what: str) -> Callable[[str], Path]:
    """An argparse ``type``: a path ending in ``suffix`` (any case), else refused saying
    ``what`` is written there (``encode -o x.h5``)."""

    def parse(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() != suffix:
            raise argparse.ArgumentTypeError(f"{text}: {what}; name the file *{suffix}")
        return path

    return parse


def existing_folder(text: str) -> str:
    """An argparse ``type``: a folder that exists (argparse then names the flag in its refusal)."""
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return text


def add_device_argument(parser: Parser, runs: str) -> None:
    """``--device cpu|cuda``: where ``runs`` (what the command computes with torch) runs; checked by
    :func:`codec.device.check_device`."""
    parser.add_argument("--device", choices=options.DEVICES, default=options.DEFAULT_DEVICE,
                        help=f"where {runs} run (default {options.DEFAULT_DEVICE}); {DEVICE_HELP}")


def coding_device(args: argparse.Namespace) -> options.Device:
    """The checked ``--device`` of a command with :func:`add_worker_arguments` (refused with them),
    before any worker starts (:func:`codec.device.coding_device`)."""
    from codec.device import coding_device as check

    return check(args.device, args.workers if args.workers is not None else args.ray)


def add_worker_arguments(parser: Parser) -> None:
    """``--workers N`` (a local Ray cluster) or ``--ray ADDRESS`` (an existing one): where scenes are coded."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help="code the scenes on N Ray workers of a local cluster, a GOP at a time "
                            "(the same bytes; needs spikecodec[ray])")
    group.add_argument("--ray", default=None, metavar="ADDRESS",
                       help="code the scenes on an existing Ray cluster, one worker per CPU")


def worker_pool(args: argparse.Namespace) -> AbstractContextManager[Any]:
    """The :class:`codec.pipeline.workers.WorkerPool` the flags of :func:`add_worker_arguments` ask for
    (a context manager), or ``nullcontext(None)`` for one process."""
    if args.workers is None and args.ray is None:
        return nullcontext(None)
    from codec.pipeline.workers import WorkerPool

    return WorkerPool(workers=args.workers, address=args.ray)
