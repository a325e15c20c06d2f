from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BitOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BIT_ORDER_UNSPECIFIED: _ClassVar[BitOrder]
    BIT_ORDER_LSB_FIRST: _ClassVar[BitOrder]
BIT_ORDER_UNSPECIFIED: BitOrder
BIT_ORDER_LSB_FIRST: BitOrder

class SensorParams(_message.Message):
    __slots__ = ("threshold", "alpha", "reset_mechanism", "tau", "init", "seed")
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    RESET_MECHANISM_FIELD_NUMBER: _ClassVar[int]
    TAU_FIELD_NUMBER: _ClassVar[int]
    INIT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    threshold: float
    alpha: float
    reset_mechanism: str
    tau: float
    init: str
    seed: int
    def __init__(self, threshold: _Optional[float] = ..., alpha: _Optional[float] = ..., reset_mechanism: _Optional[str] = ..., tau: _Optional[float] = ..., init: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class CodecOptions(_message.Message):
    __slots__ = ("quality", "window", "offset", "recon", "attention", "model", "intra_period", "gop", "gop_size", "exact")
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    RECON_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INTRA_PERIOD_FIELD_NUMBER: _ClassVar[int]
    GOP_FIELD_NUMBER: _ClassVar[int]
    GOP_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    quality: float
    window: int
    offset: int
    recon: str
    attention: str
    model: str
    intra_period: int
    gop: str
    gop_size: int
    exact: str
    def __init__(self, quality: _Optional[float] = ..., window: _Optional[int] = ..., offset: _Optional[int] = ..., recon: _Optional[str] = ..., attention: _Optional[str] = ..., model: _Optional[str] = ..., intra_period: _Optional[int] = ..., gop: _Optional[str] = ..., gop_size: _Optional[int] = ..., exact: _Optional[str] = ...) -> None: ...

class StreamHeader(_message.Message):
    __slots__ = ("height", "width", "plane_rate", "sensor", "bit_order", "options", "name", "num_planes")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    PLANE_RATE_FIELD_NUMBER: _ClassVar[int]
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    BIT_ORDER_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUM_PLANES_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    plane_rate: float
    sensor: SensorParams
    bit_order: BitOrder
    options: CodecOptions
    name: str
    num_planes: int
    def __init__(self, height: _Optional[int] = ..., width: _Optional[int] = ..., plane_rate: _Optional[float] = ..., sensor: _Optional[_Union[SensorParams, _Mapping]] = ..., bit_order: _Optional[_Union[BitOrder, str]] = ..., options: _Optional[_Union[CodecOptions, _Mapping]] = ..., name: _Optional[str] = ..., num_planes: _Optional[int] = ...) -> None: ...

class SpikeChunk(_message.Message):
    __slots__ = ("sequence", "first_plane", "num_planes", "packed")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_PLANE_FIELD_NUMBER: _ClassVar[int]
    NUM_PLANES_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    first_plane: int
    num_planes: int
    packed: bytes
    def __init__(self, sequence: _Optional[int] = ..., first_plane: _Optional[int] = ..., num_planes: _Optional[int] = ..., packed: _Optional[bytes] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("num_chunks", "num_planes")
    NUM_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    NUM_PLANES_FIELD_NUMBER: _ClassVar[int]
    num_chunks: int
    num_planes: int
    def __init__(self, num_chunks: _Optional[int] = ..., num_planes: _Optional[int] = ...) -> None: ...

class SpikeMessage(_message.Message):
    __slots__ = ("header", "chunk", "end")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    header: StreamHeader
    chunk: SpikeChunk
    end: StreamEnd
    def __init__(self, header: _Optional[_Union[StreamHeader, _Mapping]] = ..., chunk: _Optional[_Union[SpikeChunk, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ...) -> None: ...
