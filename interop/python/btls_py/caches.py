"""The key cache (SPEC "Key cache") and the session stores of resumption (SPEC §8).

Both live as long as the process and are shared by its connections (adapter ``--connections``).
"""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .messages import PublishedKey

DEFAULT_CACHE_SIZE = 256
"""BT-CACHE-2."""
DEFAULT_SESSION_LIFETIME = 86400
"""BT-RES-3: seconds."""

Handles = Tuple[bytes, bytes]


class KeyCache:
    """A bounded LRU map from ``(reg_handle, key_handle)`` to a peer key (BT-CACHE-1, BT-CACHE-2).

    Keys enter only when a handshake completes (the state machines call ``add`` then); a cached
    key is still validated on every use (BT-CACHE-3).
    """

    def __init__(self, capacity: int = DEFAULT_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._entries: "OrderedDict[Handles, PublishedKey]" = OrderedDict()

    def get(self, handles: Handles) -> Optional[PublishedKey]:
        """The cached key, marked as most recently used, or None."""
        key = self._entries.get(handles)
        if key is not None:
            self._entries.move_to_end(handles)
        return key

    def contains(self, key: PublishedKey) -> bool:
        """Whether exactly this public key is cached under its handles (BT-KEY-9, byte-equal)."""
        cached = self._entries.get(key.handles)
        return cached is not None and cached.public_key == key.public_key

    def add(self, key: PublishedKey) -> None:
        """Insert or refresh an entry, evicting the least recently used one when full."""
        self._entries[key.handles] = key
        self._entries.move_to_end(key.handles)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

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
        """Keep a session from a completed full handshake (BT-RES-1)."""
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

    def discard(self, session: Session) -> None:
        """Forget a session the peer declined to resume (BT-RES-5)."""
        self._by_id.pop(session.session_id, None)
        if self._by_server.get(session.server_key.reg_handle) is session:
            del self._by_server[session.server_key.reg_handle]
