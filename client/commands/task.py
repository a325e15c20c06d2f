"""``spikecodec task [SET] -o DIR``: task fidelity -- top-1 accuracy of a fixed classifier on what
each codec returns, against bits per spike-pixel (a thin command over :func:`codec.task.run.run_task`).

A command of its own rather than ``bench --task``: it reads labelled sets of clips, not
streams, and reports accuracy and threshold rates, not BD-rates; the coding of every point
is the bench's (:mod:`codec.evaluate.sweep`). Writes ``DIR/rd.json``, ``rd.csv`` (the points,
with ``accuracy``), ``task.json`` (uncompressed accuracy, threshold rates), ``task.md``, ``task.csv`` and
``accuracy.png``; points are cached under ``DIR/points/`` so a rerun resumes.
``python -m codec.task.report DIR... -o docs/task_results.md`` renders result folders.
"""

from __future__ import annotations

import argparse

HELP = "accuracy of a fixed classifier on decoded spikes against bpsp, per codec curve (task fidelity)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from client.arguments import comma_list
    from codec import options
    from codec.task import options as task

    parser.add_argument("set", nargs="?", default=task.DIGITS, metavar="SET",
                        help=f"'{task.DIGITS}' (scikit-learn's digits, eval split, simulated; default) or a "
                             ".npz/.h5 with spikes (N, T, H, W) and labels (N,)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    parser.add_argument("--classifier", default=None, metavar="PATH",
                        help="classifier weights with their .json record (default: the shipped digits classifier)")
    parser.add_argument("--samples", type=int, default=None, help="the first N clips of the set (default all)")
    parser.add_argument("--size", type=int, default=task.DIGITS_SIZE,
                        help=f"digits: clip side in pixels (default {task.DIGITS_SIZE})")
    parser.add_argument("--planes", type=int, default=task.DIGITS_PLANES,
                        help=f"digits: planes per clip (default {task.DIGITS_PLANES})")
    parser.add_argument("--seed", type=int, default=0, help="digits: simulation seed (default 0)")
    parser.add_argument("--window", type=int, default=task.TASK_WINDOW,
                        help=f"K, planes per coded scene (default {task.TASK_WINDOW})")
    parser.add_argument("--qualities", type=comma_list(float), default=None,
                        help="codec qualities (default: all the model has)")
    parser.add_argument("--gop", type=comma_list(str, options.GOP_STRUCTURES, "GOP structure"),
                        default=options.GOP_STRUCTURES,
                        help="spikecodec curves, one per scene structure: spikecodec-<attention> (intra), "
                             "-ra (random-access), -ld (low-delay) (default all three; empty: none)")
    parser.add_argument("--attention", type=comma_list(str, options.ATTENTIONS, "attention"),
                        default=(options.DEFAULT_ATTENTION,),
                        help=f"attention variants of the codec (default {options.DEFAULT_ATTENTION})")
    parser.add_argument("--anchor", type=comma_list(str, options.ANCHOR_NAMES, "anchor"), default=options.TASK_ANCHORS,
                        help=f"anchors (default {','.join(options.TASK_ANCHORS)}; empty: none)")
    parser.add_argument("--qps", type=comma_list(int), default=task.TASK_QPS,
                        help=f"QPs of the video anchors (default {','.join(map(str, task.TASK_QPS))})")
    parser.add_argument("--preset", default=task.TASK_PRESET,
                        help=f"video encoder preset (default {task.TASK_PRESET}: minutes, not an hour)")
    parser.add_argument("--threads", type=int, default=1, help="video encoder threads (default 1)")
    parser.add_argument("--tolerance", type=float, default=task.DEFAULT_TOLERANCE,
                        help="accuracy points a curve may lose and still keep the task "
                             f"(default {task.DEFAULT_TOLERANCE:g})")


def run(args: argparse.Namespace) -> dict:
    from pathlib import Path

    from codec.task.run import TaskSettings, run_task

    settings = TaskSettings(
        spec=args.set, samples=args.samples, size=args.size, planes=args.planes, seed=args.seed, window=args.window,
        qualities=args.qualities, gops=args.gop, attentions=args.attention, anchors=args.anchor, qps=args.qps,
        preset=args.preset, threads=args.threads, classifier=args.classifier, tolerance=args.tolerance,
    )
    return run_task(settings, Path(args.output))
