//! The daemon's configuration file (TOML; `pool/CONFIG.md` documents every field). Paths in it
//! are relative to the file. Loading checks everything it can before the daemon listens: every
//! key file is read, every plain private key is loaded and must belong to its identity.

use btls::keys::{load_private_key, load_published_key, KeyFileError, OwnKey};
use btls::msgs::{CipherSuite, KeyAlgorithm, PublishedKey};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The default socket, where V1's client library looks.
pub const DEFAULT_SOCKET: &str = "/var/run/tlspool.sock";

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    socket: Option<PathBuf>,
    socket_mode: Option<String>,
    socket_owner: Option<String>,
    socket_group: Option<String>,
    handshake_timeout_ms: Option<u64>,
    callback_timeout_ms: Option<u64>,
    packet_timeout_ms: Option<u64>,
    pin_attempts: Option<u32>,
    max_requests_per_connection: Option<usize>,
    max_connections: Option<usize>,
    #[serde(default)]
    local: Vec<LocalFile>,
    #[serde(default)]
    remote: RemoteFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalFile {
    identity: String,
    protocol: Option<String>,
    #[serde(default)]
    keys: Vec<PathBuf>,
    certificate: Option<PathBuf>,
    private_key: Option<PathBuf>,
    prompt: Option<String>,
    token_label: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteFile {
    #[serde(default)]
    known: Vec<PathBuf>,
    registry: Option<PathBuf>,
    #[serde(default)]
    trusted_registries: Vec<PathBuf>,
    #[serde(default)]
    trust_on_first_use: bool,
    #[serde(default)]
    allowed_algorithms: Vec<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    send_key: Option<bool>,
    resumption: Option<bool>,
    key_cache: Option<usize>,
    registry_timeout_ms: Option<u64>,
    #[serde(default)]
    tls_roots: Vec<PathBuf>,
}

/// A private key of a local identity: loaded, or protected and unlocked with a PIN when needed.
#[derive(Debug, Clone)]
pub enum LocalKey {
    /// A plain key file, loaded at start.
    Plain(Arc<OwnKey>),
    /// A password-protected key file, read again and unlocked for each handshake.
    Protected(PathBuf),
}

/// TLS 1.3 credentials of a local identity, as rustls configurations for both roles.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    /// As a server: the identity's certificate chain, no client authentication.
    pub server: Arc<rustls::ServerConfig>,
    /// As a client: the configured roots, the identity's certificate for client authentication.
    pub client: Arc<rustls::ClientConfig>,
}

/// A local identity and its credentials.
#[derive(Debug, Clone)]
pub struct LocalIdentity {
    /// `domain` or `user@domain`: the registration handle of its keys.
    pub identity: String,
    /// Its bTLS keys, in preference order (none for a TLS identity).
    pub keys: Vec<LocalKey>,
    /// Set when the identity speaks TLS 1.3 instead of bTLS (`protocol = "tls13"`).
    pub tls: Option<TlsIdentity>,
    /// What the PIN-entry program shows when a protected key is unlocked.
    pub prompt: String,
    /// The token label the PIN-entry program shows.
    pub token_label: String,
}

/// How remote identities are validated.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Known peer keys.
    pub known: Vec<PublishedKey>,
    /// A registry directory.
    pub registry: Option<PathBuf>,
    /// Public keys of trusted registries.
    pub trusted_registries: Vec<Vec<u8>>,
    /// Trust a valid unsigned key on first use.
    pub trust_on_first_use: bool,
    /// Allowed peer key algorithms.
    pub allowed_algorithms: Vec<KeyAlgorithm>,
    /// Cipher suites in preference order.
    pub cipher_suites: Vec<CipherSuite>,
    /// As a server, answer SEND_KEY with the key.
    pub send_key: bool,
    /// Offer and accept session resumption.
    pub resumption: bool,
    /// Size of the key cache.
    pub key_cache: usize,
    /// Bound on one registry lookup.
    pub registry_timeout: Duration,
}

/// The daemon's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the daemon listens.
    pub socket: PathBuf,
    /// The socket file's mode.
    pub socket_mode: u32,
    /// The socket file's owner (a user name or number).
    pub socket_owner: Option<String>,
    /// The socket file's group (a group name or number).
    pub socket_group: Option<String>,
    /// BT-TIME-1 for the daemon's handshakes.
    pub handshake_timeout: Duration,
    /// How long a STARTTLS_LOCALID or PINENTRY callback may take.
    pub callback_timeout: Duration,
    /// How long the rest of a packet may take once its first byte came.
    pub packet_timeout: Duration,
    /// How many wrong PINs end a request.
    pub pin_attempts: u32,
    /// Outstanding STARTTLS requests one connection may have.
    pub max_requests_per_connection: usize,
    /// Connections the daemon serves at once.
    pub max_connections: usize,
    /// Local identities, in the order they are proposed.
    pub local: Vec<LocalIdentity>,
    /// Remote validation.
    pub remote: Remote,
}

/// Why a configuration cannot be used; each names the file and the field or key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not TOML of the expected shape.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field has a value that is not allowed.
    #[error("{path}: {field}: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A key file is unusable.
    #[error("{path}: {field}: {error}")]
    Key {
        /// The configuration file.
        path: PathBuf,
        /// The field naming the key file.
        field: String,
        /// The key file's error.
        error: KeyFileError,
    },
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text`, the contents of `path` (relative paths are taken from its folder).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let field_err = |field: &str, message: String| ConfigError::Field {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let key_err = |field: String, error: KeyFileError| ConfigError::Key {
            path: path.to_owned(),
            field,
            error,
        };
        let mode = match &file.socket_mode {
            Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| field_err("socket_mode", format!("{m:?} is not an octal mode")))?,
            None => 0o660,
        };
        let roots = |paths: &[PathBuf]| -> Result<Vec<PathBuf>, ConfigError> {
            Ok(paths.iter().map(|p| base.join(p)).collect())
        };
        let mut local = Vec::new();
        for (i, l) in file.local.iter().enumerate() {
            let at = format!("local[{i}]");
            if let Err(why) = crate::identity::check(&l.identity) {
                return Err(field_err(&format!("{at}.identity"), why));
            }
            if local
                .iter()
                .any(|x: &LocalIdentity| x.identity == l.identity)
            {
                return Err(field_err(
                    &format!("{at}.identity"),
                    format!("{:?} is configured twice", l.identity),
                ));
            }
            let tls = match l.protocol.as_deref() {
                None | Some("btls") => {
                    if l.keys.is_empty() {
                        return Err(field_err(&format!("{at}.keys"), "no key file".into()));
                    }
                    None
                }
                Some("tls13") => {
                    let (Some(cert), Some(key)) = (&l.certificate, &l.private_key) else {
                        return Err(field_err(
                            &at,
                            "protocol = \"tls13\" needs certificate and private_key (PEM files)"
                                .into(),
                        ));
                    };
                    Some(
                        crate::tls::identity(
                            &base.join(cert),
                            &base.join(key),
                            &roots(&file.remote.tls_roots)?,
                        )
                        .map_err(|m| field_err(&format!("{at}.certificate"), m))?,
                    )
                }
                Some(other) => {
                    return Err(field_err(
                        &format!("{at}.protocol"),
                        format!("{other:?} is \"btls\" or \"tls13\""),
                    ))
                }
            };
            let mut keys = Vec::new();
            for (k, rel) in l.keys.iter().enumerate() {
                let field = format!("{at}.keys[{k}]");
                let file = base.join(rel);
                match load_private_key(&file, None) {
                    Ok(key) => {
                        if key.published.reg_handle != l.identity.as_bytes() {
                            return Err(field_err(
                                &field,
                                format!(
                                    "{}: the key's registration is {:?}, not the identity {:?}",
                                    file.display(),
                                    String::from_utf8_lossy(&key.published.reg_handle),
                                    l.identity
                                ),
                            ));
                        }
                        keys.push(LocalKey::Plain(Arc::new(key)));
                    }
                    Err(KeyFileError::PasswordRequired { .. }) => {
                        keys.push(LocalKey::Protected(file));
                    }
                    Err(e) => return Err(key_err(field, e)),
                }
            }
            local.push(LocalIdentity {
                identity: l.identity.clone(),
                keys,
                tls,
                prompt: l
                    .prompt
                    .clone()
                    .unwrap_or_else(|| format!("PIN for {}", l.identity)),
                token_label: l
                    .token_label
                    .clone()
                    .unwrap_or_else(|| l.identity.chars().take(32).collect()),
            });
        }
        let r = &file.remote;
        let mut known = Vec::new();
        for (i, rel) in r.known.iter().enumerate() {
            known.push(
                load_published_key(&base.join(rel))
                    .map_err(|e| key_err(format!("remote.known[{i}]"), e))?,
            );
        }
        let mut trusted_registries = Vec::new();
        for (i, rel) in r.trusted_registries.iter().enumerate() {
            trusted_registries.push(
                load_published_key(&base.join(rel))
                    .map_err(|e| key_err(format!("remote.trusted_registries[{i}]"), e))?
                    .public_key,
            );
        }
        let names = |field: &str, given: &[String], all: &[KeyAlgorithm]| {
            if given.is_empty() {
                return Ok(all.to_vec());
            }
            given
                .iter()
                .map(|n| {
                    KeyAlgorithm::from_name(n)
                        .ok_or_else(|| field_err(field, format!("unknown key algorithm {n:?}")))
                })
                .collect()
        };
        let allowed_algorithms = names(
            "remote.allowed_algorithms",
            &r.allowed_algorithms,
            KeyAlgorithm::ALL,
        )?;
        let cipher_suites = if r.cipher_suites.is_empty() {
            CipherSuite::ALL.to_vec()
        } else {
            r.cipher_suites
                .iter()
                .map(|n| {
                    CipherSuite::from_name(n).ok_or_else(|| {
                        field_err(
                            "remote.cipher_suites",
                            format!("unknown cipher suite {n:?}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let registry = r.registry.as_ref().map(|d| base.join(d));
        if let Some(dir) = &registry {
            if !dir.is_dir() {
                return Err(field_err(
                    "remote.registry",
                    format!("{} is not a directory", dir.display()),
                ));
            }
        }
        Ok(Self {
            socket: file
                .socket
                .map(|s| base.join(s))
                .unwrap_or_else(|| DEFAULT_SOCKET.into()),
            socket_mode: mode,
            socket_owner: file.socket_owner,
            socket_group: file.socket_group,
            handshake_timeout: Duration::from_millis(file.handshake_timeout_ms.unwrap_or(10_000)),
            callback_timeout: Duration::from_millis(file.callback_timeout_ms.unwrap_or(10_000)),
            packet_timeout: Duration::from_millis(file.packet_timeout_ms.unwrap_or(1_000)),
            pin_attempts: file.pin_attempts.unwrap_or(3).max(1),
            max_requests_per_connection: file.max_requests_per_connection.unwrap_or(64).max(1),
            max_connections: file.max_connections.unwrap_or(4096).max(1),
            local,
            remote: Remote {
                known,
                registry,
                trusted_registries,
                trust_on_first_use: r.trust_on_first_use,
                allowed_algorithms,
                cipher_suites,
                send_key: r.send_key.unwrap_or(true),
                resumption: r.resumption.unwrap_or(true),
                key_cache: r.key_cache.unwrap_or(256).max(1),
                registry_timeout: Duration::from_millis(r.registry_timeout_ms.unwrap_or(2_000)),
            },
        })
    }

    /// The local identity named `name`.
    pub fn local_identity(&self, name: &str) -> Option<&LocalIdentity> {
        self.local.iter().find(|l| l.identity == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_named_with_its_line() {
        let e = Config::parse(
            Path::new("/x/pool.toml"),
            "socket = \"s\"\nsokcet_mode = \"600\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("/x/pool.toml: "), "{e}");
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("sokcet_mode"), "{e}");
    }

    #[test]
    fn a_bad_mode_and_a_bad_identity_are_named() {
        let e = Config::parse(Path::new("p.toml"), "socket_mode = \"999\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("socket_mode"), "{e}");
        let e = Config::parse(
            Path::new("p.toml"),
            "[[local]]\nidentity = \"a b\"\nkeys = [\"k\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("local[0].identity"), "{e}");
    }

    #[test]
    fn a_missing_key_file_is_named() {
        let e = Config::parse(
            Path::new("/nonexistent/p.toml"),
            "[[local]]\nidentity = \"a.example\"\nkeys = [\"k.key\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("local[0].keys[0]"), "{e}");
        assert!(e.contains("/nonexistent/k.key"), "{e}");
    }
}
