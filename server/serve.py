"""``spikecodec serve``: run the gRPC service (a thin shell over :func:`server.app.serve`).

A command module like those of :mod:`client.commands` (``HELP``, ``add_arguments``, ``run``),
kept with the server it starts; :mod:`client.cli` names it without importing it.
"""

from __future__ import annotations

import argparse

HELP = "run the gRPC codec service (config from flags and SPIKECODEC_* environment variables)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from server.config import add_arguments as add_config_arguments

    add_config_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    from server.app import serve
    from server.config import from_args

    return serve(from_args(args))
