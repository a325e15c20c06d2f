"""Inter stage: train the residual (inter) scene codec on consecutive simulated scenes.

Scenes ``K = 32`` planes apart are reconstructed from simulated spikes (TFP or
the learned network, half the samples each, as the product encodes them); the
previous one is coded by the frozen intra codec (stage I weights, 8-bit
rounded like the decoder's reference), moved by the product's block motion
compensation, and the inter codec learns to code what is left::

    prev, cur = recon(spikes around c), recon(spikes around c + K)
    ref = round8(intra(prev, level))                 # frozen
    pred = compensate(ref, estimate_motion(ref, cur))
    r = cur - pred                                   # in [-1, 1]
    loss = lambda * 255^2 * MSE(inter(r), r) + bpp   # = MSE of pred + r_hat against cur

It starts from the intra weights (same architecture), so residuals are coded
from the first step and training only adapts the transforms and entropy models
to residual statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codec.models.registry import INTER, build_model, get_config, load_model
from codec.options import DEFAULT_MODEL
from codec.pipeline.motion import compensate, estimate_motion
from codec.pipeline.prediction import quantize_scene, scene_values
from codec.reconstruct.features import CONTEXT, temporal_features
from codec.reconstruct.net import load_weights, predict_rate
from codec.reconstruct.windows import block_extent
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.recon_data import SceneSampler
from codec.train.runs import RunDir
from codec.train.spike_batches import fire

#: planes between the two scenes of a training pair (the product's default ``K``)
SCENE_SPACING = 32
#: fraction of pairs reconstructed by the learned network (the rest by TFP over K planes)
NET_FRACTION = 0.5


def tfp_rate(spikes: torch.Tensor, centre: int, window: int = SCENE_SPACING) -> torch.Tensor:
    """TFP of ``(B, n, h, w)`` planes over the product's ``K``-plane block around ``centre`` -> ``(B, 1, h, w)``."""
    before, after = block_extent(window)
    return spikes[:, centre - before : centre + after + 1].float().mean(dim=1, keepdim=True)


class ScenePairs:
    """Pairs ``(prev, cur)`` of reconstructed scenes ``SCENE_SPACING`` planes apart.

    Args:
        sampler: scene sequences spanning ``CONTEXT[0]`` planes before the first
            centre to ``CONTEXT[1]`` after the second.
        recon: the learned reconstruction network (frozen).
        rng: batch randomness.
    """

    def __init__(self, data_root: Path, rng: np.random.Generator):
        self.sampler = SceneSampler(data_root, span=(CONTEXT[0], SCENE_SPACING + CONTEXT[1]))
        self.recon = load_weights()
        self.rng = rng

    @torch.no_grad()
    def batch(self, size: int, crop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(prev, cur)``, each ``(size, 1, crop, crop)`` float32 scenes in [0, 1]."""
        spikes, _ = fire(self.sampler.scenes(self.rng, size, crop), self.rng)
        use_net = torch.from_numpy(self.rng.random(size) < NET_FRACTION).view(-1, 1, 1, 1)
        out = []
        for centre in (CONTEXT[0], CONTEXT[0] + SCENE_SPACING):
            block = spikes[:, centre - CONTEXT[0] : centre + CONTEXT[1] + 1]
            net = predict_rate(self.recon, temporal_features(block, CONTEXT[0]))
            out.append(torch.where(use_net, net, tfp_rate(spikes, centre)).clamp(0.0, 1.0))
        return out[0], out[1]


def motion_prediction(reference: torch.Tensor, scene: torch.Tensor) -> torch.Tensor:
    """Block-motion prediction of each ``(B, 1, h, w)`` scene from its reference (same shape, 8-bit
    values ``k/255``), exactly as the product predicts: ``(B, 1, h, w)`` float32."""
    out = []
    for ref, cur in zip(reference[:, 0].numpy(), scene[:, 0].numpy()):
        ref8 = quantize_scene(ref)
        out.append(scene_values(compensate(ref8, estimate_motion(ref8, cur))))
    return torch.from_numpy(np.stack(out))[:, None]


def train_inter(run: RunDir, data_root: Path, model_name: str = DEFAULT_MODEL,
                steps: int = 4000, batch: int = 8, crop: int = 128, lr: float = 1e-4,
                seed: int = 2, anneal: tuple[int, float] | None = None) -> tuple[torch.nn.Module, dict]:
    """Train (or resume) the inter codec; returns ``(model, fit summary with data description)``."""
    torch.manual_seed(seed)
    config = get_config(model_name)
    intra = load_model(model_name)[0]
    model = build_model(config, INTER)
    model.load_state_dict(intra.state_dict())
    rng = np.random.default_rng(seed)
    pairs = ScenePairs(data_root, rng)
    lambdas = torch.tensor(config.lambdas)
    run.log(event="start", stage="inter", batch=batch, crop=crop)

    def step_loss() -> dict:
        prev, cur = pairs.batch(batch, crop)
        level = torch.from_numpy(rng.integers(len(lambdas), size=batch))
        with torch.no_grad():
            ref = torch.round(intra(prev, level)["x_hat"].clamp(0.0, 1.0) * 255.0) / 255.0
        residual = cur - motion_prediction(ref, cur)
        return rd_loss(model(residual, level), residual, lambdas[level])

    summary = fit(run, model, trainable(model), step_loss, steps, lr, rng=rng, anneal=anneal)
    summary["data"] = {"sources": "SceneSampler (train400, sun_hays80, 16 DAVIS training sequences) "
                       f"-> integrate-and-fire, gain 0.08..1; scene pairs {SCENE_SPACING} planes apart, "
                       f"reconstructed by the net ({NET_FRACTION:.0%}) or TFP; reference = stage-I intra "
                       "decode rounded to 8 bits, block-motion compensated (overlapped blocks)",
                       "crop": crop, "batch": batch}
    return model, summary
