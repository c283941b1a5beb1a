"""The server's handshake state machine (SPEC §5.2, §8, table §12.2).

::

   ExpectClientHello ──CLIENT_HELLO──┬─ resumable: SERVER_HELLO + SERVER_READY ─▶ ExpectClientReady(resumed)
        ▲                            ├─ client key unknown: SEND_KEY ─▶ ExpectClientKey
        │                            ├─ key invalid: FAILED_VALIDATION + failed_handshake ─▶ Failed
        │                            └─ key valid: SERVER_HELLO ─▶ ExpectClientVerdict
        │   ExpectClientKey ──SENDING_KEY── valid: SUCCESSFUL_VALIDATION + SERVER_HELLO ─▶ ExpectClientVerdict
        │   ExpectClientVerdict ──SEND_KEY── may send: SENDING_KEY ─▶ ExpectClientVerdictAfterKey
        └────────────────────────────────── may not: CANNOT_SEND_KEY ─▶ ExpectClientHello(retry)
            ExpectClientVerdict(AfterKey) ──SUCCESSFUL_VALIDATION── SESSION_DETAILS ─▶ ExpectClientReady
            ExpectClientReady ──CLIENT_READY── SERVER_READY ─▶ Established
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
from .primitives import EphemeralKey, InvalidShare, is_valid_share, verify_signature
from .registry import VERSION, AlertDescription, CipherSuite, KeyAlgorithm, lookup
from .signing import client_ready_signed_data, session_details_signed_data
from .validation import Accepted, Named, Rejected

ILLEGAL = AlertDescription.ILLEGAL_PARAMETER
FAILED = AlertDescription.FAILED_HANDSHAKE
DECRYPT = AlertDescription.DECRYPT_ERROR


class ServerConnection(Connection):
    """One server connection: it waits for the client's hello."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.state = "ExpectClientHello"
        self._retry = False
        self._named_algorithms: Set[int] = set()
        self._own: Optional[OwnKey] = None
        self._suite = CipherSuite.AES_256_GCM
        self._ephemeral: Optional[EphemeralKey] = None
        self._shared = b""
        self._client_share = b""
        self._client_named: Optional[Named] = None
        self._client_key: Optional[PublishedKey] = None
        self._learned_cacheable = False
        self._session: Optional[Session] = None  # set when resuming
        self._session_id = b""
        self._schedule: Optional[KeySchedule] = None
        self._handlers: Dict[Tuple[str, type], Callable[[Message, bytes], None]] = {
            ("ExpectClientHello", ClientHello): self._on_client_hello,
            ("ExpectClientKey", PublishedKey): self._on_client_key,
            ("ExpectClientVerdict", SendKey): self._on_send_key,
            ("ExpectClientVerdict", SuccessfulValidation): self._on_key_accepted,
            ("ExpectClientVerdict", FailedValidation): self._on_failed_validation,
            ("ExpectClientVerdictAfterKey", SuccessfulValidation): self._on_key_accepted,
            ("ExpectClientVerdictAfterKey", FailedValidation): self._on_failed_validation,
            ("ExpectClientReady", ClientReady): self._on_client_ready,
        }

    def _handle_handshake(self, message: Message, hash_before: bytes) -> None:
        handler = self._handlers.get((self.state, type(message)))
        if handler is None:
            raise unexpected(message.CODE.name, self.state)
        handler(message, hash_before)

    def _own_key(self, algorithm: int) -> Optional[OwnKey]:
        return next((k for k in self.config.keys if k.algorithm == algorithm), None)

    # ------------------------------------------------------------ CLIENT_HELLO

    def _on_client_hello(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-28: version, duplicates, retry rules, algorithm, suites, key share; then BT-HS-6."""
        assert isinstance(message, ClientHello)
        hello = message
        if hello.version != VERSION:
            raise ProtocolError(
                AlertDescription.PROTOCOL_VERSION, "BT-HS-3", f"version 0x{hello.version:04x}"
            )
        if len(set(hello.cipher_suites)) != len(hello.cipher_suites):
            raise ProtocolError(ILLEGAL, "BT-MSG-3", "a cipher suite is offered twice")
        if self._retry and hello.key_algorithm in self._named_algorithms:
            raise ProtocolError(ILLEGAL, "BT-HS-16", "the retry names an algorithm already tried")
        if self._retry and hello.session_id:
            raise ProtocolError(ILLEGAL, "BT-HS-16", "the retry offers a session")
        self._named_algorithms.add(hello.key_algorithm)
        own = self._own_key(hello.key_algorithm) if lookup(KeyAlgorithm, hello.key_algorithm) else None
        if own is None:
            raise ProtocolError(FAILED, "BT-HS-4", f"no key of algorithm 0x{hello.key_algorithm:04x}")
        suite = next((s for s in self.config.cipher_suites if s in hello.cipher_suites), None)
        if suite is None:
            raise ProtocolError(FAILED, "BT-HS-5", "no common cipher suite")
        if not is_valid_share(own.algorithm, hello.key_share):
            raise ProtocolError(ILLEGAL, "BT-MSG-4", "the key share is not a valid public key")
        self._ephemeral = EphemeralKey(own.algorithm, self.config.rng)
        self._client_share = hello.key_share
        self._own, self._suite = own, suite
        self._client_named = Named(hello.reg_handle, hello.key_handle, hello.key_algorithm)
        session = self._resumable(hello)
        if session is not None:
            self._resume(session)
            return
        resolution = self.config.peer_keys.resolve(self._client_named, self.config.clock())
        if isinstance(resolution, Rejected):
            self._reject_key(resolution.reason)  # BT-HS-6, BT-HS-10, BT-KEY-14
        elif isinstance(resolution, Accepted):
            self._use_client_key(resolution.key, resolution.cacheable, sent_by_client=False)
        else:
            self._send_handshake(SendKey())
            self.state = "ExpectClientKey"

    def _resumable(self, hello: ClientHello) -> Optional[Session]:
        """BT-RES-3: a held, live session naming the same client key, algorithm and an offered suite."""
        if not hello.session_id or not self.config.resumption:
            return None
        session = self.config.sessions.by_id(hello.session_id, self.config.clock())
        if (
            session is None
            or session.client_key.handles != (hello.reg_handle, hello.key_handle)
            or session.key_algorithm != hello.key_algorithm
            or session.cipher_suite not in hello.cipher_suites
        ):
            return None
        holds_key = any(k.published.handles == session.server_key.handles for k in self.config.keys)
        return session if holds_key else None

    def _resume(self, session: Session) -> None:
        """§8: SERVER_HELLO echoing the session, then SERVER_READY at once."""
        assert self._ephemeral is not None
        own = next(k for k in self.config.keys if k.published.handles == session.server_key.handles)
        self._own, self._session = own, session
        self._suite = CipherSuite(session.cipher_suite)
        self._session_id = session.session_id
        self._client_key = session.client_key
        self._send_server_hello(session.session_id)
        schedule = KeySchedule.derive(self._shared, session.resumption_secret, self.transcript.current())
        self._schedule = schedule
        self._send_handshake(ServerReady(hmac_sha256(schedule.s_ready_key, self.transcript.current())))
        self._enable_write(self._suite, schedule.server)
        self.state = "ExpectClientReady"

    def _send_server_hello(self, session_id: bytes) -> None:
        """BT-HS-8: our key of the client's algorithm and the fresh share."""
        assert self._own is not None and self._ephemeral is not None
        # BT-KS-1: the shared secret is computed here, once the client key is accepted (or the
        # session chosen); an all-zero result is an illegal_parameter and no SERVER_HELLO is sent.
        try:
            self._shared = self._ephemeral.agree(self._client_share)
        except InvalidShare as exc:
            raise ProtocolError(ILLEGAL, "BT-KS-1", str(exc)) from exc
        self._send_handshake(ServerHello(
            VERSION,
            self.config.rng.bytes(32),
            session_id,
            self._own.algorithm,
            self._own.published.reg_handle,
            self._own.published.key_handle,
            self._ephemeral.share(),
        ))

    def _use_client_key(self, key: PublishedKey, cacheable: bool, sent_by_client: bool) -> None:
        """BT-HS-6, BT-HS-7: a validated client key; answer with SERVER_HELLO.

        Only a key the client sent is acknowledged with SUCCESSFUL_VALIDATION (BT-HS-7); a key
        found locally is not (BT-HS-6).
        """
        self._client_key = key
        self._learned_cacheable = cacheable
        if sent_by_client:
            self._send_handshake(SuccessfulValidation())
        self._send_server_hello(b"")
        self.state = "ExpectClientVerdict"

    def _on_client_key(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-7 with BT-KEY-4: validate the key the client sent, or reject it."""
        assert isinstance(message, PublishedKey) and self._client_named is not None
        reason = self.config.peer_keys.validate(message, self._client_named, self.config.clock())
        if reason is not None:
            self._reject_key(reason)
        self._use_client_key(message, cacheable=True, sent_by_client=True)

    # ------------------------------------------------------------ the client's verdict

    def _on_send_key(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-9: SENDING_KEY, or CANNOT_SEND_KEY and wait for a retried hello."""
        assert self._own is not None
        if self.config.send_key:
            self._send_handshake(self._own.published)
            self.state = "ExpectClientVerdictAfterKey"
        else:
            self._send_handshake(CannotSendKey())
            self._retry = True
            self.state = "ExpectClientHello"

    def _on_failed_validation(self, message: Message, hash_before: bytes) -> None:
        assert isinstance(message, FailedValidation)
        self._peer_rejected_our_key(message)

    def _on_key_accepted(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-12, BT-HS-13, BT-HS-20: SESSION_DETAILS, signed over the transcript."""
        assert self._own is not None
        self._session_id = self.config.rng.bytes(32)
        signed = session_details_signed_data(self.transcript.current(), self._session_id, self._suite)
        self._send_handshake(SessionDetails(self._session_id, self._suite, self._own.signer.sign(signed)))
        self._schedule = KeySchedule.derive(self._shared, ZERO_PSK, self.transcript.current())
        self.state = "ExpectClientReady"

    # ------------------------------------------------------------ CLIENT_READY

    def _on_client_ready(self, message: Message, hash_before: bytes) -> None:
        """BT-HS-21 or BT-RES-6, then BT-HS-22; a full handshake answers with SERVER_READY."""
        assert isinstance(message, ClientReady) and self._schedule is not None
        assert self._client_key is not None
        ready, schedule, key = message, self._schedule, self._client_key
        if self._session is not None:
            if ready.signature:
                raise ProtocolError(ILLEGAL, "BT-RES-6", "a signature in a resumed CLIENT_READY")
        elif not ready.signature or not verify_signature(
            key.key_algorithm, key.public_key, client_ready_signed_data(hash_before), ready.signature
        ):
            raise ProtocolError(DECRYPT, "BT-HS-21", "the CLIENT_READY signature does not verify")
        if not verify_mac(schedule.c_ready_key, hash_before, ready.verify_data):
            raise ProtocolError(DECRYPT, "BT-HS-22", "the CLIENT_READY MAC does not verify")
        self._enable_read(self._suite, schedule.client)
        if self._session is None:
            self._send_handshake(ServerReady(hmac_sha256(schedule.s_ready_key, self.transcript.current())))
            self._enable_write(self._suite, schedule.server)
            self._remember_session(schedule)
        self._complete(HandshakeInfo(
            self._session_id, key.key_algorithm, self._suite, self._session is not None,
            key.reg_handle, key.key_handle, self.transcript.current(), key.public_key,
        ))

    def _remember_session(self, schedule: KeySchedule) -> None:
        """BT-RES-1, BT-CACHE-1 and BT-KEY-13, once CLIENT_READY is verified and SERVER_READY sent."""
        assert self._own is not None and self._client_key is not None
        self.config.peer_keys.learn(self._client_key, self._learned_cacheable, self.config.clock())
        if self.config.resumption:
            self.config.sessions.store(Session(
                self._session_id,
                schedule.resumption_secret(self.transcript.current()),
                self._own.algorithm,
                self._suite,
                self._client_key,
                self._own.published,
                self.config.clock(),
            ))
