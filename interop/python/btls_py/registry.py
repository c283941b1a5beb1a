"""The open registries of SPEC §2: content types, handshake codes, algorithms, suites, reasons, alerts.

Registries are open: a value not listed is *unknown*, travels through the codec unchanged and is
displayed as a number (the adapter contract) or in hex (``hex_name``).
"""

from enum import IntEnum
from typing import Optional, Type, TypeVar, Union

E = TypeVar("E", bound=IntEnum)


class ContentType(IntEnum):
    """SPEC §2.1: the first byte of every frame."""

    HANDSHAKE = 0x01
    ALERT = 0x02
    APPLICATION = 0x03


class HandshakeCode(IntEnum):
    """SPEC §2.2: the subcode of HANDSHAKE frames."""

    CLIENT_HELLO = 0x01
    SERVER_HELLO = 0x02
    SEND_KEY = 0x03
    SENDING_KEY = 0x04
    CANNOT_SEND_KEY = 0x05
    SUCCESSFUL_VALIDATION = 0x06
    FAILED_VALIDATION = 0x07
    SESSION_DETAILS = 0x08
    CLIENT_READY = 0x09
    SERVER_READY = 0x0A


class KeyAlgorithm(IntEnum):
    """SPEC §2.3: a long-term signature algorithm paired with an ephemeral agreement."""

    ED25519_X25519 = 0x0001
    ECDSA_P256_ECDH_P256 = 0x0002


class CipherSuite(IntEnum):
    """SPEC §2.4: the AEAD protecting records (the hash is always SHA-256)."""

    AES_256_GCM = 0x0001
    CHACHA20_POLY1305 = 0x0002


class ValidationReason(IntEnum):
    """SPEC §2.5: the body of FAILED_VALIDATION."""

    UNTRUSTED_KEY = 0x01
    EXPIRED_KEY = 0x02
    ALGORITHM_NOT_ALLOWED = 0x03
    HANDLE_MISMATCH = 0x04
    BAD_REGISTRY_SIGNATURE = 0x05
    MALFORMED_KEY = 0x06
    UNEXPECTED_IDENTITY = 0x07
    PIN_MISMATCH = 0x08
    REVOKED_KEY = 0x09
    """bTLS 1.1: the registry answered *revoked* (BT-KEY-14)."""
    REGISTRY_UNAVAILABLE = 0x0A
    """bTLS 1.1: the registry did not answer in time or answered with an error (BT-KEY-14, BT-TIME-3)."""


class AlertDescription(IntEnum):
    """SPEC §9: the subcode of ALERT frames. The specification's names are the lowercase ones."""

    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    RECORD_OVERFLOW = 22
    FAILED_HANDSHAKE = 40
    ILLEGAL_PARAMETER = 47
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    PROTOCOL_VERSION = 70
    INTERNAL_ERROR = 80
    HANDSHAKE_TIMEOUT = 130

    @property
    def spec_name(self) -> str:
        """The name SPEC §9 uses, for example ``close_notify``."""
        return self.name.lower()


class AlertLevel(IntEnum):
    """SPEC §3.8: the one-byte body of an alert."""

    WARNING = 1
    FATAL = 2


VERSION = 0x0100
"""The wire version of bTLS 1.0, unchanged in bTLS 1.1 (SPEC status line)."""


def lookup(registry: Type[E], value: int) -> Optional[E]:
    """The registry member with this value, or None when the value is unknown."""
    try:
        return registry(value)
    except ValueError:
        return None


def display(registry: Type[E], value: int) -> Union[str, int]:
    """The specification's name of a value, or the number itself when unknown (adapter events)."""
    member = lookup(registry, value)
    if member is None:
        return value
    if isinstance(member, AlertDescription):
        return member.spec_name
    return member.name


def hex_name(registry: Type[E], value: int) -> str:
    """The specification's name of a value, or ``unknown(0x..)`` for messages and logs."""
    member = lookup(registry, value)
    if member is None:
        return f"unknown(0x{value:02x})"
    return str(display(registry, value))


def parse_name(registry: Type[E], name: str) -> E:
    """A member by its specification name, case-insensitively (adapter flags); ValueError if none."""
    for member in registry:
        if member.name.lower() == name.lower():
            return member
    raise ValueError(f"unknown {registry.__name__} name {name!r}")
