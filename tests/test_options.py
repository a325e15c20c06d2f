"""One set of names and defaults (codec.options): the library, the registries, the server
and every command read it, and nothing else spells a choice list out."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from client.cli import build_parser
from codec import options
from codec.pipeline import EncoderConfig
from server.config import ConfigError, ServerConfig

REPO = Path(__file__).resolve().parents[1]

#: option dest -> (choices, default) every command that has the flag must use
EXPECTED = {
    "recon": (options.RECONSTRUCTIONS, options.DEFAULT_RECONSTRUCTION),
    "attention": (options.ATTENTIONS, options.DEFAULT_ATTENTION),
    "window": (None, options.DEFAULT_WINDOW),
    "offset": (None, options.DEFAULT_OFFSET),
    "quality": (None, options.DEFAULT_QUALITY),
    "model": (None, options.DEFAULT_MODEL),
    "intra_period": (None, options.DEFAULT_INTRA_PERIOD),
    "fr_window": (None, options.DEFAULT_FR_WINDOW),
    "reset": (options.RESET_MECHANISMS, options.DEFAULT_RESET),
    "init": (options.INIT_STATES, options.DEFAULT_INIT),
    "compression": (options.HDF5_COMPRESSIONS, "none"),
    "device": (options.DEVICES, options.DEFAULT_DEVICE),
}
#: commands whose codec flags default to the server's configuration
INHERIT_COMMANDS = {"stream", "upload"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _actions(parser: argparse.ArgumentParser) -> dict[str, Any]:
    return {a.dest: a for a in parser._actions}


# bench takes lists (checked below); serve's flags default to its environment, then ServerConfig; task takes
# lists and its own scene window (codec.task.options, checked in tests/test_task.py)
@pytest.mark.parametrize("command", sorted(set(_subcommands()) - {"bench", "serve", "task"}))
def test_command_choices_and_defaults_come_from_options(command: str) -> None:
    actions = _actions(_subcommands()[command])
    for dest, (choices, default) in EXPECTED.items():
        action = actions.get(dest)
        if action is None or (command == "simulate" and dest == "model") or (command == "train" and dest != "model"):
            continue  # simulate --model is the camera model; train's attention is checked below
        if command in INHERIT_COMMANDS and dest != "fr_window":
            assert action.default is None, (command, dest)
        else:
            assert action.default == default, (command, dest)
        if choices is not None:
            assert tuple(action.choices) == choices, (command, dest)


def test_bench_lists_check_their_names_against_options() -> None:
    actions = _actions(_subcommands()["bench"])
    for dest, names in (("recon", options.RECONSTRUCTIONS), ("attention", options.ATTENTIONS),
                        ("anchor", options.ANCHOR_NAMES)):
        assert actions[dest].type(",".join(names)) == names
        with pytest.raises(argparse.ArgumentTypeError, match="unknown"):
            actions[dest].type(names[0] + ",bogus")
    assert actions["anchor"].default == options.DEFAULT_ANCHORS and actions["qps"].default == options.DEFAULT_QPS
    assert actions["recon"].default == (options.DEFAULT_RECONSTRUCTION,
                                        ) and actions["attention"].default == options.ATTENTIONS
    assert actions["intra_period"].default == (1, options.DEFAULT_INTRA_PERIOD)
    assert actions["inter_offset"].default == (options.DEFAULT_INTER_OFFSET,)
    for dest in ("window", "offset", "model", "fr_window"):
        assert actions[dest].default == EXPECTED[dest][1], dest


def test_train_attention_stage_trains_the_attention_modules() -> None:
    actions = _actions(_subcommands()["train"])
    assert tuple(actions["attention"].choices) == options.ATTENTION_MODULES
    assert set(options.ATTENTION_MODULES) == set(options.ATTENTIONS) - {"none"}


def test_encoder_and_server_defaults_are_the_options() -> None:
    config, server = EncoderConfig(quality=options.DEFAULT_QUALITY), ServerConfig()
    for name, default in (("window", options.DEFAULT_WINDOW), ("offset", options.DEFAULT_OFFSET),
                          ("recon", options.DEFAULT_RECONSTRUCTION), ("attention", options.DEFAULT_ATTENTION),
                          ("model", options.DEFAULT_MODEL), ("intra_period", options.DEFAULT_INTRA_PERIOD),
                          ("inter_offset", options.DEFAULT_INTER_OFFSET)):
        assert getattr(config, name) == default, name
        if name in {f.name for f in fields(ServerConfig)}:
            assert getattr(server, name) == default, name
    assert server.quality == options.DEFAULT_QUALITY


def test_server_config_refuses_unknown_names() -> None:
    with pytest.raises(ConfigError, match="recon must be one of tfp, tfi, net"):
        ServerConfig(recon="mlp")
    with pytest.raises(ConfigError, match="attention must be one of"):
        ServerConfig(attention="transformer")


def test_registries_hold_exactly_the_option_names() -> None:
    from codec.anchors import _FACTORIES
    from codec.models.registry import WEIGHTS_DIR, weights_stem
    from codec.reconstruct.registry import RECONSTRUCTORS

    assert tuple(RECONSTRUCTORS) == options.RECONSTRUCTIONS
    assert tuple(_FACTORIES) == options.ANCHOR_NAMES
    assert set(options.DEFAULT_ANCHORS) | set(options.REFERENCE_ANCHORS) <= set(options.ANCHOR_NAMES)
    for attention in options.ATTENTIONS:  # every attention option has shipped weights of the default model
        assert (WEIGHTS_DIR / f"{weights_stem(options.DEFAULT_MODEL, attention)}.pth").is_file(), attention


def test_options_and_server_config_load_without_torch() -> None:
    code = "import sys, codec.options, server.config, client.arguments; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


#: every name set of codec.options; two of one set quoted side by side is a retyped choice list
NAME_SETS = (options.RECONSTRUCTIONS, options.ATTENTIONS, options.GOP_STRUCTURES, options.DEVICES,
             options.RESET_MECHANISMS, options.INIT_STATES, options.HDF5_COMPRESSIONS, options.ANCHOR_NAMES)


def test_no_choice_list_is_retyped_outside_options() -> None:
    files = subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True, check=True, cwd=REPO)
    found = []
    for names in NAME_SETS:
        alternatives = "|".join(re.escape(n) for n in names)
        pattern = re.compile(rf"""(["'])({alternatives})\1\s*,\s*(["'])({alternatives})\3""")
        for name in files.stdout.split():
            if name == "codec/options.py" or name.startswith("tests/"):
                continue
            text = (REPO / name).read_text()
            found += [f"{name}: {m.group(0)}" for m in pattern.finditer(text) if m.group(2) != m.group(4)]
    assert not found, "choice lists retyped outside codec/options.py:\n" + "\n".join(found)
