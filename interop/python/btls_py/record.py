"""Record protection of SPEC §7: AEAD with a per-direction sequence number.

``body = AEAD-Seal(key, iv XOR (0^32 || u64 seq), aad = header, plaintext)`` where the header's
length is the ciphertext length (BT-REC-2). A direction's key protects at most ``limit`` frames
(BT-REC-8, bTLS 1.1: ``RECORD_LIMIT`` = 2^24 unless configured lower): the sender never seals a
frame with a sequence number at or above it, and the receiver refuses to open one.
"""

from cryptography.exceptions import InvalidTag

from .frame import Frame, header_bytes
from .keyschedule import DirectionKeys
from .primitives import aead
from .registry import CipherSuite

TAG_LEN = 16
MAX_SEQUENCE = 2**64 - 1
RECORD_LIMIT = 2**24
"""BT-REC-8: frames one direction's key may protect, close_notify included."""
NO_RECORD_LIMIT = MAX_SEQUENCE + 1
"""Only BT-REC-5's bound: the whole nonce space (vector mode checks the AEAD at any ``seq``)."""


class BadRecordMac(Exception):
    """BT-REC-4: a protected frame shorter than the tag or that does not open."""


class SequenceExhausted(Exception):
    """BT-REC-5: the direction has used every sequence number."""


class RecordProtection:
    """One direction's AEAD state: seals (sender) or opens (receiver) frames in order."""

    def __init__(
        self, suite: CipherSuite, keys: DirectionKeys, seq: int = 0, limit: int = RECORD_LIMIT
    ) -> None:
        self._aead = aead(suite, keys.key)
        self._iv = keys.iv
        self.seq = seq
        self.limit = limit

    @property
    def at_last_frame(self) -> bool:
        """BT-REC-8: only one frame is left under this key, which must be the last (close_notify)."""
        return self.seq >= self.limit - 1

    def _nonce(self) -> bytes:
        """BT-REC-2: the IV XORed with the sequence number, left-padded to 12 bytes."""
        padded = self.seq.to_bytes(len(self._iv), "big")
        return bytes(a ^ b for a, b in zip(self._iv, padded))

    def seal(self, content_type: int, subcode: int, plaintext: bytes) -> Frame:
        """The protected frame carrying ``plaintext``; advances the sequence number."""
        if self.seq >= MAX_SEQUENCE or self.seq >= self.limit:
            raise SequenceExhausted("no frame left under this direction's key (BT-REC-5, BT-REC-8)")
        aad = header_bytes(content_type, subcode, len(plaintext) + TAG_LEN)
        body = self._aead.encrypt(self._nonce(), plaintext, aad)
        self.seq += 1
        return Frame(content_type, subcode, body)

    def open(self, frame: Frame) -> bytes:
        """The plaintext of a protected frame; advances the sequence number only on success."""
        if self.seq >= self.limit:
            raise BadRecordMac(f"sequence number {self.seq} is beyond the record limit (BT-REC-8)")
        if len(frame.body) < TAG_LEN:
            raise BadRecordMac("the protected frame is shorter than the tag")
        try:
            plaintext = self._aead.decrypt(self._nonce(), frame.body, frame.header())
        except InvalidTag as exc:
            raise BadRecordMac("the protected frame does not open") from exc
        self.seq += 1
        return plaintext

