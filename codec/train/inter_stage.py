"""Inter stage: train the inter scene codec on P and B predictions of simulated scenes.

Triplets of scenes ``d`` scenes apart (``K = 32`` planes each) come from a bank of
scene sequences the product's simulator and reconstructors made once from the
training videos and photographs (:mod:`codec.train.scene_bank`). The outer two
are coded by a frozen intra codec (rounded to 8 bits like the decoder's
references). Half the samples are B scenes (the middle one from both ends), half
P scenes (the middle or the last one from the first), predicted by the product's
own motion search and overlapped compensation, and the inter codec learns what is left::

    ref_i = round8(intra(scene_i, level))                          # frozen
    pred  = compensate(ref, estimate_motion(ref, cur))              (P)
          | avg(compensate(ref_0, v_0), compensate(ref_2, v_2))     (B)
    r     = cur - pred                                              # in [-1, 1]
    loss  = lambda * 255^2 * MSE(inter(r | pred), r) + bpp          (pred as context if conditional)

Making a sample costs more than training on it, so samples live in a pool that a few new
ones refresh every step (:data:`POOL`, :data:`FRESH_PER_STEP`).

It starts from committed inter weights where they fit (:mod:`codec.train.warm_start`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codec.device import CPU
from codec.models.registry import build_model, get_config, load_model, role_lambdas
from codec.options import DEFAULT_MODEL
from codec.pipeline.motion import compensate, estimate_motion
from codec.pipeline.prediction import bidirectional_prediction, scene_values
from codec.train.loop import fit, trainable
from codec.train.losses import rd_loss
from codec.train.runs import RunDir
from codec.train.scene_bank import draw, load_bank
from codec.train.warm_start import initialise_from

#: scene distances ``d`` of the triplets
DISTANCES = (1, 2, 4)
#: fraction of B samples (the rest are P)
B_FRACTION = 0.5
#: training samples held at once; each step replaces :data:`FRESH_PER_STEP` of them (oldest first)
#: and trains on a batch drawn from all. The references (intra decodes) and motion searches of a
#: sample cost more than the model's step on it, so each sample serves several batches instead
#: of one (POOL / FRESH_PER_STEP steps alive, batch / FRESH_PER_STEP uses on average).
POOL = 512
FRESH_PER_STEP = 2

#: one training sample: target scene, its prediction (both ``(crop, crop)`` float32 in [0, 1]), level
Sample = tuple[np.ndarray, np.ndarray, int]


def prediction(references: list[np.ndarray], scene: np.ndarray) -> np.ndarray:
    """The product's P (one 8-bit reference) or B (two) prediction of ``scene``, float32 in [0, 1]."""
    fields = [estimate_motion(ref, scene) for ref in references]
    if len(references) == 1:
        return scene_values(compensate(references[0], fields[0]))
    return scene_values(bidirectional_prediction(references[0], references[1], *fields))


def make_samples(intra: torch.nn.Module, bank: list[np.ndarray], rng: np.random.Generator, count: int,
                 crop: int, levels: int, below: int, device: str = CPU) -> list[Sample]:
    """``count`` fresh samples: scene triplets from ``bank``, the outer two coded by ``intra`` at the
    sample's level (rounded to 8 bits), the target predicted from them (B) or from the first (P)."""
    scenes = torch.from_numpy(np.stack([draw(bank, rng, crop, int(rng.choice(DISTANCES))) for _ in range(count)]))
    level = rng.integers(levels, size=count)
    intra_level = torch.from_numpy(np.clip(level - below, 0, len(intra.lambdas) - 1)).to(device)
    with torch.no_grad():
        refs = [torch.round(intra(scenes[:, k : k + 1].to(device), intra_level)["x_hat"].clamp(0.0, 1.0) * 255.0)
                .to(torch.uint8)[:, 0].cpu().numpy() for k in (0, 2)]
    samples = []
    for i in range(count):
        if rng.random() < B_FRACTION:
            cur, references = scenes[i, 1].numpy(), [refs[0][i], refs[1][i]]
        else:
            cur, references = scenes[i, int(rng.integers(1, 3))].numpy(), [refs[0][i]]
        samples.append((cur, prediction(references, cur), int(level[i])))
    return samples


def train_inter(run: RunDir, data_root: Path, model_name: str = DEFAULT_MODEL,
                steps: int = 4000, batch: int = 8, crop: int = 128, lr: float = 1e-4,
                seed: int = 2, anneal: tuple[int, float] | None = None,
                reference_model: str | None = None, init: str | None = None,
                device: str = CPU, pool_size: int = POOL) -> tuple[torch.nn.Module, dict]:
    """Train (or resume) the inter codec; returns ``(model, fit summary with data description)``.

    Args:
        reference_model: the intra codec that codes the references (default: ``model_name``'s).
        init: start from this model's committed inter weights (default: ``model_name``'s intra weights).
        device: where both codecs and the batches compute (:mod:`codec.device`); motion search and
            prediction run on the CPU, as in the product.
        pool_size: samples held at once (:data:`POOL`), at least ``batch``.
    """
    torch.manual_seed(seed)
    config = get_config(model_name)
    reference_name = reference_model or model_name
    intra = load_model(reference_name)[0].to(device)
    model = build_model(config, role="inter")
    if not run.checkpoint_path.is_file():
        source, role = (init, "inter") if init else (model_name, "intra")
        copied = initialise_from(model, source, role=role, below=len(config.residual_lambdas_below))
        run.log(event="init", source=f"{source}/{role}", tensors=len(copied))
    model = model.to(device, memory_format=torch.channels_last)
    rng = np.random.default_rng(seed)
    bank = load_bank(run.path / "bank.npz", data_root)
    lambdas = torch.tensor(role_lambdas(config, "inter"), device=device)
    below = len(config.residual_lambdas_below)

    def fresh(count: int) -> list[Sample]:
        return make_samples(intra, bank, rng, count, crop, len(lambdas), below, device)

    pool = fresh(pool_size)
    run.log(event="start", stage="inter", batch=batch, crop=crop, pool=pool_size, fresh_per_step=FRESH_PER_STEP)
    oldest = 0

    def step_loss() -> dict:
        nonlocal oldest
        for sample in fresh(FRESH_PER_STEP):
            pool[oldest] = sample
            oldest = (oldest + 1) % pool_size
        chosen = [pool[i] for i in rng.choice(pool_size, size=batch, replace=False)]
        level = torch.tensor([lv for _, _, lv in chosen], device=device)
        context = torch.from_numpy(np.stack([pred for _, pred, _ in chosen]))[:, None]
        residual = torch.from_numpy(np.stack([cur for cur, _, _ in chosen]))[:, None] - context
        residual, context = (t.to(device).contiguous(memory_format=torch.channels_last) for t in (residual, context))
        return rd_loss(model(residual, level, context=context), residual, lambdas[level])

    summary = fit(run, model, trainable(model), step_loss, steps, lr, rng=rng, anneal=anneal)
    kind = "conditional (prediction as context)" if config.conditional_inter else "residual"
    summary["data"] = {"sources": "scene bank (codec.train.scene_bank: 16 DAVIS training sequences and "
                       "48 panned train400/sun_hays80 photographs, simulated, TFP and net scenes, K = 32); "
                       f"triplets {DISTANCES} scenes apart; references = {reference_name} intra decode rounded to "
                       f"8 bits; {B_FRACTION:.0%} B (bi-prediction), the rest P, motion by the product's search, "
                       f"overlapped compensation; a pool of {pool_size} samples, {FRESH_PER_STEP} renewed per step; "
                       f"{kind} inter codec", "crop": crop, "batch": batch, "initialised_from": init}
    return model, summary
