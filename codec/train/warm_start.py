"""Start a model from the committed weights of another (a smaller or older configuration).

Tensors whose names and shapes match are copied. Gain tables with fewer quality
levels are extended by continuing their last step in log gain (the levels are
spaced by a constant lambda ratio), so new top levels start as finer quantizers
of the same latent. Everything else keeps its fresh initialisation (for the
context model, a correction that starts at zero: see
:class:`codec.models.context_model.GroupContext`).
"""

from __future__ import annotations

import torch
from torch import nn

from codec.models.registry import load_model


def extend_levels(table: torch.Tensor, levels: int, below: int = 0) -> torch.Tensor:
    """``(L, C)`` log-gain table -> ``(levels, C)`` with ``below`` new levels before the first and
    the rest after the last, continuing the first and last row-to-row steps."""
    above = levels - len(table) - below
    if above < 0 or below < 0:
        raise ValueError(f"cannot fit {len(table)} levels into {levels} with {below} below")
    low_step, high_step = table[1] - table[0], table[-1] - table[-2]
    rows = ([table[0] - low_step * (below - i) for i in range(below)] + list(table)
            + [table[-1] + high_step * (i + 1) for i in range(above)])
    return torch.stack(rows)


def initialise_from(model: nn.Module, name: str, role: str = "intra", below: int = 0) -> list[str]:
    """Copy the committed weights of ``name`` (no attention) in ``role`` into ``model`` where they fit; gain tables
    get ``below`` new levels under the source's first (and the rest of any extra above its last).

    Returns:
        The names of the parameters and buffers that were copied.
    """
    source, _, _ = load_model(name, role=role)
    target = model.state_dict()
    copied = []
    for key, value in source.state_dict().items():
        if key not in target:
            continue
        if key.endswith(("log_gain", "log_inverse")):
            value = extend_levels(value, target[key].shape[0], below)
        if value.shape == target[key].shape:
            target[key] = value.clone().contiguous()
            copied.append(key)
    model.load_state_dict(target)
    return copied
