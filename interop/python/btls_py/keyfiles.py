"""Key files and the registry directory (BT-KEY-12; layout in reference-impl/docs/key-files.md).

* private key file ``btls-private-key/1``: plain (``private_key``) or password-protected
  (PBKDF2-HMAC-SHA256 and AES-256-GCM, ``aad = reg_handle || 0x00 || key_handle``);
* published key file ``btls-published-key/1``, or a file holding the PublishedKey wire encoding;
* registry directory: ``DIR/<hex(reg)>/<hex(key)>.btlskey`` holds the wire encoding. A lookup has
  the four answers of BT-KEY-14 (bTLS 1.1): ``<hex(key)>.revoked`` beside the entry is *revoked*
  (checked first), a decodable entry naming the handles is the key, no entry is *not found*, and
  an entry that cannot be read, does not decode or names other handles, a lookup slower than the
  registry timeout (BT-TIME-3) or one beyond the bound on outstanding lookups is *unavailable*.

Python cannot zeroize immutable ``bytes`` (BT-KEY-12, BT-KS-7): private bytes are handed to
OpenSSL at once and the Python copies are dropped; see README.md.
"""

import enum
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .codec import DecodeError
from .messages import PublishedKey
from .primitives import SigningKey
from .registry import KeyAlgorithm, parse_name

PRIVATE_FORMAT = "btls-private-key/1"
PUBLISHED_FORMAT = "btls-published-key/1"
DEFAULT_REGISTRY_TIMEOUT = 2.0
"""BT-TIME-3: seconds."""
MAX_OUTSTANDING_LOOKUPS = 8
"""BT-KEY-14: lookups of one registry that may be unanswered at once (the reference's bound)."""


class KeyFileError(Exception):
    """A key file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class OwnKey:
    """One of the party's own keys: its published half and the signing key (BT-KEY-2)."""

    published: PublishedKey
    signer: SigningKey

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The key's algorithm."""
        return self.signer.algorithm


class _Fields:
    """Typed access to the fields of one JSON key file, with errors naming file and field."""

    def __init__(self, path: Path, doc: Dict[str, Any], expected_format: str) -> None:
        self.path = path
        self.doc = doc
        if doc.get("format") != expected_format:
            raise self.error("format", f"expected {expected_format!r}")

    def error(self, field: str, problem: str) -> KeyFileError:
        return KeyFileError(f"{self.path}: field {field!r}: {problem}")

    def get(self, field: str, kind: type) -> Any:
        value = self.doc.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self.error(field, f"missing or not a {kind.__name__}")
        return value

    def handle(self, field: str) -> bytes:
        text: str = self.get(field, str)
        raw = text.encode("utf-8")
        if not 1 <= len(raw) <= 255:
            raise self.error(field, "a handle is 1..=255 bytes")
        return raw

    def hex(self, field: str, source: Optional[Dict[str, Any]] = None) -> bytes:
        value = (self.doc if source is None else source).get(field)
        if not isinstance(value, str):
            raise self.error(field, "missing or not a hex string")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise self.error(field, "not valid hex") from None

    def algorithm(self) -> KeyAlgorithm:
        try:
            return parse_name(KeyAlgorithm, self.get("key_algorithm", str))
        except ValueError:
            raise self.error("key_algorithm", "not a known key algorithm") from None

    def validity(self) -> Tuple[int, int]:
        not_before, not_after = self.get("not_before", int), self.get("not_after", int)
        if not 0 <= not_before <= not_after < 2**64:
            raise self.error("not_after", "validity must satisfy 0 <= not_before <= not_after")
        return not_before, not_after


def _read_json(path: Path) -> Dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(doc, dict):
        raise KeyFileError(f"{path}: not a JSON object")
    return doc


def _unwrap(fields: _Fields, reg: bytes, key: bytes, password: Optional[str]) -> bytes:
    """The private bytes of a password-protected file."""
    if password is None:
        raise fields.error("protection", "the file is password-protected and no password was given")
    protection = fields.get("protection", dict)
    if protection.get("kdf") != "pbkdf2-hmac-sha256" or protection.get("aead") != "aes-256-gcm":
        raise fields.error("protection", "unsupported kdf or aead")
    iterations = protection.get("iterations")
    if not isinstance(iterations, int) or iterations < 1:
        raise fields.error("protection.iterations", "not a positive integer")
    salt, nonce = fields.hex("salt", protection), fields.hex("nonce", protection)
    if len(nonce) != 12:
        raise fields.error("protection.nonce", "must be 12 bytes")
    wrap_key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password.encode("utf-8"))
    try:
        return AESGCM(wrap_key).decrypt(nonce, fields.hex("ciphertext"), reg + b"\x00" + key)
    except InvalidTag:
        raise fields.error("ciphertext", "wrong password or altered file") from None


def load_private_key(path: Path, password: Optional[str] = None) -> OwnKey:
    """Read a private key file, plain or protected (``password`` then required)."""
    fields = _Fields(path, _read_json(path), PRIVATE_FORMAT)
    algorithm = fields.algorithm()
    reg, key = fields.handle("reg_handle"), fields.handle("key_handle")
    not_before, not_after = fields.validity()
    if "private_key" in fields.doc:
        private = fields.hex("private_key")
    else:
        private = _unwrap(fields, reg, key, password)
    try:
        signer = SigningKey(algorithm, private)
    except ValueError as exc:
        raise fields.error("private_key", str(exc)) from None
    published = PublishedKey(
        reg, key, algorithm, signer.public_bytes(), not_before, not_after,
        fields.hex("registry_signature"),
    )
    return OwnKey(published, signer)


def load_published_key(path: Path) -> PublishedKey:
    """Read a published key file: JSON, or the wire encoding when it does not start with ``{``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read: {exc}") from exc
    if not raw.lstrip().startswith(b"{"):
        try:
            return PublishedKey.decode(raw)
        except DecodeError as exc:
            raise KeyFileError(f"{path}: not a PublishedKey encoding: {exc}") from exc
    fields = _Fields(path, _read_json(path), PUBLISHED_FORMAT)
    algorithm = fields.algorithm()
    not_before, not_after = fields.validity()
    public_key = fields.hex("public_key")
    signature = fields.hex("registry_signature")
    if not 1 <= len(public_key) <= 1024 or len(signature) > 1024:
        raise fields.error("public_key", "length outside the PublishedKey ranges")
    return PublishedKey(
        fields.handle("reg_handle"), fields.handle("key_handle"), algorithm, public_key,
        not_before, not_after, signature,
    )


class RegistryAnswer(enum.Enum):
    """The answers of a registry lookup other than the key itself (BT-KEY-14)."""

    NOT_FOUND = "not found"
    REVOKED = "revoked"
    UNAVAILABLE = "unavailable"


LookupResult = Union[PublishedKey, RegistryAnswer]
"""A registry lookup's answer: the key, or one of ``RegistryAnswer``."""


class RegistryDir:
    """A directory standing in for an online registry (BT-KEY-3, BT-KEY-14, BT-TIME-3).

    Each lookup runs in a worker thread bounded by the registry timeout; at most
    ``max_outstanding`` workers may be unanswered at once, and a lookup beyond that is
    *unavailable* at once, so a hung registry cannot exhaust threads.
    """

    def __init__(
        self,
        root: Path,
        timeout: float = DEFAULT_REGISTRY_TIMEOUT,
        max_outstanding: int = MAX_OUTSTANDING_LOOKUPS,
    ) -> None:
        self.root = root
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(max_outstanding)

    def _read(self, reg: bytes, key: bytes) -> LookupResult:
        """The answer of the directory itself, without the timeout (docs/key-files.md)."""
        folder = self.root / reg.hex()
        try:
            if not self.root.is_dir():
                return RegistryAnswer.UNAVAILABLE  # the registry itself is not there
            if (folder / f"{key.hex()}.revoked").exists():
                return RegistryAnswer.REVOKED
            raw = (folder / f"{key.hex()}.btlskey").read_bytes()
        except FileNotFoundError:
            return RegistryAnswer.NOT_FOUND
        except OSError:
            return RegistryAnswer.UNAVAILABLE
        try:
            entry = PublishedKey.decode(raw)
        except DecodeError:
            return RegistryAnswer.UNAVAILABLE
        if entry.handles != (reg, key):
            return RegistryAnswer.UNAVAILABLE
        return entry

    def lookup(self, reg: bytes, key: bytes) -> LookupResult:
        """The answer for ``(reg, key)``: the key, *not found*, *revoked* or *unavailable*."""
        if not self._slots.acquire(blocking=False):
            return RegistryAnswer.UNAVAILABLE
        result: List[LookupResult] = [RegistryAnswer.UNAVAILABLE]

        def work() -> None:
            try:
                result[0] = self._read(reg, key)
            finally:
                self._slots.release()

        worker = threading.Thread(target=work, name="registry-lookup", daemon=True)
        try:
            worker.start()
        except RuntimeError:
            self._slots.release()
            return RegistryAnswer.UNAVAILABLE
        worker.join(self.timeout)
        return RegistryAnswer.UNAVAILABLE if worker.is_alive() else result[0]
