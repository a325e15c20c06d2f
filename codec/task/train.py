"""Training of the task classifier (``spikecodec train --stage classifier``), on CPU in seconds.

Adam on cross-entropy over the view of a labelled set's clips, mini-batches drawn from a
seeded permutation per epoch, one torch thread and a fixed seed: the same set, view and
settings give the same weights on a machine. No augmentation: each simulated digit
already drifts on its own path.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from codec.errors import SpikecodecError
from codec.task.classifier import Classifier, TinyNet
from codec.task.data import LabelledSpikes
from codec.task.views import apply_view

#: steps, batch and learning rate of the shipped classifier
DEFAULT_STEPS, DEFAULT_BATCH, DEFAULT_LR = 600, 64, 2e-3
#: training steps between two logged losses
LOG_EVERY = 100


def train_classifier(data: LabelledSpikes, view: str = "tfp", window: int = 0, steps: int = DEFAULT_STEPS,
                     batch: int = DEFAULT_BATCH, lr: float = DEFAULT_LR, seed: int = 0) -> tuple[TinyNet, dict]:
    """Train a :class:`TinyNet` on ``data`` seen through ``view``.

    Returns:
        ``(network in eval mode, record)``: the record has the view, clip size, classes, data
        summary, settings, wall time, logged losses and the accuracy on the training set.
    """
    if steps < 1 or batch < 1 or not lr > 0:
        raise SpikecodecError(f"need steps >= 1, batch >= 1 and lr > 0, got {steps}, {batch}, {lr}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every run
    try:
        torch.manual_seed(seed)
        x = torch.from_numpy(apply_view(view, data.spikes, window))
        y = torch.from_numpy(data.labels)
        net = TinyNet(x.shape[1], len(data.classes))
        optimiser = torch.optim.Adam(net.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(seed)
        order, used, losses = torch.randperm(len(x), generator=generator), 0, []
        started = time.perf_counter()
        for step in range(1, steps + 1):
            if used + batch > len(x):
                order, used = torch.randperm(len(x), generator=generator), 0
            pick = order[used : used + batch]
            used += len(pick)
            loss = loss_fn(net(x[pick]), y[pick])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step % LOG_EVERY == 0 or step == steps:
                losses.append({"step": step, "loss": round(loss.item(), 5)})
        wall = time.perf_counter() - started
    finally:
        torch.set_num_threads(threads)
    net.eval()
    _, t, h, w = data.shape
    record = {
        "name": f"{data.name}-{view}", "view": view, "window": window, "channels": int(x.shape[1]),
        "height": h, "width": w, "planes": t, "classes": list(data.classes),
        "data": data.info(), "steps": steps, "batch": batch, "lr": lr, "seed": seed, "threads": 1,
        "optimiser": "Adam", "wall_seconds": round(wall, 1), "losses": losses,
    }  # fmt: skip
    record["train_accuracy"] = round(Classifier(net, record, "").accuracy(data.spikes, data.labels), 2)
    return net, record


def evaluate(net: TinyNet, record: dict, data: LabelledSpikes) -> dict:
    """``{"set", "samples", "accuracy"}`` of a trained network on ``data`` (percent, top-1)."""
    accuracy = Classifier(net, record, "").accuracy(data.spikes, data.labels)
    return {"set": data.name, "samples": len(data.labels), "sha256": data.digest, "accuracy": round(accuracy, 2)}

