//! Cryptography for bTLS 1.0, all from aws-lc-rs except deterministic ECDSA signing (RFC 6979),
//! which comes from the RustCrypto `p256` crate so that a seeded run is byte-identical.

mod aead;
mod kx;
mod rng;
mod schedule;
mod sign;

pub use aead::{RecordKey, RECORD_LIMIT, TAG_LEN};
pub use kx::{validate_key_share, EphemeralKey};
pub use rng::{OsRandom, RandomSource, SeededRandom};
pub use schedule::{expand_label, hmac_sha256, hmac_verify, KeySchedule, Transcript, HASH_LEN};
pub use sign::{registry_verify, validate_public_key, verify_signature, SigningKey};

/// A 32-byte secret that is zeroized on drop (BT-KS-7).
pub type Secret = zeroize::Zeroizing<[u8; 32]>;
