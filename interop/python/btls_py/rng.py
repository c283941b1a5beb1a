"""Random sources: the operating system's, or a deterministic stream derived from a seed.

The seeded stream (adapter flag ``--seed N``) is documented so that anyone can reproduce it:

    K       = SHA-256("btls-py seed" || 0x00 || N written in decimal ASCII)
    block_i = HMAC-SHA256(K, u64 i)      for i = 0, 1, 2, ...
    stream = block_0 || block_1 || ...

Every draw takes the next bytes of the stream, in the order the implementation asks for them
(hello randoms, ephemeral keys, session IDs). ECDSA signatures use RFC 6979 and need no draws.
The seed is for tests only: it makes every "fresh" value predictable.
"""

import secrets

from cryptography.hazmat.primitives import hashes, hmac

SEED_LABEL = b"btls-py seed\x00"


class OsRandom:
    """The operating system's random source (``secrets``)."""

    def bytes(self, size: int) -> bytes:
        """``size`` bytes from the OS."""
        return secrets.token_bytes(size)


class SeededRandom:
    """A deterministic stream: HMAC-SHA256 in counter mode keyed by a hash of the seed."""

    def __init__(self, seed: int) -> None:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(SEED_LABEL + str(seed).encode("ascii"))
        self._key = digest.finalize()
        self._counter = 0
        self._pending = b""

    def bytes(self, size: int) -> bytes:
        """The next ``size`` bytes of the stream."""
        while len(self._pending) < size:
            mac = hmac.HMAC(self._key, hashes.SHA256())
            mac.update(self._counter.to_bytes(8, "big"))
            self._pending += mac.finalize()
            self._counter += 1
        out, self._pending = self._pending[:size], self._pending[size:]
        return out
