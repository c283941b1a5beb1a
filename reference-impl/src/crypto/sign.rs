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
            Inner::EcdsaP256(sk) => ecdsa_p256_rfc6979(sk, message).unwrap_or_else(|| {
                let sig: p256::ecdsa::Signature = sk.sign(message);
                sig.to_bytes().to_vec()
            }),
        }
    }
}

/// The order n of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Deterministic ECDSA P-256 with SHA-256 (RFC 6979), the same signature `p256`'s
/// `SigningKey::sign` makes, with the one costly step, `R = k·G`, done by aws-lc (its
/// constant-time fixed-base multiplication, ~8× faster than the generic one `p256` uses). The
/// nonce (RFC 6979 §3.2, HMAC-DRBG) and the scalar arithmetic `s = k⁻¹(z + r·d) mod n` stay with
/// RustCrypto. `None` only if aws-lc refuses `k`, which a nonce in `1..n` never is; the caller
/// then signs with `p256` alone.
fn ecdsa_p256_rfc6979(key: &p256::ecdsa::SigningKey, message: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::{Field, PrimeField};
    use p256::{FieldBytes, Scalar, U256};
    use sha2::Digest;

    let d: &Scalar = key.as_nonzero_scalar().as_ref();
    let z: FieldBytes = sha2::Sha256::digest(message); // bits2field: 32 bytes, as is
    let k_bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
        rfc6979::generate_k::<sha2::Sha256, _>(
            &d.to_repr(),
            &FieldBytes::from(P256_ORDER),
            &z,
            &[],
        )
        .into(),
    );
    let k = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*k_bytes)))?;
    let k_inv = Option::<Scalar>::from(k.invert())?;
    let ephemeral = aws_lc_rs::agreement::PrivateKey::from_private_key(
        &aws_lc_rs::agreement::ECDH_P256,
        k_bytes.as_slice(),
    )
    .ok()?;
    let point = ephemeral.compute_public_key().ok()?; // 04 || x || y
    let x: [u8; 32] = point.as_ref().get(1..33)?.try_into().ok()?;
    let x = FieldBytes::from(x);
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&x);
    let s = k_inv * (<Scalar as Reduce<U256>>::reduce_bytes(&z) + r * d);
    if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
        return None; // probability ~2^-256; p256's path reports the same
    }
    let mut out = r.to_repr().to_vec();
    out.extend_from_slice(&s.to_repr());
    Some(out)
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
        KeyAlgorithm::ED25519_X25519 => valid_ed25519_point(public_key),
        KeyAlgorithm::ECDSA_P256_ECDH_P256 => {
            public_key.len() == 65
                && public_key.first() == Some(&0x04)
                && p256::PublicKey::from_sec1_bytes(public_key).is_ok()
        }
        _ => false,
    }
}

/// BT-KEY-6 for Ed25519: 32 bytes that decode to a curve point (RFC 8032 §5.1.3), in their one
/// canonical encoding (`y` below p; no sign bit on `x = 0`), of order above 8. A small-order
/// key is refused because the identity and the other small-order points verify signatures
/// that need no private key (`R` a small-order point and `S = 0`), whatever the message.
fn valid_ed25519_point(public_key: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let compressed = curve25519_dalek::edwards::CompressedEdwardsY(bytes);
    compressed
        .decompress()
        .is_some_and(|point| !point.is_small_order() && point.compress() == compressed)
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
    fn small_order_and_non_canonical_ed25519_keys_are_not_valid() {
        let genuine =
            SigningKey::generate(KeyAlgorithm::ED25519_X25519, &mut SeededRandom::new(3)).unwrap();
        assert!(validate_public_key(
            KeyAlgorithm::ED25519_X25519,
            genuine.public_key()
        ));
        let large_order_y3 = hex::decode(format!("03{}", "00".repeat(31))).unwrap();
        assert!(validate_public_key(
            KeyAlgorithm::ED25519_X25519,
            &large_order_y3
        ));
        for (what, key) in [
            ("identity", format!("01{}", "00".repeat(31))),
            ("order 2", format!("ec{}7f", "ff".repeat(30))),
            ("order 4", "00".repeat(32)),
            (
                "order 8",
                "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05".into(),
            ),
            ("sign bit on x = 0", format!("01{}80", "00".repeat(30))),
            ("y = p + 3", format!("f0{}7f", "ff".repeat(30))),
            ("not on the curve", format!("02{}", "00".repeat(31))),
            ("31 bytes", "11".repeat(31)),
        ] {
            let key = hex::decode(key).unwrap();
            assert!(
                !validate_public_key(KeyAlgorithm::ED25519_X25519, &key),
                "{what}"
            );
        }
    }

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
    fn p256_signatures_are_the_rfc6979_signatures_of_the_p256_crate() {
        let mut rng = SeededRandom::new(6979);
        for i in 0..64usize {
            let key = SigningKey::generate(KeyAlgorithm::ECDSA_P256_ECDH_P256, &mut rng).unwrap();
            let Inner::EcdsaP256(sk) = &key.inner else {
                unreachable!()
            };
            let message = vec![u8::try_from(i).unwrap(); i * 7];
            let expected: p256::ecdsa::Signature = sk.sign(&message);
            assert_eq!(key.sign(&message), expected.to_bytes().to_vec(), "key {i}");
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
