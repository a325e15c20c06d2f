"""Named model configurations and their committed weights (like CompressAI's zoo).

A set of weights is named by the model, the encoder attention it was trained with
and its role (:data:`codec.options.Role`): ``codec/models/weights/<name>[-<attention>][-<role>].pth``
(the defaults ``none`` and ``intra`` are left out of the name; float tensors stored
as fp16, entropy-coder tables as int32) with a JSON training record of the same
stem that names the file's sha256 and the attention and role; :func:`load_model`
refuses a file whose hash does not match its record.

Weights that were replaced by a retraining move to ``weights/archive/<stem>-<sha256[:12]>``
(:func:`archive_weights`), so streams encoded with them still decode: a decoder asks
:func:`load_model` for the stream's sha256 and gets the installed file or the archived one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from codec.errors import SpikecodecError
from codec.models.attention import SpikeAttention
from codec.models.conditional import ConditionalResidualHyperprior
from codec.models.context_model import GainedContextHyperprior
from codec.models.scene_model import GainedMeanScaleHyperprior
from codec.options import ATTENTION_MODULES, ATTENTIONS, ROLES

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: replaced weights, kept for the streams encoded with them (under each weights dir)
ARCHIVE = "archive"

#: lambdas of quality 1..6 (loss = lambda * 255^2 * MSE + bpp); 3..6 are the paper's points.
LAMBDAS = (0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.05)
#: quality 1..9: the same six, then three more doublings so the top quality codes a noisy
#: scene close to its uncoded value (noise is incompressible: that takes about 2 bits a pixel)
WIDE_LAMBDAS = LAMBDAS + (0.1, 0.2, 0.4)
#: the residual codec's extra levels below quality 1 (qualities -1 and 0): B scenes of deep
#: temporal layers need residuals far cheaper than any intra scene
RESIDUAL_LAMBDAS_BELOW = (0.00045, 0.0009)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a named model: channels, quality lambdas, latent context, attention shape.

    ``context``: the channel-grouped checkerboard context model
    (:class:`GainedContextHyperprior`) instead of the plain mean-scale hyperprior.
    ``residual_lambdas_below``: lambdas the inter (residual) codec has below quality 1, so its
    qualities start at ``1 - len(residual_lambdas_below)``.
    ``conditional_inter``: the inter codec sees the prediction it corrects
    (:class:`ConditionalResidualHyperprior`) instead of coding the bare residual.
    """

    name: str
    n: int
    m: int
    lambdas: tuple[float, ...] = LAMBDAS
    context: bool = False
    residual_lambdas_below: tuple[float, ...] = ()
    conditional_inter: bool = False
    attention: dict = field(default_factory=lambda: {"hidden": 16, "layers": 1, "steps": 4})

    def to_dict(self) -> dict:
        return asdict(self)

    def as_recorded(self, recorded: dict) -> ModelConfig:
        """The configuration a weights record gives (``record["config"]``; fields it lacks predate them and
        take their defaults), so weights trained under an older configuration of this name (archived
        ones) load as trained; this configuration itself for a record without one."""
        if not {"n", "m"} <= recorded.keys():
            return self
        known = {f.name for f in fields(self)} - {"name"}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items() if k in known}
        return ModelConfig(self.name, **values)


CONFIGS: dict[str, ModelConfig] = {
    "spikecodec-base": ModelConfig("spikecodec-base", n=64, m=96, conditional_inter=True),
    "spikecodec-ctx": ModelConfig("spikecodec-ctx", n=64, m=96, lambdas=WIDE_LAMBDAS, context=True,
                                  residual_lambdas_below=RESIDUAL_LAMBDAS_BELOW),
}


def get_config(name: str) -> ModelConfig:
    if name not in CONFIGS:
        raise SpikecodecError(f"unknown model {name!r} (known: {', '.join(CONFIGS)})")
    return CONFIGS[name]


def build_model(config: ModelConfig, attention: str = "none",
                role: str = "intra") -> GainedMeanScaleHyperprior | GainedContextHyperprior:
    """A freshly initialised model of ``config`` with encoder ``attention`` in ``role``.

    The inter codec has the intra codec's architecture and codes the residual of a predicted
    scene (:mod:`codec.pipeline.prediction`), with that prediction as context if the config is
    ``conditional_inter``; it has no attention.
    """
    check_variant(attention, role)
    if role == "inter" and config.conditional_inter:
        if config.context:
            raise SpikecodecError(f"{config.name}: a conditional inter codec needs the plain hyperprior")
        return ConditionalResidualHyperprior(config.n, config.m, role_lambdas(config, role))
    module = None
    if attention in ATTENTION_MODULES:
        module = SpikeAttention(config.n, bidirectional=attention == "bisoam", **config.attention)
    cls = GainedContextHyperprior if config.context else GainedMeanScaleHyperprior
    return cls(config.n, config.m, role_lambdas(config, role), module)


def check_variant(attention: str, role: str) -> None:
    """Raise :class:`SpikecodecError` for an unknown attention or role, or an attention on an inter codec."""
    if attention not in ATTENTIONS:
        raise SpikecodecError(f"unknown attention {attention!r} (known: {', '.join(ATTENTIONS)})")
    if role not in ROLES:
        raise SpikecodecError(f"unknown model role {role!r} (known: {', '.join(ROLES)})")
    if role != "intra" and attention != "none":
        raise SpikecodecError(f"the {role} codec has no attention (got {attention!r})")


def role_lambdas(config: ModelConfig, role: str = "intra") -> tuple[float, ...]:
    """The lambdas of ``role``'s quality levels: the inter codec adds its levels below quality 1."""
    return config.residual_lambdas_below + config.lambdas if role == "inter" else config.lambdas


def first_quality(config: ModelConfig, role: str = "intra") -> int:
    """The quality of ``role``'s lowest level (1, or below for an inter codec with extra levels)."""
    return 1 - len(config.residual_lambdas_below) if role == "inter" else 1


def weights_stem(name: str, attention: str = "none", role: str = "intra") -> str:
    """File stem of the weights of ``name`` with ``attention`` in ``role``: ``name[-attention][-role]``."""
    return "-".join([name] + [attention] * (attention != "none") + [role] * (role != "intra"))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def archived_path(stem: str, sha256: str, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Where the replaced weights ``stem`` of hash ``sha256`` are kept (``.pth``; the record beside it)."""
    return weights_dir / ARCHIVE / f"{stem}-{sha256[:12]}.pth"


def archived_version(name: str, attention: str, role: str, sha256: str | None,
                     weights_dir: Path = WEIGHTS_DIR) -> str | None:
    """``sha256`` if the archive holds those weights of ``name`` in ``role``, else ``None`` (the installed ones)."""
    if sha256 and archived_path(weights_stem(name, attention, role), sha256, weights_dir).is_file():
        return sha256
    return None


def archive_weights(stem: str, weights_dir: Path = WEIGHTS_DIR) -> Path | None:
    """Move the installed weights ``stem`` and their record into the archive (before new ones
    replace them); returns the archived ``.pth``, or ``None`` if none were installed."""
    path = weights_dir / f"{stem}.pth"
    if not path.is_file():
        return None
    target = archived_path(stem, file_sha256(path), weights_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    record = path.with_suffix(".json")
    if record.is_file():
        record.replace(target.with_suffix(".json"))
    return target


def load_model(name: str, attention: str = "none", *, role: str = "intra", sha256: str | None = None,
               weights_dir: Path = WEIGHTS_DIR) -> tuple[GainedMeanScaleHyperprior, str, dict]:
    """Build ``name`` with ``attention`` in ``role`` and load its committed weights.

    ``sha256``: load the archived weights of that hash (:func:`archived_version`) instead of the
    installed ones.

    Returns:
        ``(model in eval mode with entropy tables, weights sha256, training record)``;
        the model's parameters are in channels-last memory format.
    """
    config = get_config(name)
    check_variant(attention, role)
    stem = weights_stem(name, attention, role)
    path = archived_path(stem, sha256, weights_dir) if sha256 else weights_dir / f"{stem}.pth"
    record_path = path.with_suffix(".json")
    if not path.is_file() or not record_path.is_file():
        raise SpikecodecError(f"no trained weights for {stem!r} in {weights_dir}")
    record = json.loads(record_path.read_text())
    model = build_model(config.as_recorded(record.get("config", {})), attention, role)
    digest = file_sha256(path)
    if digest != record.get("sha256"):
        raise SpikecodecError(f"weights {path.name} do not match their record (sha256 {digest[:12]})")
    if (record.get("attention"), record.get("role", "intra")) != (attention, role):
        raise SpikecodecError(f"record {record_path.name} describes attention {record.get('attention')!r}, "
                              f"role {record.get('role', 'intra')!r}, not {attention!r}, {role!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state)
    # channels-last convolutions are ~1.5-2x faster on CPU for these shapes
    return model.eval().to(memory_format=torch.channels_last), digest, record
