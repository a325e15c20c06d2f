"""The ``spikecodec`` command: one entry point, one module per subcommand.

Each command module (in :mod:`client.commands`, and :mod:`server.serve`) exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> dict``. The dict is the command's
result: printed as JSON with ``--json`` (strict JSON: an infinite or NaN float,
e.g. the PSNR of identical streams, is written as ``null``), else by the module's
``text(result) -> str`` if it has one, else as ``key: value`` lines (:func:`text_lines`).
Progress goes to stderr, results to stdout. A :class:`codec.errors.SpikecodecError` (or a
missing/unreadable file) ends the command with its one-line reason on stderr and
exit status 2, as does a command that needs a part not installed (the codec stack
on a client-only install: ``pip install 'spikecodec[codec]'``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from typing import Callable, Sequence

from codec.errors import SpikecodecError

#: subcommand name -> module implementing it
COMMANDS: dict[str, str] = {
    "info": "client.commands.info",
    "simulate": "client.commands.simulate",
    "convert": "client.commands.convert",
    "demo": "client.commands.demo",
    "train": "client.commands.train",
    "encode": "client.commands.encode",
    "decode": "client.commands.decode",
    "serve": "server.serve",
    "reconstruct": "client.commands.reconstruct",
    "compare": "client.commands.compare",
    "stream": "client.commands.stream",
    "bench": "client.commands.bench",
    "task": "client.commands.task",
    "upload": "client.commands.upload",
    "list": "client.commands.list_streams",
    "fetch": "client.commands.fetch",
    "delete": "client.commands.delete",
}
#: significant digits of a float below 1 in text output (a bpsp of 0.000812 stays 0.000812)
SIGNIFICANT_DIGITS = 4


#: top-level module -> the install extra that brings it (a client-only install has neither)
OPTIONAL_STACKS = {"torch": "codec", "compressai": "codec", "ray": "ray"}


def build_parser() -> argparse.ArgumentParser:
    from codec.version import VERSION

    parser = argparse.ArgumentParser(prog="spikecodec", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"spikecodec {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
        cmd.set_defaults(run=module.run, text_form=getattr(module, "text", None))
    return parser


def strict_json(value: object) -> object:
    """``value`` with every non-finite float (JSON has none) replaced by ``None``, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def format_float(value: float) -> str:
    """Up to 4 decimals from 1 up (``37.2567``, ``20000``), 4 significant digits below (``0.0008123``)."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


def _scalar(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def text_lines(result: dict, indent: str = "") -> list[str]:
    """``key: value`` lines; a nested dict indents under its key, a list of scalars is
    comma-separated, a list of dicts gives one ``-`` item each (no Python reprs)."""
    lines = []
    for key, value in result.items():
        if isinstance(value, dict):
            lines += [f"{indent}{key}:", *text_lines(value, indent + "  ")] if value else [f"{indent}{key}: -"]
        elif isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
            lines.append(f"{indent}{key}:")
            for item in value:
                item_lines = (text_lines(item, indent + "    ") if isinstance(item, dict)
                              else [indent + "    " + _scalar(item)])
                lines += [f"{indent}  - {item_lines[0].lstrip()}", *item_lines[1:]]
        elif isinstance(value, (list, tuple)):
            lines.append(f"{indent}{key}: {', '.join(_scalar(v) for v in value) or '-'}")
        else:
            lines.append(f"{indent}{key}: {_scalar(value)}")
    return lines


def print_result(result: dict, as_json: bool, text: Callable[[dict], str] | None = None) -> None:
    """Write a command's result to stdout: JSON, the command's own text form, or :func:`text_lines`."""
    if as_json:
        json.dump(strict_json(result), sys.stdout, indent=2, default=str, allow_nan=False)
        sys.stdout.write("\n")
        return
    print(text(result) if text is not None else "\n".join(text_lines(result)))


def main(argv: Sequence[str] | None = None) -> int:
    # gRPC's C core logs at INFO by default (each failed TLS handshake of a retry loop, ...); the
    # commands report failures themselves, in one line. Read when grpc loads; a user's setting wins.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except SpikecodecError as err:
        print(f"spikecodec {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        print(f"spikecodec {args.command}: error: {err.strerror}: {err.filename}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = OPTIONAL_STACKS.get((err.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"spikecodec {args.command}: error: this needs {err.name}, not installed: "
              f"pip install 'spikecodec[{extra}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spikecodec {args.command}: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print_result(result, args.json, args.text_form)
    return 0


if __name__ == "__main__":
    sys.exit(main())
