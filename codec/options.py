"""Names and defaults of every coding option, in one place.

Read by :class:`codec.pipeline.EncoderConfig`, the model and reconstruction
registries, the server's configuration, every ``spikecodec`` command and the
evaluation sweep; nothing else spells out a choice list or a default. This module
imports nothing beyond the standard library (no torch), so a command can build
its argument parser, and the server its configuration, without loading models.

A name set is a ``Literal`` (for type checkers) and the tuple of its values (for
``argparse`` ``choices=`` and run-time checks); the ``DEFAULT_*`` constants are the
defaults of the library, the server and the command line alike.
"""

from __future__ import annotations

from typing import Literal, get_args

#: scene reconstruction from spikes (:mod:`codec.reconstruct`): windowed firing
#: rate, inverse inter-spike interval, learned network
Reconstruction = Literal["tfp", "tfi", "net"]
#: encoder attention over the spikes (:mod:`codec.models.attention`): none, the
#: ``K`` planes before each scene centre, or those before and after
Attention = Literal["none", "soam", "bisoam"]
#: what a set of scene codec weights codes: whole (intra) scenes, or the residual of a
#: predicted scene against its motion-compensated reference (P and B scenes share the
#: residual codec; a bi-predictive codec of its own would be a third role)
Role = Literal["intra", "inter"]
#: how scenes reference each other: bi-directional, forward only, or none
GopStructure = Literal["random-access", "low-delay", "intra"]
#: where torch runs
Device = Literal["cpu", "cuda"]
#: integrate-and-fire reset (:mod:`codec.simulate.neuron`, snnTorch's ``reset_mechanism``)
ResetMechanism = Literal["zero", "subtract", "mod"]
#: initial membrane of the integrate-and-fire pixels
InitialState = Literal["zero", "uniform"]
#: lossless chunk compression of HDF5 output
Hdf5Compression = Literal["none", "gzip", "lzf"]
#: reference codecs of the rate-distortion sweep (:mod:`codec.anchors`)
AnchorName = Literal["vvc", "vvc-ra", "hevc", "hevc-intra", "count", "lossless", "exact"]
#: exact spike layer of a stream (:mod:`codec.exact`): none, over the scene layer
#: (``spikecodec encode --exact``), or alone without scenes (``--lossless``)
ExactLayer = Literal["none", "scenes", "alone"]

RECONSTRUCTIONS: tuple[Reconstruction, ...] = get_args(Reconstruction)
ATTENTIONS: tuple[Attention, ...] = get_args(Attention)
#: the attentions that add a module to the codec (trained by the attention stage)
ATTENTION_MODULES: tuple[Attention, ...] = tuple(a for a in ATTENTIONS if a != "none")
ROLES: tuple[Role, ...] = get_args(Role)
GOP_STRUCTURES: tuple[GopStructure, ...] = get_args(GopStructure)
DEVICES: tuple[Device, ...] = get_args(Device)
RESET_MECHANISMS: tuple[ResetMechanism, ...] = get_args(ResetMechanism)
INIT_STATES: tuple[InitialState, ...] = get_args(InitialState)
HDF5_COMPRESSIONS: tuple[Hdf5Compression, ...] = get_args(Hdf5Compression)
ANCHOR_NAMES: tuple[AnchorName, ...] = get_args(AnchorName)
EXACT_LAYERS: tuple[ExactLayer, ...] = get_args(ExactLayer)

#: plane size of a ``.dat`` file (which does not record it) and of a simulated source:
#: the Vidar camera's 250x400 (any other size works wherever a file records it)
DEFAULT_HEIGHT = 250
DEFAULT_WIDTH = 400
#: ``K``: planes between scene centres and per scene block (51 ms of 20 kHz camera
#: time per 32 scenes)
DEFAULT_WINDOW = 32
#: ``C0``, the first scene's centre plane; ``None`` means ``K // 2``
DEFAULT_OFFSET: int | None = None
#: TFP needs no weights, is deterministic on every machine and is what the anchors
#: are scored against, so offline, served and benchmarked streams agree by default
DEFAULT_RECONSTRUCTION: Reconstruction = "tfp"
DEFAULT_ATTENTION: Attention = "none"
DEFAULT_MODEL = "spikecodec-base"
#: scene codec quality (the middle of the shipped 1..6 range)
DEFAULT_QUALITY = 3.0
#: scene ``i`` is intra coded when ``i % intra_period == 0`` (with ``K = 32``, an intra
#: scene every 1024 planes, 51 ms at 20 kHz); the scenes between may be predicted
DEFAULT_INTRA_PERIOD = 32
#: files and stored streams: hierarchical B scenes between anchors (live streams that
#: cannot wait for an anchor use "low-delay")
DEFAULT_GOP: GopStructure = "random-access"
#: scenes from one random-access anchor to the next, and the most a stream may use
#: (a decoder holds up to this many scenes to reorder them)
DEFAULT_GOP_SIZE = 16
MAX_GOP_SIZE = 64
#: quality steps a low-delay P scene, and the first random-access B layer, is coded
#: below the stream's quality
DEFAULT_INTER_OFFSET = 1.5
#: quality steps each further B layer is coded coarser than the one above it
DEFAULT_LAYER_STEP = 0.5
#: quality steps a random-access anchor coded as a P scene is coded below the stream's quality
DEFAULT_ANCHOR_OFFSET = 0.0
#: temporal filter before coding (codec.pipeline.temporal_filter): neighbours on each side,
#: and the weight of a neighbour that matches up to noise (0: off)
DEFAULT_FILTER_RADIUS = 1
DEFAULT_FILTER_STRENGTH = 1.0
DEFAULT_DEVICE: Device = "cpu"
DEFAULT_RESET: ResetMechanism = "subtract"
DEFAULT_INIT: InitialState = "uniform"
#: planes of the windowed firing rate the reports score
DEFAULT_FR_WINDOW = 32
#: anchors ``spikecodec bench`` runs unless told otherwise (``hevc-intra`` adds little to ``vvc``)
DEFAULT_ANCHORS: tuple[AnchorName, ...] = ("vvc", "vvc-ra", "hevc", "count", "lossless", "exact")
#: anchors ``spikecodec task`` runs unless told otherwise: the LIF count quantizer and VVC all-intra and
#: random access on the TFP scenes (the other task defaults: codec.task.options)
TASK_ANCHORS: tuple[AnchorName, ...] = ("count", "vvc", "vvc-ra")
DEFAULT_EXACT: ExactLayer = "none"
#: QPs of the video anchors: the usual VVC common test conditions plus one coarser point
DEFAULT_QPS: tuple[int, ...] = (22, 27, 32, 37, 42, 47)
#: the anchors BD-rates are measured against: all intra, and random access (the fair
#: anchor of inter-coded curves)
REFERENCE_ANCHORS: tuple[AnchorName, ...] = ("vvc", "vvc-ra")
