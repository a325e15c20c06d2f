from spikecodec_proto.v1 import records_pb2 as _records_pb2
from spikecodec_proto.v1 import spikes_pb2 as _spikes_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadResponse(_message.Message):
    __slots__ = ("stream", "timings")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    stream: _records_pb2.StreamSummary
    timings: _records_pb2.Timings
    def __init__(self, stream: _Optional[_Union[_records_pb2.StreamSummary, _Mapping]] = ..., timings: _Optional[_Union[_records_pb2.Timings, _Mapping]] = ...) -> None: ...

class FetchRequest(_message.Message):
    __slots__ = ("id", "chunk_planes")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PLANES_FIELD_NUMBER: _ClassVar[int]
    id: str
    chunk_planes: int
    def __init__(self, id: _Optional[str] = ..., chunk_planes: _Optional[int] = ...) -> None: ...

class FetchBitstreamRequest(_message.Message):
    __slots__ = ("id", "chunk_bytes")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    chunk_bytes: int
    def __init__(self, id: _Optional[str] = ..., chunk_bytes: _Optional[int] = ...) -> None: ...

class BitstreamInfo(_message.Message):
    __slots__ = ("stream", "size", "sha256")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    stream: _records_pb2.StreamSummary
    size: int
    sha256: str
    def __init__(self, stream: _Optional[_Union[_records_pb2.StreamSummary, _Mapping]] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class BitstreamPiece(_message.Message):
    __slots__ = ("info", "data")
    INFO_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    info: BitstreamInfo
    data: bytes
    def __init__(self, info: _Optional[_Union[BitstreamInfo, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class GetStreamRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListStreamsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStreamsResponse(_message.Message):
    __slots__ = ("streams", "next_page_token")
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[_records_pb2.StreamSummary]
    next_page_token: str
    def __init__(self, streams: _Optional[_Iterable[_Union[_records_pb2.StreamSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteStreamRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteStreamResponse(_message.Message):
    __slots__ = ("stream",)
    STREAM_FIELD_NUMBER: _ClassVar[int]
    stream: _records_pb2.StreamSummary
    def __init__(self, stream: _Optional[_Union[_records_pb2.StreamSummary, _Mapping]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "weights_sha256", "qualities", "min_quality", "max_quality", "attention")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_SHA256_FIELD_NUMBER: _ClassVar[int]
    QUALITIES_FIELD_NUMBER: _ClassVar[int]
    MIN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    MAX_QUALITY_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    weights_sha256: str
    qualities: _containers.RepeatedScalarFieldContainer[int]
    min_quality: float
    max_quality: float
    attention: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., weights_sha256: _Optional[str] = ..., qualities: _Optional[_Iterable[int]] = ..., min_quality: _Optional[float] = ..., max_quality: _Optional[float] = ..., attention: _Optional[_Iterable[str]] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_pixels", "max_planes", "max_concurrent_streams", "stream_deadline_s", "recommended_chunk_planes", "max_window", "idle_timeout_s")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_PLANES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    STREAM_DEADLINE_S_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_CHUNK_PLANES_FIELD_NUMBER: _ClassVar[int]
    MAX_WINDOW_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_pixels: int
    max_planes: int
    max_concurrent_streams: int
    stream_deadline_s: float
    recommended_chunk_planes: int
    max_window: int
    idle_timeout_s: float
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_pixels: _Optional[int] = ..., max_planes: _Optional[int] = ..., max_concurrent_streams: _Optional[int] = ..., stream_deadline_s: _Optional[float] = ..., recommended_chunk_planes: _Optional[int] = ..., max_window: _Optional[int] = ..., idle_timeout_s: _Optional[float] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("version", "models", "recon_methods", "defaults", "limits", "auth_required", "tls", "stored_streams")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    RECON_METHODS_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    AUTH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    STORED_STREAMS_FIELD_NUMBER: _ClassVar[int]
    version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    recon_methods: _containers.RepeatedScalarFieldContainer[str]
    defaults: _spikes_pb2.CodecOptions
    limits: Limits
    auth_required: bool
    tls: bool
    stored_streams: int
    def __init__(self, version: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., recon_methods: _Optional[_Iterable[str]] = ..., defaults: _Optional[_Union[_spikes_pb2.CodecOptions, _Mapping]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., auth_required: _Optional[bool] = ..., tls: _Optional[bool] = ..., stored_streams: _Optional[int] = ...) -> None: ...
