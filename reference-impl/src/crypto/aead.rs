//! Record protection (SPEC §7).

use super::schedule::expand_label;
use crate::msgs::{CipherSuite, FrameHeader, FRAME_HEADER_LEN};
use aws_lc_rs::aead;
use zeroize::Zeroizing;

/// Length of the AEAD tag of every suite.
pub const TAG_LEN: usize = 16;

/// The most frames one direction's key protects (BT-REC-8): RFC 8446 §5.5's bound for AES-GCM.
pub const RECORD_LIMIT: u64 = 1 << 24;

/// The key, IV and sequence number of one direction.
pub struct RecordKey {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
    limit: u64,
}

impl RecordKey {
    /// Derives `key` and `iv` from a traffic secret (BT-KS-5); `None` for an unknown suite.
    pub fn from_traffic(suite: CipherSuite, traffic: &[u8; 32]) -> Option<Self> {
        let alg = match suite {
            CipherSuite::AES_256_GCM => &aead::AES_256_GCM,
            CipherSuite::CHACHA20_POLY1305 => &aead::CHACHA20_POLY1305,
            _ => return None,
        };
        let mut key = Zeroizing::new([0u8; 32]);
        expand_label(traffic, "key", b"", key.as_mut());
        let mut iv = [0u8; 12];
        expand_label(traffic, "iv", b"", &mut iv);
        let unbound = aead::UnboundKey::new(alg, key.as_ref()).ok()?;
        Some(Self {
            key: aead::LessSafeKey::new(unbound),
            iv,
            seq: 0,
            limit: RECORD_LIMIT,
        })
    }

    /// The number of frames this key may protect (BT-REC-8); frames with a sequence number at
    /// or past it are neither sealed nor opened.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets the record limit (BT-REC-8 allows a lower one than [`RECORD_LIMIT`]).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The sequence number the next frame will use.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// Sets the sequence number of the next frame (for test vectors at arbitrary positions).
    pub fn set_sequence(&mut self, seq: u64) {
        self.seq = seq;
    }

    fn nonce(&self) -> aead::Nonce {
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        aead::Nonce::assume_unique_for_key(nonce)
    }

    /// Seals `plaintext` into a whole protected frame (BT-REC-2). `None` when the sequence
    /// number is exhausted (BT-REC-5).
    pub fn seal(
        &mut self,
        content_type: crate::msgs::ContentType,
        subcode: u8,
        plaintext: &[u8],
    ) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(FRAME_HEADER_LEN + plaintext.len() + TAG_LEN);
        self.seal_into(content_type, subcode, plaintext, &mut out)?;
        Some(out)
    }

    /// Like [`RecordKey::seal`], appending the frame to `out` and sealing it there (no copy of
    /// its own). On `None` nothing is appended.
    pub fn seal_into(
        &mut self,
        content_type: crate::msgs::ContentType,
        subcode: u8,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if self.seq >= self.limit {
            return None; // BT-REC-8
        }
        let next = self.seq.checked_add(1)?;
        let len = u16::try_from(plaintext.len() + TAG_LEN).ok()?;
        let header = FrameHeader {
            content_type,
            subcode,
            length: len,
        }
        .to_bytes();
        let start = out.len();
        out.reserve(header.len() + usize::from(len));
        out.extend_from_slice(&header);
        out.extend_from_slice(plaintext);
        let sealed = out.get_mut(start + header.len()..).and_then(|body| {
            self.key
                .seal_in_place_separate_tag(self.nonce(), aead::Aad::from(header), body)
                .ok()
        });
        let Some(tag) = sealed else {
            out.truncate(start);
            return None;
        };
        out.extend_from_slice(tag.as_ref());
        self.seq = next;
        Some(())
    }

    /// Opens a protected body in place and returns the plaintext; `None` if it does not
    /// authenticate (BT-REC-4). The sequence number advances only on success.
    pub fn open<'a>(&mut self, header: FrameHeader, body: &'a mut [u8]) -> Option<&'a mut [u8]> {
        if self.seq >= self.limit {
            return None; // BT-REC-8
        }
        let next = self.seq.checked_add(1)?;
        if body.len() < TAG_LEN {
            return None;
        }
        let plain = self
            .key
            .open_in_place(self.nonce(), aead::Aad::from(header.to_bytes()), body)
            .ok()?;
        self.seq = next;
        Some(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::ContentType;

    #[test]
    fn seal_then_open_round_trips_and_tamper_fails() {
        for suite in CipherSuite::ALL {
            let mut w = RecordKey::from_traffic(*suite, &[7; 32]).unwrap();
            let mut r = RecordKey::from_traffic(*suite, &[7; 32]).unwrap();
            for msg in [&b"first"[..], b"", b"third"] {
                let frame = w.seal(ContentType::APPLICATION, 0, msg).unwrap();
                let header = FrameHeader::parse(frame[..4].try_into().unwrap());
                let mut body = frame[4..].to_vec();
                assert_eq!(r.open(header, &mut body).unwrap(), msg);
            }
            let frame = w.seal(ContentType::APPLICATION, 0, b"x").unwrap();
            let header = FrameHeader::parse(frame[..4].try_into().unwrap());
            let mut body = frame[4..].to_vec();
            body[0] ^= 1;
            assert!(r.open(header, &mut body).is_none());
        }
    }

    #[test]
    fn replayed_frame_does_not_open_under_the_next_sequence_number() {
        let mut w = RecordKey::from_traffic(CipherSuite::AES_256_GCM, &[1; 32]).unwrap();
        let mut r = RecordKey::from_traffic(CipherSuite::AES_256_GCM, &[1; 32]).unwrap();
        let frame = w.seal(ContentType::APPLICATION, 0, b"once").unwrap();
        let header = FrameHeader::parse(frame[..4].try_into().unwrap());
        assert!(r.open(header, &mut frame[4..].to_vec()).is_some());
        assert!(r.open(header, &mut frame[4..].to_vec()).is_none());
    }
}
