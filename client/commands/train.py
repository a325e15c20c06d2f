"""``spikecodec train``: the multi-stage training of the paper (see README).

Stages: ``recon`` (reconstruction network, owned by codec/train/recon.py),
``codec`` (I: scene codec on gray natural images), ``joint`` (II: reconstruction
network and codec together on simulated spikes), ``attention`` (III: SOAM/BiSOAM
with the rest frozen, then everything at a small learning rate), ``all``
(recon, codec, attention, inter, classifier: the stages of the shipped weights), ``classifier``
(the task benchmark's recognition network, on the digits or ``--set FILE``; seconds on CPU). Every stage
resumes from its run dir and exports its weights into the package when it
reaches ``--steps`` (or at once with ``--export-only``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codec.options import ATTENTION_MODULES, DEFAULT_MODEL

HELP = "train the reconstruction network, the scene codec and the spike attention"
STAGES = ("recon", "codec", "joint", "attention", "inter", "classifier", "all")
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import add_device_argument
    from codec.task import options as task

    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="shared data folder (default: ../shared/data beside the repo)")
    parser.add_argument("--runs", type=Path, default=None,
                        help="parent of the per-stage run dirs (default ~/.cache/spikecodec/runs)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--attention", choices=ATTENTION_MODULES, default=None,
                        help="attention stage: train only this one (default: both)")
    parser.add_argument("--steps", type=int, default=None,
                        help="total steps of the stage (attention: of the fine-tune phase, "
                             "the frozen phase gets half)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--batch", type=int, default=None, help="batch size")
    parser.add_argument("--crop", type=int, default=None, help="square crop side (pixels)")
    parser.add_argument("--init", default=None, metavar="MODEL",
                        help="codec and inter stages: start a new run from the committed weights of MODEL "
                             "(model tensors only, fresh optimizer)")
    parser.add_argument("--anneal", type=_anneal, default=None, metavar="STEPS:LR",
                        help="the last STEPS steps learn at LR (default: the stage's own)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--export-only", action="store_true",
                        help="export the stage's latest checkpoint without training")
    classifier = parser.add_argument_group("classifier stage")
    classifier.add_argument("--set", default=task.DIGITS,
                            help="labelled set: 'digits' (train split, simulated) or a .npz/.h5 with spikes "
                                 "(N, T, H, W) and labels (N,) (default digits)")
    classifier.add_argument("--view", choices=task.VIEWS, default=task.DEFAULT_VIEW,
                            help="what the network reads: the TFP scene, or the spike planes in time bins "
                                 "(default tfp)")
    classifier.add_argument("--view-window", type=int, default=0,
                            help="tfp: middle planes of the scene; planes: time bins (default 0: all planes / 4 bins)")
    classifier.add_argument("--output", default=None, metavar="PATH",
                            help="weights file (+ .json record) (default: the shipped digits classifier)")
    add_device_argument(parser, "the stage's networks and batches (the classifier stage trains on the CPU)")


def _anneal(text: str) -> tuple[int, float]:
    steps, _, lr = text.partition(":")
    try:
        return int(steps), float(lr)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STEPS:LR, e.g. 2000:2e-5, got {text!r}") from None


def run(args: argparse.Namespace) -> dict:
    import torch

    from codec.device import check_device
    from codec.train.stages import SHIPPED_STAGES, run_stage

    check_device(args.device)

    torch.set_num_threads(args.threads)
    stages = SHIPPED_STAGES if args.stage == "all" else (args.stage,)
    return {stage: run_stage(stage, args) for stage in stages}
