"""Runs one sans-IO ``Connection`` over a TCP socket, with the timeouts of SPEC §11.

Every wait is bounded: the handshake by its timeout (BT-TIME-1, measured from the moment the
connection was created), an established connection by an idle limit, the final drain by a
short linger. The socket is always closed.
"""

import hashlib
import socket
import time
from dataclasses import dataclass
from typing import Callable, Tuple

from .connection import CLOSED, HANDSHAKING, Connection, Event
from .frame import MAX_PLAINTEXT

CONNECT_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0
"""Seconds an established connection may stay silent before the adapter gives up."""
LINGER = 1.0
"""At most this many seconds draining the peer's bytes after our last frame, so that closing
with unread bytes does not reset the stream (and destroy our last alert in flight)."""
LINGER_QUIET = 0.1
"""The drain stops early once the peer has been quiet this long."""
READ_SIZE = 65536


@dataclass(frozen=True)
class AppBehaviour:
    """What the application does once the handshake is complete (adapter flags)."""

    send: bytes = b""
    echo: bool = False
    close: bool = False
    send_bytes: int = 0
    """``--send-bytes``: bulk bytes to send after ``send`` (reported by a ``data_sent`` event)."""
    sink: bool = False
    """``--sink``: count received data (one ``data_received`` event) instead of reporting it."""


BULK_BYTE = b"\x5a"


class Tally:
    """A count and SHA-256 of application bytes (contract revision 1.1)."""

    def __init__(self) -> None:
        self.bytes = 0
        self._hash = hashlib.sha256()

    def add(self, data: bytes) -> None:
        self.bytes += len(data)
        self._hash.update(data)

    def event(self, name: str) -> Event:
        return {"event": name, "bytes": self.bytes, "sha256": self._hash.hexdigest()}


def run_connection(
    connection: Connection,
    address: Tuple[str, int],
    handshake_timeout: float,
    app: AppBehaviour,
    emit: Callable[[Event], None],
) -> bool:
    """Connect, run the connection to its end and report events; True if it closed cleanly."""
    try:
        sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        emit({"event": "error", "message": f"cannot connect to {address[0]}:{address[1]}: {exc}"})
        return False
    created = time.monotonic()
    received = Tally()

    def report(event: Event) -> None:
        if not (app.sink and event.get("event") == "application_data"):
            emit(event)

    try:
        _drive(sock, connection, created + handshake_timeout, app, report, received)
    finally:
        _linger_and_close(sock)
    if app.sink:
        emit(received.event("data_received"))
    return connection.status == CLOSED


def _drive(
    sock: socket.socket,
    conn: Connection,
    deadline: float,
    app: AppBehaviour,
    emit: Callable[[Event], None],
    received: Tally,
) -> None:
    def after_handshake() -> None:
        # BT-REC-8: send_application returns False once the record limit has stopped the data
        # (close_notify sent as the last frame, the connection failed); nothing more is sent.
        if app.send and not conn.send_application(app.send):
            return
        if app.send_bytes:
            sent = Tally()
            left = app.send_bytes
            while left > 0:
                chunk = BULK_BYTE * min(left, MAX_PLAINTEXT)
                if not conn.send_application(chunk):
                    return
                sent.add(chunk)
                left -= len(chunk)
            emit(sent.event("data_sent"))
        if app.close:
            conn.close()

    def on_data(data: bytes) -> None:
        if app.sink:
            received.add(data)
        if app.echo and conn.can_send:
            conn.send_application(data)

    conn.on_established = after_handshake
    conn.on_data = on_data
    conn.start()
    _flush(sock, conn, emit)
    while not conn.finished:
        if conn.status == HANDSHAKING:
            wait = deadline - time.monotonic()
            if wait <= 0:
                conn.handshake_timed_out()
                _flush(sock, conn, emit)
                break
        else:
            wait = IDLE_TIMEOUT
        sock.settimeout(wait)
        try:
            data = sock.recv(READ_SIZE)
        except socket.timeout:
            if conn.status != HANDSHAKING:
                emit({"event": "error", "message": "the peer stayed silent; giving up"})
                break
            continue
        except OSError:
            data = b""
        if data:
            conn.receive(data)
        else:
            conn.receive_eof()
        _flush(sock, conn, emit)


def _flush(sock: socket.socket, conn: Connection, emit: Callable[[Event], None]) -> None:
    """Write the connection's output, then report its events."""
    output = conn.take_output()
    try:
        if output:
            sock.sendall(output)
    except OSError:
        conn.receive_eof()  # the peer is gone
    for event in conn.take_events():
        emit(event)


def _linger_and_close(sock: socket.socket) -> None:
    """Half-close, drain what the peer still sends until it ends or goes quiet, then close."""
    try:
        sock.shutdown(socket.SHUT_WR)
        end = time.monotonic() + LINGER
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(min(left, LINGER_QUIET))
            if not sock.recv(READ_SIZE):
                break
    except OSError:  # includes the quiet timeout
        pass
    finally:
        sock.close()
