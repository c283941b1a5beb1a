//! The validation policy (BT-KEY-5..10).

use crate::crypto::{registry_verify, validate_public_key};
use crate::msgs::{KeyAlgorithm, PublishedKey, ValidationFailure};
use crate::quirks::{Quirk, Quirks};
use std::collections::HashMap;

/// How a party judges the peer's published key.
#[derive(Debug, Clone)]
pub struct ValidationPolicy {
    /// Algorithms a peer key may have (BT-KEY-7).
    pub allowed_algorithms: Vec<KeyAlgorithm>,
    /// Pinned public keys by `(reg_handle, key_handle)` (BT-KEY-9).
    pub pinned: HashMap<(Vec<u8>, Vec<u8>), Vec<u8>>,
    /// Ed25519 public keys of the registries whose signatures are trusted (BT-KEY-9, BT-KEY-10).
    pub trusted_registries: Vec<Vec<u8>>,
    /// Trust on first use: accept a valid, unsigned, unpinned key (BT-KEY-9).
    pub accept_unsigned: bool,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self {
            allowed_algorithms: KeyAlgorithm::ALL.to_vec(),
            pinned: HashMap::new(),
            trusted_registries: Vec::new(),
            accept_unsigned: false,
        }
    }
}

impl ValidationPolicy {
    /// Runs the checks of BT-KEY-5..10 in order; the first failure is the reason sent.
    /// `trusted_by_config` is true for a configured known key or a byte-equal cached key.
    pub fn validate(
        &self,
        key: &PublishedKey,
        named: (&[u8], &[u8], KeyAlgorithm),
        trusted_by_config: bool,
        now_unix_secs: u64,
    ) -> Result<(), ValidationFailure> {
        self.validate_with_quirks(key, named, trusted_by_config, now_unix_secs, Quirks::NONE)
    }

    /// [`ValidationPolicy::validate`] with deliberate bugs ([`crate::quirks`]): `SkipHandleCheck`,
    /// `SkipAlgorithmPolicy`, `SkipExpiryCheck`, `TrustUnsignedKeys`,
    /// `IgnoreBadRegistrySignature`.
    pub fn validate_with_quirks(
        &self,
        key: &PublishedKey,
        (reg_handle, key_handle, algorithm): (&[u8], &[u8], KeyAlgorithm),
        trusted_by_config: bool,
        now_unix_secs: u64,
        quirks: Quirks,
    ) -> Result<(), ValidationFailure> {
        if !key.matches(reg_handle, key_handle, algorithm) && !quirks.has(Quirk::SkipHandleCheck) {
            return Err(ValidationFailure::HANDLE_MISMATCH); // BT-KEY-5
        }
        let weak_ed25519_accepted = quirks.has(Quirk::AcceptWeakEd25519Keys)
            && key.key_algorithm == KeyAlgorithm::ED25519_X25519
            && key.public_key.len() == 32;
        if !validate_public_key(key.key_algorithm, &key.public_key) && !weak_ed25519_accepted {
            return Err(ValidationFailure::MALFORMED_KEY); // BT-KEY-6
        }
        if !self.allowed_algorithms.contains(&key.key_algorithm)
            && !quirks.has(Quirk::SkipAlgorithmPolicy)
        {
            return Err(ValidationFailure::ALGORITHM_NOT_ALLOWED); // BT-KEY-7
        }
        if (now_unix_secs < key.not_before || now_unix_secs > key.not_after)
            && !quirks.has(Quirk::SkipExpiryCheck)
        {
            return Err(ValidationFailure::EXPIRED_KEY); // BT-KEY-8
        }
        let id = (key.reg_handle.clone(), key.key_handle.clone());
        if let Some(pinned) = self.pinned.get(&id) {
            // BT-KEY-9: a pin decides alone.
            return if *pinned == key.public_key {
                Ok(())
            } else {
                Err(ValidationFailure::PIN_MISMATCH)
            };
        }
        if trusted_by_config {
            return Ok(());
        }
        if !key.registry_signature.is_empty() {
            let tbs = key.to_be_signed();
            let verified = self
                .trusted_registries
                .iter()
                .any(|reg| registry_verify(reg, &tbs, &key.registry_signature));
            if verified {
                return Ok(());
            }
            if !quirks.has(Quirk::IgnoreBadRegistrySignature) {
                return Err(ValidationFailure::BAD_REGISTRY_SIGNATURE); // BT-KEY-10
            }
        }
        if self.accept_unsigned || quirks.has(Quirk::TrustUnsignedKeys) {
            Ok(())
        } else {
            Err(ValidationFailure::UNTRUSTED_KEY)
        }
    }
}
