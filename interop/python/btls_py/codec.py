"""Big-endian integers and length-prefixed strings (SPEC §3 notation), decoded exactly (BT-FRAME-7).

``Reader`` is a cursor over one body: every read names the field it reads, so a short body is
reported as "reg_handle is truncated", and ``finish`` rejects bytes left over after the last field.
``Writer`` cannot fail; the caller guarantees the ranges (BT-FRAME-9), checked by ``opaque``.
"""

from typing import List


class DecodeError(Exception):
    """A body that does not decode exactly: answered with ``decode_error`` (BT-FRAME-7)."""


def prefix_size(maximum: int) -> int:
    """SPEC §3: a length prefix is one byte when the maximum is at most 255, else two."""
    return 1 if maximum <= 255 else 2


class Reader:
    """A cursor over a body that reads fields in order and rejects short or long bodies."""

    def __init__(self, data: bytes, what: str) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._what = what

    def remaining(self) -> int:
        """The number of bytes not yet read."""
        return len(self._data) - self._pos

    def fixed(self, size: int, field: str) -> bytes:
        """Exactly ``size`` bytes."""
        if self.remaining() < size:
            raise DecodeError(
                f"{field} is truncated: needs {size - self.remaining()} more byte(s), "
                f"{self.remaining()} remain"
            )
        out = self._data[self._pos : self._pos + size]
        self._pos += size
        return out

    def uint(self, size: int, field: str) -> int:
        """A big-endian unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.fixed(size, field), "big")

    def u8(self, field: str) -> int:
        """One byte."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """Two bytes, big-endian."""
        return self.uint(2, field)

    def u64(self, field: str) -> int:
        """Eight bytes, big-endian."""
        return self.uint(8, field)

    def opaque(self, minimum: int, maximum: int, field: str) -> bytes:
        """``opaque field<minimum..maximum>``: the prefix width follows ``maximum`` (SPEC §3)."""
        length = self.uint(prefix_size(maximum), f"{field} length")
        if not minimum <= length <= maximum:
            raise DecodeError(f"{field} has length {length}, outside {minimum}..={maximum}")
        return self.fixed(length, field)

    def finish(self) -> None:
        """BT-FRAME-7: no bytes may follow the last field."""
        if self.remaining():
            raise DecodeError(f"{self.remaining()} trailing byte(s) after {self._what}")


class Writer:
    """Appends big-endian fields to a growing body."""

    def __init__(self) -> None:
        self._parts: List[bytes] = []

    def raw(self, data: bytes) -> "Writer":
        """Bytes as they are (a fixed-size field)."""
        self._parts.append(bytes(data))
        return self

    def uint(self, value: int, size: int) -> "Writer":
        """A big-endian unsigned integer of ``size`` bytes."""
        self._parts.append(value.to_bytes(size, "big"))
        return self

    def u8(self, value: int) -> "Writer":
        """One byte."""
        return self.uint(value, 1)

    def u16(self, value: int) -> "Writer":
        """Two bytes."""
        return self.uint(value, 2)

    def u64(self, value: int) -> "Writer":
        """Eight bytes."""
        return self.uint(value, 8)

    def opaque(self, data: bytes, minimum: int, maximum: int) -> "Writer":
        """``opaque<minimum..maximum>``; a value out of range is a programming error."""
        if not minimum <= len(data) <= maximum:
            raise ValueError(f"opaque of length {len(data)} outside {minimum}..={maximum}")
        return self.uint(len(data), prefix_size(maximum)).raw(data)

    def bytes(self) -> bytes:
        """Everything written so far."""
        return b"".join(self._parts)
