"""Stage I: pre-train the variable-rate scene codec on gray natural images.

Each sample of a batch draws a quality level uniformly, so one set of weights
learns every lambda (the gain units pick the rate). Run through
``spikecodec train --stage codec``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from codec.device import CPU
from codec.models.registry import build_model, get_config
from codec.options import DEFAULT_MODEL
from codec.train.data import CropSampler, training_paths
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.runs import RunDir
from codec.train.warm_start import initialise_from


def train_codec(run: RunDir, data_root: Path, model_name: str = DEFAULT_MODEL,
                steps: int = 20000, batch: int = 8, crop: int = 128, lr: float = 2e-4,
                seed: int = 0, anneal: tuple[int, float] | None = None, init: str | None = None,
                tfp_noise: float = 0.0, device: str = CPU) -> tuple[torch.nn.Module, dict]:
    """Train (or resume) stage I; returns ``(model, fit summary with data description)``.

    ``anneal = (n, lr_low)``: the last ``n`` steps learn at ``lr_low``. ``init``: start from
    the committed weights of that model where they fit (:mod:`codec.train.warm_start`;
    a resumed run keeps its checkpoint). ``tfp_noise``: fraction of TFP-quantised crops.
    ``device``: where the model and the batches compute (:mod:`codec.device`).
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    model = build_model(config)
    if init is not None and not run.checkpoint_path.is_file():
        copied = initialise_from(model, init)
        run.log(event="init", source=init, tensors=len(copied))
    # channels-last convolutions are ~1.5-2x faster on CPU for these shapes
    model = model.to(device, memory_format=torch.channels_last)
    paths = training_paths(data_root)
    sampler = CropSampler(paths, crop=crop, seed=seed, tfp_noise=tfp_noise)
    lambdas = torch.tensor(config.lambdas, device=device)
    run.log(event="start", stage="codec", images=len(sampler.images), batch=batch, crop=crop)

    def step_loss() -> dict:
        x = sampler.batch(batch).to(device)
        level = torch.from_numpy(sampler.rng.integers(len(lambdas), size=batch)).to(device)
        return rd_loss(model(x, level), x, lambdas[level])

    summary = fit(run, model, trainable(model), step_loss, steps, lr, rng=sampler.rng, anneal=anneal)
    summary["data"] = {"images": len(sampler.images), "sources": "train400, sun_hays80, "
                       "DAVIS-2016 (16 non-evaluation sequences, every 3rd frame)",
                       "crop": crop, "batch": batch, "gain": list(sampler.gain),
                       "tfp_noise": tfp_noise, "initialised_from": init}
    return model, summary
