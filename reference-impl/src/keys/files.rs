//! Key files (BT-KEY-12; formats in `docs/key-files.md`): a private key file, plain or protected
//! by a password (PBKDF2-HMAC-SHA256 and AES-256-GCM), and a published key file (JSON, or the wire
//! encoding of SPEC §3.3).

use super::OwnKey;
use crate::codec::Codec;
use crate::crypto::{RandomSource, SigningKey};
use crate::msgs::{KeyAlgorithm, PublishedKey};
use aws_lc_rs::{aead, pbkdf2};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Format tag of a private key file.
pub const PRIVATE_KEY_FORMAT: &str = "btls-private-key/1";
/// Format tag of a published key file.
pub const PUBLISHED_KEY_FORMAT: &str = "btls-published-key/1";
/// Default PBKDF2 iteration count of a protected key file.
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// Why a key file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape.
    #[error("{path}: not a key file: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field has a value that is not allowed.
    #[error("{path}: field `{field}`: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The JSON field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The file is protected and no password was given.
    #[error("{path}: the key is protected by a password and none was given")]
    PasswordRequired {
        /// The file.
        path: PathBuf,
    },
    /// The password is wrong, or the protected key was altered.
    #[error("{path}: wrong password, or the protected key was altered")]
    WrongPassword {
        /// The file.
        path: PathBuf,
    },
}

/// How a private key file is protected.
#[derive(Debug, Clone)]
pub struct PasswordProtection {
    /// The password.
    pub password: Zeroizing<String>,
    /// PBKDF2 iterations.
    pub iterations: u32,
}

impl PasswordProtection {
    /// Protection by `password` with [`DEFAULT_ITERATIONS`].
    pub fn new(password: &str) -> Self {
        Self {
            password: Zeroizing::new(password.to_owned()),
            iterations: DEFAULT_ITERATIONS,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Protection {
    kdf: String,
    iterations: u32,
    salt: String,
    aead: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    format: String,
    key_algorithm: String,
    reg_handle: String,
    key_handle: String,
    not_before: u64,
    not_after: u64,
    #[serde(default)]
    registry_signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    protection: Option<Protection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedKeyFile {
    format: String,
    key_algorithm: String,
    reg_handle: String,
    key_handle: String,
    public_key: String,
    not_before: u64,
    not_after: u64,
    #[serde(default)]
    registry_signature: String,
}

fn field(path: &Path, field: &'static str, message: impl Into<String>) -> KeyFileError {
    KeyFileError::Field {
        path: path.to_owned(),
        field,
        message: message.into(),
    }
}

fn unhex(path: &Path, name: &'static str, value: &str) -> Result<Vec<u8>, KeyFileError> {
    hex::decode(value).map_err(|e| field(path, name, format!("not hex: {e}")))
}

fn algorithm(path: &Path, name: &str) -> Result<KeyAlgorithm, KeyFileError> {
    KeyAlgorithm::from_name(name)
        .ok_or_else(|| field(path, "key_algorithm", format!("unknown algorithm {name:?}")))
}

fn utf8(path: &Path, name: &'static str, bytes: &[u8]) -> Result<String, KeyFileError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| field(path, name, "handles in key files must be UTF-8"))
}

fn read(path: &Path) -> Result<Vec<u8>, KeyFileError> {
    std::fs::read(path).map_err(|source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, json: &impl Serialize) -> Result<(), KeyFileError> {
    let mut text = serde_json::to_string_pretty(json).map_err(|e| KeyFileError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path, bytes: &[u8]) -> Result<T, KeyFileError> {
    serde_json::from_slice(bytes).map_err(|e| KeyFileError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The AEAD's associated data: binds a protected key to its identity.
fn identity_aad(reg: &str, key: &str) -> Vec<u8> {
    [reg.as_bytes(), &[0], key.as_bytes()].concat()
}

fn derive_key(password: &str, salt: &[u8], iterations: NonZeroU32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        key.as_mut(),
    );
    key
}

/// Loads plain (unprotected) private key files, in order.
pub fn load_private_keys(paths: &[PathBuf]) -> Result<Vec<std::sync::Arc<OwnKey>>, KeyFileError> {
    paths
        .iter()
        .map(|p| load_private_key(p, None).map(std::sync::Arc::new))
        .collect()
}

/// Writes `key`'s private key file, protected by `protection` if given.
pub fn save_private_key(
    path: &Path,
    key: &OwnKey,
    protection: Option<&PasswordProtection>,
    rng: &mut dyn RandomSource,
) -> Result<(), KeyFileError> {
    let p = &key.published;
    let reg_handle = utf8(path, "reg_handle", &p.reg_handle)?;
    let key_handle = utf8(path, "key_handle", &p.key_handle)?;
    let mut file = PrivateKeyFile {
        format: PRIVATE_KEY_FORMAT.into(),
        key_algorithm: p.key_algorithm.to_string(),
        not_before: p.not_before,
        not_after: p.not_after,
        registry_signature: hex::encode(&p.registry_signature),
        private_key: None,
        protection: None,
        ciphertext: None,
        reg_handle,
        key_handle,
    };
    match protection {
        None => file.private_key = Some(hex::encode(key.signing.private_bytes())),
        Some(protection) => {
            let iterations = NonZeroU32::new(protection.iterations)
                .ok_or_else(|| field(path, "iterations", "must be at least 1"))?;
            let mut salt = [0u8; 16];
            let mut nonce = [0u8; 12];
            rng.fill(&mut salt);
            rng.fill(&mut nonce);
            let wrap = derive_key(&protection.password, &salt, iterations);
            let sealing = aead::LessSafeKey::new(
                aead::UnboundKey::new(&aead::AES_256_GCM, wrap.as_ref())
                    .map_err(|_| field(path, "protection", "AES-256-GCM unavailable"))?,
            );
            let mut data = key.signing.private_bytes().to_vec();
            sealing
                .seal_in_place_append_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(identity_aad(&file.reg_handle, &file.key_handle)),
                    &mut data,
                )
                .map_err(|_| field(path, "ciphertext", "sealing failed"))?;
            file.protection = Some(Protection {
                kdf: "pbkdf2-hmac-sha256".into(),
                iterations: protection.iterations,
                salt: hex::encode(salt),
                aead: "aes-256-gcm".into(),
                nonce: hex::encode(nonce),
            });
            file.ciphertext = Some(hex::encode(data));
        }
    }
    write(path, &file)
}

/// Reads a private key file; `password` is needed only if the file is protected.
pub fn load_private_key(path: &Path, password: Option<&str>) -> Result<OwnKey, KeyFileError> {
    let file: PrivateKeyFile = parse(path, &read(path)?)?;
    if file.format != PRIVATE_KEY_FORMAT {
        return Err(field(
            path,
            "format",
            format!("expected {PRIVATE_KEY_FORMAT:?}, found {:?}", file.format),
        ));
    }
    let alg = algorithm(path, &file.key_algorithm)?;
    let private = match (&file.private_key, &file.protection, &file.ciphertext) {
        (Some(hex_key), None, None) => Zeroizing::new(unhex(path, "private_key", hex_key)?),
        (None, Some(protection), Some(ciphertext)) => {
            let password = password.ok_or_else(|| KeyFileError::PasswordRequired {
                path: path.to_owned(),
            })?;
            if protection.kdf != "pbkdf2-hmac-sha256" {
                return Err(field(
                    path,
                    "protection.kdf",
                    format!("unsupported {:?}", protection.kdf),
                ));
            }
            if protection.aead != "aes-256-gcm" {
                return Err(field(
                    path,
                    "protection.aead",
                    format!("unsupported {:?}", protection.aead),
                ));
            }
            let iterations = NonZeroU32::new(protection.iterations)
                .ok_or_else(|| field(path, "protection.iterations", "must be at least 1"))?;
            let salt = unhex(path, "protection.salt", &protection.salt)?;
            let nonce: [u8; 12] = unhex(path, "protection.nonce", &protection.nonce)?
                .try_into()
                .map_err(|_| field(path, "protection.nonce", "must be 12 bytes"))?;
            let wrap = derive_key(password, &salt, iterations);
            let opening = aead::LessSafeKey::new(
                aead::UnboundKey::new(&aead::AES_256_GCM, wrap.as_ref())
                    .map_err(|_| field(path, "protection", "AES-256-GCM unavailable"))?,
            );
            let mut data = Zeroizing::new(unhex(path, "ciphertext", ciphertext)?);
            let plain = opening
                .open_in_place(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(identity_aad(&file.reg_handle, &file.key_handle)),
                    data.as_mut_slice(),
                )
                .map_err(|_| KeyFileError::WrongPassword {
                    path: path.to_owned(),
                })?;
            Zeroizing::new(plain.to_vec())
        }
        _ => {
            return Err(field(
                path,
                "private_key",
                "give either `private_key`, or `protection` with `ciphertext`",
            ))
        }
    };
    let signing = SigningKey::from_private_bytes(alg, &private).ok_or_else(|| {
        field(
            path,
            "private_key",
            format!("not a valid {alg} private key (32 bytes)"),
        )
    })?;
    if file.not_after < file.not_before {
        return Err(field(path, "not_after", "earlier than not_before"));
    }
    let published = PublishedKey {
        reg_handle: file.reg_handle.into_bytes(),
        key_handle: file.key_handle.into_bytes(),
        key_algorithm: alg,
        public_key: signing.public_key().to_vec(),
        not_before: file.not_before,
        not_after: file.not_after,
        registry_signature: unhex(path, "registry_signature", &file.registry_signature)?,
    };
    check_handles(path, &published)?;
    OwnKey::new(signing, published)
        .ok_or_else(|| field(path, "private_key", "does not match its public key"))
}

fn check_handles(path: &Path, key: &PublishedKey) -> Result<(), KeyFileError> {
    for (name, value) in [
        ("reg_handle", &key.reg_handle),
        ("key_handle", &key.key_handle),
    ] {
        if value.is_empty() || value.len() > 255 {
            return Err(field(
                path,
                if name == "reg_handle" {
                    "reg_handle"
                } else {
                    "key_handle"
                },
                "must be 1..=255 bytes",
            ));
        }
    }
    Ok(())
}

/// Writes a published key file (JSON).
pub fn save_published_key(path: &Path, key: &PublishedKey) -> Result<(), KeyFileError> {
    write(
        path,
        &PublishedKeyFile {
            format: PUBLISHED_KEY_FORMAT.into(),
            key_algorithm: key.key_algorithm.to_string(),
            reg_handle: utf8(path, "reg_handle", &key.reg_handle)?,
            key_handle: utf8(path, "key_handle", &key.key_handle)?,
            public_key: hex::encode(&key.public_key),
            not_before: key.not_before,
            not_after: key.not_after,
            registry_signature: hex::encode(&key.registry_signature),
        },
    )
}

/// Reads a published key file: JSON, or the wire encoding of SPEC §3.3 (as in a registry
/// directory).
pub fn load_published_key(path: &Path) -> Result<PublishedKey, KeyFileError> {
    let bytes = read(path)?;
    if bytes.first() != Some(&b'{') {
        return PublishedKey::decode(&bytes).map_err(|e| KeyFileError::Syntax {
            path: path.to_owned(),
            message: format!("neither JSON nor a PublishedKey encoding: {e}"),
        });
    }
    let file: PublishedKeyFile = parse(path, &bytes)?;
    if file.format != PUBLISHED_KEY_FORMAT {
        return Err(field(
            path,
            "format",
            format!("expected {PUBLISHED_KEY_FORMAT:?}, found {:?}", file.format),
        ));
    }
    if file.not_after < file.not_before {
        return Err(field(path, "not_after", "earlier than not_before"));
    }
    let key = PublishedKey {
        key_algorithm: algorithm(path, &file.key_algorithm)?,
        public_key: unhex(path, "public_key", &file.public_key)?,
        not_before: file.not_before,
        not_after: file.not_after,
        registry_signature: unhex(path, "registry_signature", &file.registry_signature)?,
        reg_handle: file.reg_handle.into_bytes(),
        key_handle: file.key_handle.into_bytes(),
    };
    check_handles(path, &key)?;
    if key.public_key.is_empty() || key.public_key.len() > 1024 {
        return Err(field(path, "public_key", "must be 1..=1024 bytes"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::testing::own_key;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("btls-keyfiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn plain_and_protected_files_round_trip_for_both_algorithms() {
        for alg in KeyAlgorithm::ALL {
            let key = own_key(*alg, "alice", "k1", 3);
            let plain = temp(&format!("plain-{}.json", alg.0));
            save_private_key(&plain, &key, None, &mut SeededRandom::new(1)).unwrap();
            let back = load_private_key(&plain, Some("ignored")).unwrap();
            assert_eq!(back.published, key.published);
            let protected = temp(&format!("protected-{}.json", alg.0));
            let protection = PasswordProtection {
                password: Zeroizing::new("pw".into()),
                iterations: 10,
            };
            save_private_key(
                &protected,
                &key,
                Some(&protection),
                &mut SeededRandom::new(1),
            )
            .unwrap();
            assert!(!std::fs::read_to_string(&protected)
                .unwrap()
                .contains(&hex::encode(key.signing.private_bytes())));
            assert_eq!(
                load_private_key(&protected, Some("pw")).unwrap().published,
                key.published
            );
            assert!(matches!(
                load_private_key(&protected, Some("wrong")),
                Err(KeyFileError::WrongPassword { .. })
            ));
            assert!(matches!(
                load_private_key(&protected, None),
                Err(KeyFileError::PasswordRequired { .. })
            ));
        }
    }

    #[test]
    fn a_protected_key_moved_to_another_identity_does_not_open() {
        let key = own_key(KeyAlgorithm::ED25519_X25519, "alice", "k1", 3);
        let path = temp("moved.json");
        let protection = PasswordProtection {
            password: Zeroizing::new("pw".into()),
            iterations: 10,
        };
        save_private_key(&path, &key, Some(&protection), &mut SeededRandom::new(1)).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"alice\"", "\"mallory\"");
        std::fs::write(&path, text).unwrap();
        assert!(matches!(
            load_private_key(&path, Some("pw")),
            Err(KeyFileError::WrongPassword { .. })
        ));
    }

    #[test]
    fn malformed_fields_are_named() {
        let key = own_key(KeyAlgorithm::ED25519_X25519, "alice", "k1", 3);
        let path = temp("bad.json");
        save_private_key(&path, &key, None, &mut SeededRandom::new(1)).unwrap();
        let good = std::fs::read_to_string(&path).unwrap();
        for (from, to, named) in [
            ("ED25519_X25519", "RSA", "key_algorithm"),
            ("btls-private-key/1", "other/9", "format"),
            (
                "\"private_key\": \"",
                "\"private_key\": \"zz",
                "private_key",
            ),
        ] {
            std::fs::write(&path, good.replace(from, to)).unwrap();
            let err = load_private_key(&path, None).unwrap_err().to_string();
            assert!(err.contains(named) && err.contains("bad.json"), "{err}");
        }
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            load_private_key(&path, None),
            Err(KeyFileError::Syntax { .. })
        ));
        let missing = load_private_key(&temp("missing.json"), None)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("missing.json"), "{missing}");
    }

    #[test]
    fn published_keys_load_from_json_and_from_the_wire_encoding() {
        let key = own_key(KeyAlgorithm::ECDSA_P256_ECDH_P256, "bob", "k2", 4)
            .published
            .clone();
        let json = temp("bob.pub.json");
        save_published_key(&json, &key).unwrap();
        assert_eq!(load_published_key(&json).unwrap(), key);
        let wire = temp("bob.btlskey");
        std::fs::write(&wire, key.to_bytes()).unwrap();
        assert_eq!(load_published_key(&wire).unwrap(), key);
    }
}
