"""Learned scene reconstruction: mixed-scale temporal features -> residual CNN -> firing rate.

In the spirit of the SpikeCodec paper's scene module, sized for CPU::

    planes (n,H,W) -> temporal_features (8,H,W)
        -> conv3x3 8->c1, ReLU                       (full resolution)  --------+
        -> conv3x3 stride 2 c1->c2, ReLU                                        |
        -> blocks x [conv3x3, ReLU, conv3x3] + skip  (half resolution)          |
        -> conv3x3 c2->4*c1, PixelShuffle(2), ReLU   (back to full)  + <-------+
        -> full_blocks x residual block at c1        (full resolution: fine detail)
        -> conv3x3 c1->1  + TFP over the widest window (residual)
        -> firing rate (spikes/plane)

The network predicts the rate; the reconstructor scales it by the sensor gain and
clips to ``[0, 1]``. Odd sizes are padded by replication to even and cropped back.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from codec.device import CPU
from codec.errors import SpikecodecError
from codec.reconstruct.base import RateReconstructor
from codec.reconstruct.features import CONTEXT, NUM_FEATURES, RADII, temporal_features

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "recon-net.pth"


@dataclass(frozen=True)
class NetConfig:
    """Network size: ``c1`` full-resolution channels, ``c2`` half-resolution channels, ``blocks``
    residual blocks at half resolution and ``full_blocks`` at full resolution."""

    c1: int = 16
    c2: int = 32
    blocks: int = 3
    full_blocks: int = 1


class ResidualBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` at constant width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class ReconNet(nn.Module):
    """Features ``(B, NUM_FEATURES, H, W)`` -> firing rate ``(B, 1, H, W)`` (H, W even)."""

    def __init__(self, config: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.config = config
        c1, c2 = config.c1, config.c2
        self.head = nn.Conv2d(NUM_FEATURES, c1, 3, padding=1)
        self.down = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(c2) for _ in range(config.blocks)])
        self.up = nn.Sequential(nn.Conv2d(c2, 4 * c1, 3, padding=1), nn.PixelShuffle(2))
        self.refine = nn.Sequential(*[ResidualBlock(c1) for _ in range(config.full_blocks)])
        self.tail = nn.Conv2d(c1, 1, 3, padding=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        skip = F.relu(self.head(features))
        x = self.body(F.relu(self.down(skip)))
        x = self.refine(F.relu(self.up(x) + skip))
        widest = features[:, len(RADII) - 1 : len(RADII)]
        return widest + self.tail(x)


def predict_rate(model: ReconNet, features: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``(B, C, H, W)`` features of any size (replicate-pads to even)."""
    h, w = features.shape[-2:]
    padded = F.pad(features, (0, w % 2, 0, h % 2), mode="replicate")
    return model(padded)[..., :h, :w]


def save_weights(model: ReconNet, path: Path) -> None:
    """Write the state dict (``.pth``) and the network config (``.json`` beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    path.with_suffix(".json").write_text(json.dumps({"net": asdict(model.config)}, indent=2) + "\n")


def load_weights(path: Path = DEFAULT_WEIGHTS) -> ReconNet:
    """Load a :class:`ReconNet` saved by :func:`save_weights`, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise SpikecodecError(f"reconstruction network weights not found: {path}")
    meta = json.loads(path.with_suffix(".json").read_text())
    model = ReconNet(NetConfig(**meta["net"]))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


@functools.lru_cache(maxsize=4)
def _shared_model(path: str, device: str) -> ReconNet:
    """One loaded copy of each weights file per device and process (the model is only read)."""
    return load_weights(Path(path)).to(device)


class NetReconstructor(RateReconstructor):
    """The learned reconstructor: ``context = (16, 16)`` planes whatever the scene window.

    Args:
        window: the scene spacing ``K``; kept for the interface, the network looks at
            its own fixed context.
        gain: scene value per unit firing rate.
        weights: ``.pth`` file (default: the shipped weights).
        device: where the network computes (:mod:`codec.device`; the encoder alone reconstructs,
            so no symbol depends on the device's rounding).
    """

    name = "net"

    def __init__(self, window: int, gain: float = 1.0, weights: Path = DEFAULT_WEIGHTS, device: str = CPU) -> None:
        super().__init__(window, gain)
        self.model = _shared_model(str(weights), str(device))
        self.device = next(self.model.parameters()).device

    @property
    def context(self) -> tuple[int, int]:
        return CONTEXT

    @torch.inference_mode()
    def block_rate(self, block: np.ndarray, centre: int) -> np.ndarray:
        """Estimated firing rate at the centre, ``(H, W)`` float32 spikes/plane."""
        features = temporal_features(torch.from_numpy(np.ascontiguousarray(block)), centre)[None]
        return predict_rate(self.model, features.to(self.device))[0, 0].cpu().numpy()
