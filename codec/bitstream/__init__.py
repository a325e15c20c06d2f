"""The ``.spkc`` container: a versioned sequence of self-contained, CRC-checked records.

This package owns every byte of a stream: the record framing
(:mod:`~codec.bitstream.records`), the header (:mod:`~codec.bitstream.header`),
scene payloads (:mod:`~codec.bitstream.payloads`) and motion vectors
(:mod:`~codec.bitstream.vectors`). The byte-level specification is docs/format.md.

A stream is written and read record by record: every record is a ``bytes``
object that can travel alone (one gRPC message per record) and be parsed
incrementally from any split of a byte stream or a file
(:class:`~codec.bitstream.reader.RecordParser`). Scene records come in coding
order; each carries its scene index, so a decoder can put scenes back in time
order. Streams with an exact layer add exact records (the spike planes, losslessly,
:mod:`codec.exact`), in plane order, each after the scene records it is conditioned on.
Every problem raises :class:`codec.errors.BitstreamError` naming the record, e.g.
``record 8 (scene record 7) at byte 9120: body CRC mismatch``.
"""

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.bitstream.reader import RecordParser, iter_file_records
from codec.bitstream.records import (
    CODING_MODEL,
    CODING_RAW,
    MODE_B,
    MODE_INTRA,
    MODE_NAMES,
    MODE_P,
    EndRecord,
    ExactRecord,
    Record,
    SceneRecord,
    end_record,
    exact_record,
    header_record,
    scene_record,
)

__all__ = [
    "CODING_MODEL",
    "CODING_RAW",
    "ExactRecord",
    "exact_record",
    "FORMAT_VERSION",
    "MODE_INTRA",
    "MODE_P",
    "MODE_B",
    "MODE_NAMES",
    "MAGIC",
    "StreamHeader",
    "SceneRecord",
    "EndRecord",
    "Record",
    "header_record",
    "scene_record",
    "end_record",
    "RecordParser",
    "iter_file_records",
]
