//! The validation policy (BT-KEY-4..10, BT-KEY-13, BT-KEY-15).

use super::first_use::{FirstUse, FirstUseStore};
use crate::crypto::{registry_verify, validate_public_key};
use crate::msgs::{KeyAlgorithm, PublishedKey, ValidationFailure};
use crate::quirks::{Quirk, Quirks};
use std::collections::HashMap;

/// A registry key whose signatures the validator trusts, for the registrations in its scope
/// (BT-KEY-15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRegistry {
    /// The registry's Ed25519 public key.
    pub public_key: Vec<u8>,
    /// `reg_handle` suffixes the key may vouch for; empty: every registration.
    pub scope: Vec<Vec<u8>>,
}

impl TrustedRegistry {
    /// A registry key that vouches for every registration (bTLS 1.0's only kind).
    pub fn unscoped(public_key: Vec<u8>) -> Self {
        Self {
            public_key,
            scope: Vec::new(),
        }
    }

    /// Whether the key may vouch for `reg_handle`.
    pub fn covers(&self, reg_handle: &[u8]) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|s| reg_handle.ends_with(s))
    }
}

impl From<Vec<u8>> for TrustedRegistry {
    fn from(public_key: Vec<u8>) -> Self {
        Self::unscoped(public_key)
    }
}

/// How a party judges the peer's published key.
#[derive(Debug, Clone)]
pub struct ValidationPolicy {
    /// Algorithms a peer key may have (BT-KEY-7).
    pub allowed_algorithms: Vec<KeyAlgorithm>,
    /// Pinned public keys by `(reg_handle, key_handle)` (BT-KEY-9).
    pub pinned: HashMap<(Vec<u8>, Vec<u8>), Vec<u8>>,
    /// The registry keys whose signatures are trusted, each with its scope (BT-KEY-9, BT-KEY-10,
    /// BT-KEY-15).
    pub trusted_registries: Vec<TrustedRegistry>,
    /// Trust on first use, per registration (BT-KEY-9 (d), BT-KEY-13).
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

/// What the validator knows of a key besides the key: whether it equals a configured known key,
/// and the first-use store.
#[derive(Debug, Clone, Copy)]
pub struct TrustContext<'a> {
    /// The key equals, byte for byte, a configured known key (BT-KEY-9 (b)).
    pub known: bool,
    /// The first-use store (BT-KEY-13).
    pub first_use: &'a FirstUseStore,
}

impl ValidationPolicy {
    /// Runs the checks of BT-KEY-4 in order; the first failure is the reason sent.
    pub fn validate(
        &self,
        key: &PublishedKey,
        named: (&[u8], &[u8], KeyAlgorithm),
        context: TrustContext<'_>,
        now_unix_secs: u64,
    ) -> Result<(), ValidationFailure> {
        self.validate_with_quirks(key, named, context, now_unix_secs, Quirks::NONE)
    }

    /// [`ValidationPolicy::validate`] with deliberate bugs ([`crate::quirks`]).
    pub fn validate_with_quirks(
        &self,
        key: &PublishedKey,
        (reg_handle, key_handle, algorithm): (&[u8], &[u8], KeyAlgorithm),
        context: TrustContext<'_>,
        now_unix_secs: u64,
        quirks: Quirks,
    ) -> Result<(), ValidationFailure> {
        if !key.matches(reg_handle, key_handle, algorithm) && !quirks.has(Quirk::SkipHandleCheck) {
            return Err(ValidationFailure::HANDLE_MISMATCH); // BT-KEY-5
        }
        if quirks.has(Quirk::CheckTrustLast) {
            self.check_key(key, now_unix_secs, quirks)?;
            return self.trust(key, context, quirks);
        }
        self.trust(key, context, quirks)?; // BT-KEY-4: trust before the rest
        self.check_key(key, now_unix_secs, quirks)
    }

    /// BT-KEY-6, BT-KEY-7, BT-KEY-8, in that order.
    fn check_key(
        &self,
        key: &PublishedKey,
        now_unix_secs: u64,
        quirks: Quirks,
    ) -> Result<(), ValidationFailure> {
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
        Ok(())
    }

    /// BT-KEY-9: the first rule that applies decides alone.
    fn trust(
        &self,
        key: &PublishedKey,
        context: TrustContext<'_>,
        quirks: Quirks,
    ) -> Result<(), ValidationFailure> {
        let id = (key.reg_handle.clone(), key.key_handle.clone());
        if let Some(pinned) = self.pinned.get(&id) {
            // (a) a pin decides alone.
            return if *pinned == key.public_key {
                Ok(())
            } else {
                Err(ValidationFailure::PIN_MISMATCH)
            };
        }
        if context.known {
            return Ok(()); // (b)
        }
        if !key.registry_signature.is_empty() {
            // (c), with the scope of BT-KEY-15.
            let tbs = key.to_be_signed();
            let verified = self.trusted_registries.iter().any(|reg| {
                (reg.covers(&key.reg_handle) || quirks.has(Quirk::IgnoreRegistryScope))
                    && registry_verify(&reg.public_key, &tbs, &key.registry_signature)
            });
            if verified {
                return Ok(());
            }
            if !quirks.has(Quirk::IgnoreBadRegistrySignature) {
                return Err(ValidationFailure::BAD_REGISTRY_SIGNATURE); // BT-KEY-10
            }
        }
        // (d) trust on first use, per registration (BT-KEY-13).
        if quirks.has(Quirk::TrustUnsignedKeys) {
            return Ok(());
        }
        if !self.accept_unsigned {
            return Err(ValidationFailure::UNTRUSTED_KEY);
        }
        match context.first_use.check(key) {
            FirstUse::Remembered | FirstUse::New => Ok(()),
            FirstUse::Conflict if quirks.has(Quirk::FirstUsePerKeyHandle) => Ok(()),
            FirstUse::Conflict | FirstUse::Full => Err(ValidationFailure::UNTRUSTED_KEY),
        }
    }
}
