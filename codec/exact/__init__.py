"""Exact spikes: a lossless coder of spike planes (the exact layer of a ``.spkc`` stream).

::

    ExactEncoder(H, W, scenes=False).push((t,H,W) planes [, scene values]) -> [ExactChunk]
                                    .finish() -> [ExactChunk]
    ExactDecoder(H, W, scenes=False).decode(chunk [, scene values]) -> (n,H,W) planes

Modules: :mod:`~codec.exact.model` (per-pixel spike history, adaptive contexts,
mixer), :mod:`~codec.exact.arith` (binary arithmetic coder),
:mod:`~codec.exact.logistic` (integer logistic tables),
:mod:`~codec.exact.stream` (chunking, raw escape, CRC). The container carries
each chunk as an exact record (:mod:`codec.bitstream`); the pipeline
(:mod:`codec.pipeline`) conditions the model on the decoded scenes of the
scene layer (``spikecodec encode --exact``) or runs it alone (``--lossless``).
"""

from codec.exact.stream import DEFAULT_CHUNK_PLANES, ExactChunk, ExactDecoder, ExactEncoder

__all__ = ["DEFAULT_CHUNK_PLANES", "ExactChunk", "ExactDecoder", "ExactEncoder"]
