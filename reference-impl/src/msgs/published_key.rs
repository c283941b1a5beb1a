//! PublishedKey, the body of SENDING_KEY (SPEC §3.3).

use super::{layout, KeyAlgorithm};
use crate::codec::{put_vec_u16, put_vec_u8, Codec, DecodeError, HexBytes, Reader};
use std::fmt;

/// The public half of a long-term key, as published to a registry and sent with SENDING_KEY.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublishedKey {
    /// Registration handle of the owner.
    pub reg_handle: Vec<u8>,
    /// Key handle within the registration.
    pub key_handle: Vec<u8>,
    /// Algorithm of `public_key`.
    pub key_algorithm: KeyAlgorithm,
    /// Public key bytes (SPEC §2.3).
    pub public_key: Vec<u8>,
    /// Start of validity, Unix seconds.
    pub not_before: u64,
    /// End of validity, Unix seconds, inclusive.
    pub not_after: u64,
    /// Registry signature over [`PublishedKey::to_be_signed`], or empty (BT-KEY-1).
    pub registry_signature: Vec<u8>,
}

/// Context string of a registry signature (BT-KEY-1).
pub(super) const REGISTRY_SIGNATURE_CONTEXT: &[u8] = b"bTLS 1.0 published key\0";

impl PublishedKey {
    /// The bytes a registry signs: context, then every field before the signature (BT-KEY-1).
    pub fn to_be_signed(&self) -> Vec<u8> {
        let mut out = REGISTRY_SIGNATURE_CONTEXT.to_vec();
        self.encode_unsigned(&mut out);
        out
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        put_vec_u8(out, &self.reg_handle);
        put_vec_u8(out, &self.key_handle);
        out.extend_from_slice(&self.key_algorithm.0.to_be_bytes());
        put_vec_u16(out, &self.public_key);
        out.extend_from_slice(&self.not_before.to_be_bytes());
        out.extend_from_slice(&self.not_after.to_be_bytes());
    }

    /// Whether this key is the one named by `reg_handle`, `key_handle` and `alg` (BT-KEY-5).
    pub fn matches(&self, reg_handle: &[u8], key_handle: &[u8], alg: KeyAlgorithm) -> bool {
        self.reg_handle == reg_handle && self.key_handle == key_handle && self.key_algorithm == alg
    }

    /// `reg_handle/key_handle`, for messages and file names.
    pub fn display_name(&self) -> String {
        format!(
            "{}/{}",
            String::from_utf8_lossy(&self.reg_handle),
            String::from_utf8_lossy(&self.key_handle)
        )
    }
}

impl Codec for PublishedKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_unsigned(out);
        put_vec_u16(out, &self.registry_signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let key = Self {
            reg_handle: r.field(&layout::REG_HANDLE)?.to_vec(),
            key_handle: r.field(&layout::KEY_HANDLE)?.to_vec(),
            key_algorithm: KeyAlgorithm(r.u16("key_algorithm")?),
            public_key: r.field(&layout::PUBLIC_KEY)?.to_vec(),
            not_before: r.u64("not_before")?,
            not_after: r.u64("not_after")?,
            registry_signature: r.field(&layout::REGISTRY_SIGNATURE)?.to_vec(),
        };
        if key.not_after < key.not_before {
            return Err(DecodeError::InvalidValue {
                what: "not_after",
                why: "earlier than not_before (BT-MSG-8)",
            });
        }
        Ok(key)
    }
}

impl fmt::Debug for PublishedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishedKey")
            .field("reg_handle", &String::from_utf8_lossy(&self.reg_handle))
            .field("key_handle", &String::from_utf8_lossy(&self.key_handle))
            .field("key_algorithm", &self.key_algorithm)
            .field("public_key", &HexBytes(&self.public_key))
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("registry_signature", &HexBytes(&self.registry_signature))
            .finish()
    }
}
