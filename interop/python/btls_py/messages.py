"""The handshake message bodies of SPEC §3, one dataclass each, with exact encode and decode.

Each class has ``CODE`` (its HANDSHAKE subcode), ``encode() -> bytes`` and
``decode(body) -> instance``; decoding raises ``DecodeError`` for every malformed body
(BT-FRAME-7, BT-FRAME-8, BT-MSG-2, BT-MSG-8). Semantic checks that answer with other alerts
(versions, algorithms, key shares) belong to the state machines.
"""

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Tuple, Type, Union

from .codec import DecodeError, Reader, Writer
from .registry import HandshakeCode

SESSION_ID_LEN = 32
RANDOM_LEN = 32
VERIFY_DATA_LEN = 32


@dataclass(frozen=True)
class ClientHello:
    """SPEC §3.1."""

    version: int
    random: bytes
    session_id: bytes
    key_algorithm: int
    reg_handle: bytes
    key_handle: bytes
    key_share: bytes
    cipher_suites: List[int]

    CODE: ClassVar[HandshakeCode] = HandshakeCode.CLIENT_HELLO

    def encode(self) -> bytes:
        suites = b"".join(s.to_bytes(2, "big") for s in self.cipher_suites)
        return (
            Writer()
            .u16(self.version)
            .raw(self.random)
            .opaque(self.session_id, 0, 32)
            .u16(self.key_algorithm)
            .opaque(self.reg_handle, 1, 255)
            .opaque(self.key_handle, 1, 255)
            .opaque(self.key_share, 1, 255)
            .opaque(suites, 2, 254)
            .bytes()
        )

    @classmethod
    def decode(cls, body: bytes) -> "ClientHello":
        r = Reader(body, "CLIENT_HELLO")
        version = r.u16("version")
        random = r.fixed(RANDOM_LEN, "random")
        session_id = r.opaque(0, 32, "session_id")
        if len(session_id) not in (0, SESSION_ID_LEN):
            raise DecodeError(f"session_id has length {len(session_id)}, not 0 or 32 (BT-MSG-2)")
        key_algorithm = r.u16("key_algorithm")
        reg_handle = r.opaque(1, 255, "reg_handle")
        key_handle = r.opaque(1, 255, "key_handle")
        key_share = r.opaque(1, 255, "key_share")
        suites = r.opaque(2, 254, "cipher_suites")
        if len(suites) % 2:
            raise DecodeError(f"cipher_suites has odd length {len(suites)} (BT-MSG-2)")
        r.finish()
        return cls(
            version,
            random,
            session_id,
            key_algorithm,
            reg_handle,
            key_handle,
            key_share,
            [int.from_bytes(suites[i : i + 2], "big") for i in range(0, len(suites), 2)],
        )


@dataclass(frozen=True)
class ServerHello:
    """SPEC §3.2."""

    version: int
    random: bytes
    session_id: bytes
    key_algorithm: int
    reg_handle: bytes
    key_handle: bytes
    key_share: bytes

    CODE: ClassVar[HandshakeCode] = HandshakeCode.SERVER_HELLO

    def encode(self) -> bytes:
        return (
            Writer()
            .u16(self.version)
            .raw(self.random)
            .opaque(self.session_id, 0, 32)
            .u16(self.key_algorithm)
            .opaque(self.reg_handle, 1, 255)
            .opaque(self.key_handle, 1, 255)
            .opaque(self.key_share, 1, 255)
            .bytes()
        )

    @classmethod
    def decode(cls, body: bytes) -> "ServerHello":
        r = Reader(body, "SERVER_HELLO")
        version = r.u16("version")
        random = r.fixed(RANDOM_LEN, "random")
        session_id = r.opaque(0, 32, "session_id")
        if len(session_id) not in (0, SESSION_ID_LEN):
            raise DecodeError(f"session_id has length {len(session_id)}, not 0 or 32")
        key_algorithm = r.u16("key_algorithm")
        reg_handle = r.opaque(1, 255, "reg_handle")
        key_handle = r.opaque(1, 255, "key_handle")
        key_share = r.opaque(1, 255, "key_share")
        r.finish()
        return cls(version, random, session_id, key_algorithm, reg_handle, key_handle, key_share)


@dataclass(frozen=True)
class PublishedKey:
    """SPEC §3.3, the body of SENDING_KEY: a public key with its names, validity and signature."""

    reg_handle: bytes
    key_handle: bytes
    key_algorithm: int
    public_key: bytes
    not_before: int
    not_after: int
    registry_signature: bytes = b""

    CODE: ClassVar[HandshakeCode] = HandshakeCode.SENDING_KEY

    def tbs(self) -> bytes:
        """BT-KEY-1: the encoding of every field before ``registry_signature``."""
        return (
            Writer()
            .opaque(self.reg_handle, 1, 255)
            .opaque(self.key_handle, 1, 255)
            .u16(self.key_algorithm)
            .opaque(self.public_key, 1, 1024)
            .u64(self.not_before)
            .u64(self.not_after)
            .bytes()
        )

    def encode(self) -> bytes:
        return self.tbs() + Writer().opaque(self.registry_signature, 0, 1024).bytes()

    @classmethod
    def decode(cls, body: bytes) -> "PublishedKey":
        r = Reader(body, "SENDING_KEY")
        reg_handle = r.opaque(1, 255, "reg_handle")
        key_handle = r.opaque(1, 255, "key_handle")
        key_algorithm = r.u16("key_algorithm")
        public_key = r.opaque(1, 1024, "public_key")
        not_before = r.u64("not_before")
        not_after = r.u64("not_after")
        signature = r.opaque(0, 1024, "registry_signature")
        r.finish()
        if not_after < not_before:
            raise DecodeError(f"not_after {not_after} precedes not_before {not_before} (BT-MSG-8)")
        return cls(reg_handle, key_handle, key_algorithm, public_key, not_before, not_after, signature)

    @property
    def handles(self) -> Tuple[bytes, bytes]:
        """The pair ``(reg_handle, key_handle)`` that names this key (SPEC §4)."""
        return (self.reg_handle, self.key_handle)


@dataclass(frozen=True)
class FailedValidation:
    """SPEC §3.4: any reason value is accepted (BT-MSG-1)."""

    reason: int

    CODE: ClassVar[HandshakeCode] = HandshakeCode.FAILED_VALIDATION

    def encode(self) -> bytes:
        return Writer().u8(self.reason).bytes()

    @classmethod
    def decode(cls, body: bytes) -> "FailedValidation":
        r = Reader(body, "FAILED_VALIDATION")
        reason = r.u8("FAILED_VALIDATION reason")
        r.finish()
        return cls(reason)


@dataclass(frozen=True)
class SessionDetails:
    """SPEC §3.5."""

    session_id: bytes
    cipher_suite: int
    signature: bytes

    CODE: ClassVar[HandshakeCode] = HandshakeCode.SESSION_DETAILS

    def encode(self) -> bytes:
        return (
            Writer()
            .raw(self.session_id)
            .u16(self.cipher_suite)
            .opaque(self.signature, 1, 1024)
            .bytes()
        )

    @classmethod
    def decode(cls, body: bytes) -> "SessionDetails":
        r = Reader(body, "SESSION_DETAILS")
        session_id = r.fixed(SESSION_ID_LEN, "session_id")
        cipher_suite = r.u16("cipher_suite")
        signature = r.opaque(1, 1024, "signature")
        r.finish()
        return cls(session_id, cipher_suite, signature)


@dataclass(frozen=True)
class ClientReady:
    """SPEC §3.6: the signature is empty in a resumed handshake."""

    signature: bytes
    verify_data: bytes

    CODE: ClassVar[HandshakeCode] = HandshakeCode.CLIENT_READY

    def encode(self) -> bytes:
        return Writer().opaque(self.signature, 0, 1024).raw(self.verify_data).bytes()

    @classmethod
    def decode(cls, body: bytes) -> "ClientReady":
        r = Reader(body, "CLIENT_READY")
        signature = r.opaque(0, 1024, "signature")
        verify_data = r.fixed(VERIFY_DATA_LEN, "verify_data")
        r.finish()
        return cls(signature, verify_data)


@dataclass(frozen=True)
class ServerReady:
    """SPEC §3.7."""

    verify_data: bytes

    CODE: ClassVar[HandshakeCode] = HandshakeCode.SERVER_READY

    def encode(self) -> bytes:
        return Writer().raw(self.verify_data).bytes()

    @classmethod
    def decode(cls, body: bytes) -> "ServerReady":
        r = Reader(body, "SERVER_READY")
        verify_data = r.fixed(VERIFY_DATA_LEN, "verify_data")
        r.finish()
        return cls(verify_data)


class _EmptyMessage:
    """A message whose encoding is empty (BT-FRAME-8): SEND_KEY, CANNOT_SEND_KEY, SUCCESSFUL_VALIDATION."""

    CODE: ClassVar[HandshakeCode]

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, body: bytes):  # type: ignore[no-untyped-def]
        Reader(body, cls.CODE.name).finish()
        return cls()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(self.CODE)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SendKey(_EmptyMessage):
    """SEND_KEY: asks the peer for its published key."""

    CODE = HandshakeCode.SEND_KEY


class CannotSendKey(_EmptyMessage):
    """CANNOT_SEND_KEY: the server declines to send its key (BT-HS-9)."""

    CODE = HandshakeCode.CANNOT_SEND_KEY


class SuccessfulValidation(_EmptyMessage):
    """SUCCESSFUL_VALIDATION: the peer's key passed validation."""

    CODE = HandshakeCode.SUCCESSFUL_VALIDATION


Message = Union[
    ClientHello,
    ServerHello,
    SendKey,
    PublishedKey,
    CannotSendKey,
    SuccessfulValidation,
    FailedValidation,
    SessionDetails,
    ClientReady,
    ServerReady,
]

MESSAGE_TYPES: Dict[HandshakeCode, Type[Any]] = {
    cls.CODE: cls
    for cls in (
        ClientHello,
        ServerHello,
        SendKey,
        PublishedKey,
        CannotSendKey,
        SuccessfulValidation,
        FailedValidation,
        SessionDetails,
        ClientReady,
        ServerReady,
    )
}


def decode_message(code: HandshakeCode, body: bytes) -> Message:
    """Decode the body of a HANDSHAKE frame whose (known) code is ``code``."""
    return MESSAGE_TYPES[code].decode(body)  # type: ignore[no-any-return]
