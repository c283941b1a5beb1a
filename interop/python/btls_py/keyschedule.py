"""The transcript hash (BT-HS-1), the key schedule of SPEC §6 and the READY MACs (BT-HS-22/23).

::

    master            = HKDF-Extract(salt = psk, IKM = shared)              BT-KS-2
    c_ready_key       = Expand-Label(master, "c ready", "", 32)             BT-KS-4
    s_ready_key       = Expand-Label(master, "s ready", "", 32)
    c_traffic         = Expand-Label(master, "c traffic", H_k, 32)          BT-KS-5
    s_traffic         = Expand-Label(master, "s traffic", H_k, 32)
    key, iv           = Expand-Label(traffic, "key", "", 32), (.., "iv", "", 12)
    resumption_secret = Expand-Label(master, "resumption", H_f, 32)         BT-KS-6
"""

from dataclasses import dataclass

from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from .codec import Writer

HASH_LEN = 32
ZERO_PSK = bytes(HASH_LEN)
"""BT-KS-2: the psk of a full handshake."""
LABEL_PREFIX = b"btls10 "


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256."""
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def verify_mac(key: bytes, data: bytes, expected: bytes) -> bool:
    """Whether ``expected`` is HMAC-SHA256(key, data), compared in constant time (BT-HS-22/23)."""
    return constant_time.bytes_eq(hmac_sha256(key, data), expected)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869)."""
    return HKDF.extract(hashes.SHA256(), salt, ikm)


def expand_label(secret: bytes, label: str, context: bytes, length: int) -> bytes:
    """SPEC §6 Expand-Label: HKDF-Expand with the HkdfLabel structure as info."""
    info = (
        Writer()
        .u16(length)
        .opaque(LABEL_PREFIX + label.encode("ascii"), 7, 255)
        .opaque(context, 0, 255)
        .bytes()
    )
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


class Transcript:
    """BT-HS-1: SHA-256 over every HANDSHAKE frame (header and body) in wire order."""

    def __init__(self) -> None:
        self._hash = hashes.Hash(hashes.SHA256())

    def add(self, frame: bytes) -> None:
        """Append one encoded HANDSHAKE frame."""
        self._hash.update(frame)

    def current(self) -> bytes:
        """The hash of the frames added so far."""
        return self._hash.copy().finalize()


@dataclass(frozen=True)
class DirectionKeys:
    """The AEAD key and IV of one direction (BT-KS-5)."""

    traffic: bytes
    key: bytes
    iv: bytes

    @classmethod
    def from_traffic(cls, traffic: bytes) -> "DirectionKeys":
        """Derive the key and IV from a traffic secret."""
        return cls(traffic, expand_label(traffic, "key", b"", 32), expand_label(traffic, "iv", b"", 12))


@dataclass(frozen=True)
class KeySchedule:
    """Every secret of one handshake, derived from ``shared``, ``psk`` and ``H_k``."""

    master: bytes
    c_ready_key: bytes
    s_ready_key: bytes
    client: DirectionKeys
    server: DirectionKeys

    @classmethod
    def derive(cls, shared: bytes, psk: bytes, h_k: bytes) -> "KeySchedule":
        """BT-KS-2..5."""
        master = hkdf_extract(psk, shared)
        return cls(
            master=master,
            c_ready_key=expand_label(master, "c ready", b"", 32),
            s_ready_key=expand_label(master, "s ready", b"", 32),
            client=DirectionKeys.from_traffic(expand_label(master, "c traffic", h_k, 32)),
            server=DirectionKeys.from_traffic(expand_label(master, "s traffic", h_k, 32)),
        )

    def resumption_secret(self, h_f: bytes) -> bytes:
        """BT-KS-6: the secret a full handshake stores in its session."""
        return expand_label(self.master, "resumption", h_f, 32)
