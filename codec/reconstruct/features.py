"""Mixed-scale temporal features of a spike block, the input of the reconstruction network.

For a block of planes and its centre index ``c`` (time on axis -3)::

    channels 0..4   TFP over 2r+1 planes around c, r in RADII = (1, 2, 4, 8, 16)
    channel  5      1 / ISI at c            (ISI = next - prev, DESIGN.md conventions)
    channel  6      1 / (c - prev + 1)      (age of the last spike)
    channel  7      1 / (next - c)          (wait for the next spike)

all in spikes/plane, in ``[0, 1]``, computed over the planes available (a block
clipped at the stream's edges averages what it has). Used identically by
inference and training so the two cannot drift apart.
"""

from __future__ import annotations

import torch

#: half-widths (planes) of the TFP windows
RADII: tuple[int, ...] = (1, 2, 4, 8, 16)
#: planes the features look at before and after the centre
CONTEXT: tuple[int, int] = (max(RADII), max(RADII))
NUM_FEATURES = len(RADII) + 3


def temporal_features(planes: torch.Tensor, centre_index: int) -> torch.Tensor:
    """Features of spike planes around one centre.

    Args:
        planes: ``(..., n, H, W)`` 0/1 tensor (any dtype), time on axis -3.
        centre_index: index of the centre plane in ``[0, n)``.

    Returns:
        ``(..., NUM_FEATURES, H, W)`` float32 tensor.
    """
    n = planes.shape[-3]
    spikes = planes.to(torch.float32)
    c = centre_index
    channels = []
    for r in RADII:
        lo, hi = max(0, c - r), min(n, c + r + 1)
        channels.append(spikes[..., lo:hi, :, :].mean(dim=-3))
    index = torch.arange(n, dtype=torch.float32).view(n, 1, 1)
    fired = spikes > 0
    prev = torch.where(fired[..., : c + 1, :, :], index[: c + 1], torch.tensor(-1.0)).amax(dim=-3)
    if c + 1 < n:
        nxt = torch.where(fired[..., c + 1 :, :, :], index[c + 1 :], torch.tensor(float(n))).amin(dim=-3)
    else:
        nxt = torch.full_like(prev, float(n))
    channels.append(1.0 / (nxt - prev))
    channels.append(1.0 / (c - prev + 1.0))
    channels.append(1.0 / (nxt - c))
    return torch.stack(channels, dim=-3)
