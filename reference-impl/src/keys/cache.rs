//! The bounded key cache (BT-CACHE-1..3).

use crate::msgs::PublishedKey;
use std::collections::HashMap;
use std::sync::Mutex;

/// Peer keys learned from completed handshakes, least recently used evicted first.
#[derive(Debug)]
pub struct KeyCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tick: u64,
    entries: HashMap<(Vec<u8>, Vec<u8>), Entry>,
}

#[derive(Debug)]
struct Entry {
    cached: CachedKey,
    used: u64,
}

/// A cached key and when it was cached (BT-KEY-14's revocation interval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedKey {
    /// The key.
    pub key: PublishedKey,
    /// When it was cached, in Unix seconds.
    pub cached_at: u64,
}

impl KeyCache {
    /// A cache holding at most `capacity` keys (BT-CACHE-2).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent, so a poisoned lock
        // is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached key named by the handles, marking it recently used.
    pub fn get(&self, reg_handle: &[u8], key_handle: &[u8]) -> Option<PublishedKey> {
        self.get_entry(reg_handle, key_handle).map(|c| c.key)
    }

    /// The cached key named by the handles with the time it was cached, marking it recently
    /// used.
    pub fn get_entry(&self, reg_handle: &[u8], key_handle: &[u8]) -> Option<CachedKey> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner
            .entries
            .get_mut(&(reg_handle.to_vec(), key_handle.to_vec()))?;
        entry.used = tick;
        Some(entry.cached.clone())
    }

    /// Removes the key named by the handles (a cached key that failed validation, BT-CACHE-3, or
    /// a revoked one, BT-KEY-14).
    pub fn remove(&self, reg_handle: &[u8], key_handle: &[u8]) -> bool {
        self.lock()
            .entries
            .remove(&(reg_handle.to_vec(), key_handle.to_vec()))
            .is_some()
    }

    /// Adds a key after a completed handshake (BT-CACHE-1), evicting the least recently used
    /// key when full (BT-CACHE-2). `now_unix_secs` dates it for the revocation interval
    /// (BT-KEY-14).
    pub fn insert(&self, key: PublishedKey, now_unix_secs: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let id = (key.reg_handle.clone(), key.key_handle.clone());
        if !inner.entries.contains_key(&id) && inner.entries.len() >= self.capacity {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        let cached = CachedKey {
            key,
            cached_at: now_unix_secs,
        };
        inner.entries.insert(id, Entry { cached, used: tick });
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every cached key, for inspection in tests and tools.
    pub fn keys(&self) -> Vec<PublishedKey> {
        self.lock()
            .entries
            .values()
            .map(|e| e.cached.key.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::KeyAlgorithm;

    fn key(name: &str) -> PublishedKey {
        PublishedKey {
            reg_handle: name.as_bytes().to_vec(),
            key_handle: b"k".to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: vec![1; 32],
            not_before: 0,
            not_after: u64::MAX,
            registry_signature: vec![],
        }
    }

    #[test]
    fn least_recently_used_key_is_evicted_when_full() {
        let cache = KeyCache::new(2);
        cache.insert(key("a"), 0);
        cache.insert(key("b"), 0);
        assert!(cache.get(b"a", b"k").is_some());
        cache.insert(key("c"), 0);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(b"b", b"k").is_none(), "b was least recently used");
        assert!(cache.get(b"a", b"k").is_some());
    }
}
