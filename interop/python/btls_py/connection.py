"""The sans-IO connection core shared by client and server: frames in, frames and events out.

The driver feeds transport bytes with ``receive``, reports the end of stream with
``receive_eof`` and the handshake deadline with ``handshake_timed_out``, and writes what
``take_output`` returns. Nothing here touches a socket or a clock; time and randomness come from
the ``Config``.

Each received frame is checked in the order of BT-FRAME-10, then handed to the role's state
machine (``_handle_handshake``). The connection's status moves::

    handshaking ──complete──▶ established ──close_notify exchanged──▶ closed
         │                         │
         └────── any error ────────┴──────────────────────────────▶ failed
"""

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .caches import SessionStore
from .codec import DecodeError
from .errors import ProtocolError
from .frame import MAX_PLAINTEXT, Frame, FrameBuffer, FrameTooLong
from .keyfiles import OwnKey
from .keyschedule import DirectionKeys, Transcript
from .messages import FailedValidation, Message, decode_message
from .primitives import RandomSource
from .record import RECORD_LIMIT, BadRecordMac, RecordProtection, SequenceExhausted
from .registry import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    HandshakeCode,
    KeyAlgorithm,
    ValidationReason,
    display,
    hex_name,
    lookup,
)
from .validation import PeerKeys

Event = Dict[str, Any]

HANDSHAKING, ESTABLISHED, CLOSED, FAILED = "handshaking", "established", "closed", "failed"


@dataclass
class Config:
    """One party's configuration, shared by all its connections (adapter flags)."""

    keys: List[OwnKey]
    peer_keys: PeerKeys
    sessions: SessionStore
    rng: RandomSource
    cipher_suites: List[CipherSuite] = field(default_factory=lambda: list(CipherSuite))
    send_key: bool = True
    resumption: bool = True
    expect_server: Optional[bytes] = None
    """Client: the server registration to expect (BT-KEY-11)."""
    accept_any_server: bool = False
    """Client: the explicit choice to accept any server registration. BT-KEY-16 makes the
    identity check the default: a client with neither this nor ``expect_server`` refuses to start."""
    record_limit: int = RECORD_LIMIT
    """BT-REC-8: frames each direction's key may protect (at most 2^24; lower for tests)."""
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class HandshakeInfo:
    """BT-HS-27: what a completed handshake yields, identically on both sides."""

    session_id: bytes
    key_algorithm: int
    cipher_suite: int
    resumed: bool
    peer_reg_handle: bytes
    peer_key_handle: bytes
    transcript_hash: bytes
    peer_public_key: bytes = b""
    """BT-KEY-16: the peer's identity is its registration handle, key handle, algorithm and key."""

    def event(self) -> Event:
        """The adapter's ``handshake_complete`` event."""
        return {
            "event": "handshake_complete",
            "session_id": self.session_id.hex(),
            "key_algorithm": display(KeyAlgorithm, self.key_algorithm),
            "cipher_suite": display(CipherSuite, self.cipher_suite),
            "resumed": self.resumed,
            "peer_reg_handle": self.peer_reg_handle.decode("utf-8", "replace"),
            "peer_key_handle": self.peer_key_handle.decode("utf-8", "replace"),
            "peer_public_key": self.peer_public_key.hex(),
        }


class Connection:
    """The frame layer, record layer, alerts and closure of one connection (one role)."""

    state: str = "Start"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.status = HANDSHAKING
        self.info: Optional[HandshakeInfo] = None
        self.transcript = Transcript()
        self.on_established: Optional[Callable[[], None]] = None
        self.on_data: Optional[Callable[[bytes], None]] = None
        self._frames = FrameBuffer()
        self._output = bytearray()
        self._events: List[Event] = []
        self._writer: Optional[RecordProtection] = None  # set once we have sent our READY
        self._reader: Optional[RecordProtection] = None  # set once the peer has sent its READY
        self._silenced = False  # the peer rejected our key: send nothing more (BT-HS-11)
        self._close_sent = False

    # ----------------------------------------------------------------- driver interface

    def start(self) -> None:
        """Begin the handshake (the client sends its hello; the server waits)."""

    def receive(self, data: bytes) -> None:
        """Process the bytes of one transport read (any split, BT-FRAME-4)."""
        self._frames.feed(data)
        while self.status in (HANDSHAKING, ESTABLISHED):
            try:
                frame = self._frames.next_frame()
                if frame is None:
                    return
                self._process(frame)
            except FrameTooLong as exc:
                self._fail(ProtocolError(AlertDescription.RECORD_OVERFLOW, "BT-FRAME-2", str(exc)))
            except ProtocolError as exc:
                self._fail(exc)

    def receive_eof(self) -> None:
        """The peer ended the stream (BT-CLOSE-3, BT-CLOSE-4): never a clean end by itself."""
        if self.status == HANDSHAKING:
            self._fail_silently("end of stream during the handshake", "BT-CLOSE-4")
        elif self.status == ESTABLISHED:
            self._fail_silently("end of stream without close_notify: truncation", "BT-CLOSE-3")

    def handshake_timed_out(self) -> None:
        """The handshake timeout has passed (BT-TIME-1)."""
        if self.status == HANDSHAKING:
            # BT-HS-11, BT-TIME-1: also after the peer's FAILED_VALIDATION, the timeout is the
            # one frame still sent.
            self._silenced = False
            self._fail(ProtocolError(
                AlertDescription.HANDSHAKE_TIMEOUT, "BT-TIME-1", "the handshake did not complete in time"
            ))

    def send_application(self, data: bytes) -> bool:
        """Send application data in frames of at most 16384 bytes (BT-REC-7).

        Returns False when the record limit stopped the data (BT-REC-8): the connection has then
        sent close_notify as its last frame and failed; what was not sent is discarded.
        """
        if not self.can_send:
            raise RuntimeError("application data can only be sent on an established connection")
        for start in range(0, len(data), MAX_PLAINTEXT):
            if not self.can_send:
                return False
            assert self._writer is not None
            if self._writer.at_last_frame:
                self._stop_at_record_limit()
                return False
            self._seal_and_send(ContentType.APPLICATION, 0, data[start : start + MAX_PLAINTEXT])
        return True

    def close(self) -> None:
        """Send close_notify (BT-CLOSE-1); the connection is closed when the peer's arrives."""
        if self.status == ESTABLISHED and not self._close_sent:
            self._send_alert(AlertDescription.CLOSE_NOTIFY)

    def take_output(self) -> bytes:
        """The bytes to write to the transport, in order."""
        out, self._output = bytes(self._output), bytearray()
        return out

    def take_events(self) -> List[Event]:
        """The events since the last call (adapter contract, without ``conn``)."""
        out, self._events = self._events, []
        return out

    @property
    def can_send(self) -> bool:
        """Whether application data may be sent now (established, no close_notify sent)."""
        return self.status == ESTABLISHED and not self._close_sent

    @property
    def finished(self) -> bool:
        """Whether the connection has ended, cleanly or not."""
        return self.status in (CLOSED, FAILED)

    # ----------------------------------------------------------------- for the roles

    def _handle_handshake(self, message: Message, hash_before: bytes) -> None:
        """The role's state machine; ``hash_before`` is the transcript before this frame."""
        raise NotImplementedError

    def _event(self, name: str, **fields: Any) -> None:
        self._events.append({"event": name, **fields})

    def _send_handshake(self, message: Message) -> None:
        """Send a HANDSHAKE frame (never protected, BT-REC-1) and add it to the transcript."""
        encoded = Frame(ContentType.HANDSHAKE, message.CODE, message.encode()).encode()
        self.transcript.add(encoded)
        self._output += encoded
        self._event("handshake_sent", code=message.CODE.name)

    def _enable_write(self, suite: CipherSuite, keys: DirectionKeys) -> None:
        """Protect every frame sent from now on (after our READY, BT-REC-1), up to BT-REC-8's limit."""
        self._writer = RecordProtection(suite, keys, limit=self.config.record_limit)

    def _enable_read(self, suite: CipherSuite, keys: DirectionKeys) -> None:
        """Open every ALERT and APPLICATION frame from now on (after the peer's READY); a frame
        beyond the record limit is not opened but answered with bad_record_mac (BT-REC-8)."""
        self._reader = RecordProtection(suite, keys, limit=self.config.record_limit)

    def _complete(self, info: HandshakeInfo) -> None:
        """The handshake is complete on this side."""
        self.info = info
        self.status = ESTABLISHED
        self.state = "Established"
        self._events.append(info.event())
        if self.on_established is not None:
            self.on_established()

    def _reject_key(self, reason: ValidationReason) -> None:
        """BT-HS-10: FAILED_VALIDATION with the reason, then ``failed_handshake``."""
        self._send_handshake(FailedValidation(reason))
        self._event("validation_failed", by="local", reason=reason.name)
        raise ProtocolError(
            AlertDescription.FAILED_HANDSHAKE, "BT-HS-10", f"peer key rejected: {reason.name}"
        )

    def _peer_rejected_our_key(self, message: FailedValidation) -> None:
        """BT-HS-11, BT-MSG-1: record any reason, send nothing more, await the alert and close."""
        self._event("validation_failed", by="peer", reason=display(ValidationReason, message.reason))
        self._silenced = True
        self.state = "Failed"

    # ----------------------------------------------------------------- receiving

    def _process(self, frame: Frame) -> None:
        """BT-FRAME-10 after the length: the content type, then the type's own checks."""
        if self._silenced and frame.content_type != ContentType.ALERT:
            return  # ignored until the connection closes (BT-HS-11)
        content_type = lookup(ContentType, frame.content_type)
        if content_type is None:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "BT-FRAME-3",
                f"unknown content type 0x{frame.content_type:02x}",
            )
        if content_type == ContentType.HANDSHAKE:
            self._process_handshake(frame)
        elif content_type == ContentType.ALERT:
            self._process_alert(frame)
        else:
            self._process_application(frame)

    def _process_handshake(self, frame: Frame) -> None:
        code = lookup(HandshakeCode, frame.subcode)
        if code is None:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "BT-FRAME-5",
                f"unknown handshake code 0x{frame.subcode:02x}",
            )
        if self._reader is not None:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "BT-HS-26", f"{code.name} after the peer's READY"
            )
        try:
            message = decode_message(code, frame.body)
        except DecodeError as exc:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "BT-FRAME-7", str(exc)) from exc
        hash_before = self.transcript.current()
        self.transcript.add(frame.encode())
        self._event("handshake_received", code=code.name)
        self._handle_handshake(message, hash_before)

    def _open(self, frame: Frame) -> bytes:
        """BT-REC-4: the plaintext of a frame of the protected peer direction."""
        assert self._reader is not None
        try:
            return self._reader.open(frame)
        except BadRecordMac as exc:
            raise ProtocolError(AlertDescription.BAD_RECORD_MAC, "BT-REC-4", str(exc)) from exc

    def _process_alert(self, frame: Frame) -> None:
        body = self._open(frame) if self._reader is not None else frame.body
        if len(body) != 1:
            raise ProtocolError(
                AlertDescription.DECODE_ERROR, "BT-ALERT-5", f"an alert body of {len(body)} bytes"
            )
        level, description = body[0], frame.subcode
        self._event(
            "alert_received", description=display(AlertDescription, description), level=level
        )
        # BT-ALERT-2: the description alone decides; the level byte is not examined.
        if description == AlertDescription.CLOSE_NOTIFY:
            if self.status == ESTABLISHED:
                if not self._close_sent:
                    self._send_alert(AlertDescription.CLOSE_NOTIFY)  # BT-CLOSE-2
                self.status = CLOSED
                self.state = "Closed"
                self._event("closed")
            else:
                self._fail_silently("close_notify during the handshake", "BT-CLOSE-5")
            return
        self._fail_silently(f"peer sent alert {hex_name(AlertDescription, description)}", "BT-ALERT-2")

    def _process_application(self, frame: Frame) -> None:
        if frame.subcode != 0:
            raise ProtocolError(
                AlertDescription.DECODE_ERROR, "BT-FRAME-6",
                f"APPLICATION subcode 0x{frame.subcode:02x}",
            )
        if self.status != ESTABLISHED:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "BT-HS-25",
                "APPLICATION before the handshake completed",
            )
        data = self._open(frame)
        self._event("application_data", hex=data.hex())
        if self.on_data is not None:
            self.on_data(data)

    # ----------------------------------------------------------------- sending and failing

    def _seal_and_send(self, content_type: int, subcode: int, body: bytes) -> None:
        if self._writer is None:
            frame = Frame(content_type, subcode, body)
        else:
            try:
                frame = self._writer.seal(content_type, subcode, body)
            except SequenceExhausted as exc:
                raise ProtocolError(AlertDescription.INTERNAL_ERROR, "BT-REC-5", str(exc)) from exc
        self._output += frame.encode()

    def _stop_at_record_limit(self) -> None:
        """BT-REC-8: one frame is left under our key, so it is close_notify; the data that did not
        fit is not sent, and the connection ends as failed (adapter contract: exit status 1)."""
        self._send_alert(AlertDescription.CLOSE_NOTIFY)
        self._fail_silently(
            f"the record limit of {self.config.record_limit} frames stops the application data", "BT-REC-8"
        )

    def _send_alert(self, description: AlertDescription) -> None:
        """An alert, protected after our READY; close_notify is a warning, the rest fatal (BT-ALERT-1)."""
        level = AlertLevel.WARNING if description == AlertDescription.CLOSE_NOTIFY else AlertLevel.FATAL
        self._seal_and_send(ContentType.ALERT, description, bytes([level]))
        if description == AlertDescription.CLOSE_NOTIFY:
            self._close_sent = True
        self._event("alert_sent", description=description.spec_name, level=int(level))

    def _fail(self, error: ProtocolError) -> None:
        """BT-ALERT-3: exactly one fatal alert, unless we may not send (BT-HS-11, BT-CLOSE-1)."""
        if self.finished:
            return
        if not self._silenced and not self._close_sent:
            try:
                self._send_alert(error.alert)
            except ProtocolError:
                pass  # no sequence number left: close without the alert
        self._fail_silently(error.message, error.requirement)

    def _fail_silently(self, message: str, requirement: str) -> None:
        """End the connection as failed without sending anything (BT-ALERT-4, BT-CLOSE-4)."""
        if self.finished:
            return
        self._event("error", message=message, requirement=requirement)
        self.status = FAILED
        self.state = "Failed"
