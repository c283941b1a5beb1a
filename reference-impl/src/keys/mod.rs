//! Keys (SPEC §4): a party's own keys, the peer keys it knows, the registry it may ask, the
//! validation policy and the bounded key cache.

mod cache;
mod files;
mod first_use;
mod policy;
mod registry;

pub use cache::{CachedKey, KeyCache};
pub use files::{
    load_private_key, load_private_keys, load_published_key, save_private_key, save_published_key,
    KeyFileError, PasswordProtection, DEFAULT_ITERATIONS, PRIVATE_KEY_FORMAT, PUBLISHED_KEY_FORMAT,
};
pub use first_use::{FirstUse, FirstUseFileError, FirstUseStore, DEFAULT_FIRST_USE_CAPACITY};
pub use policy::{TrustContext, TrustedRegistry, ValidationPolicy};
pub use registry::{
    lookup_with_timeout, DirectoryRegistry, KeyRegistry, LookupLimiter, RegistryAnswer,
    MAX_OUTSTANDING_LOOKUPS,
};

use crate::crypto::SigningKey;
use crate::msgs::{KeyAlgorithm, PublishedKey, ValidationFailure};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One of the party's own keys: the private half and the published key that names it.
#[derive(Debug)]
pub struct OwnKey {
    /// The private key.
    pub signing: SigningKey,
    /// What is sent with SENDING_KEY.
    pub published: PublishedKey,
}

impl OwnKey {
    /// Pairs a private key with its published key; `None` when they do not belong together.
    pub fn new(signing: SigningKey, published: PublishedKey) -> Option<Self> {
        (signing.algorithm() == published.key_algorithm
            && signing.public_key() == published.public_key.as_slice())
        .then_some(Self { signing, published })
    }
}

/// Where a peer key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The key cache (a key from an earlier completed handshake).
    Cache,
    /// The configured known keys.
    Known,
    /// The registry lookup.
    Registry,
    /// The peer's SENDING_KEY.
    Peer,
}

impl KeySource {
    /// Whether a key from this source must be added to the cache once the handshake completes
    /// (BT-CACHE-1).
    pub fn is_learned(self) -> bool {
        matches!(self, Self::Registry | Self::Peer)
    }
}

/// The peer key named by a hello, judged (BT-KEY-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A source held the key and it passed validation.
    Accepted(PublishedKey, KeySource),
    /// No source holds it: the party sends SEND_KEY.
    Unknown,
}

/// The reference's default revocation interval (BT-KEY-14), in seconds.
pub const DEFAULT_REVOCATION_INTERVAL_SECS: u64 = 300;

/// Everything a party uses to find and judge the peer's key (BT-KEY-3..16).
#[derive(Clone)]
pub struct PeerKeys {
    /// Configured known peer keys, by `(reg_handle, key_handle)`.
    pub known: HashMap<(Vec<u8>, Vec<u8>), PublishedKey>,
    /// The registry for "retrieve online", if any.
    pub registry: Option<Arc<dyn KeyRegistry>>,
    /// Bound on one registry lookup (BT-TIME-3).
    pub registry_timeout: Duration,
    /// The lookups still waiting for the registry (BT-KEY-14).
    pub lookups: Arc<LookupLimiter>,
    /// How long a cached key is used without asking the registry again (BT-KEY-14).
    pub revocation_interval_secs: u64,
    /// The validation policy.
    pub policy: ValidationPolicy,
    /// The key cache, shared between connections.
    pub cache: Arc<KeyCache>,
    /// What trust on first use learned, per registration, shared between connections
    /// (BT-KEY-13).
    pub first_use: Arc<FirstUseStore>,
}

impl Default for PeerKeys {
    fn default() -> Self {
        Self {
            known: HashMap::new(),
            registry: None,
            registry_timeout: Duration::from_secs(2),
            lookups: Arc::new(LookupLimiter::default()),
            revocation_interval_secs: DEFAULT_REVOCATION_INTERVAL_SECS,
            policy: ValidationPolicy::default(),
            cache: Arc::new(KeyCache::new(256)),
            first_use: Arc::new(FirstUseStore::default()),
        }
    }
}

impl std::fmt::Debug for PeerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerKeys")
            .field("known", &self.known.len())
            .field("registry", &self.registry.is_some())
            .field("policy", &self.policy)
            .field("first_use", &self.first_use.len())
            .finish_non_exhaustive()
    }
}

/// The handles and algorithm a hello named.
pub type Named<'a> = (&'a [u8], &'a [u8], KeyAlgorithm);

impl PeerKeys {
    /// Adds a known peer key.
    pub fn add_known(&mut self, key: PublishedKey) {
        self.known
            .insert((key.reg_handle.clone(), key.key_handle.clone()), key);
    }

    /// Adds the published key files at `paths` as known peer keys.
    pub fn add_known_files(&mut self, paths: &[std::path::PathBuf]) -> Result<(), KeyFileError> {
        for path in paths {
            self.add_known(load_published_key(path)?);
        }
        Ok(())
    }

    /// Resolves the key a hello named in known keys, cache, then registry, and validates it
    /// (BT-KEY-3, BT-KEY-4, BT-KEY-14, BT-CACHE-3).
    pub fn resolve(
        &self,
        named: Named<'_>,
        now_unix_secs: u64,
    ) -> Result<Resolved, ValidationFailure> {
        self.resolve_with_quirks(named, now_unix_secs, crate::Quirks::NONE)
    }

    /// [`PeerKeys::resolve`] with deliberate bugs ([`crate::quirks`]).
    pub fn resolve_with_quirks(
        &self,
        named: Named<'_>,
        now_unix_secs: u64,
        quirks: crate::Quirks,
    ) -> Result<Resolved, ValidationFailure> {
        let (reg_handle, key_handle, _) = named;
        if let Some(key) = self.known.get(&(reg_handle.to_vec(), key_handle.to_vec())) {
            self.validate_with_quirks(key, named, now_unix_secs, quirks)?;
            return Ok(Resolved::Accepted(key.clone(), KeySource::Known));
        }
        if let Some(cached) = self.cache.get_entry(reg_handle, key_handle) {
            // BT-KEY-14: with a registry, a cached key is asked about again after the
            // revocation interval.
            let fresh = self.registry.is_none()
                || now_unix_secs.saturating_sub(cached.cached_at) <= self.revocation_interval_secs;
            if fresh
                && self
                    .validate_with_quirks(&cached.key, named, now_unix_secs, quirks)
                    .is_ok()
            {
                return Ok(Resolved::Accepted(cached.key, KeySource::Cache));
            }
            // BT-CACHE-3: a cached key that fails is dropped, and resolution goes on.
            self.cache.remove(reg_handle, key_handle);
        }
        let Some(registry) = &self.registry else {
            return Ok(Resolved::Unknown);
        };
        let answer = lookup_with_timeout(
            registry.clone(),
            &self.lookups,
            reg_handle,
            key_handle,
            self.registry_timeout,
        );
        match answer {
            RegistryAnswer::Found(key) => {
                self.validate_with_quirks(&key, named, now_unix_secs, quirks)?;
                Ok(Resolved::Accepted(key, KeySource::Registry))
            }
            RegistryAnswer::NotFound => Ok(Resolved::Unknown),
            RegistryAnswer::Revoked if quirks.has(crate::Quirk::IgnoreRevocation) => {
                Ok(Resolved::Unknown)
            }
            RegistryAnswer::Revoked => {
                self.cache.remove(reg_handle, key_handle);
                Err(ValidationFailure::REVOKED_KEY) // BT-KEY-14
            }
            RegistryAnswer::Unavailable if quirks.has(crate::Quirk::RegistryFailOpen) => {
                Ok(Resolved::Unknown)
            }
            RegistryAnswer::Unavailable => Err(ValidationFailure::REGISTRY_UNAVAILABLE), // BT-KEY-14
        }
    }

    /// Validates `key` as the key the hello named (BT-KEY-4..10, BT-KEY-13, BT-KEY-15).
    pub fn validate(
        &self,
        key: &PublishedKey,
        named: Named<'_>,
        now_unix_secs: u64,
    ) -> Result<(), ValidationFailure> {
        self.validate_with_quirks(key, named, now_unix_secs, crate::Quirks::NONE)
    }

    /// [`PeerKeys::validate`] with deliberate bugs ([`crate::quirks`]).
    pub fn validate_with_quirks(
        &self,
        key: &PublishedKey,
        named: Named<'_>,
        now_unix_secs: u64,
        quirks: crate::Quirks,
    ) -> Result<(), ValidationFailure> {
        let known = self
            .known
            .get(&(key.reg_handle.clone(), key.key_handle.clone()))
            // BT-KEY-9 (b): equal in every field before the signature, whatever that holds.
            .is_some_and(|k| k.to_be_signed() == key.to_be_signed());
        let context = TrustContext {
            known,
            first_use: &self.first_use,
        };
        self.policy
            .validate_with_quirks(key, named, context, now_unix_secs, quirks)
    }

    /// Learns the peer key of a completed handshake (BT-CACHE-1): caches it and, with trust on
    /// first use on, remembers it in the first-use store as the key of its registration
    /// (BT-KEY-13) however it was trusted (known, signed or on first use), so that a later
    /// unsigned key under another handle of that registration is a new key for a known
    /// registration. A registration the store holds already keeps its first key. A first-use
    /// store file that cannot be written leaves the key unremembered.
    pub fn learn(&self, key: &PublishedKey, now_unix_secs: u64) {
        self.cache.insert(key.clone(), now_unix_secs);
        self.remember(key);
    }

    /// Remembers the peer key of a completed full handshake that was not learned (a known or
    /// cached key) in the first-use store, with trust on first use on (BT-KEY-13).
    pub fn remember(&self, key: &PublishedKey) {
        if self.policy.accept_unsigned {
            let _ = self.first_use.remember(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A registry whose one answer the test sets.
    struct Fixed(Mutex<RegistryAnswer>);
    impl KeyRegistry for Fixed {
        fn lookup(&self, _: &[u8], _: &[u8]) -> RegistryAnswer {
            self.0.lock().unwrap().clone()
        }
    }

    const NAMED: Named<'static> = (b"alice", b"k1", KeyAlgorithm::ED25519_X25519);

    fn tofu_keys(answer: RegistryAnswer) -> (PeerKeys, Arc<Fixed>) {
        let registry = Arc::new(Fixed(Mutex::new(answer)));
        let mut keys = PeerKeys {
            registry: Some(registry.clone()),
            ..PeerKeys::default()
        };
        keys.policy.accept_unsigned = true;
        (keys, registry)
    }

    /// An unsigned key of alice's: the Ed25519 base point, a valid key nobody here holds.
    fn unsigned(not_after: u64) -> PublishedKey {
        PublishedKey {
            reg_handle: b"alice".to_vec(),
            key_handle: b"k1".to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: hex::decode(
                "5866666666666666666666666666666666666666666666666666666666666666",
            )
            .unwrap(),
            not_before: 0,
            not_after,
            registry_signature: vec![],
        }
    }

    #[test]
    fn an_expired_cache_entry_does_not_hide_the_renewed_registry_key() {
        let renewed = unsigned(2_000);
        let (keys, _) = tofu_keys(RegistryAnswer::Found(renewed.clone()));
        keys.cache.insert(unsigned(10), 0);
        assert_eq!(
            keys.resolve(NAMED, 100),
            Ok(Resolved::Accepted(renewed, KeySource::Registry))
        );
        assert!(
            keys.cache.is_empty(),
            "the failing entry is dropped (BT-CACHE-3)"
        );
    }

    #[test]
    fn a_cached_key_is_not_trusted_once_trust_on_first_use_is_off() {
        let (mut keys, _) = tofu_keys(RegistryAnswer::NotFound);
        keys.registry = None;
        keys.learn(&unsigned(2_000), 0);
        assert!(matches!(
            keys.resolve(NAMED, 100),
            Ok(Resolved::Accepted(_, KeySource::Cache))
        ));
        keys.policy.accept_unsigned = false;
        // The cache entry fails trust, is dropped, and the peer is asked for its key.
        assert_eq!(keys.resolve(NAMED, 100), Ok(Resolved::Unknown));
        assert_eq!(
            keys.validate(&unsigned(2_000), NAMED, 100),
            Err(ValidationFailure::UNTRUSTED_KEY)
        );
    }

    #[test]
    fn a_known_key_is_equal_in_every_field_but_its_signature() {
        let mut keys = PeerKeys::default();
        keys.add_known(unsigned(2_000));
        let mut signed = unsigned(2_000);
        signed.registry_signature = vec![7; 64];
        assert_eq!(keys.validate(&signed, NAMED, 100), Ok(()), "BT-KEY-9 (b)");
        // The same key pair with a later not_after is not the known key: its holder cannot
        // extend a known key's validity.
        assert_eq!(
            keys.validate(&unsigned(3_000), NAMED, 100),
            Err(ValidationFailure::UNTRUSTED_KEY)
        );
    }

    #[test]
    fn known_keys_outrank_the_cache() {
        let (mut keys, _) = tofu_keys(RegistryAnswer::NotFound);
        let known = unsigned(2_000);
        let mut other = unsigned(3_000);
        other.public_key[0] ^= 1;
        keys.cache.insert(other, 0);
        keys.add_known(known.clone());
        assert_eq!(
            keys.resolve(NAMED, 100),
            Ok(Resolved::Accepted(known, KeySource::Known))
        );
    }

    #[test]
    fn a_revocation_reaches_a_cached_key_after_the_revocation_interval() {
        let (keys, registry) = tofu_keys(RegistryAnswer::NotFound);
        keys.learn(&unsigned(10_000), 0);
        *registry.0.lock().unwrap() = RegistryAnswer::Revoked;
        let within = DEFAULT_REVOCATION_INTERVAL_SECS;
        assert!(matches!(
            keys.resolve(NAMED, within),
            Ok(Resolved::Accepted(_, KeySource::Cache))
        ));
        assert_eq!(
            keys.resolve(NAMED, within + 1),
            Err(ValidationFailure::REVOKED_KEY)
        );
        assert!(keys.cache.is_empty());
    }

    #[test]
    fn an_unavailable_registry_fails_closed() {
        let (keys, _) = tofu_keys(RegistryAnswer::Unavailable);
        assert_eq!(
            keys.resolve(NAMED, 100),
            Err(ValidationFailure::REGISTRY_UNAVAILABLE)
        );
    }

    #[test]
    fn trust_on_first_use_learns_one_key_per_registration_on_completion() {
        let (mut keys, _) = tofu_keys(RegistryAnswer::NotFound);
        keys.registry = None;
        let first = unsigned(2_000);
        let mut second = unsigned(2_000);
        second.key_handle = b"k2".to_vec();
        let second_named: Named<'_> = (b"alice", b"k2", KeyAlgorithm::ED25519_X25519);
        // Before any handshake completes, either key would be trusted on first use.
        assert_eq!(keys.validate(&second, second_named, 100), Ok(()));
        keys.learn(&first, 100);
        assert_eq!(keys.validate(&first, NAMED, 100), Ok(()));
        assert_eq!(
            keys.validate(&second, second_named, 100),
            Err(ValidationFailure::UNTRUSTED_KEY)
        );
    }
}
