//! Keys (SPEC §4): a party's own keys, the peer keys it knows, the registry it may ask, the
//! validation policy and the bounded key cache.

mod cache;
mod files;
mod policy;
mod registry;

pub use cache::KeyCache;
pub use files::{
    load_private_key, load_private_keys, load_published_key, save_private_key, save_published_key,
    KeyFileError, PasswordProtection, DEFAULT_ITERATIONS, PRIVATE_KEY_FORMAT, PUBLISHED_KEY_FORMAT,
};
pub use policy::ValidationPolicy;
pub use registry::{lookup_with_timeout, DirectoryRegistry, KeyRegistry};

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

/// Where a peer key came from: it decides whether BT-KEY-9 already trusts it.
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

/// Everything a party uses to find and judge the peer's key (BT-KEY-3..11).
#[derive(Clone)]
pub struct PeerKeys {
    /// Configured known peer keys, by `(reg_handle, key_handle)`.
    pub known: HashMap<(Vec<u8>, Vec<u8>), PublishedKey>,
    /// The registry for "retrieve online", if any.
    pub registry: Option<Arc<dyn KeyRegistry>>,
    /// Bound on one registry lookup (BT-TIME-3).
    pub registry_timeout: Duration,
    /// The validation policy.
    pub policy: ValidationPolicy,
    /// The key cache, shared between connections.
    pub cache: Arc<KeyCache>,
}

impl Default for PeerKeys {
    fn default() -> Self {
        Self {
            known: HashMap::new(),
            registry: None,
            registry_timeout: Duration::from_secs(2),
            policy: ValidationPolicy::default(),
            cache: Arc::new(KeyCache::new(256)),
        }
    }
}

impl std::fmt::Debug for PeerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerKeys")
            .field("known", &self.known.len())
            .field("registry", &self.registry.is_some())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

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

    /// Looks the named key up in cache, known keys, then registry (BT-KEY-3). `None` means the
    /// party must send SEND_KEY.
    pub fn resolve(
        &self,
        reg_handle: &[u8],
        key_handle: &[u8],
    ) -> Option<(PublishedKey, KeySource)> {
        if let Some(key) = self.cache.get(reg_handle, key_handle) {
            return Some((key, KeySource::Cache));
        }
        if let Some(key) = self.known.get(&(reg_handle.to_vec(), key_handle.to_vec())) {
            return Some((key.clone(), KeySource::Known));
        }
        let registry = self.registry.as_ref()?;
        let key = lookup_with_timeout(
            registry.clone(),
            reg_handle,
            key_handle,
            self.registry_timeout,
        )?;
        Some((key, KeySource::Registry))
    }

    /// Validates `key` as the key the hello named (BT-KEY-4..10).
    pub fn validate(
        &self,
        key: &PublishedKey,
        source: KeySource,
        named: (&[u8], &[u8], KeyAlgorithm),
        now_unix_secs: u64,
    ) -> Result<(), ValidationFailure> {
        self.validate_with_quirks(key, source, named, now_unix_secs, crate::Quirks::NONE)
    }

    /// [`PeerKeys::validate`] with deliberate bugs ([`crate::quirks`]).
    pub fn validate_with_quirks(
        &self,
        key: &PublishedKey,
        source: KeySource,
        named: (&[u8], &[u8], KeyAlgorithm),
        now_unix_secs: u64,
        quirks: crate::Quirks,
    ) -> Result<(), ValidationFailure> {
        let trusted_by_config = match source {
            KeySource::Cache => self.cache.contains_exact(key),
            KeySource::Known => true,
            KeySource::Registry | KeySource::Peer => self
                .known
                .get(&(key.reg_handle.clone(), key.key_handle.clone()))
                .is_some_and(|k| k == key),
        };
        self.policy
            .validate_with_quirks(key, named, trusted_by_config, now_unix_secs, quirks)
    }
}
