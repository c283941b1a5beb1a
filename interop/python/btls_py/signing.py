"""The bytes the long-term keys sign (BT-HS-20, BT-HS-21)."""

SESSION_DETAILS_CONTEXT = b"bTLS 1.0 SESSION_DETAILS\x00"
CLIENT_READY_CONTEXT = b"bTLS 1.0 CLIENT_READY\x00"


def session_details_signed_data(transcript_hash: bytes, session_id: bytes, cipher_suite: int) -> bytes:
    """BT-HS-20: context || Transcript-Hash(frames before SESSION_DETAILS) || session_id || suite."""
    return SESSION_DETAILS_CONTEXT + transcript_hash + session_id + cipher_suite.to_bytes(2, "big")


def client_ready_signed_data(transcript_hash: bytes) -> bytes:
    """BT-HS-21: context || Transcript-Hash(frames before CLIENT_READY)."""
    return CLIENT_READY_CONTEXT + transcript_hash
