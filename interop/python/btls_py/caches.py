"""The key cache (SPEC "Key cache"), the first-use store (BT-KEY-13) and the session stores of
resumption (SPEC §8).

All three live as long as the process and are shared by its connections (adapter ``--connections``).
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .messages import PublishedKey

DEFAULT_CACHE_SIZE = 256
"""BT-CACHE-2."""
DEFAULT_FIRST_USE_SIZE = 4096
"""BT-KEY-13: registrations the first-use store holds (the reference's default)."""
DEFAULT_SESSION_LIFETIME = 86400
"""BT-RES-3: seconds."""

Handles = Tuple[bytes, bytes]


@dataclass(frozen=True)
class CacheEntry:
    """A cached peer key and when it entered the cache (for the revocation interval, BT-KEY-14)."""

    key: PublishedKey
    cached_at: float


class KeyCache:
    """A bounded LRU map from ``(reg_handle, key_handle)`` to a peer key (BT-CACHE-1, BT-CACHE-2).

    Keys enter only when a handshake completes (the state machines call ``add`` then). The cache
    only saves asking for a key: it confers no trust (BT-KEY-9, BT-CACHE-3), so a cached key is
    validated in full on every use and removed when it fails (``validation.PeerKeys.resolve``).
    """

    def __init__(self, capacity: int = DEFAULT_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._entries: "OrderedDict[Handles, CacheEntry]" = OrderedDict()

    def get(self, handles: Handles) -> Optional[CacheEntry]:
        """The cached entry, marked as most recently used, or None."""
        entry = self._entries.get(handles)
        if entry is not None:
            self._entries.move_to_end(handles)
        return entry

    def add(self, key: PublishedKey, now: float) -> None:
        """Insert or replace an entry, evicting the least recently used one when full."""
        self._entries[key.handles] = CacheEntry(key, now)
        self._entries.move_to_end(key.handles)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def remove(self, handles: Handles) -> None:
        """Drop the entry for these handles, if any (BT-CACHE-3, BT-KEY-14)."""
        self._entries.pop(handles, None)

    def __len__(self) -> int:
        return len(self._entries)


FirstUseEntry = Tuple[bytes, int, bytes]
"""What the first-use store remembers of a registration's key: key handle, algorithm, public key."""


class FirstUseStore:
    """Trust on first use per registration (BT-KEY-13): ``reg_handle`` to the one key accepted for it.

    It is not the key cache: entries are never evicted (only ``forget``, the operator's act,
    removes one), and when it is full a registration it does not know is not trusted.
    """

    def __init__(self, capacity: int = DEFAULT_FIRST_USE_SIZE) -> None:
        self.capacity = capacity
        self._entries: Dict[bytes, FirstUseEntry] = {}

    @staticmethod
    def _entry(key: PublishedKey) -> FirstUseEntry:
        return (key.key_handle, key.key_algorithm, key.public_key)

    def trusts(self, key: PublishedKey) -> bool:
        """Rule (d) of BT-KEY-9: exactly the stored key, or a new registration while not full."""
        stored = self._entries.get(key.reg_handle)
        if stored is None:
            return len(self._entries) < self.capacity
        return stored == self._entry(key)

    def learn(self, key: PublishedKey) -> None:
        """Remember the key of a completed handshake, unless its registration is known or the store full."""
        if key.reg_handle not in self._entries and len(self._entries) < self.capacity:
            self._entries[key.reg_handle] = self._entry(key)

    def get(self, reg_handle: bytes) -> Optional[FirstUseEntry]:
        """The key remembered for a registration, or None."""
        return self._entries.get(reg_handle)

    def forget(self, reg_handle: bytes) -> None:
        """The operator removes a registration's entry, so that a new key can be trusted on first use."""
        self._entries.pop(reg_handle, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Session:
    """BT-RES-1: what a full handshake leaves behind for resumption."""

    session_id: bytes
    resumption_secret: bytes
    key_algorithm: int
    cipher_suite: int
    client_key: PublishedKey
    server_key: PublishedKey
    created: float


class SessionStore:
    """Sessions of one party: the server's by session ID, the client's by server registration."""

    def __init__(self, lifetime: float = DEFAULT_SESSION_LIFETIME) -> None:
        self.lifetime = lifetime
        self._by_id: Dict[bytes, Session] = {}
        self._by_server: Dict[bytes, Session] = {}

    def store(self, session: Session) -> None:
        """Keep a session from a completed full handshake (BT-RES-1).

        On the client it replaces the session held for the same server registration; nothing
        else removes one before its lifetime ends: a declined offer, a failed handshake or an
        alert leave it as it was (BT-RES-5, bTLS 1.1).
        """
        self._by_id[session.session_id] = session
        self._by_server[session.server_key.reg_handle] = session

    def by_id(self, session_id: bytes, now: float) -> Optional[Session]:
        """Server side: the session with this ID if it is younger than its lifetime (BT-RES-3)."""
        session = self._by_id.get(session_id)
        if session is None or now - session.created >= self.lifetime:
            return None
        return session

    def for_server(self, server_reg: bytes, now: float) -> Optional[Session]:
        """Client side: the live session with the server registered as ``server_reg`` (BT-RES-2)."""
        session = self._by_server.get(server_reg)
        if session is None or now - session.created >= self.lifetime:
            return None
        return session
