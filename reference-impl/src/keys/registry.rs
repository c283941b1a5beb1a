//! The key registry: the notes' "retrieve online" (BT-KEY-3, BT-KEY-14, BT-TIME-3).

use crate::codec::Codec;
use crate::msgs::PublishedKey;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// A registry's answer to a lookup (BT-KEY-14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAnswer {
    /// The published key named by the handles.
    Found(PublishedKey),
    /// The registry has no key under these handles: the party asks the peer (SEND_KEY).
    NotFound,
    /// The registry revoked the key: REVOKED_KEY.
    Revoked,
    /// No answer in time, or an error: REGISTRY_UNAVAILABLE (the party fails closed).
    Unavailable,
}

/// A source of published keys by handles. A network registry implements this trait; the
/// reference ships [`DirectoryRegistry`].
pub trait KeyRegistry: Send + Sync {
    /// The registry's answer for the handles. An implementation that cannot reach its registry
    /// or gets an answer it cannot decode answers [`RegistryAnswer::Unavailable`].
    fn lookup(&self, reg_handle: &[u8], key_handle: &[u8]) -> RegistryAnswer;
}

/// A directory of published keys standing in for an online registry. The key named
/// `(reg, key)` lives in `DIR/<hex(reg)>/<hex(key)>.btlskey`, holding the key's wire encoding
/// (SPEC §3.3), so a registry directory can be filled by any implementation; a file
/// `DIR/<hex(reg)>/<hex(key)>.revoked` revokes it (BT-KEY-14).
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

    /// The file whose presence revokes the key named by the handles.
    pub fn revocation_path_for(&self, reg_handle: &[u8], key_handle: &[u8]) -> PathBuf {
        self.path_for(reg_handle, key_handle)
            .with_extension("revoked")
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

    /// Revokes the key named by the handles (BT-KEY-14).
    pub fn revoke(&self, reg_handle: &[u8], key_handle: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.revocation_path_for(reg_handle, key_handle);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, b"revoked\n")?;
        Ok(path)
    }

    /// The registry's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl KeyRegistry for DirectoryRegistry {
    fn lookup(&self, reg_handle: &[u8], key_handle: &[u8]) -> RegistryAnswer {
        // A registry whose directory is gone (unmounted, misconfigured) is failing, not empty:
        // "not found" would hand the decision to the peer's SENDING_KEY (BT-KEY-14).
        if !self.dir.is_dir() {
            return RegistryAnswer::Unavailable;
        }
        if self.revocation_path_for(reg_handle, key_handle).exists() {
            return RegistryAnswer::Revoked;
        }
        let bytes = match std::fs::read(self.path_for(reg_handle, key_handle)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return RegistryAnswer::NotFound,
            Err(_) => return RegistryAnswer::Unavailable,
        };
        // An entry that does not decode, or names other handles, is the registry failing:
        // the party fails closed (BT-KEY-14) rather than asking the peer.
        match PublishedKey::decode(&bytes) {
            Ok(key) if key.matches(reg_handle, key_handle, key.key_algorithm) => {
                RegistryAnswer::Found(key)
            }
            _ => RegistryAnswer::Unavailable,
        }
    }
}

/// The most lookups of one [`LookupLimiter`] that may be waiting for their registry at once
/// (BT-KEY-14).
pub const MAX_OUTSTANDING_LOOKUPS: usize = 8;

/// Counts the lookups still running on helper threads, so that a registry that hangs holds at
/// most [`MAX_OUTSTANDING_LOOKUPS`] threads (BT-KEY-14).
#[derive(Debug, Default)]
pub struct LookupLimiter {
    outstanding: AtomicUsize,
}

impl LookupLimiter {
    /// The lookups whose thread has not finished.
    pub fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::SeqCst)
    }
}

/// Releases one outstanding lookup when the helper thread ends, however it ends.
struct Slot(Arc<LookupLimiter>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.outstanding.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs a registry lookup on a helper thread and gives up after `timeout` (BT-TIME-3): a lookup
/// that times out is [`RegistryAnswer::Unavailable`]. Its thread finishes on its own; while it
/// runs it counts against `limiter`, and a lookup made while [`MAX_OUTSTANDING_LOOKUPS`] are
/// outstanding is unavailable at once.
pub fn lookup_with_timeout(
    registry: Arc<dyn KeyRegistry>,
    limiter: &Arc<LookupLimiter>,
    reg_handle: &[u8],
    key_handle: &[u8],
    timeout: Duration,
) -> RegistryAnswer {
    let taken = limiter
        .outstanding
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < MAX_OUTSTANDING_LOOKUPS).then_some(n + 1)
        });
    if taken.is_err() {
        return RegistryAnswer::Unavailable;
    }
    let slot = Slot(limiter.clone());
    let (tx, rx) = mpsc::sync_channel(1);
    let (reg, key) = (reg_handle.to_vec(), key_handle.to_vec());
    let spawned = std::thread::Builder::new()
        .name("btls-registry-lookup".into())
        .spawn(move || {
            let _slot = slot;
            let _ = tx.send(registry.lookup(&reg, &key));
        });
    if spawned.is_err() {
        return RegistryAnswer::Unavailable;
    }
    rx.recv_timeout(timeout)
        .unwrap_or(RegistryAnswer::Unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::KeyAlgorithm;
    use std::sync::{Condvar, Mutex};

    #[test]
    fn a_missing_registry_directory_is_unavailable_and_an_empty_one_finds_nothing() {
        let dir = std::env::temp_dir().join(format!("btls-registry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let registry = DirectoryRegistry::new(&dir);
        assert_eq!(registry.lookup(b"r", b"k"), RegistryAnswer::Unavailable);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(registry.lookup(b"r", b"k"), RegistryAnswer::NotFound);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A registry that answers only when released.
    #[derive(Default)]
    struct Hung {
        released: Mutex<bool>,
        cv: Condvar,
    }
    impl Hung {
        fn release(&self) {
            *self.released.lock().unwrap() = true;
            self.cv.notify_all();
        }
    }
    impl KeyRegistry for Hung {
        fn lookup(&self, _: &[u8], _: &[u8]) -> RegistryAnswer {
            let mut released = self.released.lock().unwrap();
            while !*released {
                released = self.cv.wait(released).unwrap();
            }
            RegistryAnswer::NotFound
        }
    }

    #[test]
    fn a_registry_that_does_not_answer_in_time_is_unavailable_and_holds_bounded_threads() {
        let hung = Arc::new(Hung::default());
        let limiter = Arc::new(LookupLimiter::default());
        for _ in 0..MAX_OUTSTANDING_LOOKUPS + 5 {
            let answer =
                lookup_with_timeout(hung.clone(), &limiter, b"r", b"k", Duration::from_millis(5));
            assert_eq!(answer, RegistryAnswer::Unavailable);
        }
        assert_eq!(limiter.outstanding(), MAX_OUTSTANDING_LOOKUPS);
        hung.release();
        // Every helper thread ends once the registry answers; none is left counted.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while limiter.outstanding() > 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(limiter.outstanding(), 0);
    }

    #[test]
    fn directory_registry_answers_found_not_found_revoked_and_unavailable() {
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
        assert_eq!(
            reg.lookup(b"alice/with/slashes", b"k1"),
            RegistryAnswer::Found(key.clone())
        );
        assert_eq!(
            reg.lookup(b"alice/with/slashes", b"k2"),
            RegistryAnswer::NotFound
        );
        std::fs::write(reg.path_for(b"alice/with/slashes", b"k3"), b"\x00garbage").unwrap();
        assert_eq!(
            reg.lookup(b"alice/with/slashes", b"k3"),
            RegistryAnswer::Unavailable
        );
        reg.revoke(b"alice/with/slashes", b"k1").unwrap();
        assert_eq!(
            reg.lookup(b"alice/with/slashes", b"k1"),
            RegistryAnswer::Revoked
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
