"""Stage III: train SOAM / BiSOAM on simulated spikes.

Phase ``frozen``: only the attention module learns, the codec (from the committed
base weights) is frozen. Phase ``finetune``: everything at a small learning rate.
Each phase has its own run dir (``<runs>/attention/<variant>/<phase>``); the
fine-tune starts from the frozen phase's result. The scene coded is the
reconstruction network's output for the centre plane, the distortion is measured
against the true firing rate, as in stage II.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codec.models.attention import bin_spikes
from codec.models.registry import build_model, get_config, load_model
from codec.options import DEFAULT_MODEL
from codec.reconstruct.net import load_weights
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.recon_data import SceneSampler
from codec.train.runs import RunDir
from codec.train.spike_batches import SpikeBatch, spike_batch

PHASES = ("frozen", "finetune")


def binned(data: SpikeBatch, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, S, h, w)`` rates before (time order) and after (reversed) the centre."""
    before = np.stack([bin_spikes(s, steps) for s in data.before])
    after = np.stack([bin_spikes(s, steps, reverse=True) for s in data.after])
    return torch.from_numpy(before), torch.from_numpy(after)


def train_attention(runs: Path, data_root: Path, variant: str, model_name: str = DEFAULT_MODEL,
                    steps: tuple[int, int] = (300, 400), lr: tuple[float, float] = (3e-4, 1e-5),
                    batch: int = 4, crop: int = 128, seed: int = 2) -> tuple[torch.nn.Module, dict]:
    """Run both phases for ``variant`` (``"soam"`` or ``"bisoam"``).

    Args:
        steps: total steps of the frozen and of the fine-tune phase.
        lr: their learning rates.

    Returns:
        ``(model, {"frozen": summary, "finetune": summary})``.
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    model = build_model(config, variant)
    model.load_state_dict(load_model(model_name)[0].state_dict(), strict=False)
    recon = load_weights()
    sampler = SceneSampler(data_root)
    rng = np.random.default_rng(seed)
    lambdas = torch.tensor(config.lambdas)

    def step_loss() -> dict:
        data = spike_batch(sampler, rng, batch, crop)
        before, after = binned(data, model.attention.steps)
        level = torch.from_numpy(rng.integers(len(lambdas), size=batch))
        with torch.no_grad():
            scene = recon(data.features).clamp(0, 1)
        attn = model.attention(before, after if model.attention.bidirectional else None)
        return rd_loss(model(scene, level, attn), data.target, lambdas[level])

    summaries = {}
    previous = None
    for phase, phase_steps, phase_lr in zip(PHASES, steps, lr):
        run = RunDir(runs / "attention" / variant / phase)
        if previous is not None and run.load() is None:
            model.load_state_dict(previous)
        prefixes = ("attention.",) if phase == "frozen" else None
        for name, p in model.named_parameters():
            p.requires_grad_(prefixes is None or name.startswith(prefixes) or name.endswith(".quantiles"))
        run.log(event="start", stage="attention", variant=variant, phase=phase, batch=batch, crop=crop)
        summaries[phase] = fit(run, model, trainable(model, prefixes), step_loss, phase_steps,
                               phase_lr, rng=rng)
        previous = model.state_dict()
    for p in model.parameters():
        p.requires_grad_(True)
    for summary in summaries.values():
        summary["data"] = {"sources": "SceneSampler -> integrate-and-fire, gain 0.08..1",
                           "crop": crop, "batch": batch}
    return model, summaries
