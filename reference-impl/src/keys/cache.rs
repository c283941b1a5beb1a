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
    entries: HashMap<(Vec<u8>, Vec<u8>), (PublishedKey, u64)>,
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
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner
            .entries
            .get_mut(&(reg_handle.to_vec(), key_handle.to_vec()))?;
        entry.1 = tick;
        Some(entry.0.clone())
    }

    /// Whether exactly this key (every byte) is cached.
    pub fn contains_exact(&self, key: &PublishedKey) -> bool {
        self.lock()
            .entries
            .get(&(key.reg_handle.clone(), key.key_handle.clone()))
            .is_some_and(|(k, _)| k == key)
    }

    /// Adds a key after a completed handshake (BT-CACHE-1), evicting the least recently used
    /// key when full (BT-CACHE-2).
    pub fn insert(&self, key: PublishedKey) {
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
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(id, (key, tick));
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
            .map(|(k, _)| k.clone())
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
        cache.insert(key("a"));
        cache.insert(key("b"));
        assert!(cache.get(b"a", b"k").is_some());
        cache.insert(key("c"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(b"b", b"k").is_none(), "b was least recently used");
        assert!(cache.get(b"a", b"k").is_some());
    }
}
