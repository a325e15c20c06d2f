"""Export a trained scene model into ``codec/models/weights`` with its record.

The exported file is what the product loads: parameters rounded to fp16 (the
file stays well under 10 MB; the entropy bottleneck's quantiles stay fp32),
entropy-coder tables rebuilt from exactly those values by ``update()`` and
stored, so no machine recomputes them. The JSON record next to it holds the
config, data, steps, wall time, final training metrics, Kodak and REDS RD per
quality and the file's sha256 (checked by the registry on load).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any, Callable

import torch

from codec.device import CPU
from codec.evaluate.images import codec_rd, load_gray
from codec.evaluate.reds import reds_points
from codec.models.registry import WEIGHTS_DIR, archive_weights, file_sha256, first_quality, get_config, weights_stem
from codec.models.scene_codec import SceneCodec
from codec.models.scene_model import GainedMeanScaleHyperprior


def export_model(model: GainedMeanScaleHyperprior, model_name: str, attention: str, role: str,
                 record: dict, data_root: Path, weights_dir: Path = WEIGHTS_DIR,
                 kodak: bool = True, reds: bool = True,
                 evaluations: dict[str, Callable[[SceneCodec], Any]] | None = None) -> dict:
    """Write ``<stem>.pth`` and ``<stem>.json``; returns the record. Weights they replace go to
    the archive (:func:`codec.models.registry.archive_weights`), so streams coded with them still decode.

    ``attention`` (``"none"``, ``"soam"``, ``"bisoam"``) and ``role`` (``"intra"``, or
    ``"inter"`` for the residual codec) name the weights. ``data_root`` is the shared data folder: Kodak
    (``images/kodak``, unless ``kodak`` is false; it has no spikes, so attention
    models skip it) and the REDS recordings (``spikes/``, unless ``reds`` is
    false) are measured for the record, evaluation only; ``evaluations`` adds
    ``{key: measure(exported codec)}`` entries.
    """
    model = copy.deepcopy(model).to(CPU).eval()  # exported and measured as the product codes: on the CPU
    # quantiles stay fp32: update() refits them and the medians are used in coding
    params = {name: p for name, p in model.named_parameters() if not name.endswith(".quantiles")}
    with torch.no_grad():
        for p in params.values():
            p.copy_(p.half().float())
    model.update(force=True, update_quantiles=True)
    state = {k: v.half() if k in params else v for k, v in model.state_dict().items()}
    serialised = io.BytesIO()
    torch.save(state, serialised)
    # measured under the hash the file will have: streams coded for the measurements carry it in their headers
    codec = SceneCodec(model, model_name, attention, hashlib.sha256(serialised.getvalue()).hexdigest(), {},
                       residual=role == "inter", first_quality=first_quality(get_config(model_name), role))
    measured = {key: measure(codec) for key, measure in (evaluations or {}).items()}
    kodak_rd = codec_rd(codec, load_gray(data_root / "images" / "kodak")) if kodak else None
    reds_rd = reds_points(codec, data_root / "spikes") if reds else None
    stem = weights_stem(model_name, attention, role)
    weights_dir.mkdir(parents=True, exist_ok=True)
    archive_weights(stem, weights_dir)
    path = weights_dir / f"{stem}.pth"
    path.write_bytes(serialised.getvalue())
    record = {"name": model_name, "attention": attention, "role": role,
              "config": get_config(model_name).to_dict(), **record,
              "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "kodak_gray": kodak_rd, "reds_spikes": reds_rd, **measured, "file_bytes": path.stat().st_size,
              "sha256": file_sha256(path)}
    (weights_dir / f"{stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record
