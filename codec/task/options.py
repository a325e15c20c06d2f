"""Names and defaults of the task benchmark, torch-free (the command line builds its parser from them);
its anchors are :data:`codec.options.TASK_ANCHORS`, beside every other anchor list."""

from __future__ import annotations

from typing import Literal, get_args

#: what the classifier reads of a clip (:mod:`codec.task.views`)
View = Literal["tfp", "planes"]
VIEWS: tuple[View, ...] = get_args(View)
DEFAULT_VIEW: View = "tfp"

#: name of the bundled set (scikit-learn's digits, simulated)
DIGITS = "digits"
#: images of the digits evaluation split (the rest, 1,437, train the classifier)
DIGITS_EVAL = 360
#: side of a simulated digit clip (8x8 upsampled 2x: 360 clips tile a 320x288 stream, about a camera picture);
#: the 18 codec points of the default sweep took about 4 CPU minutes at 16x16, so 64x64 (16x the pixels)
#: would take over an hour
DIGITS_SIZE = 16
#: planes of a simulated digit clip (2 ms of 20 kHz camera time)
DIGITS_PLANES = 40

#: planes per scene of the task streams: 5 scenes in a 40-plane clip, so the GOP structures differ
TASK_WINDOW = 8
#: QPs of the video anchors: the bench's (22..47) and two coarser ones, where VVC stops keeping the digits
TASK_QPS: tuple[int, ...] = (22, 27, 32, 37, 42, 47, 52, 57)
#: VVC preset of the task sweep: "medium" took about 8x longer per point than "faster" on these streams,
#: too long for a sweep meant to run in minutes; the task figures are accuracies, not a BD comparison
TASK_PRESET = "faster"
#: accuracy points a curve may lose and still count as keeping the task
DEFAULT_TOLERANCE = 1.0
