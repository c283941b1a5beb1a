//! The crypto floor: the primitives one handshake needs, with nothing else, from aws-lc-rs.
//!
//! Counted from SPEC.md for one bTLS full handshake *pair* (client and server together):
//!
//! | primitive | per side | why |
//! |---|---|---|
//! | ephemeral key generation | 1 | the key share of each hello (BT-KS-1) |
//! | ECDH | 1 | the shared secret (BT-KS-1) |
//! | signature | 1 | SESSION_DETAILS (server, BT-HS-20), CLIENT_READY (client, BT-HS-21) |
//! | verification | 1 | of the peer's signature |
//! | HKDF-Extract | 1 | `master` (BT-KS-2) |
//! | HKDF-Expand | 9 | both READY keys, both traffic secrets, key and IV per direction, resumption (BT-KS-4..6) |
//! | HMAC-SHA256 | 2 | own READY, peer's READY (BT-HS-22, BT-HS-23) |
//! | SHA-256 | the transcript once, 4 finalisations | BT-HS-1: signed hash, `h_k`, READY inputs, `h_f` |
//! | AEAD key setup | 2 | one per direction |
//!
//! A resumed pair has no signature and no verification (BT-RES-6). The rustls TLS 1.3 pair the
//! baseline runs has 2 key generations, 2 ECDH, 1 signature (CertificateVerify) and 2
//! verifications (the certificate's signature by the CA, CertificateVerify); its floor is given the
//! same symmetric allowance.

use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};
use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use aws_lc_rs::{digest, hkdf, hmac, rand::SystemRandom};
use btls::msgs::{CipherSuite, KeyAlgorithm};
use std::hint::black_box;

/// The length of the handshake frames of an Ed25519 full handshake (measured: ~480 bytes).
pub(crate) const TRANSCRIPT_LEN: usize = 480;

enum Signer {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// One algorithm's keys and a signed message, ready for the primitives.
pub(crate) struct Floor {
    kx: &'static agreement::Algorithm,
    verify_alg: &'static dyn signature::VerificationAlgorithm,
    signer: Signer,
    public_key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    eph_seed: [u8; 32],
    eph: PrivateKey,
    peer_share: Vec<u8>,
    transcript: Vec<u8>,
    rng: SystemRandom,
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Floor {
    /// Keys of `alg` (ED25519_X25519 or ECDSA_P256_ECDH_P256).
    pub(crate) fn new(alg: KeyAlgorithm) -> Self {
        let rng = SystemRandom::new();
        let message = [b"bTLS 1.0 SESSION_DETAILS\0".as_slice(), &[0x42; 66]].concat();
        let (kx, verify_alg, signer, public_key): (
            _,
            &'static dyn signature::VerificationAlgorithm,
            _,
            _,
        ) = match alg {
            KeyAlgorithm::ED25519_X25519 => {
                let kp = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
                let public = kp.public_key().as_ref().to_vec();
                (
                    &agreement::X25519,
                    &signature::ED25519,
                    Signer::Ed25519(kp),
                    public,
                )
            }
            KeyAlgorithm::ECDSA_P256_ECDH_P256 => {
                let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
                let public = kp.public_key().as_ref().to_vec();
                (
                    &agreement::ECDH_P256,
                    &ECDSA_P256_SHA256_FIXED,
                    Signer::Ecdsa(kp),
                    public,
                )
            }
            other => panic!("no floor for {other}"),
        };
        let eph_seed = [9; 32];
        let peer = PrivateKey::from_private_key(kx, &[5; 32]).unwrap();
        let peer_share = peer.compute_public_key().unwrap().as_ref().to_vec();
        let eph = PrivateKey::from_private_key(kx, &eph_seed).unwrap();
        let mut floor = Self {
            kx,
            verify_alg,
            signer,
            public_key,
            message,
            signature: Vec::new(),
            eph_seed,
            eph,
            peer_share,
            transcript: vec![0x5a; TRANSCRIPT_LEN],
            rng,
        };
        floor.signature = floor.sign();
        assert!(floor.verify());
        floor
    }

    /// Ephemeral key generation: a private key and its public share.
    pub(crate) fn keygen(&self) -> usize {
        let key = PrivateKey::from_private_key(self.kx, &self.eph_seed).unwrap();
        key.compute_public_key().unwrap().as_ref().len()
    }

    /// ECDH with the peer's share, with the key [`Floor::keygen`] made.
    pub(crate) fn agree(&self) -> u8 {
        agreement::agree(
            &self.eph,
            UnparsedPublicKey::new(self.kx, &self.peer_share),
            (),
            |s| Ok(s[0]),
        )
        .unwrap()
    }

    /// A long-term signature over a SESSION_DETAILS-sized message.
    pub(crate) fn sign(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Ed25519(kp) => kp.sign(&self.message).as_ref().to_vec(),
            Signer::Ecdsa(kp) => kp.sign(&self.rng, &self.message).unwrap().as_ref().to_vec(),
        }
    }

    /// A verification of the peer's signature.
    pub(crate) fn verify(&self) -> bool {
        signature::UnparsedPublicKey::new(self.verify_alg, &self.public_key)
            .verify(&self.message, &self.signature)
            .is_ok()
    }

    /// HKDF-Expand of one 32-byte secret.
    pub(crate) fn hkdf_expand(&self) -> u8 {
        let mut out = [0u8; 32];
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &self.eph_seed);
        let info: [&[u8]; 3] = [b"\x00\x20", b"\x10btls10 c traffic", &[0u8; 33]];
        prk.expand(&info, Len(32)).unwrap().fill(&mut out).unwrap();
        out[0]
    }

    /// HMAC-SHA256 of a 32-byte input under a 32-byte key (HKDF-Extract and READY MACs).
    pub(crate) fn hmac(&self) -> u8 {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.eph_seed);
        hmac::sign(&key, &self.peer_share[..32]).as_ref()[0]
    }

    /// The transcript hash: every frame once, four finalisations.
    pub(crate) fn transcript_hash(&self) -> u8 {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&self.transcript);
        let mut x = 0;
        for _ in 0..4 {
            x ^= ctx.clone().finish().as_ref()[0];
        }
        x
    }

    /// One AEAD key setup.
    pub(crate) fn aead_setup(&self) -> usize {
        let key = UnboundKey::new(&AES_256_GCM, &self.eph_seed).unwrap();
        LessSafeKey::new(key).algorithm().key_len()
    }

    /// The symmetric work of one side of a handshake (see the module's table).
    pub(crate) fn symmetric_side(&self) {
        black_box(self.hmac()); // HKDF-Extract
        for _ in 0..9 {
            black_box(self.hkdf_expand());
        }
        black_box(self.hmac());
        black_box(self.hmac());
        black_box(self.transcript_hash());
        black_box(self.aead_setup());
        black_box(self.aead_setup());
    }

    /// Every primitive of one bTLS full handshake pair.
    pub(crate) fn btls_full_pair(&self) {
        for _side in 0..2 {
            black_box(self.keygen());
            black_box(self.agree());
            black_box(self.sign());
            black_box(self.verify());
            self.symmetric_side();
        }
    }

    /// Every primitive of one resumed pair (bTLS, or TLS 1.3 PSK with (EC)DHE).
    pub(crate) fn resumed_pair(&self) {
        for _side in 0..2 {
            black_box(self.keygen());
            black_box(self.agree());
            self.symmetric_side();
        }
    }

    /// The asymmetric primitives of one rustls TLS 1.3 full pair (server authentication only),
    /// with the same symmetric allowance.
    pub(crate) fn rustls_full_pair(&self) {
        for _side in 0..2 {
            black_box(self.keygen());
            black_box(self.agree());
            black_box(self.verify()); // the certificate (client), nothing (server): 2 in all
            self.symmetric_side();
        }
        black_box(self.sign()); // CertificateVerify
    }
}

/// Seal then open one record in place with aws-lc-rs alone: the floor of bulk transfer.
pub(crate) struct AeadFloor {
    key: LessSafeKey,
    buf: Vec<u8>,
    seq: u64,
}

impl AeadFloor {
    /// A key of `suite`'s AEAD.
    pub(crate) fn new(suite: CipherSuite) -> Self {
        let alg = match suite {
            CipherSuite::AES_256_GCM => &AES_256_GCM,
            CipherSuite::CHACHA20_POLY1305 => &CHACHA20_POLY1305,
            other => panic!("no AEAD for {other}"),
        };
        Self {
            key: LessSafeKey::new(UnboundKey::new(alg, &[3; 32]).unwrap()),
            buf: Vec::with_capacity(64 * 1024),
            seq: 0,
        }
    }

    fn nonce(&self) -> aws_lc_rs::aead::Nonce {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&self.seq.to_be_bytes());
        aws_lc_rs::aead::Nonce::assume_unique_for_key(n)
    }

    /// Seals `data` and opens it again, in one buffer, no copies beyond the first.
    pub(crate) fn seal_open(&mut self, data: &[u8]) -> usize {
        self.seq += 1;
        self.buf.clear();
        self.buf.extend_from_slice(data);
        let aad = [0x03, 0, 0x40, 0x10];
        self.key
            .seal_in_place_append_tag(self.nonce(), aws_lc_rs::aead::Aad::from(aad), &mut self.buf)
            .unwrap();
        let plain = self
            .key
            .open_in_place(self.nonce(), aws_lc_rs::aead::Aad::from(aad), &mut self.buf)
            .unwrap();
        plain.len()
    }
}
