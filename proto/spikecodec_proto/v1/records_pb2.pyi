from spikecodec_proto.v1 import spikes_pb2 as _spikes_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_HEADER: _ClassVar[RecordKind]
    RECORD_KIND_SCENE: _ClassVar[RecordKind]
    RECORD_KIND_END: _ClassVar[RecordKind]
    RECORD_KIND_EXACT: _ClassVar[RecordKind]
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_HEADER: RecordKind
RECORD_KIND_SCENE: RecordKind
RECORD_KIND_END: RecordKind
RECORD_KIND_EXACT: RecordKind

class EncodedRecord(_message.Message):
    __slots__ = ("sequence", "kind", "data", "scene_index", "centre", "completed_by_chunk", "server_latency_s")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SCENE_INDEX_FIELD_NUMBER: _ClassVar[int]
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BY_CHUNK_FIELD_NUMBER: _ClassVar[int]
    SERVER_LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    kind: RecordKind
    data: bytes
    scene_index: int
    centre: int
    completed_by_chunk: int
    server_latency_s: float
    def __init__(self, sequence: _Optional[int] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., data: _Optional[bytes] = ..., scene_index: _Optional[int] = ..., centre: _Optional[int] = ..., completed_by_chunk: _Optional[int] = ..., server_latency_s: _Optional[float] = ...) -> None: ...

class StreamSummary(_message.Message):
    __slots__ = ("id", "created_unix", "name", "height", "width", "num_planes", "num_scenes", "bits", "bpsp", "quality", "model", "recon", "attention", "window", "sha256", "plane_rate", "sensor")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    NUM_PLANES_FIELD_NUMBER: _ClassVar[int]
    NUM_SCENES_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    BPSP_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RECON_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PLANE_RATE_FIELD_NUMBER: _ClassVar[int]
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_unix: float
    name: str
    height: int
    width: int
    num_planes: int
    num_scenes: int
    bits: int
    bpsp: float
    quality: float
    model: str
    recon: str
    attention: str
    window: int
    sha256: str
    plane_rate: float
    sensor: _spikes_pb2.SensorParams
    def __init__(self, id: _Optional[str] = ..., created_unix: _Optional[float] = ..., name: _Optional[str] = ..., height: _Optional[int] = ..., width: _Optional[int] = ..., num_planes: _Optional[int] = ..., num_scenes: _Optional[int] = ..., bits: _Optional[int] = ..., bpsp: _Optional[float] = ..., quality: _Optional[float] = ..., model: _Optional[str] = ..., recon: _Optional[str] = ..., attention: _Optional[str] = ..., window: _Optional[int] = ..., sha256: _Optional[str] = ..., plane_rate: _Optional[float] = ..., sensor: _Optional[_Union[_spikes_pb2.SensorParams, _Mapping]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("receive_s", "encode_s", "store_s", "total_s")
    RECEIVE_S_FIELD_NUMBER: _ClassVar[int]
    ENCODE_S_FIELD_NUMBER: _ClassVar[int]
    STORE_S_FIELD_NUMBER: _ClassVar[int]
    TOTAL_S_FIELD_NUMBER: _ClassVar[int]
    receive_s: float
    encode_s: float
    store_s: float
    total_s: float
    def __init__(self, receive_s: _Optional[float] = ..., encode_s: _Optional[float] = ..., store_s: _Optional[float] = ..., total_s: _Optional[float] = ...) -> None: ...
