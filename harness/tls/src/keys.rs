//! The TLS 1.3 key schedule (RFC 8446 §7.1) and record protection (§5.2), and the TLS 1.2
//! PRF, master secret, key block and AEAD records (RFC 5246 §5, §6.2.3.3, §8.1; RFC 7627;
//! RFC 5288; RFC 7905), on aws-lc-rs's HKDF, HMAC, TLS PRF, digest and AEAD.

use crate::msgs::{CipherSuite, ContentType, ProtocolVersion, Record, MAX_FRAGMENT};
use aws_lc_rs::{aead, digest, hkdf, hmac, tls_prf};

/// What a TLS 1.3 suite is made of.
#[derive(Debug, Clone, Copy)]
pub struct Suite13 {
    /// The suite.
    pub suite: CipherSuite,
    aead: &'static aead::Algorithm,
    hkdf: hkdf::Algorithm,
    hmac: hmac::Algorithm,
    digest: &'static digest::Algorithm,
}

impl Suite13 {
    /// The TLS 1.3 suite `suite`, if it is one.
    pub fn new(suite: CipherSuite) -> Option<Self> {
        let (aead, sha384) = match suite {
            CipherSuite::TLS_AES_128_GCM_SHA256 => (&aead::AES_128_GCM, false),
            CipherSuite::TLS_AES_256_GCM_SHA384 => (&aead::AES_256_GCM, true),
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256 => (&aead::CHACHA20_POLY1305, false),
            _ => return None,
        };
        Some(if sha384 {
            Self {
                suite,
                aead,
                hkdf: hkdf::HKDF_SHA384,
                hmac: hmac::HMAC_SHA384,
                digest: &digest::SHA384,
            }
        } else {
            Self {
                suite,
                aead,
                hkdf: hkdf::HKDF_SHA256,
                hmac: hmac::HMAC_SHA256,
                digest: &digest::SHA256,
            }
        })
    }

    /// The hash's output length.
    pub fn hash_len(&self) -> usize {
        self.digest.output_len()
    }

    /// A running transcript hash.
    pub fn transcript(&self) -> Transcript {
        Transcript::new(self.digest)
    }

    /// HKDF-Extract(salt, ikm).
    pub fn extract(&self, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        // The PRK is HMAC(salt, ikm) (RFC 5869 §2.2); computed directly so that it can be kept.
        let key = hmac::Key::new(self.hmac, salt);
        hmac::sign(&key, ikm).as_ref().to_vec()
    }

    /// HKDF-Expand-Label(secret, label, context, len) (RFC 8446 §7.1).
    pub fn expand_label(&self, secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
        let full = format!("tls13 {label}");
        let mut info = Vec::with_capacity(4 + full.len() + context.len());
        info.extend_from_slice(&(len as u16).to_be_bytes());
        info.push(full.len() as u8);
        info.extend_from_slice(full.as_bytes());
        info.push(context.len() as u8);
        info.extend_from_slice(context);
        let prk = hkdf::Prk::new_less_safe(self.hkdf, secret);
        let mut out = vec![0u8; len];
        let info = [info.as_slice()];
        // Lengths here are at most 48 bytes, far below HKDF's 255 × hash limit.
        if let Ok(okm) = prk.expand(&info, Len(len)) {
            let _ = okm.fill(&mut out);
        }
        out
    }

    /// Derive-Secret(secret, label, transcript hash).
    pub fn derive_secret(&self, secret: &[u8], label: &str, hash: &[u8]) -> Vec<u8> {
        self.expand_label(secret, label, hash, self.hash_len())
    }

    /// The PSK a NewSessionTicket's `nonce` names (RFC 8446 §4.6.1).
    pub fn ticket_psk(&self, resumption_master: &[u8], nonce: &[u8]) -> Vec<u8> {
        self.expand_label(resumption_master, "resumption", nonce, self.hash_len())
    }

    /// A PSK binder over the hash of the truncated ClientHello (RFC 8446 §4.2.11.2): a
    /// Finished computed with the binder key of a resumption PSK.
    pub fn binder(&self, psk: &[u8], truncated_hash: &[u8]) -> Vec<u8> {
        let early = self.extract(&[], psk);
        let binder_key = self.derive_secret(&early, "res binder", &self.empty_hash());
        self.finished(&binder_key, truncated_hash)
    }

    /// The hash of `data` alone.
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest, data).as_ref().to_vec()
    }

    /// The hash of no messages.
    pub fn empty_hash(&self) -> Vec<u8> {
        digest::digest(self.digest, b"").as_ref().to_vec()
    }

    /// HMAC over `data` with `key` (Finished, RFC 8446 §4.4.4).
    pub fn hmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac, key), data)
            .as_ref()
            .to_vec()
    }

    /// The Finished verify_data for the base `traffic_secret` and transcript hash.
    pub fn finished(&self, traffic_secret: &[u8], hash: &[u8]) -> Vec<u8> {
        let key = self.expand_label(traffic_secret, "finished", b"", self.hash_len());
        self.hmac(&key, hash)
    }

    /// The record protection of a traffic secret.
    pub fn record_key(&self, traffic_secret: &[u8]) -> Option<RecordKey13> {
        let key = self.expand_label(traffic_secret, "key", b"", self.aead.key_len());
        let iv = self.expand_label(traffic_secret, "iv", b"", aead::NONCE_LEN);
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(self.aead, &key).ok()?);
        let mut iv_bytes = [0u8; aead::NONCE_LEN];
        iv_bytes.copy_from_slice(&iv);
        Some(RecordKey13 {
            key,
            iv: iv_bytes,
            seq: 0,
        })
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// A running transcript hash.
pub struct Transcript(digest::Context);

impl Transcript {
    fn new(algorithm: &'static digest::Algorithm) -> Self {
        Self(digest::Context::new(algorithm))
    }

    /// Adds a whole handshake message (header included).
    pub fn add(&mut self, message: &[u8]) {
        self.0.update(message);
    }

    /// The hash of everything added so far.
    pub fn current(&self) -> Vec<u8> {
        self.0.clone().finish().as_ref().to_vec()
    }
}

/// The secrets of one TLS 1.3 handshake, as they are derived.
#[derive(Debug, Clone)]
pub struct Secrets13 {
    /// client_handshake_traffic_secret
    pub client_handshake: Vec<u8>,
    /// server_handshake_traffic_secret
    pub server_handshake: Vec<u8>,
    /// The master secret.
    pub master: Vec<u8>,
}

impl Secrets13 {
    /// The handshake secrets from the (EC)DHE shared secret and the hash through ServerHello,
    /// with no PSK.
    pub fn new(suite: &Suite13, shared: &[u8], hello_hash: &[u8]) -> Self {
        Self::with_psk(suite, None, shared, hello_hash)
    }

    /// The handshake secrets of a handshake that resumes with `psk` (psk_dhe_ke, RFC 8446
    /// §7.1: the PSK is the early secret's input), or with none.
    pub fn with_psk(suite: &Suite13, psk: Option<&[u8]>, shared: &[u8], hello_hash: &[u8]) -> Self {
        let zeros = vec![0u8; suite.hash_len()];
        let early = suite.extract(&[], psk.unwrap_or(&zeros));
        let derived = suite.derive_secret(&early, "derived", &suite.empty_hash());
        let handshake = suite.extract(&derived, shared);
        let client_handshake = suite.derive_secret(&handshake, "c hs traffic", hello_hash);
        let server_handshake = suite.derive_secret(&handshake, "s hs traffic", hello_hash);
        let derived = suite.derive_secret(&handshake, "derived", &suite.empty_hash());
        let master = suite.extract(&derived, &zeros);
        Self {
            client_handshake,
            server_handshake,
            master,
        }
    }

    /// resumption_master_secret from the hash through the client's Finished (RFC 8446 §7.1).
    pub fn resumption_master(&self, suite: &Suite13, hash: &[u8]) -> Vec<u8> {
        suite.derive_secret(&self.master, "res master", hash)
    }

    /// (client, server) application traffic secrets from the hash through server Finished.
    pub fn application(&self, suite: &Suite13, hash: &[u8]) -> (Vec<u8>, Vec<u8>) {
        (
            suite.derive_secret(&self.master, "c ap traffic", hash),
            suite.derive_secret(&self.master, "s ap traffic", hash),
        )
    }
}

/// One direction's TLS 1.3 record protection.
pub struct RecordKey13 {
    key: aead::LessSafeKey,
    iv: [u8; aead::NONCE_LEN],
    seq: u64,
}

impl RecordKey13 {
    fn nonce(&self) -> aead::Nonce {
        let mut n = self.iv;
        for (b, s) in n.iter_mut().rev().zip(self.seq.to_be_bytes().iter().rev()) {
            *b ^= s;
        }
        aead::Nonce::assume_unique_for_key(n)
    }

    /// Seals `content` of `typ` with `padding` zero bytes into an application_data record
    /// (RFC 8446 §5.2).
    pub fn seal(&mut self, typ: ContentType, content: &[u8], padding: usize) -> Option<Record> {
        let mut inner = Vec::with_capacity(content.len() + 1 + padding + 16);
        inner.extend_from_slice(content);
        inner.push(typ.0);
        inner.resize(inner.len() + padding, 0);
        let len = u16::try_from(inner.len() + self.key.algorithm().tag_len()).ok()?;
        let mut header = [23u8, 3, 3, 0, 0];
        header[3..].copy_from_slice(&len.to_be_bytes());
        self.key
            .seal_in_place_append_tag(self.nonce(), aead::Aad::from(header), &mut inner)
            .ok()?;
        self.seq = self.seq.checked_add(1)?;
        Some(Record {
            content_type: ContentType::APPLICATION_DATA,
            version: ProtocolVersion::TLS12,
            fragment: inner,
        })
    }

    /// Opens a protected record: the inner content type and the content, or `None` if it does
    /// not authenticate, or its plaintext is over 2^14 bytes or all padding.
    pub fn open(&mut self, record: &Record) -> Option<(ContentType, Vec<u8>)> {
        let mut header = [0u8; 5];
        header.copy_from_slice(record.encode(None).get(..5)?);
        let mut body = record.fragment.clone();
        let plain = self
            .key
            .open_in_place(self.nonce(), aead::Aad::from(header), &mut body)
            .ok()?;
        let end = plain.iter().rposition(|b| *b != 0)?;
        let typ = ContentType(*plain.get(end)?);
        let content = plain.get(..end)?.to_vec();
        if content.len() > MAX_FRAGMENT {
            return None;
        }
        self.seq = self.seq.checked_add(1)?;
        Some((typ, content))
    }
}

/// How a TLS 1.2 suite authenticates its key exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth12 {
    /// ECDHE_ECDSA
    Ecdsa,
    /// ECDHE_RSA
    Rsa,
}

/// What a TLS 1.2 ECDHE AEAD suite is made of.
#[derive(Debug, Clone, Copy)]
pub struct Suite12 {
    /// The suite.
    pub suite: CipherSuite,
    /// Its certificate's key type.
    pub auth: Auth12,
    /// Whether the key exchange is RSA (the premaster encrypted to the certificate's key,
    /// RFC 5246 §7.4.7.1) rather than ECDHE.
    pub rsa_kx: bool,
    aead: &'static aead::Algorithm,
    prf: &'static tls_prf::Algorithm,
    digest: &'static digest::Algorithm,
    /// AES-GCM: a 4-byte salt and an 8-byte explicit nonce in each record (RFC 5288);
    /// ChaCha20-Poly1305: a 12-byte IV and no explicit nonce (RFC 7905).
    explicit_nonce: bool,
}

impl Suite12 {
    /// The TLS 1.2 suite `suite` (ECDHE or RSA key exchange, AEAD), if the harness implements
    /// it.
    pub fn new(suite: CipherSuite) -> Option<Self> {
        use CipherSuite as C;
        let (auth, aead, sha384, explicit_nonce) = match suite {
            C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => {
                (Auth12::Ecdsa, &aead::AES_128_GCM, false, true)
            }
            C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => {
                (Auth12::Ecdsa, &aead::AES_256_GCM, true, true)
            }
            C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => {
                (Auth12::Rsa, &aead::AES_128_GCM, false, true)
            }
            C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => {
                (Auth12::Rsa, &aead::AES_256_GCM, true, true)
            }
            C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
                (Auth12::Ecdsa, &aead::CHACHA20_POLY1305, false, false)
            }
            C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => {
                (Auth12::Rsa, &aead::CHACHA20_POLY1305, false, false)
            }
            C::TLS_RSA_WITH_AES_128_GCM_SHA256 => (Auth12::Rsa, &aead::AES_128_GCM, false, true),
            C::TLS_RSA_WITH_AES_256_GCM_SHA384 => (Auth12::Rsa, &aead::AES_256_GCM, true, true),
            _ => return None,
        };
        Some(Self {
            suite,
            auth,
            rsa_kx: matches!(
                suite,
                C::TLS_RSA_WITH_AES_128_GCM_SHA256 | C::TLS_RSA_WITH_AES_256_GCM_SHA384
            ),
            aead,
            prf: if sha384 {
                &tls_prf::P_SHA384
            } else {
                &tls_prf::P_SHA256
            },
            digest: if sha384 {
                &digest::SHA384
            } else {
                &digest::SHA256
            },
            explicit_nonce,
        })
    }

    /// A running transcript hash with the suite's PRF hash.
    pub fn transcript(&self) -> Transcript {
        Transcript::new(self.digest)
    }

    /// PRF(secret, label, seed) of `len` bytes (RFC 5246 §5).
    pub fn prf(&self, secret: &[u8], label: &str, seed: &[u8], len: usize) -> Vec<u8> {
        tls_prf::Secret::new(self.prf, secret)
            .and_then(|s| s.derive(label.as_bytes(), seed, len))
            .map(|d| d.as_ref().to_vec())
            .unwrap_or_default()
    }

    /// The master secret: RFC 7627's extended one over `session_hash` when `extended`, else
    /// RFC 5246 §8.1's over the randoms.
    pub fn master_secret(
        &self,
        pre_master: &[u8],
        extended: bool,
        session_hash: &[u8],
        client_random: &[u8],
        server_random: &[u8],
    ) -> Vec<u8> {
        if extended {
            self.prf(pre_master, "extended master secret", session_hash, 48)
        } else {
            let seed = [client_random, server_random].concat();
            self.prf(pre_master, "master secret", &seed, 48)
        }
    }

    /// The client's and the server's record keys from the key block (RFC 5246 §6.3).
    pub fn record_keys(
        &self,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
    ) -> Option<(RecordKey12, RecordKey12)> {
        let key_len = self.aead.key_len();
        let iv_len = if self.explicit_nonce { 4 } else { 12 };
        let seed = [server_random, client_random].concat();
        let block = self.prf(master, "key expansion", &seed, 2 * (key_len + iv_len));
        let (client_key, rest) = block.split_at_checked(key_len)?;
        let (server_key, rest) = rest.split_at_checked(key_len)?;
        let (client_iv, server_iv) = rest.split_at_checked(iv_len)?;
        let make = |key: &[u8], iv: &[u8]| -> Option<RecordKey12> {
            Some(RecordKey12 {
                key: aead::LessSafeKey::new(aead::UnboundKey::new(self.aead, key).ok()?),
                iv: iv.to_vec(),
                explicit_nonce: self.explicit_nonce,
                seq: 0,
            })
        };
        Some((make(client_key, client_iv)?, make(server_key, server_iv)?))
    }

    /// Finished's verify_data: PRF(master, label, hash, 12) (RFC 5246 §7.4.9).
    pub fn finished(&self, master: &[u8], label: &str, hash: &[u8]) -> Vec<u8> {
        self.prf(master, label, hash, 12)
    }
}

/// One direction's TLS 1.2 AEAD record protection.
pub struct RecordKey12 {
    key: aead::LessSafeKey,
    iv: Vec<u8>,
    explicit_nonce: bool,
    seq: u64,
}

impl RecordKey12 {
    fn nonce(&self, explicit: &[u8]) -> Option<aead::Nonce> {
        let mut n = [0u8; aead::NONCE_LEN];
        if self.explicit_nonce {
            n.get_mut(..4)?.copy_from_slice(self.iv.get(..4)?);
            n.get_mut(4..)?.copy_from_slice(explicit.get(..8)?);
        } else {
            n.copy_from_slice(self.iv.get(..12)?);
            for (b, s) in n.iter_mut().rev().zip(self.seq.to_be_bytes().iter().rev()) {
                *b ^= s;
            }
        }
        Some(aead::Nonce::assume_unique_for_key(n))
    }

    fn aad(&self, typ: ContentType, version: ProtocolVersion, len: usize) -> [u8; 13] {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.seq.to_be_bytes());
        aad[8] = typ.0;
        aad[9..11].copy_from_slice(&version.0.to_be_bytes());
        aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
        aad
    }

    /// Seals `content` into a record of type `typ` (RFC 5246 §6.2.3.3): the explicit nonce is
    /// the sequence number.
    pub fn seal(&mut self, typ: ContentType, content: &[u8]) -> Option<Record> {
        let explicit = self.seq.to_be_bytes();
        let nonce = self.nonce(&explicit)?;
        let aad = self.aad(typ, ProtocolVersion::TLS12, content.len());
        let mut body = content.to_vec();
        self.key
            .seal_in_place_append_tag(nonce, aead::Aad::from(aad), &mut body)
            .ok()?;
        let fragment = if self.explicit_nonce {
            [explicit.as_slice(), &body].concat()
        } else {
            body
        };
        self.seq = self.seq.checked_add(1)?;
        Some(Record {
            content_type: typ,
            version: ProtocolVersion::TLS12,
            fragment,
        })
    }

    /// Opens a protected record: its type and plaintext, or `None` if it does not authenticate.
    pub fn open(&mut self, record: &Record) -> Option<(ContentType, Vec<u8>)> {
        let tag = self.key.algorithm().tag_len();
        let (explicit, body) = if self.explicit_nonce {
            record.fragment.split_at_checked(8)?
        } else {
            (&[][..], record.fragment.as_slice())
        };
        let plain_len = body.len().checked_sub(tag)?;
        let nonce = self.nonce(explicit)?;
        let aad = self.aad(record.content_type, record.version, plain_len);
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from(aad), &mut buf)
            .ok()?
            .to_vec();
        if plain.len() > MAX_FRAGMENT {
            return None;
        }
        self.seq = self.seq.checked_add(1)?;
        Some((record.content_type, plain))
    }
}

/// One direction's record protection, in TLS 1.3 or TLS 1.2.
pub enum RecordKey {
    /// TLS 1.3 (the inner content type, outer application_data).
    V13(RecordKey13),
    /// TLS 1.2 (the outer content type).
    V12(RecordKey12),
}

impl RecordKey {
    /// Seals `content` of `typ`.
    pub fn seal(&mut self, typ: ContentType, content: &[u8]) -> Option<Record> {
        match self {
            Self::V13(k) => k.seal(typ, content, 0),
            Self::V12(k) => k.seal(typ, content),
        }
    }

    /// Opens a record.
    pub fn open(&mut self, record: &Record) -> Option<(ContentType, Vec<u8>)> {
        match self {
            Self::V13(k) => k.open(record),
            Self::V12(k) => k.open(record),
        }
    }

    /// Whether a record of this outer type is protected under this key (TLS 1.3: only
    /// application_data; TLS 1.2: every type but change_cipher_spec).
    pub fn protects(&self, outer: ContentType) -> bool {
        match self {
            Self::V13(_) => outer == ContentType::APPLICATION_DATA,
            Self::V12(_) => outer != ContentType::CHANGE_CIPHER_SPEC,
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (a simple 1-RTT handshake): the early secret's "derived" value and the
    /// server handshake key from its handshake traffic secret.
    #[test]
    fn the_schedule_matches_rfc_8448() {
        let suite = Suite13::new(CipherSuite::TLS_AES_128_GCM_SHA256).expect("a 1.3 suite");
        let early = suite.extract(&[], &[0u8; 32]);
        assert_eq!(
            hex::encode(&early),
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
        );
        let derived = suite.derive_secret(&early, "derived", &suite.empty_hash());
        assert_eq!(
            hex::encode(derived),
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"
        );
        let s_hs = hex::decode("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
            .expect("hex");
        let key = suite.expand_label(&s_hs, "key", b"", 16);
        assert_eq!(hex::encode(key), "3fce516009c21727d0f2e4e86ee403bc");
        let iv = suite.expand_label(&s_hs, "iv", b"", 12);
        assert_eq!(hex::encode(iv), "5d313eb2671276ee13000b30");
    }

    #[test]
    fn a_sealed_record_opens_once_and_padding_is_stripped() {
        let suite = Suite13::new(CipherSuite::TLS_CHACHA20_POLY1305_SHA256).expect("a 1.3 suite");
        let mut tx = suite.record_key(&[7u8; 32]).expect("key");
        let mut rx = suite.record_key(&[7u8; 32]).expect("key");
        let rec = tx
            .seal(ContentType::HANDSHAKE, b"hello", 3)
            .expect("sealed");
        assert_eq!(rec.fragment.len(), 5 + 1 + 3 + 16);
        assert_eq!(
            rx.open(&rec),
            Some((ContentType::HANDSHAKE, b"hello".to_vec()))
        );
        assert_eq!(rx.open(&rec), None, "the sequence number moved on");
    }
}
