"""Stage III: train SOAM / BiSOAM on simulated spikes.

Only the attention module learns; the codec (the committed base weights) is
frozen, entropy-bottleneck quantiles included. The scene coded is the
reconstruction network's output for the centre plane, the distortion is measured
against the true firing rate, as in stage II.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codec.device import CPU
from codec.models.attention import bin_spikes
from codec.models.registry import build_model, get_config, load_model
from codec.options import DEFAULT_MODEL
from codec.reconstruct.net import load_weights
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.recon_data import SceneSampler
from codec.train.runs import RunDir
from codec.train.spike_batches import SpikeBatch, spike_batch


def binned(data: SpikeBatch, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, S, h, w)`` rates before (time order) and after (reversed) the centre."""
    before = np.stack([bin_spikes(s, steps) for s in data.before])
    after = np.stack([bin_spikes(s, steps, reverse=True) for s in data.after])
    return torch.from_numpy(before), torch.from_numpy(after)


def train_attention(run: RunDir, data_root: Path, variant: str, model_name: str = DEFAULT_MODEL,
                    steps: int = 3000, lr: float = 3e-4, batch: int = 4, crop: int = 128, seed: int = 2,
                    anneal: tuple[int, float] | None = None, device: str = CPU) -> tuple[torch.nn.Module, dict]:
    """Train ``variant``'s (``"soam"`` or ``"bisoam"``) attention module over the frozen codec,
    the networks and the batches on ``device`` (:mod:`codec.device`).

    Returns:
        ``(model, summary)`` as :func:`codec.train.loop.fit` gives it, plus ``"data"``.
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    model = build_model(config, variant)
    model.load_state_dict(load_model(model_name)[0].state_dict(), strict=False)
    model.to(device)
    recon = load_weights().to(device)
    sampler = SceneSampler(data_root)
    rng = np.random.default_rng(seed)
    lambdas = torch.tensor(config.lambdas, device=device)

    def step_loss() -> dict:
        data = spike_batch(sampler, rng, batch, crop)
        before, after = (rates.to(device) for rates in binned(data, model.attention.steps))
        level = torch.from_numpy(rng.integers(len(lambdas), size=batch)).to(device)
        with torch.no_grad():
            scene = recon(data.features.to(device)).clamp(0, 1)
        attn = model.attention(before, after if model.attention.bidirectional else None)
        return rd_loss(model(scene, level, attn), data.target.to(device), lambdas[level])

    # Only the attention learns: the codec stays the committed base bit for bit, so a
    # stream coded without attention and the attention variant differ only by what the
    # spikes add. Fine-tuning the whole codec on this small simulated-spike set (the
    # earlier second phase) cost more rate than the attention gained.
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("attention."))
    run.log(event="start", stage="attention", variant=variant, batch=batch, crop=crop)
    summary = fit(run, model, trainable(model, ("attention.",)), step_loss, steps, lr, rng=rng, anneal=anneal)
    for p in model.parameters():
        p.requires_grad_(True)
    summary["data"] = {"sources": "SceneSampler -> integrate-and-fire, gain 0.08..1", "crop": crop, "batch": batch}
    return model, summary
