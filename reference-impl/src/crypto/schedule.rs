//! Transcript hash and key schedule (SPEC §3.9, §6).

use super::Secret;
use aws_lc_rs::{digest, hkdf, hmac};
use zeroize::Zeroizing;

/// SHA-256 output length.
pub const HASH_LEN: usize = 32;

/// The running transcript hash over every HANDSHAKE frame (BT-HS-1).
#[derive(Clone)]
pub struct Transcript {
    ctx: digest::Context,
}

impl Default for Transcript {
    fn default() -> Self {
        Self {
            ctx: digest::Context::new(&digest::SHA256),
        }
    }
}

impl Transcript {
    /// Adds a whole HANDSHAKE frame (header and body).
    pub fn add(&mut self, frame: &[u8]) {
        self.ctx.update(frame);
    }

    /// The hash of everything added so far.
    pub fn current(&self) -> [u8; HASH_LEN] {
        let mut out = [0u8; HASH_LEN];
        out.copy_from_slice(self.ctx.clone().finish().as_ref());
        out
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// `Expand-Label(secret, label, context, out.len())` (SPEC §6).
pub fn expand_label(secret: &[u8], label: &str, context: &[u8], out: &mut [u8]) {
    let full_label = [b"btls10 ".as_slice(), label.as_bytes()].concat();
    let length = u16::try_from(out.len()).unwrap_or(u16::MAX).to_be_bytes();
    let label_len = [u8::try_from(full_label.len()).unwrap_or(u8::MAX)];
    let context_len = [u8::try_from(context.len()).unwrap_or(u8::MAX)];
    let info: [&[u8]; 5] = [&length, &label_len, &full_label, &context_len, context];
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    // Expansion only fails for lengths above 255 * 32, which no caller asks for.
    if let Ok(okm) = prk.expand(&info, Len(out.len())) {
        let _ = okm.fill(out);
    }
}

/// HMAC-SHA256 (BT-HS-22, BT-HS-23).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Constant-time check of an HMAC-SHA256 tag.
pub fn hmac_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), data, tag).is_ok()
}

/// The secrets of one handshake (BT-KS-2..6).
pub struct KeySchedule {
    master: Secret,
}

impl KeySchedule {
    /// `master = HKDF-Extract(salt = psk, IKM = shared)`; `psk` is 32 zero bytes in a full
    /// handshake (BT-KS-2).
    pub fn new(psk: Option<&[u8; 32]>, shared: &[u8; 32]) -> Self {
        // HKDF-Extract(salt, IKM) is HMAC-SHA256(salt, IKM) (RFC 5869 §2.2); aws-lc-rs keeps its
        // PRK opaque, and the master secret must be readable for key logs and vectors.
        let zeros = [0u8; 32];
        Self {
            master: Zeroizing::new(hmac_sha256(psk.unwrap_or(&zeros), shared)),
        }
    }

    /// The master secret (the notes' 256-bit key), for vectors and key logs.
    pub fn master(&self) -> &[u8; 32] {
        &self.master
    }

    fn derive(&self, label: &str, context: &[u8]) -> Secret {
        let mut out = Zeroizing::new([0u8; 32]);
        expand_label(self.master.as_ref(), label, context, out.as_mut());
        out
    }

    /// `c_ready_key` (BT-KS-4).
    pub fn client_ready_key(&self) -> Secret {
        self.derive("c ready", b"")
    }

    /// `s_ready_key` (BT-KS-4).
    pub fn server_ready_key(&self) -> Secret {
        self.derive("s ready", b"")
    }

    /// `c_traffic` (BT-KS-5).
    pub fn client_traffic(&self, h_k: &[u8]) -> Secret {
        self.derive("c traffic", h_k)
    }

    /// `s_traffic` (BT-KS-5).
    pub fn server_traffic(&self, h_k: &[u8]) -> Secret {
        self.derive("s traffic", h_k)
    }

    /// `resumption_secret` (BT-KS-6).
    pub fn resumption_secret(&self, h_f: &[u8]) -> Secret {
        self.derive("resumption", h_f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 test case 1 checks that our HKDF-Extract by HMAC is HKDF-Extract.
    #[test]
    fn extract_matches_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let prk = hmac_sha256(&salt, &ikm);
        assert_eq!(
            hex::encode(prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
    }

    #[test]
    fn transcript_hash_of_nothing_is_sha256_of_empty() {
        assert_eq!(
            hex::encode(Transcript::default().current()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
