//! The adapter contract's flags for a party of a bTLS scenario (`harness/IUT-ADAPTER.md`): key
//! files written from the fixtures, the registry directory, the policies.

use crate::fixtures::Fixtures;
use crate::scenario::PartyConfig;
use btls::crypto::SeededRandom;
use btls::keys::{save_private_key, save_published_key, DirectoryRegistry};
use harness_core::Role;
use std::path::{Path, PathBuf};

fn write_key_files(dir: &Path, names: &[String], private: bool) -> Result<Vec<PathBuf>, String> {
    let fixtures = Fixtures::get();
    let mut paths = Vec::new();
    for name in names {
        let key = fixtures
            .key(name)
            .ok_or_else(|| format!("unknown fixture key {name}"))?;
        let path = dir.join(format!(
            "{name}.{}.json",
            if private { "key" } else { "pub" }
        ));
        if !path.exists() {
            let result = if private {
                save_private_key(&path, &key, None, &mut SeededRandom::new(0))
            } else {
                save_published_key(&path, &key.published)
            };
            result.map_err(|e| e.to_string())?;
        }
        paths.push(path);
    }
    Ok(paths)
}

/// The default own keys and known keys of a role.
pub fn default_keys(role: Role) -> (Vec<String>, Vec<String>) {
    let own = role.as_str();
    let peer = role.peer().as_str();
    (
        vec![format!("{own}-ed25519"), format!("{own}-p256")],
        vec![format!("{peer}-ed25519"), format!("{peer}-p256")],
    )
}

/// Fills the registry directory `dir` as `config` says: the `registry` keys published, the
/// `revoked` ones revoked, the `registry_broken` ones with an entry that does not decode
/// (BT-KEY-14). `None` when the party has no registry.
pub fn write_registry(
    config: &PartyConfig,
    dir: &Path,
) -> Result<Option<DirectoryRegistry>, String> {
    if config.registry.is_none() && config.revoked.is_none() && config.registry_broken.is_none() {
        return Ok(None);
    }
    let registry = DirectoryRegistry::new(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let key = |name: &String| {
        Fixtures::get()
            .key(name)
            .map(|k| k.published.clone())
            .ok_or_else(|| format!("unknown fixture key {name}"))
    };
    for name in config.registry.iter().flatten() {
        registry.publish(&key(name)?).map_err(|e| e.to_string())?;
    }
    for name in config.revoked.iter().flatten() {
        let k = key(name)?;
        registry
            .revoke(&k.reg_handle, &k.key_handle)
            .map_err(|e| e.to_string())?;
    }
    for name in config.registry_broken.iter().flatten() {
        let k = key(name)?;
        let path = registry.path_for(&k.reg_handle, &k.key_handle);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, b"\x00not a published key").map_err(|e| e.to_string())?;
    }
    Ok(Some(registry))
}

/// The adapter flags for `config`, writing the key files it needs into `dir`.
pub fn adapter_args(
    role: Role,
    config: &PartyConfig,
    connect: &str,
    seed: u64,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let (default_own, default_known) = default_keys(role);
    let mut args = vec![
        "--role".into(),
        role.as_str().into(),
        "--connect".into(),
        connect.into(),
    ];
    for path in write_key_files(dir, config.keys.as_ref().unwrap_or(&default_own), true)? {
        args.extend(["--key".into(), path.display().to_string()]);
    }
    for path in write_key_files(dir, config.known.as_ref().unwrap_or(&default_known), false)? {
        args.extend(["--known".into(), path.display().to_string()]);
    }
    if let Some(registry) = write_registry(config, &dir.join("registry"))? {
        args.extend([
            "--registry-dir".into(),
            registry.dir().display().to_string(),
        ]);
    }
    if config.trust_registry {
        for path in write_key_files(dir, &["registry".to_owned()], false)? {
            args.extend(["--trusted-registry".into(), path.display().to_string()]);
        }
    }
    for suffix in config.registry_scope.iter().flatten() {
        args.extend(["--registry-scope".into(), suffix.clone()]);
    }
    if config.accept_unsigned {
        args.push("--accept-unsigned".into());
    }
    for a in config.allow_algorithms.iter().flatten() {
        args.extend(["--allow-algorithm".into(), a.clone()]);
    }
    for s in config.cipher_suites.iter().flatten() {
        args.extend(["--cipher-suite".into(), s.clone()]);
    }
    if config.send_key == Some(false) {
        args.push("--no-send-key".into());
    }
    if config.resumption == Some(false) {
        args.push("--no-resumption".into());
    }
    if let Some(reg) = &config.expect_server {
        args.extend(["--expect-server".into(), reg.clone()]);
    }
    if let Some(n) = config.connections {
        args.extend(["--connections".into(), n.to_string()]);
    }
    if let Some(data) = &config.send {
        args.extend(["--send".into(), data.clone()]);
    }
    if config.echo {
        args.push("--echo".into());
    }
    if config.close {
        args.push("--close".into());
    }
    if let Some(n) = config.send_bytes {
        args.extend(["--send-bytes".into(), n.to_string()]);
    }
    if config.sink {
        args.push("--sink".into());
    }
    if let Some(ms) = config.handshake_timeout_ms {
        args.extend(["--handshake-timeout-ms".into(), ms.to_string()]);
    }
    if let Some(n) = config.record_limit {
        args.extend(["--record-limit".into(), n.to_string()]);
    }
    if let Some(secs) = config.session_lifetime_s {
        args.extend(["--session-lifetime-s".into(), secs.to_string()]);
    }
    if let Some(unix_s) = config.clock_s {
        args.extend(["--clock".into(), unix_s.to_string()]);
    }
    args.extend(["--seed".into(), seed.to_string()]);
    Ok(args)
}
