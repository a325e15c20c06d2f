"""Unsigned LEB128 varints: 7 bits a byte, low bits first, high bit set on all but the last."""

from __future__ import annotations

from codec.errors import BitstreamError

#: longest varint a reader accepts (enough for 63-bit values)
MAX_VARINT_BYTES = 9


def uvarint(value: int) -> bytes:
    """``value >= 0`` as an unsigned LEB128 varint."""
    if value < 0 or value >= 1 << (7 * MAX_VARINT_BYTES):
        raise BitstreamError(f"varint value {value} out of range")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def read_uvarint(data: bytes | memoryview, at: int = 0) -> tuple[int, int] | None:
    """``(value, offset after it)`` of the varint at ``data[at:]``, or ``None`` if ``data`` ends inside it.

    Raises:
        BitstreamError: a varint longer than :data:`MAX_VARINT_BYTES` or with a redundant
            zero last byte (every value has one encoding).
    """
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if at + i >= len(data):
            return None
        byte = data[at + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i:
                raise BitstreamError("varint with a redundant zero byte")
            return value, at + i + 1
    raise BitstreamError(f"varint longer than {MAX_VARINT_BYTES} bytes")
