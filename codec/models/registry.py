"""Named model configurations and their committed weights (like CompressAI's zoo).

Weights live in ``codec/models/weights/<name>[-<variant>].pth`` (float tensors
stored as fp16, entropy-coder tables as int32) with a JSON training record of the
same stem that names the file's sha256; :func:`load_model` refuses a file whose
hash does not match its record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from codec.errors import SpikecodecError
from codec.models.attention import SpikeAttention
from codec.models.scene_model import GainedMeanScaleHyperprior
from codec.options import ATTENTION_MODULES, ATTENTIONS

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: the inter variant: same architecture, codes the residual of a scene against the
#: previous decoded scene (see :mod:`codec.pipeline.prediction`)
INTER = "inter"
#: weight variants of a named model: its attentions and the inter (residual) codec
VARIANTS = ATTENTIONS + (INTER,)

#: lambdas of quality 1..6 (loss = lambda * 255^2 * MSE + bpp); 3..6 are the paper's points.
LAMBDAS = (0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.05)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a named model: channels, quality lambdas, attention shape."""

    name: str
    n: int
    m: int
    lambdas: tuple[float, ...] = LAMBDAS
    attention: dict = field(default_factory=lambda: {"hidden": 16, "layers": 1, "steps": 4})

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS: dict[str, ModelConfig] = {
    "spikecodec-base": ModelConfig("spikecodec-base", n=64, m=96),
}


def get_config(name: str) -> ModelConfig:
    if name not in CONFIGS:
        raise SpikecodecError(f"unknown model {name!r} (known: {', '.join(CONFIGS)})")
    return CONFIGS[name]


def build_model(config: ModelConfig, variant: str = "none") -> GainedMeanScaleHyperprior:
    """A freshly initialised model of ``config`` for ``variant`` (an attention or ``"inter"``)."""
    if variant not in VARIANTS:
        raise SpikecodecError(f"unknown model variant {variant!r} (known: {', '.join(VARIANTS)})")
    module = None
    if variant in ATTENTION_MODULES:
        module = SpikeAttention(config.n, bidirectional=variant == "bisoam", **config.attention)
    return GainedMeanScaleHyperprior(config.n, config.m, config.lambdas, module)


def weights_stem(name: str, variant: str = "none") -> str:
    return name if variant == "none" else f"{name}-{variant}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_model(name: str, variant: str = "none",
               weights_dir: Path = WEIGHTS_DIR) -> tuple[GainedMeanScaleHyperprior, str, dict]:
    """Build ``name`` as ``variant`` (an attention or ``"inter"``) and load its committed weights.

    Returns:
        ``(model in eval mode with entropy tables, weights sha256, training record)``;
        the model's parameters are in channels-last memory format.
    """
    model = build_model(get_config(name), variant)
    stem = weights_stem(name, variant)
    path, record_path = weights_dir / f"{stem}.pth", weights_dir / f"{stem}.json"
    if not path.is_file() or not record_path.is_file():
        raise SpikecodecError(f"no trained weights for {stem!r} in {weights_dir}")
    record = json.loads(record_path.read_text())
    digest = file_sha256(path)
    if digest != record.get("sha256"):
        raise SpikecodecError(f"weights {path.name} do not match their record (sha256 {digest[:12]})")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state)
    # channels-last convolutions are ~1.5-2x faster on CPU for these shapes
    return model.eval().to(memory_format=torch.channels_last), digest, record
