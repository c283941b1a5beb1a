//! The key registry: the notes' "retrieve online" (BT-KEY-3, BT-TIME-3).

use crate::codec::Codec;
use crate::msgs::PublishedKey;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// A source of published keys by handles. A network registry implements this trait; the
/// reference ships [`DirectoryRegistry`].
pub trait KeyRegistry: Send + Sync {
    /// The published key named by the handles, or `None` if the registry has none.
    fn lookup(&self, reg_handle: &[u8], key_handle: &[u8]) -> Option<PublishedKey>;
}

/// A directory of published keys standing in for an online registry. The key named
/// `(reg, key)` lives in `DIR/<hex(reg)>/<hex(key)>.btlskey`, holding the key's wire encoding
/// (SPEC §3.3), so a registry directory can be filled by any implementation.
#[derive(Debug, Clone)]
pub struct DirectoryRegistry {
    dir: PathBuf,
}

impl DirectoryRegistry {
    /// A registry over `dir` (which need not exist yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the key named by the handles is stored.
    pub fn path_for(&self, reg_handle: &[u8], key_handle: &[u8]) -> PathBuf {
        self.dir
            .join(hex::encode(reg_handle))
            .join(format!("{}.btlskey", hex::encode(key_handle)))
    }

    /// Stores `key` in the registry, replacing any earlier key with the same handles.
    pub fn publish(&self, key: &PublishedKey) -> std::io::Result<PathBuf> {
        let path = self.path_for(&key.reg_handle, &key.key_handle);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, key.to_bytes())?;
        Ok(path)
    }

    /// The registry's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl KeyRegistry for DirectoryRegistry {
    fn lookup(&self, reg_handle: &[u8], key_handle: &[u8]) -> Option<PublishedKey> {
        let bytes = std::fs::read(self.path_for(reg_handle, key_handle)).ok()?;
        // A corrupt entry counts as "not found": the peer is then asked for its key.
        let key = PublishedKey::decode(&bytes).ok()?;
        key.matches(reg_handle, key_handle, key.key_algorithm)
            .then_some(key)
    }
}

/// Runs a registry lookup on a helper thread and gives up after `timeout` (BT-TIME-3). A lookup
/// that times out counts as "not found"; its thread finishes on its own and is not waited for.
pub fn lookup_with_timeout(
    registry: Arc<dyn KeyRegistry>,
    reg_handle: &[u8],
    key_handle: &[u8],
    timeout: Duration,
) -> Option<PublishedKey> {
    let (tx, rx) = mpsc::sync_channel(1);
    let (reg, key) = (reg_handle.to_vec(), key_handle.to_vec());
    std::thread::Builder::new()
        .name("btls-registry-lookup".into())
        .spawn(move || {
            let _ = tx.send(registry.lookup(&reg, &key));
        })
        .ok()?;
    rx.recv_timeout(timeout).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::KeyAlgorithm;

    struct Slow;
    impl KeyRegistry for Slow {
        fn lookup(&self, _: &[u8], _: &[u8]) -> Option<PublishedKey> {
            std::thread::sleep(Duration::from_secs(5));
            None
        }
    }

    #[test]
    fn a_registry_that_does_not_answer_in_time_counts_as_not_found() {
        let started = std::time::Instant::now();
        assert!(
            lookup_with_timeout(Arc::new(Slow), b"r", b"k", Duration::from_millis(50)).is_none()
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn directory_registry_round_trips_a_key() {
        let dir = std::env::temp_dir().join(format!("btls-registry-test-{}", std::process::id()));
        let reg = DirectoryRegistry::new(&dir);
        let key = PublishedKey {
            reg_handle: b"alice/with/slashes".to_vec(),
            key_handle: b"k1".to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: vec![9; 32],
            not_before: 1,
            not_after: 2,
            registry_signature: vec![],
        };
        reg.publish(&key).unwrap();
        assert_eq!(reg.lookup(b"alice/with/slashes", b"k1"), Some(key));
        assert_eq!(reg.lookup(b"alice/with/slashes", b"k2"), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
