"""The cryptographic operations of SPEC §2.3 and §2.4, all delegated to ``cryptography``.

* long-term keys: Ed25519 (RFC 8032, pure) and ECDSA P-256 with SHA-256, signatures ``r || s``;
* ephemeral agreement: X25519 (an all-zero output is refused, BT-KS-1) and ECDH P-256 (the
  32-byte x-coordinate);
* AEADs: AES-256-GCM and ChaCha20-Poly1305.

ECDSA signatures use RFC 6979 deterministic nonces, so a seeded session is reproducible;
verification accepts any valid signature (SPEC §2.4).
"""

from typing import Optional, Protocol, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .registry import CipherSuite, KeyAlgorithm

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The order n of the P-256 group: a private scalar lies in 1..n-1."""
P256_POINT_LEN = 65
X25519_LEN = 32
ED25519_PUBLIC_LEN = 32
SIGNATURE_LEN = 64

_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


class RandomSource(Protocol):
    """Where fresh bytes come from (``rng.OsRandom`` or the seeded ``rng.SeededRandom``)."""

    def bytes(self, size: int) -> bytes:
        """``size`` fresh random bytes."""


class InvalidShare(Exception):
    """A key share that is not a valid public key of its agreement, or an all-zero X25519 secret."""


class SigningKey:
    """A party's long-term private key: signs the transcript (BT-HS-20, BT-HS-21)."""

    def __init__(self, algorithm: KeyAlgorithm, private_bytes: bytes) -> None:
        """``private_bytes``: the Ed25519 seed or the big-endian P-256 scalar (32 bytes)."""
        if len(private_bytes) != 32:
            raise ValueError("a private key is 32 bytes")
        self.algorithm = algorithm
        self._key: Union[ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey]
        if algorithm == KeyAlgorithm.ED25519_X25519:
            self._key = ed25519.Ed25519PrivateKey.from_private_bytes(private_bytes)
        else:
            scalar = int.from_bytes(private_bytes, "big")
            if not 0 < scalar < P256_ORDER:
                raise ValueError("the P-256 scalar is outside 1..n-1")
            self._key = ec.derive_private_key(scalar, ec.SECP256R1())

    def public_bytes(self) -> bytes:
        """The public key as published: 32 Ed25519 bytes or the 65-byte SEC1 uncompressed point."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def sign(self, message: bytes) -> bytes:
        """A 64-byte signature: Ed25519, or ECDSA-SHA256 as ``r || s`` (SPEC §2.4)."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(message)
        r, s = decode_dss_signature(self._key.sign(message, _ECDSA))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _p256_point(data: bytes) -> ec.EllipticCurvePublicKey:
    """A SEC1 uncompressed P-256 point on the curve, or ValueError."""
    if len(data) != P256_POINT_LEN or data[0] != 0x04:
        raise ValueError("not a 65-byte uncompressed point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)


_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _ed25519_decode(data: bytes) -> Optional[tuple]:
    """RFC 8032 section 5.1.3: the point (x, y) that 32 bytes encode, or None when they are
    not a canonical encoding of a point (y >= p, no square root, x = 0 with the sign bit)."""
    value = int.from_bytes(data, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P == 0:
        pass
    elif (v * x * x + u) % _P == 0:
        x = (x * _SQRT_M1) % _P
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _ed25519_add(a: tuple, b: tuple) -> tuple:
    """Affine addition on -x^2 + y^2 = 1 + d x^2 y^2."""
    (x1, y1), (x2, y2) = a, b
    t = (_D * x1 * x2 * y1 * y2) % _P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, _P - 2, _P)
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P)
    return x3 % _P, y3 % _P


def is_valid_ed25519_key(data: bytes) -> bool:
    """BT-KEY-6 for Ed25519: 32 bytes, a canonical encoding of a curve point whose order is
    not small (8 times the point is not the identity)."""
    if len(data) != ED25519_PUBLIC_LEN:
        return False
    point = _ed25519_decode(data)
    if point is None:
        return False
    for _ in range(3):
        point = _ed25519_add(point, point)
    return point != (0, 1)


def is_valid_public_key(algorithm: int, data: bytes) -> bool:
    """BT-KEY-6: Ed25519 a canonical point not of small order; P-256 65 bytes uncompressed and
    on the curve."""
    try:
        if algorithm == KeyAlgorithm.ED25519_X25519:
            if not is_valid_ed25519_key(data):
                return False
            ed25519.Ed25519PublicKey.from_public_bytes(data)
            return True
        if algorithm == KeyAlgorithm.ECDSA_P256_ECDH_P256:
            _p256_point(data)
            return True
    except ValueError:
        return False
    return False


def verify_signature(algorithm: int, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid signature of ``message`` under ``public_key``."""
    if len(signature) != SIGNATURE_LEN or not is_valid_public_key(algorithm, public_key):
        return False
    try:
        if algorithm == KeyAlgorithm.ED25519_X25519:
            ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
            return True
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        _p256_point(public_key).verify(der, message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


def is_valid_share(algorithm: int, share: bytes) -> bool:
    """BT-MSG-4: the exact length, and for P-256 a point on the curve."""
    if algorithm == KeyAlgorithm.ED25519_X25519:
        return len(share) == X25519_LEN
    try:
        _p256_point(share)
        return True
    except ValueError:
        return False


class EphemeralKey:
    """One fresh ephemeral agreement key, used for one hello (BT-HS-8, BT-HS-17)."""

    def __init__(self, algorithm: KeyAlgorithm, rng: RandomSource) -> None:
        self.algorithm = algorithm
        self._key: Union[x25519.X25519PrivateKey, ec.EllipticCurvePrivateKey]
        if algorithm == KeyAlgorithm.ED25519_X25519:
            self._key = x25519.X25519PrivateKey.from_private_bytes(rng.bytes(32))
        else:
            while True:  # rejection sampling: a uniform scalar in 1..n-1
                scalar = int.from_bytes(rng.bytes(32), "big")
                if 0 < scalar < P256_ORDER:
                    break
            self._key = ec.derive_private_key(scalar, ec.SECP256R1())

    def share(self) -> bytes:
        """The public share sent in the hello."""
        if isinstance(self._key, x25519.X25519PrivateKey):
            return self._key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def agree(self, peer_share: bytes) -> bytes:
        """BT-KS-1: the shared secret with the peer's share; ``InvalidShare`` if it is unusable."""
        if not is_valid_share(self.algorithm, peer_share):
            raise InvalidShare("the key share is not a valid public key of the agreement")
        try:
            if isinstance(self._key, x25519.X25519PrivateKey):
                shared = self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_share))
            else:
                shared = self._key.exchange(ec.ECDH(), _p256_point(peer_share))
        except ValueError as exc:  # OpenSSL refuses an all-zero X25519 result
            raise InvalidShare(f"the agreement failed: {exc}") from exc
        if not any(shared):
            raise InvalidShare("the X25519 shared secret is all zero (BT-KS-1)")
        return shared


def aead(suite: CipherSuite, key: bytes) -> Union[AESGCM, ChaCha20Poly1305]:
    """The AEAD of a cipher suite (SPEC §2.4) keyed with a 32-byte key."""
    if suite == CipherSuite.AES_256_GCM:
        return AESGCM(key)
    return ChaCha20Poly1305(key)
