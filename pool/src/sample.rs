//! Sample configurations with fresh keys: what `btls-pool init` writes, and what tests,
//! benchmarks and the demo start daemons with.

use btls::crypto::SigningKey;
use btls::keys::{save_private_key, save_published_key, OwnKey, PasswordProtection};
use btls::msgs::{KeyAlgorithm, PublishedKey};
use btls::RandomSource;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `not_after` of sample keys: 2100-01-01.
const NOT_AFTER: u64 = 4_102_444_800;
/// PBKDF2 iterations of protected sample keys: few, so that tests unlock them fast.
pub const SAMPLE_ITERATIONS: u32 = 1_000;

/// The key files of one identity.
#[derive(Debug, Clone)]
pub struct IdentityKeys {
    /// The identity (the keys' registration handle).
    pub identity: String,
    /// Private key files, Ed25519 first.
    pub private: Vec<PathBuf>,
    /// Published key files, in the same order.
    pub public: Vec<PathBuf>,
}

/// Writes an Ed25519 and a P-256 key for `identity` into `dir`, protected by `password` if
/// given.
pub fn make_keys(
    dir: &Path,
    identity: &str,
    password: Option<&str>,
    rng: &mut dyn RandomSource,
) -> anyhow::Result<IdentityKeys> {
    std::fs::create_dir_all(dir)?;
    let mut out = IdentityKeys {
        identity: identity.to_owned(),
        private: Vec::new(),
        public: Vec::new(),
    };
    for (alg, name) in [
        (KeyAlgorithm::ED25519_X25519, "ed25519"),
        (KeyAlgorithm::ECDSA_P256_ECDH_P256, "p256"),
    ] {
        let signing = SigningKey::generate(alg, rng)
            .ok_or_else(|| anyhow::anyhow!("cannot generate a {name} key"))?;
        let published = PublishedKey {
            reg_handle: identity.as_bytes().to_vec(),
            key_handle: format!("{name}-1").into_bytes(),
            key_algorithm: alg,
            public_key: signing.public_key().to_vec(),
            not_before: 0,
            not_after: NOT_AFTER,
            registry_signature: Vec::new(),
        };
        let key = OwnKey::new(signing, published)
            .ok_or_else(|| anyhow::anyhow!("the {name} key does not match itself"))?;
        let private = dir.join(format!("{identity}-{name}.key"));
        let public = dir.join(format!("{identity}-{name}.pub"));
        let protection = password.map(|p| PasswordProtection {
            iterations: SAMPLE_ITERATIONS,
            ..PasswordProtection::new(p)
        });
        save_private_key(&private, &key, protection.as_ref(), rng)?;
        save_published_key(&public, &key.published)?;
        out.private.push(private);
        out.public.push(public);
    }
    Ok(out)
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

/// A configuration file's text: `socket`, the local identities, the known peer keys, and
/// `extra` lines (top-level fields) appended before the tables.
pub fn config_text(
    base: &Path,
    socket: &Path,
    local: &[IdentityKeys],
    known: &[PathBuf],
    extra: &str,
) -> String {
    let mut t = String::from("# btls-pool configuration (pool/CONFIG.md documents every field)\n");
    let _ = writeln!(t, "socket = {:?}", rel(base, socket));
    let _ = writeln!(t, "socket_mode = \"0600\"");
    t.push_str(extra);
    if !extra.is_empty() && !extra.ends_with('\n') {
        t.push('\n');
    }
    for l in local {
        let keys: Vec<String> = l
            .private
            .iter()
            .map(|p| format!("{:?}", rel(base, p)))
            .collect();
        let _ = write!(
            t,
            "\n[[local]]\nidentity = {:?}\nkeys = [{}]\n",
            l.identity,
            keys.join(", ")
        );
    }
    let known: Vec<String> = known
        .iter()
        .map(|p| format!("{:?}", rel(base, p)))
        .collect();
    let _ = write!(t, "\n[remote]\nknown = [{}]\n", known.join(", "));
    t
}

/// Writes `dir/btls-pool.toml` for `identity` with fresh keys in `dir/keys`, knowing the
/// published keys `known`; returns the configuration file and the identity's keys.
pub fn write_sample(
    dir: &Path,
    identity: &str,
    known: &[PathBuf],
    rng: &mut dyn RandomSource,
) -> anyhow::Result<(PathBuf, IdentityKeys)> {
    let keys = make_keys(&dir.join("keys"), identity, None, rng)?;
    let path = dir.join("btls-pool.toml");
    let text = config_text(
        dir,
        &dir.join("tlspool.sock"),
        std::slice::from_ref(&keys),
        known,
        "",
    );
    std::fs::write(&path, text)?;
    Ok((path, keys))
}
