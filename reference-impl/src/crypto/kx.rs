//! Ephemeral key agreement (BT-KS-1).

use super::{RandomSource, Secret};
use crate::msgs::KeyAlgorithm;
use aws_lc_rs::agreement;
use zeroize::Zeroizing;

/// An ephemeral private key and its public share.
pub struct EphemeralKey {
    algorithm: KeyAlgorithm,
    private: agreement::PrivateKey,
    public: Vec<u8>,
}

fn agreement_alg(algorithm: KeyAlgorithm) -> Option<&'static agreement::Algorithm> {
    match algorithm {
        KeyAlgorithm::ED25519_X25519 => Some(&agreement::X25519),
        KeyAlgorithm::ECDSA_P256_ECDH_P256 => Some(&agreement::ECDH_P256),
        _ => None,
    }
}

impl EphemeralKey {
    /// A fresh key of `algorithm`'s agreement from `rng`; `None` for an unknown algorithm.
    pub fn generate(algorithm: KeyAlgorithm, rng: &mut dyn RandomSource) -> Option<Self> {
        let alg = agreement_alg(algorithm)?;
        // A P-256 scalar is rejected with probability ~2^-32; X25519 never.
        for _ in 0..64 {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.fill(bytes.as_mut());
            if let Ok(private) = agreement::PrivateKey::from_private_key(alg, bytes.as_ref()) {
                let public = private.compute_public_key().ok()?.as_ref().to_vec();
                return Some(Self {
                    algorithm,
                    private,
                    public,
                });
            }
        }
        None
    }

    /// The public share to put in a hello.
    pub fn public_share(&self) -> &[u8] {
        &self.public
    }

    /// The algorithm this key belongs to.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The shared secret with the peer's share, or `None` if the share is invalid or the result
    /// is all zero (BT-KS-1).
    pub fn agree(&self, peer_share: &[u8]) -> Option<Secret> {
        let alg = agreement_alg(self.algorithm)?;
        let peer = agreement::UnparsedPublicKey::new(alg, peer_share);
        agreement::agree(&self.private, peer, (), |material| {
            let out: [u8; 32] = material.try_into().map_err(|_| ())?;
            if out == [0u8; 32] {
                return Err(());
            }
            Ok(Zeroizing::new(out))
        })
        .ok()
    }
}

/// Whether `share` is a valid key share of `algorithm` (BT-MSG-4): an X25519 share is any 32
/// bytes (a low-order one gives the all-zero secret, refused by BT-KS-1); a P-256 share is an
/// uncompressed point on the curve, as a P-256 public key (BT-KEY-6).
pub fn validate_key_share(algorithm: KeyAlgorithm, share: &[u8]) -> bool {
    match algorithm {
        KeyAlgorithm::ED25519_X25519 => share.len() == 32,
        _ => super::validate_public_key(algorithm, share),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;

    #[test]
    fn both_sides_agree_for_each_algorithm() {
        let mut rng = SeededRandom::new(7);
        for alg in KeyAlgorithm::ALL {
            let a = EphemeralKey::generate(*alg, &mut rng).unwrap();
            let b = EphemeralKey::generate(*alg, &mut rng).unwrap();
            assert!(validate_key_share(*alg, a.public_share()));
            let s1 = a.agree(b.public_share()).unwrap();
            let s2 = b.agree(a.public_share()).unwrap();
            assert_eq!(*s1, *s2);
        }
    }

    #[test]
    fn low_order_x25519_share_is_rejected() {
        let a = EphemeralKey::generate(KeyAlgorithm::ED25519_X25519, &mut SeededRandom::new(1))
            .unwrap();
        assert!(a.agree(&[0u8; 32]).is_none());
    }
}
