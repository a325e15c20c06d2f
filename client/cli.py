"""The ``spikecodec`` command: one entry point, one module per subcommand.

Each command module (in :mod:`client.commands`, and :mod:`server.serve`) exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> dict``. The dict is the command's
result: printed as JSON with ``--json`` (strict JSON: an infinite or NaN float,
e.g. the PSNR of identical streams, is written as ``null``), else as
``key: value`` lines. Progress
goes to stderr, results to stdout. A :class:`codec.errors.SpikecodecError` (or a
missing/unreadable file) ends the command with its one-line reason on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from typing import Sequence

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
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikecodec", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
        cmd.set_defaults(run=module.run)
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


def print_result(result: dict, as_json: bool) -> None:
    """Write a command's result to stdout."""
    if as_json:
        json.dump(strict_json(result), sys.stdout, indent=2, default=str, allow_nan=False)
        sys.stdout.write("\n")
        return
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        print(f"{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except SpikecodecError as err:
        print(f"spikecodec {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        print(f"spikecodec {args.command}: error: {err.strerror}: {err.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spikecodec {args.command}: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print_result(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
