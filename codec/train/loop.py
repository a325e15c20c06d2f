"""The resumable optimisation loop shared by the codec training stages.

A stage supplies the model, the parameters to train and a ``step_loss()``
closure that draws a batch and returns the loss dict (``loss`` plus scalars to
log). The loop owns the optimizers (Adam on the trainable parameters, a separate
Adam on the entropy bottleneck's quantiles for CompressAI's aux loss), gradient
clipping, checkpoints and logging; restarting it with the same run dir resumes.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from codec.errors import SpikecodecError
from codec.train.runs import RunDir


def trainable(model: nn.Module, prefixes: Iterable[str] | None = None) -> list[nn.Parameter]:
    """Parameters for the main optimizer: all but the entropy bottleneck's quantiles,
    restricted to names starting with one of ``prefixes`` when given."""
    prefixes = tuple(prefixes) if prefixes else ("",)
    return [p for n, p in model.named_parameters()
            if not n.endswith(".quantiles") and n.startswith(prefixes)]


def check_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Raise ``ValueError`` when a loaded Adam state does not fit its parameters' shapes
    (``load_state_dict`` matches them by position only)."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            moment = optimizer.state.get(p, {}).get("exp_avg")
            if moment is not None and moment.shape != p.shape:
                raise ValueError(f"optimizer state of shape {tuple(moment.shape)} for a parameter of shape "
                                 f"{tuple(p.shape)}")


def fit(run: RunDir, model: nn.Module, params: list[nn.Parameter] | list[dict],
        step_loss: Callable[[], dict], steps: int, lr: float,
        rng: np.random.Generator | None = None, log_every: int = 10,
        checkpoint_every: int = 50, clip: float = 1.0, anneal: tuple[int, float] | None = None) -> dict:
    """Train until ``steps`` total steps (resuming from ``run``'s checkpoint).

    Args:
        params: parameters, or Adam parameter groups (``{"params": [...], "lr_scale": s}``:
            that group learns at ``s * lr``).
        rng: numpy generator of the batch sampler, saved and restored with the run.
        lr: learning rate, applied also on resume (so a resumed run can lower it).
        anneal: ``(steps, lr)``: the last ``steps`` steps of the run use this lower learning rate.

    Returns:
        ``{"step", "wall_seconds", "last"}`` with the last logged averages.
    """
    optimizer = torch.optim.Adam(params, lr=lr)
    # a frozen codec keeps its entropy bottleneck's quantiles too: they set the medians z is coded around
    learn_quantiles = model.entropy_bottleneck.quantiles.requires_grad
    aux_optimizer = torch.optim.Adam([model.entropy_bottleneck.quantiles], lr=1e-3)
    step, wall = 0, 0.0
    state = run.load()
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            aux_optimizer.load_state_dict(state["aux_optimizer"])
            check_optimizer_state(optimizer)
        except (RuntimeError, ValueError) as err:
            raise SpikecodecError(f"{run.checkpoint_path} was written for another model or parameter order "
                                  f"and cannot resume this run ({str(err).splitlines()[0]}): move it aside "
                                  f"or pass another --runs") from None
        step, wall = state["step"], state["wall_seconds"]
        torch.set_rng_state(state["torch_rng"])
        if rng is not None and "numpy_rng" in state:
            rng.bit_generator.state = state["numpy_rng"]
        run.log(event="resume", step=step)

    def rate_at(step: int) -> float:
        return anneal[1] if anneal is not None and step >= steps - anneal[0] else lr

    def set_rate(rate: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = rate * group.get("lr_scale", 1.0)

    set_rate(rate_at(step))
    clipped = [p for group in optimizer.param_groups for p in group["params"]]

    def checkpoint() -> None:
        run.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "aux_optimizer": aux_optimizer.state_dict(), "step": step,
                  "wall_seconds": wall, "torch_rng": torch.get_rng_state(),
                  "numpy_rng": rng.bit_generator.state if rng is not None else None})

    sums: dict[str, float] = {}
    last: dict = {}
    tick = time.perf_counter()
    model.train()
    while step < steps:
        if rate_at(step) != rate_at(step - 1):
            set_rate(rate_at(step))
        out = step_loss()
        optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(clipped, clip)
        optimizer.step()
        aux = model.aux_loss()
        if learn_quantiles:
            aux_optimizer.zero_grad(set_to_none=True)
            aux.backward()
            aux_optimizer.step()
        step += 1
        for key, value in {**out, "aux": aux}.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach())
        if step % log_every == 0 or step == steps:
            now = time.perf_counter()
            wall += now - tick
            count = step % log_every or log_every
            last = {k: round(v / count, 5) for k, v in sums.items()}
            run.log(step=step, lr=rate_at(step - 1), s_per_step=round((now - tick) / count, 3),
                    wall_seconds=round(wall), **last)
            tick, sums = now, {}
        if step % checkpoint_every == 0 or step == steps:
            checkpoint()
    return {"step": step, "wall_seconds": round(wall), "last": last}
