"""Stage II: joint rate-distortion training of the reconstruction network and the codec.

The codec codes the network's reconstruction of the centre scene from simulated
spikes; the distortion is measured against the true centre firing rate, so the
two networks adapt to each other end to end::

    spikes -> features -> ReconNet -> scene -> codec (noisy quantization) -> x_hat
    loss = lambda * 255^2 * MSE(x_hat, true rate) + bpp

Starts from the committed codec weights (stage I) and reconstruction weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codec.device import CPU
from codec.models.registry import build_model, get_config, load_model
from codec.options import DEFAULT_MODEL
from codec.reconstruct.net import load_weights
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.recon_data import SceneSampler
from codec.train.runs import RunDir
from codec.train.spike_batches import spike_batch

#: the reconstruction network learns at this fraction of the codec's learning rate:
#: it is already trained (stage I) and also serves on its own (``--recon net``)
RECON_LR_SCALE = 0.1


def train_joint(run: RunDir, data_root: Path, model_name: str = DEFAULT_MODEL,
                steps: int = 500, batch: int = 4, crop: int = 128, lr: float = 2e-5,
                seed: int = 1, anneal: tuple[int, float] | None = None, device: str = CPU
                ) -> tuple[torch.nn.Module, torch.nn.Module, dict]:
    """Train (or resume) stage II; returns ``(codec model, recon net, fit summary)``.

    ``anneal = (n, lr_low)``: the last ``n`` steps learn at ``lr_low``. ``device``: where the
    networks and the batches compute (:mod:`codec.device`); the reconstruction network comes back on the CPU.

    The reconstruction network is part of the run's model (``model.recon``) so the
    shared loop checkpoints and resumes both.
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    model = build_model(config)
    model.load_state_dict(load_model(model_name)[0].state_dict())
    model.recon = load_weights()
    model.to(device)
    sampler = SceneSampler(data_root)
    rng = np.random.default_rng(seed)
    lambdas = torch.tensor(config.lambdas, device=device)
    run.log(event="start", stage="joint", batch=batch, crop=crop)

    def step_loss() -> dict:
        data = spike_batch(sampler, rng, batch, crop)
        level = torch.from_numpy(rng.integers(len(lambdas), size=batch)).to(device)
        scene = model.recon(data.features.to(device)).clamp(0, 1)
        return rd_loss(model(scene, level), data.target.to(device), lambdas[level])

    recon_params = set(model.recon.parameters())
    groups = [{"params": [p for p in trainable(model) if p not in recon_params]},
              {"params": list(model.recon.parameters()), "lr_scale": RECON_LR_SCALE}]
    summary = fit(run, model, groups, step_loss, steps, lr, rng=rng, anneal=anneal)
    recon = model.recon.to(CPU)
    del model.recon
    summary["data"] = {"sources": "SceneSampler (train400, sun_hays80, 16 DAVIS training "
                       "sequences) -> integrate-and-fire, gain 0.08..1", "crop": crop, "batch": batch,
                       "recon_lr_scale": RECON_LR_SCALE}
    return model, recon, summary
