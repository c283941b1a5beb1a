//! CLIENT_READY and SERVER_READY (SPEC §3.6, §3.7).

use super::{layout, VERIFY_DATA_LEN};
use crate::codec::{put_vec_u16, Codec, DecodeError, HexBytes, Reader};
use std::fmt;

/// Context string of the client's signature (BT-HS-21).
pub(super) const CLIENT_READY_CONTEXT: &[u8] = b"bTLS 1.0 CLIENT_READY\0";

/// CLIENT_READY: the client's signature (full handshake) and MAC over the transcript.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientReady {
    /// Client signature; empty in a resumed handshake (BT-RES-6).
    pub signature: Vec<u8>,
    /// HMAC over the transcript (BT-HS-22).
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

/// SERVER_READY: the server's MAC over the transcript.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerReady {
    /// HMAC over the transcript (BT-HS-23).
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

impl ClientReady {
    /// The bytes the client signs, given the transcript hash of the frames before CLIENT_READY.
    pub fn to_be_signed(transcript_hash: &[u8]) -> Vec<u8> {
        let mut out = CLIENT_READY_CONTEXT.to_vec();
        out.extend_from_slice(transcript_hash);
        out
    }
}

impl Codec for ClientReady {
    fn encode(&self, out: &mut Vec<u8>) {
        put_vec_u16(out, &self.signature);
        out.extend_from_slice(&self.verify_data);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signature: r.field(&layout::READY_SIGNATURE)?.to_vec(),
            verify_data: r.array("verify_data")?,
        })
    }
}

impl Codec for ServerReady {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            verify_data: r.array("verify_data")?,
        })
    }
}

impl fmt::Debug for ClientReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientReady")
            .field("signature", &HexBytes(&self.signature))
            .field("verify_data", &HexBytes(&self.verify_data))
            .finish()
    }
}

impl fmt::Debug for ServerReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerReady")
            .field("verify_data", &HexBytes(&self.verify_data))
            .finish()
    }
}
