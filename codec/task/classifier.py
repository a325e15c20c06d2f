"""The fixed recognition network of the task benchmark: a tiny CNN over a view (:mod:`codec.task.views`).

::

    view (N, C, H, W) -> conv3x3 C->16, ReLU, maxpool 2 -> conv3x3 16->32, ReLU, maxpool 2
        -> conv3x3 32->32, ReLU -> average pool to 4x4 -> linear 512 -> classes: logits

About 20 k parameters (80 kB as float32). The shipped one, :data:`DEFAULT_CLASSIFIER`, was
trained on the TFP view of the digits train split (``spikecodec train --stage classifier``);
its JSON record beside it names the view, the clip size it was trained at, the data,
steps, wall time, accuracies and the file's sha256, which :func:`load_classifier` checks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from codec.errors import SpikecodecError
from codec.task.views import apply_view

#: the shipped classifier (digits, TFP view), beside the package (the codec models' folder holds codecs only)
DEFAULT_CLASSIFIER = Path(__file__).resolve().parent / "weights" / "digits-classifier.pth"
#: clips classified per forward pass
BATCH = 256


class TinyNet(nn.Module):
    """The network of the module docstring: ``(N, channels, H, W)`` in, ``(N, classes)`` logits out."""

    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        )  # fmt: skip
        self.head = nn.Linear(32 * 4 * 4, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


@dataclass
class Classifier:
    """A trained :class:`TinyNet` with the view it reads.

    Attributes:
        net: the network (eval mode).
        record: its training record (``view``, ``window``, ``height``, ``width``, ``classes``, ...).
        sha256: of the weights file.
    """

    net: TinyNet
    record: dict
    sha256: str

    @property
    def name(self) -> str:
        return str(self.record.get("name", "classifier"))

    def inputs(self, spikes: np.ndarray) -> np.ndarray:
        """The view of ``(N, T, H, W)`` clips this classifier reads.

        Raises:
            SpikecodecError: clips of another size than it was trained on.
        """
        h, w = spikes.shape[-2:]
        if (h, w) != (self.record["height"], self.record["width"]):
            raise SpikecodecError(
                f"classifier {self.name} was trained on {self.record['height']}x{self.record['width']} clips, "
                f"the set has {h}x{w}: train one on it (spikecodec train --stage classifier --set FILE --output PATH)")
        return apply_view(self.record["view"], spikes, self.record["window"])

    def predict(self, spikes: np.ndarray) -> np.ndarray:
        """Top-1 class of each ``(N, T, H, W)`` clip, ``(N,)`` int64."""
        x = self.inputs(spikes)
        out = []
        with torch.inference_mode():
            for start in range(0, len(x), BATCH):
                out.append(self.net(torch.from_numpy(x[start : start + BATCH])).argmax(dim=1).numpy())
        return np.concatenate(out).astype(np.int64)

    def accuracy(self, spikes: np.ndarray, labels: np.ndarray) -> float:
        """Top-1 accuracy in percent."""
        return float(100.0 * np.mean(self.predict(spikes) == labels))


def save_classifier(net: TinyNet, path: Path, record: dict) -> dict:
    """Write the weights (float32 state dict) and ``path.with_suffix('.json')``: ``record`` plus
    the weights' sha256; returns the written record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, path)
    record = {**record, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def load_classifier(path: str | Path | None = None) -> Classifier:
    """The classifier at ``path`` (default :data:`DEFAULT_CLASSIFIER`), checked against its record.

    Raises:
        SpikecodecError: missing record, or weights that do not match it.
    """
    path = Path(path) if path is not None else DEFAULT_CLASSIFIER
    record_path = path.with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if not record_path.is_file():
        raise SpikecodecError(f"classifier {path.name} has no record {record_path.name} beside it")
    record = json.loads(record_path.read_text())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != record.get("sha256"):
        raise SpikecodecError(f"classifier {path.name} does not match its record (sha256 {digest[:12]})")
    net = TinyNet(record["channels"], len(record["classes"]))
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return Classifier(net.eval(), record, digest)
