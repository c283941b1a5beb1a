//! Long-term signing keys (SPEC §2.3) and signature verification.

use crate::msgs::KeyAlgorithm;
use aws_lc_rs::signature::{self, KeyPair};
use p256::ecdsa::signature::Signer;
use zeroize::Zeroizing;

/// A party's long-term private key.
pub struct SigningKey {
    algorithm: KeyAlgorithm,
    inner: Inner,
    seed: Zeroizing<[u8; 32]>,
    public_key: Vec<u8>,
}

enum Inner {
    Ed25519(signature::Ed25519KeyPair),
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// Builds the key of `algorithm` from its 32 private bytes (the Ed25519 seed, or the P-256
    /// scalar). Returns `None` if the bytes are not a valid private key or the algorithm is unknown.
    pub fn from_private_bytes(algorithm: KeyAlgorithm, bytes: &[u8]) -> Option<Self> {
        let seed: [u8; 32] = bytes.try_into().ok()?;
        let (inner, public_key) = match algorithm {
            KeyAlgorithm::ED25519_X25519 => {
                let kp = signature::Ed25519KeyPair::from_seed_unchecked(&seed).ok()?;
                let public = kp.public_key().as_ref().to_vec();
                (Inner::Ed25519(kp), public)
            }
            KeyAlgorithm::ECDSA_P256_ECDH_P256 => {
                let sk = p256::ecdsa::SigningKey::from_slice(&seed).ok()?;
                let public = sk
                    .verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec();
                (Inner::EcdsaP256(sk), public)
            }
            _ => return None,
        };
        Some(Self {
            algorithm,
            inner,
            seed: Zeroizing::new(seed),
            public_key,
        })
    }

    /// A fresh key of `algorithm` from `rng`.
    pub fn generate(algorithm: KeyAlgorithm, rng: &mut dyn super::RandomSource) -> Option<Self> {
        for _ in 0..64 {
            let mut seed = Zeroizing::new([0u8; 32]);
            rng.fill(seed.as_mut());
            if let Some(key) = Self::from_private_bytes(algorithm, seed.as_ref()) {
                return Some(key);
            }
        }
        None
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key bytes as published (SPEC §2.3).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The 32 private bytes, for writing key files.
    pub fn private_bytes(&self) -> &[u8; 32] {
        &self.seed
    }

    /// Signs `message`. Both algorithms are deterministic: Ed25519 by design, ECDSA by RFC 6979.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            Inner::Ed25519(kp) => kp.sign(message).as_ref().to_vec(),
            Inner::EcdsaP256(sk) => {
                let sig: p256::ecdsa::Signature = sk.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("public_key", &hex::encode(&self.public_key))
            .finish_non_exhaustive()
    }
}

/// Whether `public_key` is a valid public key of `algorithm` (BT-KEY-6).
pub fn validate_public_key(algorithm: KeyAlgorithm, public_key: &[u8]) -> bool {
    match algorithm {
        KeyAlgorithm::ED25519_X25519 => public_key.len() == 32,
        KeyAlgorithm::ECDSA_P256_ECDH_P256 => {
            public_key.len() == 65
                && public_key.first() == Some(&0x04)
                && p256::PublicKey::from_sec1_bytes(public_key).is_ok()
        }
        _ => false,
    }
}

/// Verifies a long-term signature (BT-HS-20, BT-HS-21).
pub fn verify_signature(
    algorithm: KeyAlgorithm,
    public_key: &[u8],
    message: &[u8],
    sig: &[u8],
) -> bool {
    let alg: &dyn signature::VerificationAlgorithm = match algorithm {
        KeyAlgorithm::ED25519_X25519 => &signature::ED25519,
        KeyAlgorithm::ECDSA_P256_ECDH_P256 => &signature::ECDSA_P256_SHA256_FIXED,
        _ => return false,
    };
    signature::UnparsedPublicKey::new(alg, public_key)
        .verify(message, sig)
        .is_ok()
}

/// Verifies a registry signature: always Ed25519 (BT-KEY-1).
pub fn registry_verify(registry_public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
    verify_signature(
        KeyAlgorithm::ED25519_X25519,
        registry_public_key,
        message,
        sig,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;

    #[test]
    fn both_algorithms_sign_deterministically_and_verify() {
        for alg in KeyAlgorithm::ALL {
            let key = SigningKey::generate(*alg, &mut SeededRandom::new(1)).unwrap();
            let a = key.sign(b"transcript");
            let b = key.sign(b"transcript");
            assert_eq!(a, b, "{alg} signatures must be deterministic");
            assert_eq!(a.len(), 64);
            assert!(validate_public_key(*alg, key.public_key()));
            assert!(verify_signature(*alg, key.public_key(), b"transcript", &a));
            assert!(!verify_signature(*alg, key.public_key(), b"transcripT", &a));
        }
    }

    #[test]
    fn off_curve_p256_key_is_malformed() {
        let mut bogus = vec![0x04];
        bogus.extend_from_slice(&[0x11; 64]);
        assert!(!validate_public_key(
            KeyAlgorithm::ECDSA_P256_ECDH_P256,
            &bogus
        ));
        assert!(!validate_public_key(KeyAlgorithm::ED25519_X25519, &[0; 31]));
        assert!(!validate_public_key(KeyAlgorithm(9), &[0; 32]));
    }
}
