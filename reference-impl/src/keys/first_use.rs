//! The first-use store: trust on first use per registration (BT-KEY-13).
//!
//! It maps a `reg_handle` to the one key first accepted for it. Unlike the key cache it never
//! evicts: when it is full, registrations it does not know are not trusted on first use. It may
//! be kept in a file, one line per registration (`hex(reg) hex(key_handle) algorithm
//! hex(public_key)`), appended as keys are learned, so that what was learned survives a restart.

use crate::msgs::{KeyAlgorithm, PublishedKey};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The reference's default bound on the registrations the store holds.
pub const DEFAULT_FIRST_USE_CAPACITY: usize = 4096;

/// The key remembered for one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Remembered {
    key_handle: Vec<u8>,
    key_algorithm: KeyAlgorithm,
    public_key: Vec<u8>,
}

impl Remembered {
    fn of(key: &PublishedKey) -> Self {
        Self {
            key_handle: key.key_handle.clone(),
            key_algorithm: key.key_algorithm,
            public_key: key.public_key.clone(),
        }
    }
}

/// What the store says of an unsigned key (BT-KEY-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstUse {
    /// The store holds exactly this key for its registration.
    Remembered,
    /// The store holds nothing for the registration and has room: trust on first use applies.
    New,
    /// The store holds another key (key handle, algorithm or bytes) for the registration.
    Conflict,
    /// The store holds nothing for the registration and is full.
    Full,
}

/// Trust-on-first-use memory, bounded and never evicted (BT-KEY-13).
#[derive(Debug)]
pub struct FirstUseStore {
    capacity: usize,
    file: Option<PathBuf>,
    entries: Mutex<HashMap<Vec<u8>, Remembered>>,
}

impl Default for FirstUseStore {
    fn default() -> Self {
        Self::new(DEFAULT_FIRST_USE_CAPACITY)
    }
}

/// A first-use store file that cannot be read.
#[derive(Debug)]
pub struct FirstUseFileError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, or 0 when the file itself could not be read.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FirstUseFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for FirstUseFileError {}

impl FirstUseStore {
    /// An in-memory store of at most `capacity` registrations.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            file: None,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// A store kept in `path` (created when missing), holding at most `capacity` registrations.
    pub fn open(path: &Path, capacity: usize) -> Result<Self, FirstUseFileError> {
        let err = |line: usize, message: String| FirstUseFileError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(0, e.to_string())),
        };
        let mut entries = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let [reg, key_handle, algorithm, public_key] = fields.as_slice() else {
                return Err(err(
                    i + 1,
                    format!("expected 4 fields, found {}", fields.len()),
                ));
            };
            let hex_field = |name: &str, v: &str| {
                hex::decode(v).map_err(|e| err(i + 1, format!("{name}: not hex: {e}")))
            };
            let key_algorithm = algorithm
                .parse::<u16>()
                .map(KeyAlgorithm)
                .map_err(|e| err(i + 1, format!("algorithm: {e}")))?;
            entries.insert(
                hex_field("reg_handle", reg)?,
                Remembered {
                    key_handle: hex_field("key_handle", key_handle)?,
                    key_algorithm,
                    public_key: hex_field("public_key", public_key)?,
                },
            );
        }
        Ok(Self {
            capacity,
            file: Some(path.to_path_buf()),
            entries: Mutex::new(entries),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Remembered>> {
        // No code path panics while holding the lock with the map half-updated.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the store says of `key`, an unsigned key offered for its `reg_handle`.
    pub fn check(&self, key: &PublishedKey) -> FirstUse {
        let entries = self.lock();
        match entries.get(&key.reg_handle) {
            Some(r) if *r == Remembered::of(key) => FirstUse::Remembered,
            Some(_) => FirstUse::Conflict,
            None if entries.len() >= self.capacity => FirstUse::Full,
            None => FirstUse::New,
        }
    }

    /// Remembers `key` for its registration after a completed handshake. A registration already
    /// held keeps its key, and a full store learns nothing. The file, if any, is appended to.
    pub fn remember(&self, key: &PublishedKey) -> std::io::Result<()> {
        let mut entries = self.lock();
        if entries.contains_key(&key.reg_handle) || entries.len() >= self.capacity {
            return Ok(());
        }
        if let Some(path) = &self.file {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            writeln!(
                file,
                "{} {} {} {}",
                hex::encode(&key.reg_handle),
                hex::encode(&key.key_handle),
                key.key_algorithm.0,
                hex::encode(&key.public_key)
            )?;
        }
        entries.insert(key.reg_handle.clone(), Remembered::of(key));
        Ok(())
    }

    /// Forgets what was learned for a registration (the operator's action of BT-KEY-13). With a
    /// file, the file is rewritten.
    pub fn forget(&self, reg_handle: &[u8]) -> std::io::Result<bool> {
        let mut entries = self.lock();
        let removed = entries.remove(reg_handle).is_some();
        if let (true, Some(path)) = (removed, &self.file) {
            let mut text = String::new();
            for (reg, r) in entries.iter() {
                text.push_str(&format!(
                    "{} {} {} {}\n",
                    hex::encode(reg),
                    hex::encode(&r.key_handle),
                    r.key_algorithm.0,
                    hex::encode(&r.public_key)
                ));
            }
            std::fs::write(path, text)?;
        }
        Ok(removed)
    }

    /// The number of registrations held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(reg: &str, handle: &str, byte: u8) -> PublishedKey {
        PublishedKey {
            reg_handle: reg.as_bytes().to_vec(),
            key_handle: handle.as_bytes().to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: vec![byte; 32],
            not_before: 0,
            not_after: u64::MAX,
            registry_signature: vec![],
        }
    }

    #[test]
    fn one_key_per_registration_whatever_the_key_handle() {
        let store = FirstUseStore::new(8);
        let genuine = key("alice", "k1", 1);
        assert_eq!(store.check(&genuine), FirstUse::New);
        store.remember(&genuine).unwrap();
        assert_eq!(store.check(&genuine), FirstUse::Remembered);
        assert_eq!(store.check(&key("alice", "k2", 2)), FirstUse::Conflict);
        assert_eq!(store.check(&key("alice", "k1", 2)), FirstUse::Conflict);
        let mut other_alg = genuine.clone();
        other_alg.key_algorithm = KeyAlgorithm::ECDSA_P256_ECDH_P256;
        assert_eq!(store.check(&other_alg), FirstUse::Conflict);
        store.remember(&key("alice", "k2", 2)).unwrap();
        assert_eq!(
            store.check(&genuine),
            FirstUse::Remembered,
            "the first key stays"
        );
    }

    #[test]
    fn a_full_store_evicts_nothing_and_trusts_no_new_registration() {
        let store = FirstUseStore::new(2);
        store.remember(&key("a", "k", 1)).unwrap();
        store.remember(&key("b", "k", 1)).unwrap();
        for i in 0..300 {
            let k = key(&format!("flood{i}"), "k", 3);
            assert_eq!(store.check(&k), FirstUse::Full);
            store.remember(&k).unwrap();
        }
        assert_eq!(store.len(), 2);
        assert_eq!(store.check(&key("a", "k", 1)), FirstUse::Remembered);
        assert_eq!(store.check(&key("b", "k", 1)), FirstUse::Remembered);
    }

    #[test]
    fn a_file_keeps_what_was_learned_and_what_was_forgotten() {
        let dir = std::env::temp_dir().join(format!("btls-first-use-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tofu.txt");
        let _ = std::fs::remove_file(&path);
        let store = FirstUseStore::open(&path, 8).unwrap();
        store.remember(&key("alice", "k1", 1)).unwrap();
        store.remember(&key("bob", "k1", 2)).unwrap();
        let reopened = FirstUseStore::open(&path, 8).unwrap();
        assert_eq!(reopened.check(&key("alice", "k1", 1)), FirstUse::Remembered);
        assert!(reopened.forget(b"alice").unwrap());
        let again = FirstUseStore::open(&path, 8).unwrap();
        assert_eq!(again.check(&key("alice", "k9", 9)), FirstUse::New);
        assert_eq!(again.check(&key("bob", "k1", 2)), FirstUse::Remembered);
        std::fs::write(&path, "00 11 zz 22\n").unwrap();
        let e = FirstUseStore::open(&path, 8).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("algorithm"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
