"""The frame layer of SPEC §1: a 4-byte header and a body, reassembled from any transport reads."""

from dataclasses import dataclass
from typing import Optional

HEADER_LEN = 4
MAX_FRAME_BODY = 16400
"""BT-FRAME-2: 2^14 + 16."""
MAX_PLAINTEXT = 16384
"""BT-REC-3, BT-REC-7: the most application bytes one frame carries."""


class FrameTooLong(Exception):
    """BT-FRAME-2: a header announcing more than ``MAX_FRAME_BODY`` bytes (``record_overflow``)."""


@dataclass(frozen=True)
class Frame:
    """One frame: ``content_type``, ``subcode`` and the body (BT-FRAME-1)."""

    content_type: int
    subcode: int
    body: bytes

    def header(self) -> bytes:
        """The 4-byte header, with ``length`` the body's length."""
        return header_bytes(self.content_type, self.subcode, len(self.body))

    def encode(self) -> bytes:
        """Header and body, as on the wire."""
        return self.header() + self.body


def header_bytes(content_type: int, subcode: int, length: int) -> bytes:
    """A frame header; a sender never announces more than ``MAX_FRAME_BODY`` (BT-FRAME-9)."""
    if length > MAX_FRAME_BODY:
        raise ValueError(f"frame body of {length} bytes exceeds {MAX_FRAME_BODY}")
    return bytes([content_type, subcode]) + length.to_bytes(2, "big")


def parse_frame(data: bytes) -> Frame:
    """Exactly one encoded frame (vector files); ValueError if the bytes are not one frame."""
    if len(data) < HEADER_LEN or int.from_bytes(data[2:4], "big") != len(data) - HEADER_LEN:
        raise ValueError("not exactly one frame")
    return Frame(data[0], data[1], bytes(data[HEADER_LEN:]))


class FrameBuffer:
    """Reassembles frames from transport reads of any size (BT-FRAME-4)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Append the bytes of one transport read."""
        self._buffer += data

    def next_frame(self) -> Optional[Frame]:
        """The next complete frame, or None when more bytes are needed.

        Raises ``FrameTooLong`` as soon as an oversized header is read, without waiting for the
        body (BT-FRAME-2).
        """
        if len(self._buffer) < HEADER_LEN:
            return None
        length = int.from_bytes(self._buffer[2:4], "big")
        if length > MAX_FRAME_BODY:
            raise FrameTooLong(f"frame length {length} exceeds {MAX_FRAME_BODY}")
        if len(self._buffer) < HEADER_LEN + length:
            return None
        frame = Frame(
            self._buffer[0], self._buffer[1], bytes(self._buffer[HEADER_LEN : HEADER_LEN + length])
        )
        del self._buffer[: HEADER_LEN + length]
        return frame
