//! Stored sessions for resumption (SPEC §8).

use crate::crypto::Secret;
use crate::msgs::{CipherSuite, KeyAlgorithm, PublishedKey, SESSION_ID_LEN};
use std::collections::HashMap;
use std::sync::Mutex;

/// What both parties keep of a completed full handshake (BT-RES-1).
#[derive(Clone)]
pub struct StoredSession {
    /// The session ID from SESSION_DETAILS.
    pub session_id: [u8; SESSION_ID_LEN],
    /// BT-KS-6.
    pub resumption_secret: Secret,
    /// The original key algorithm (BT-RES-4).
    pub key_algorithm: KeyAlgorithm,
    /// The original cipher suite (BT-RES-4).
    pub cipher_suite: CipherSuite,
    /// The client's published key.
    pub client_key: PublishedKey,
    /// The server's published key.
    pub server_key: PublishedKey,
    /// When the full handshake completed, milliseconds since the Unix epoch.
    pub created_ms: u64,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("session_id", &hex::encode(self.session_id))
            .field("key_algorithm", &self.key_algorithm)
            .field("cipher_suite", &self.cipher_suite)
            .finish_non_exhaustive()
    }
}

/// A bounded map from which the oldest entry is evicted when full.
#[derive(Debug)]
struct Bounded<K> {
    capacity: usize,
    entries: Mutex<HashMap<K, StoredSession>>,
}

impl<K: std::hash::Hash + Eq + Clone> Bounded<K> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, StoredSession>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, key: K, session: StoredSession) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.lock();
        if !map.contains_key(&key) && map.len() >= self.capacity {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.created_ms)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(key, session);
    }
}

/// The server's session cache, by session ID.
#[derive(Debug)]
pub struct ServerSessionCache(Bounded<[u8; SESSION_ID_LEN]>);

impl ServerSessionCache {
    /// A cache of at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        Self(Bounded::new(capacity))
    }

    /// Stores a session.
    pub fn insert(&self, session: StoredSession) {
        self.0.insert(session.session_id, session);
    }

    /// The session with this ID.
    pub fn get(&self, id: &[u8; SESSION_ID_LEN]) -> Option<StoredSession> {
        self.0.lock().get(id).cloned()
    }

    /// Number of stored sessions.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The client's sessions, by the server's registration handle.
#[derive(Debug)]
pub struct ClientSessionStore(Bounded<Vec<u8>>);

impl ClientSessionStore {
    /// A store of at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        Self(Bounded::new(capacity))
    }

    /// Stores the session for `server`.
    pub fn insert(&self, server: &[u8], session: StoredSession) {
        self.0.insert(server.to_vec(), session);
    }

    /// The session stored for `server`.
    pub fn get(&self, server: &[u8]) -> Option<StoredSession> {
        self.0.lock().get(server).cloned()
    }

    /// Forgets the session for `server` (BT-RES-5).
    pub fn remove(&self, server: &[u8]) {
        self.0.lock().remove(server);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    fn key() -> PublishedKey {
        PublishedKey {
            reg_handle: b"alice".to_vec(),
            key_handle: b"k1".to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: vec![0x58; 32],
            not_before: 0,
            not_after: 1,
            registry_signature: Vec::new(),
        }
    }

    fn session(id: u8, created_ms: u64) -> StoredSession {
        StoredSession {
            session_id: [id; SESSION_ID_LEN],
            resumption_secret: zeroize::Zeroizing::new([id; 32]),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            cipher_suite: CipherSuite::AES_256_GCM,
            client_key: key(),
            server_key: key(),
            created_ms,
        }
    }

    #[test]
    fn a_full_store_evicts_its_oldest_session() {
        let cache = ServerSessionCache::new(2);
        cache.insert(session(2, 20));
        cache.insert(session(1, 10));
        // Replacing a session it holds evicts nothing.
        cache.insert(session(2, 25));
        assert_eq!(cache.len(), 2);
        cache.insert(session(3, 30));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&[1; SESSION_ID_LEN]).is_none(), "the oldest goes");
        assert!(cache.get(&[2; SESSION_ID_LEN]).is_some());
        assert!(cache.get(&[3; SESSION_ID_LEN]).is_some());
        assert!(!cache.is_empty());
        assert!(ServerSessionCache::new(0).is_empty());
    }
}
