"""Finding and validating peer keys (BT-KEY-3..11).

Resolution (BT-KEY-3) looks in the key cache, then the configured known keys, then the registry
directory. Validation (BT-KEY-4) runs the checks of BT-KEY-5..10 in order; the first failure is
the reason sent in FAILED_VALIDATION. The identity check of BT-KEY-11 runs in the client before
resolution (``client.py``).

Trust (BT-KEY-9, BT-KEY-10), as this implementation reads the two requirements together:

1. pinned handles: the key must equal the pinned bytes (PIN_MISMATCH), and is then trusted;
2. a configured known key or a cached key, byte-equal, is trusted;
3. otherwise a non-empty registry signature must verify under a trusted registry key
   (BAD_REGISTRY_SIGNATURE, even with trust on first use);
4. otherwise an unsigned key is trusted only with trust on first use (UNTRUSTED_KEY).
"""

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional

from .caches import Handles, KeyCache
from .keyfiles import RegistryDir
from .messages import PublishedKey
from .primitives import is_valid_public_key, verify_signature
from .registry import KeyAlgorithm, ValidationReason

REGISTRY_CONTEXT = b"bTLS 1.0 published key\x00"
"""BT-KEY-1: prefixed to the PublishedKey fields a registry signs."""
ALL_ALGORITHMS: FrozenSet[int] = frozenset(KeyAlgorithm)


@dataclass
class ValidationPolicy:
    """What a validator trusts (adapter flags ``--known``, ``--trusted-registry``, ...)."""

    known: Dict[Handles, PublishedKey] = field(default_factory=dict)
    trusted_registry_keys: List[bytes] = field(default_factory=list)
    accept_unsigned: bool = False
    allowed_algorithms: FrozenSet[int] = ALL_ALGORITHMS
    pins: Dict[Handles, bytes] = field(default_factory=dict)

    def registry_signature_verifies(self, key: PublishedKey) -> bool:
        """BT-KEY-1: the signature verifies under one of the trusted registry keys (Ed25519)."""
        message = REGISTRY_CONTEXT + key.tbs()
        return any(
            verify_signature(KeyAlgorithm.ED25519_X25519, registry_key, message, key.registry_signature)
            for registry_key in self.trusted_registry_keys
        )


@dataclass(frozen=True)
class Named:
    """What a hello said about the key: its handles and algorithm (BT-KEY-5)."""

    reg_handle: bytes
    key_handle: bytes
    key_algorithm: int

    @property
    def handles(self) -> Handles:
        return (self.reg_handle, self.key_handle)


@dataclass(frozen=True)
class Resolved:
    """A peer key found without asking the peer, and whether it may enter the cache (BT-CACHE-1)."""

    key: PublishedKey
    cacheable: bool


class PeerKeys:
    """One party's view of peer keys: policy, cache and registry, shared by its connections."""

    def __init__(
        self, policy: ValidationPolicy, cache: KeyCache, registry: Optional[RegistryDir] = None
    ) -> None:
        self.policy = policy
        self.cache = cache
        self.registry = registry

    def resolve(self, named: Named) -> Optional[Resolved]:
        """BT-KEY-3: cache, then known keys, then the registry; None means "send SEND_KEY"."""
        cached = self.cache.get(named.handles)
        if cached is not None:
            return Resolved(cached, cacheable=False)
        known = self.policy.known.get(named.handles)
        if known is not None:
            return Resolved(known, cacheable=False)
        if self.registry is not None:
            entry = self.registry.lookup(named.reg_handle, named.key_handle)
            if entry is not None:
                return Resolved(entry, cacheable=True)
        return None

    def validate(self, key: PublishedKey, named: Named, now: int) -> Optional[ValidationReason]:
        """BT-KEY-4: None if the key passes, else the first failed check's reason."""
        if (key.reg_handle, key.key_handle, key.key_algorithm) != (
            named.reg_handle, named.key_handle, named.key_algorithm,
        ):
            return ValidationReason.HANDLE_MISMATCH  # BT-KEY-5
        if not is_valid_public_key(key.key_algorithm, key.public_key):
            return ValidationReason.MALFORMED_KEY  # BT-KEY-6
        if key.key_algorithm not in self.policy.allowed_algorithms:
            return ValidationReason.ALGORITHM_NOT_ALLOWED  # BT-KEY-7
        if not key.not_before <= now <= key.not_after:
            return ValidationReason.EXPIRED_KEY  # BT-KEY-8
        return self._trust(key)

    def _trust(self, key: PublishedKey) -> Optional[ValidationReason]:
        """BT-KEY-9 and BT-KEY-10, in the order given in the module documentation."""
        pinned = self.policy.pins.get(key.handles)
        if pinned is not None:
            return None if pinned == key.public_key else ValidationReason.PIN_MISMATCH
        known = self.policy.known.get(key.handles)
        if (known is not None and known.public_key == key.public_key) or self.cache.contains(key):
            return None
        if key.registry_signature:
            if self.policy.registry_signature_verifies(key):
                return None
            return ValidationReason.BAD_REGISTRY_SIGNATURE
        return None if self.policy.accept_unsigned else ValidationReason.UNTRUSTED_KEY
