"""Finding and validating peer keys (BT-KEY-3..16, BT-CACHE-3), as bTLS 1.1 has them.

Resolution (BT-KEY-3) looks in the configured known keys, then the key cache, then the registry
directory, and the first source holding an entry for the handles decides: its key is validated
and a failure ends the handshake, except that a cached key that fails (or that is older than
the revocation interval, when there is a registry) is dropped from the cache and resolution
goes on as if it had not been cached (BT-CACHE-3, BT-KEY-14). The registry's *revoked* and
*unavailable* answers end the handshake (REVOKED_KEY, REGISTRY_UNAVAILABLE); only *not found*
(or no registry) leads to SEND_KEY. The identity check of BT-KEY-11 runs in the client before
resolution (``client.py``).

Validation (BT-KEY-4) runs, in order: the handles (BT-KEY-5), trust (BT-KEY-9), the key itself
(BT-KEY-6), the algorithm policy (BT-KEY-7) and the validity period (BT-KEY-8). Trust is decided
by the first rule of BT-KEY-9 that applies:

(a) pinned handles: the key must equal the pinned bytes (PIN_MISMATCH);
(b) a key equal to the configured known key of its handles in every field before its registry
    signature (handles, algorithm, public key, validity) is trusted;
(c) a non-empty registry signature must verify under a trusted registry key whose scope covers
    the key's ``reg_handle`` (BT-KEY-15), else BAD_REGISTRY_SIGNATURE (BT-KEY-10);
(d) an unsigned key is trusted only by trust on first use, per registration (BT-KEY-13), else
    UNTRUSTED_KEY.

Where a key was found never makes it trusted: a cached key goes through the same rules.
"""

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

from .caches import FirstUseStore, Handles, KeyCache
from .keyfiles import RegistryAnswer, RegistryDir
from .messages import PublishedKey
from .primitives import is_valid_public_key, verify_signature
from .registry import KeyAlgorithm, ValidationReason

REGISTRY_CONTEXT = b"bTLS 1.0 published key\x00"
"""BT-KEY-1: prefixed to the PublishedKey fields a registry signs."""
ALL_ALGORITHMS: FrozenSet[int] = frozenset(KeyAlgorithm)
EVERY_REGISTRATION: Tuple[bytes, ...] = (b"",)
"""BT-KEY-15: the scope of the empty suffix covers every registration."""
DEFAULT_REVOCATION_INTERVAL = 300.0
"""BT-KEY-14: seconds a cached key is used without asking the registry again (the reference's)."""


@dataclass(frozen=True)
class TrustedRegistryKey:
    """A trusted registry key and its scope: the ``reg_handle`` suffixes it vouches for (BT-KEY-15)."""

    public_key: bytes
    scope: Tuple[bytes, ...] = EVERY_REGISTRATION

    def covers(self, reg_handle: bytes) -> bool:
        """Whether ``reg_handle`` ends in one of the scope's suffixes (byte for byte)."""
        return any(reg_handle.endswith(suffix) for suffix in self.scope)


@dataclass
class ValidationPolicy:
    """What a validator trusts (adapter flags ``--known``, ``--trusted-registry``, ...)."""

    known: Dict[Handles, PublishedKey] = field(default_factory=dict)
    trusted_registry_keys: List[TrustedRegistryKey] = field(default_factory=list)
    accept_unsigned: bool = False
    allowed_algorithms: FrozenSet[int] = ALL_ALGORITHMS
    pins: Dict[Handles, bytes] = field(default_factory=dict)

    def registry_signature_verifies(self, key: PublishedKey) -> bool:
        """BT-KEY-1, BT-KEY-15: the signature verifies under a trusted registry key whose scope
        covers the key's registration (Ed25519). A key out of scope counts as no key at all."""
        message = REGISTRY_CONTEXT + key.tbs()
        return any(
            verify_signature(KeyAlgorithm.ED25519_X25519, registry.public_key, message, key.registry_signature)
            for registry in self.trusted_registry_keys
            if registry.covers(key.reg_handle)
        )


def scoped(public_keys: Sequence[bytes], scope: Sequence[bytes] = ()) -> List[TrustedRegistryKey]:
    """Trusted registry keys that all share one scope (the adapter's ``--registry-scope``);
    an empty ``scope`` means every registration."""
    suffixes = tuple(dict.fromkeys(scope)) or EVERY_REGISTRATION
    return [TrustedRegistryKey(key, suffixes) for key in public_keys]


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
class Accepted:
    """A peer key found without asking the peer that passed validation; ``cacheable`` when it
    came from the registry and may enter the cache once the handshake completes (BT-CACHE-1)."""

    key: PublishedKey
    cacheable: bool


@dataclass(frozen=True)
class Rejected:
    """Resolution ends the handshake with this reason (BT-HS-10)."""

    reason: ValidationReason


class AskPeer:
    """No source holds an entry for the handles: send SEND_KEY (BT-KEY-3)."""


ASK_PEER = AskPeer()
Resolution = Union[Accepted, Rejected, AskPeer]


class PeerKeys:
    """One party's view of peer keys: policy, cache, first-use store and registry, shared by its
    connections (``--connections``)."""

    def __init__(
        self,
        policy: ValidationPolicy,
        cache: KeyCache,
        registry: Optional[RegistryDir] = None,
        first_use: Optional[FirstUseStore] = None,
        revocation_interval: float = DEFAULT_REVOCATION_INTERVAL,
    ) -> None:
        self.policy = policy
        self.cache = cache
        self.registry = registry
        self.first_use = first_use if first_use is not None else FirstUseStore()
        self.revocation_interval = revocation_interval

    def resolve(self, named: Named, now: float) -> Resolution:
        """BT-KEY-3: known keys, then the cache, then the registry; each found key is validated."""
        known = self.policy.known.get(named.handles)
        if known is not None:
            return self._judge(known, named, now, cacheable=False)
        entry = self.cache.get(named.handles)
        if entry is not None:
            fresh = self.registry is None or now - entry.cached_at < self.revocation_interval
            if fresh and self.validate(entry.key, named, now) is None:
                return Accepted(entry.key, cacheable=False)
            self.cache.remove(named.handles)  # BT-CACHE-3, BT-KEY-14: resolve it afresh
        if self.registry is None:
            return ASK_PEER
        answer = self.registry.lookup(named.reg_handle, named.key_handle)
        if isinstance(answer, PublishedKey):
            return self._judge(answer, named, now, cacheable=True)
        if answer is RegistryAnswer.REVOKED:
            self.cache.remove(named.handles)
            return Rejected(ValidationReason.REVOKED_KEY)
        if answer is RegistryAnswer.UNAVAILABLE:
            return Rejected(ValidationReason.REGISTRY_UNAVAILABLE)
        return ASK_PEER

    def _judge(self, key: PublishedKey, named: Named, now: float, cacheable: bool) -> Resolution:
        reason = self.validate(key, named, now)
        return Accepted(key, cacheable) if reason is None else Rejected(reason)

    def validate(self, key: PublishedKey, named: Named, now: float) -> Optional[ValidationReason]:
        """BT-KEY-4: None if the key passes, else the first failed check's reason."""
        if (key.reg_handle, key.key_handle, key.key_algorithm) != (
            named.reg_handle, named.key_handle, named.key_algorithm,
        ):
            return ValidationReason.HANDLE_MISMATCH  # BT-KEY-5
        untrusted = self._trust(key)  # BT-KEY-9: before anything else about the key (bTLS 1.1)
        if untrusted is not None:
            return untrusted
        if not is_valid_public_key(key.key_algorithm, key.public_key):
            return ValidationReason.MALFORMED_KEY  # BT-KEY-6
        if key.key_algorithm not in self.policy.allowed_algorithms:
            return ValidationReason.ALGORITHM_NOT_ALLOWED  # BT-KEY-7
        if not key.not_before <= int(now) <= key.not_after:
            return ValidationReason.EXPIRED_KEY  # BT-KEY-8 (whole Unix seconds)
        return None

    def _trust(self, key: PublishedKey) -> Optional[ValidationReason]:
        """BT-KEY-9 rules (a) to (d), the first that applies deciding alone."""
        pinned = self.policy.pins.get(key.handles)
        if pinned is not None:  # (a)
            return None if pinned == key.public_key else ValidationReason.PIN_MISMATCH
        known = self.policy.known.get(key.handles)
        if known is not None and known.tbs() == key.tbs():
            return None  # (b): every field before registry_signature, whatever that holds
        if key.registry_signature:  # (c), BT-KEY-10, BT-KEY-15
            if self.policy.registry_signature_verifies(key):
                return None
            return ValidationReason.BAD_REGISTRY_SIGNATURE
        if self.policy.accept_unsigned and self.first_use.trusts(key):  # (d), BT-KEY-13
            return None
        return ValidationReason.UNTRUSTED_KEY

    def learn(self, key: PublishedKey, cacheable: bool, now: float) -> None:
        """A full handshake that used ``key`` has completed (BT-CACHE-1, BT-KEY-13).

        A key obtained through SENDING_KEY or the registry enters the cache. With trust on first
        use on, the first-use store learns the key as the one of its registration when it holds
        none yet (whichever rule trusted it; README "Spec ambiguities", B1).
        """
        if cacheable:
            self.cache.add(key, now)
        if self.policy.accept_unsigned:
            self.first_use.learn(key)
