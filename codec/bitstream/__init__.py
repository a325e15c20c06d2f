"""The ``.spkc`` container: a versioned sequence of self-contained, CRC-checked records.

A stream is written and read scene by scene: every record is a ``bytes`` object
that can travel alone (one gRPC message per record) and be parsed incrementally
from any split of a byte stream or a file. Format version 5 (all integers
big-endian)::

    stream   = preamble header-record scene-record* end-record
    preamble = "SPKC" (4 bytes) | version u16            (sent with the header record)
    record   = kind u8 | length u32 | frame-crc u32 | body (length bytes) | body-crc u32

    frame-crc = zlib.crc32(kind | length)    a corrupt kind or length is caught
    body-crc  = zlib.crc32(body)             before the body is even read

    kind "H" header  body = binary fields, see codec.bitstream.header: height,
                     width, num_planes (0 = unknown while live), window K,
                     offset C0, quality, intra_period, inter_offset, sensor
                     (codec.sensor.SensorParams fields), recon, attention,
                     model, model sha256, inter sha256 (when intra_period > 1)
    kind "S" scene   body = index u32 | centre u64 | mode u8 | payload (scene codec bytes)
                     mode 0 intra: the payload codes the scene;
                     mode 1 inter: half-pixel block motion vectors, then the scene
                     minus the previous decoded scene so moved, blocks overlapped (inter codec),
                     allowed unless index % intra_period == 0
    kind "E" end     body = num_planes u64 | num_scenes u32

Reading checks more than CRCs: the header comes first, scene ``i`` has index
``i`` and centre ``C0 + i*K`` and a mode its position allows, the end record comes last, there is at least one
scene, the end record's counts agree with the scenes seen (and with the
header's ``num_planes`` when that was known), and nothing follows it. Every problem raises
:class:`codec.errors.BitstreamError` naming the record, e.g. ``record 8 (scene
7, centre 240) at byte 9120: body CRC mismatch`` or ``missing end record:
stream truncated after scene 9``. Records are numbered from 0 (the header).
"""

from codec.bitstream.header import FORMAT_VERSION, MAGIC, StreamHeader
from codec.bitstream.reader import RecordParser, iter_file_records
from codec.bitstream.records import (
    MODE_INTER,
    MODE_INTRA,
    EndRecord,
    Record,
    SceneRecord,
    end_record,
    header_record,
    scene_record,
)

__all__ = [
    "FORMAT_VERSION",
    "MODE_INTRA",
    "MODE_INTER",
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
