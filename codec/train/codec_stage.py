"""Stage I: pre-train the variable-rate scene codec on gray natural images.

Each sample of a batch draws a quality level uniformly, so one set of weights
learns every lambda (the gain units pick the rate). Run through
``spikecodec train --stage codec``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from codec.models.registry import build_model, get_config
from codec.options import DEFAULT_MODEL
from codec.train.data import CropSampler, training_paths
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.runs import RunDir


def train_codec(run: RunDir, data_root: Path, model_name: str = DEFAULT_MODEL,
                steps: int = 20000, batch: int = 8, crop: int = 128, lr: float = 2e-4,
                seed: int = 0, anneal: tuple[int, float] | None = None) -> tuple[torch.nn.Module, dict]:
    """Train (or resume) stage I; returns ``(model, fit summary with data description)``.

    ``anneal = (n, lr_low)``: the last ``n`` steps learn at ``lr_low``.
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    model = build_model(config)
    paths = training_paths(data_root)
    sampler = CropSampler(paths, crop=crop, seed=seed)
    lambdas = torch.tensor(config.lambdas)
    run.log(event="start", stage="codec", images=len(sampler.images), batch=batch, crop=crop)

    def step_loss() -> dict:
        x = sampler.batch(batch)
        level = torch.from_numpy(sampler.rng.integers(len(lambdas), size=batch))
        return rd_loss(model(x, level), x, lambdas[level])

    summary = fit(run, model, trainable(model), step_loss, steps, lr, rng=sampler.rng, anneal=anneal)
    summary["data"] = {"images": len(sampler.images), "sources": "train400, sun_hays80, "
                       "DAVIS-2016 (16 non-evaluation sequences, every 3rd frame)",
                       "crop": crop, "batch": batch, "gain": list(sampler.gain)}
    return model, summary
