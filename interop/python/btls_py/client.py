"""The client's handshake state machine (SPEC §5.3, §8, table §12.1).

::

                     send CLIENT_HELLO
       Start ───────────────────────────▶ ExpectServerHello ◀──────────── (retry, BT-HS-16)
              SEND_KEY / send SENDING_KEY ──▶ ExpectClientKeyVerdict ──SUCCESSFUL_VALIDATION──┘
              SERVER_HELLO: resumed ──────────────────────────────▶ ExpectServerReady
                            key known and valid: SUCCESSFUL_VALIDATION ▶ ExpectSessionDetails
                            key unknown: SEND_KEY ──▶ ExpectServerKey
                                SENDING_KEY: SUCCESSFUL_VALIDATION ──▶ ExpectSessionDetails
                                CANNOT_SEND_KEY: retry ──▶ ExpectServerHello, or failed_handshake
       ExpectSessionDetails ──SESSION_DETAILS / send CLIENT_READY──▶ ExpectServerReady
       ExpectServerReady ──SERVER_READY (resumed: send CLIENT_READY)──▶ Established
"""

from typing import Callable, Dict, Optional, Set, Tuple

from .caches import Session
from .connection import Config, Connection, HandshakeInfo
from .errors import ProtocolError, unexpected
from .keyfiles import OwnKey
from .keyschedule import ZERO_PSK, KeySchedule, hmac_sha256, verify_mac
from .messages import (
    CannotSendKey,
    ClientHello,
    ClientReady,
    FailedValidation,
    Message,
    PublishedKey,
    SendKey,
    ServerHello,
    ServerReady,
    SessionDetails,
    SuccessfulValidation,
)
from .primitives import EphemeralKey, InvalidShare, verify_signature
from .registry import VERSION, AlertDescription, CipherSuite, ValidationReason
from .signing import client_ready_signed_data, session_details_signed_data
from .validation import Accepted, Named, Rejected

ILLEGAL = AlertDescription.ILLEGAL_PARAMETER


class ClientConnection(Connection):
    """One client connection. ``start`` sends the first CLIENT_HELLO.

    BT-KEY-16: the configuration must name the expected server registration
    (``expect_server``) or say explicitly that any server is accepted (``accept_any_server``);
    with neither the client refuses to start (``ValueError``).
    """

    def __init__(self, config: Config) -> None:
        if config.expect_server is None and not config.accept_any_server:
            raise ValueError(
                "BT-KEY-16: a client needs an expected server registration, or accept_any_server"
            )
        super().__init__(config)
        self._own: OwnKey = config.keys[0]
        self._offered: Optional[Session] = None
        self._ephemeral: Optional[EphemeralKey] = None
        self._tried_algorithms: Set[int] = set()
        self._sent_key_for_hello = False
        self._shared = b""
        self._server_named: Optional[Named] = None
        self._server_key: Optional[PublishedKey] = None
        self._learned_cacheable = False
        self._schedule: Optional[KeySchedule] = None
        self._session_id = b""
        self._suite = CipherSuite.AES_256_GCM
        self._resumed = False
        self._handlers: Dict[Tuple[str, type], Callable[[Message, bytes], None]] = {
            ("ExpectServerHello", SendKey): self._on_send_key,
            ("ExpectServerHello", FailedValidation): self._on_failed_validation,
            ("ExpectServerHello", ServerHello): self._on_server_hello,
            ("ExpectClientKeyVerdict", SuccessfulValidation): self._on_key_accepted,
            ("ExpectClientKeyVerdict", FailedValidation): self._on_failed_validation,
            ("ExpectServerKey", PublishedKey): self._on_server_key,
            ("ExpectServerKey", CannotSendKey): self._on_cannot_send_key,
            ("ExpectSessionDetails", SessionDetails): self._on_session_details,
            ("ExpectServerReady", ServerReady): self._on_server_ready,
        }

    def start(self) -> None:
        """BT-HS-15, BT-RES-2: the first hello names the first key, or the session's key."""
        session = self._session_to_offer()
        key = self.config.keys[0]
        if session is not None:
            key = next(k for k in self.config.keys if k.published.handles == session.client_key.handles)
        self._send_client_hello(key, session)

    def _session_to_offer(self) -> Optional[Session]:
        """BT-RES-2: a session is offered only to the expected server, naming the same client key."""
        if not self.config.resumption or self.config.expect_server is None:
            return None
        session = self.config.sessions.for_server(self.config.expect_server, self.config.clock())
        if session is None:
            return None
        own = [k.published for k in self.config.keys]
        return session if session.client_key in own else None

    def _send_client_hello(self, key: OwnKey, session: Optional[Session]) -> None:
        """BT-MSG-5, BT-HS-17: a fresh random and share on every hello."""
        self._own, self._offered = key, session
        self._tried_algorithms.add(key.algorithm)
        self._sent_key_for_hello = False
        random = self.config.rng.bytes(32)
        self._ephemeral = EphemeralKey(key.algorithm, self.config.rng)
        self._send_handshake(ClientHello(
            VERSION,
            random,
            session.session_id if session is not None else b"",
            key.algorithm,
            key.published.reg_handle,
            key.published.key_handle,
            self._ephemeral.share(),
            [int(s) for s in self.config.cipher_suites],
        ))
        self.state = "ExpectServerHello"

    def _handle_handshake(self, message: Message, hash_before: bytes) -> None:
        handler = self._handlers.get((self.state, type(message)))
        if handler is None:
            raise unexpected(message.CODE.name, self.state)
        handler(message, hash_before)

    # ------------------------------------------------------------ before SERVER_HELLO

    def _on_send_key(self, message: Message, hash_before: bytes) -> None:
        """The server does not know our key: send it, once per hello (BT-TIME-4)."""
        if self._sent_key_for_hello:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "BT-TIME-4", "a second SEND_KEY for one hello"
            )
        self._sent_key_for_hello = True
        self._send_handshake(self._own.published)
        self.state = "ExpectClientKeyVerdict"

    def _on_key_accepted(self, message: Message, hash_before: bytes) -> None:
        self.state = "ExpectServerHello"

    def _on_failed_validation(self, message: Message, hash_before: bytes) -> None:
        assert isinstance(message, FailedValidation)
        self._peer_rejected_our_key(message)

    def _on_server_hello(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-29: version, algorithm, session ID, key share, resumed key, identity."""
        assert isinstance(message, ServerHello) and self._ephemeral is not None
        hello = message
        if hello.version != VERSION:
            raise ProtocolError(
                AlertDescription.PROTOCOL_VERSION, "BT-HS-29", f"version 0x{hello.version:04x}"
            )
        if hello.key_algorithm != self._own.algorithm:
            raise ProtocolError(ILLEGAL, "BT-MSG-6", "SERVER_HELLO names another key algorithm")
        offered = self._offered
        if hello.session_id and (offered is None or hello.session_id != offered.session_id):
            raise ProtocolError(ILLEGAL, "BT-MSG-7", "SERVER_HELLO echoes a session not offered")
        try:
            self._shared = self._ephemeral.agree(hello.key_share)
        except InvalidShare as exc:
            raise ProtocolError(ILLEGAL, "BT-MSG-4", str(exc)) from exc
        self._server_named = Named(hello.reg_handle, hello.key_handle, hello.key_algorithm)
        if offered is not None and hello.session_id:
            if (hello.reg_handle, hello.key_handle) != offered.server_key.handles:
                raise ProtocolError(ILLEGAL, "BT-RES-5", "the resumed SERVER_HELLO names another key")
            self._resume(offered)
            return
        # BT-RES-5 (bTLS 1.1): a declined offer does not discard the stored session; nothing here
        # is authenticated yet. Only a completed full handshake replaces it (_remember_session).
        self._offered = None
        expected = self.config.expect_server
        if expected is not None and hello.reg_handle != expected:
            self._reject_key(ValidationReason.UNEXPECTED_IDENTITY)  # BT-KEY-11
        resolution = self.config.peer_keys.resolve(self._server_named, self.config.clock())
        if isinstance(resolution, Rejected):
            self._reject_key(resolution.reason)  # BT-HS-10, BT-KEY-14
        elif isinstance(resolution, Accepted):
            self._use_server_key(resolution.key, resolution.cacheable)
        else:
            self._send_handshake(SendKey())
            self.state = "ExpectServerKey"

    def _resume(self, session: Session) -> None:
        """BT-RES-4: master from the resumption secret and the fresh agreement; H_k ends at SERVER_HELLO."""
        self._resumed = True
        self._server_key = session.server_key
        self._session_id = session.session_id
        self._suite = CipherSuite(session.cipher_suite)
        self._schedule = KeySchedule.derive(
            self._shared, session.resumption_secret, self.transcript.current()
        )
        self.state = "ExpectServerReady"

    def _use_server_key(self, key: PublishedKey, cacheable: bool) -> None:
        """BT-HS-15: a validated key; SUCCESSFUL_VALIDATION is the server's cue."""
        self._server_key = key
        self._learned_cacheable = cacheable
        self._send_handshake(SuccessfulValidation())
        self.state = "ExpectSessionDetails"

    def _on_server_key(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-15 with BT-KEY-4: validate the key the server sent, or reject it."""
        assert isinstance(message, PublishedKey) and self._server_named is not None
        reason = self.config.peer_keys.validate(message, self._server_named, self.config.clock())
        if reason is not None:
            self._reject_key(reason)
        self._use_server_key(message, cacheable=True)

    def _on_cannot_send_key(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-16: retry with a key of an algorithm not yet named, or give up."""
        for key in self.config.keys:
            if key.algorithm not in self._tried_algorithms:
                self._send_client_hello(key, None)
                return
        raise ProtocolError(
            AlertDescription.FAILED_HANDSHAKE, "BT-HS-16", "CANNOT_SEND_KEY and no untried algorithm"
        )

    # ------------------------------------------------------------ after the keys

    def _on_session_details(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-18: the suite (BT-MSG-9), the signature (BT-HS-20), then CLIENT_READY."""
        assert isinstance(message, SessionDetails) and self._server_key is not None
        details = message
        if details.cipher_suite not in self.config.cipher_suites:
            raise ProtocolError(ILLEGAL, "BT-MSG-9", "SESSION_DETAILS chose a suite not offered")
        signed = session_details_signed_data(hash_before, details.session_id, details.cipher_suite)
        key = self._server_key
        if not verify_signature(key.key_algorithm, key.public_key, signed, details.signature):
            raise ProtocolError(
                AlertDescription.DECRYPT_ERROR, "BT-HS-20", "the SESSION_DETAILS signature does not verify"
            )
        self._session_id = details.session_id
        self._suite = CipherSuite(details.cipher_suite)
        h_k = self.transcript.current()
        self._schedule = KeySchedule.derive(self._shared, ZERO_PSK, h_k)
        self._send_handshake(ClientReady(
            self._own.signer.sign(client_ready_signed_data(h_k)),
            hmac_sha256(self._schedule.c_ready_key, h_k),
        ))
        self._enable_write(self._suite, self._schedule.client)
        self.state = "ExpectServerReady"

    def _on_server_ready(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-19, BT-HS-23; in a resumed handshake the client's READY follows (§8)."""
        assert isinstance(message, ServerReady) and self._schedule is not None
        schedule = self._schedule
        if not verify_mac(schedule.s_ready_key, hash_before, message.verify_data):
            raise ProtocolError(
                AlertDescription.DECRYPT_ERROR, "BT-HS-23", "the SERVER_READY MAC does not verify"
            )
        self._enable_read(self._suite, schedule.server)
        if self._resumed:
            before_ready = self.transcript.current()
            self._send_handshake(ClientReady(b"", hmac_sha256(schedule.c_ready_key, before_ready)))
            self._enable_write(self._suite, schedule.client)
        else:
            self._remember_session(schedule)
        assert self._server_key is not None
        self._complete(HandshakeInfo(
            self._session_id, self._own.algorithm, self._suite, self._resumed,
            self._server_key.reg_handle, self._server_key.key_handle, self.transcript.current(),
            self._server_key.public_key,
        ))

    def _remember_session(self, schedule: KeySchedule) -> None:
        """BT-RES-1, BT-CACHE-1 and BT-KEY-13, once both READY messages are verified.

        The new session replaces the one stored for this server registration (BT-RES-5).
        """
        assert self._server_key is not None
        self.config.peer_keys.learn(self._server_key, self._learned_cacheable, self.config.clock())
        if self.config.resumption:
            self.config.sessions.store(Session(
                self._session_id,
                schedule.resumption_secret(self.transcript.current()),
                self._own.algorithm,
                self._suite,
                self._own.published,
                self._server_key,
                self.config.clock(),
            ))
