//! SESSION_DETAILS (SPEC §3.5).

use super::{layout, CipherSuite, SESSION_ID_LEN};
use crate::codec::{put_vec_u16, Codec, DecodeError, HexBytes, Reader};
use std::fmt;

/// Context string of the server's signature (BT-HS-20).
pub(super) const SESSION_DETAILS_CONTEXT: &[u8] = b"bTLS 1.0 SESSION_DETAILS\0";

/// The server's session ID, symmetric selection and signature over the transcript.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionDetails {
    /// Fresh session ID (BT-HS-13).
    pub session_id: [u8; SESSION_ID_LEN],
    /// The chosen symmetric protocol (BT-MSG-9).
    pub cipher_suite: CipherSuite,
    /// Server signature (BT-HS-20).
    pub signature: Vec<u8>,
}

impl SessionDetails {
    /// The bytes the server signs, given the transcript hash of the frames before this one.
    pub fn to_be_signed(
        transcript_hash: &[u8],
        session_id: &[u8; SESSION_ID_LEN],
        cipher_suite: CipherSuite,
    ) -> Vec<u8> {
        let mut out = SESSION_DETAILS_CONTEXT.to_vec();
        out.extend_from_slice(transcript_hash);
        out.extend_from_slice(session_id);
        out.extend_from_slice(&cipher_suite.0.to_be_bytes());
        out
    }
}

impl Codec for SessionDetails {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.session_id);
        out.extend_from_slice(&self.cipher_suite.0.to_be_bytes());
        put_vec_u16(out, &self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session_id: r.array("session_id")?,
            cipher_suite: CipherSuite(r.u16("cipher_suite")?),
            signature: r.field(&layout::DETAILS_SIGNATURE)?.to_vec(),
        })
    }
}

impl fmt::Debug for SessionDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionDetails")
            .field("session_id", &HexBytes(&self.session_id))
            .field("cipher_suite", &self.cipher_suite)
            .field("signature", &HexBytes(&self.signature))
            .finish()
    }
}
