//! The btls-keytool binary end to end: generate, protect, sign as a registry, publish, verify.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::keys::{
    load_private_key, load_published_key, DirectoryRegistry, FirstUseStore, KeyRegistry,
    RegistryAnswer, TrustContext, ValidationPolicy,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn keytool(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_btls-keytool"))
        .args(args)
        .current_dir(dir)
        .env("KT_PASSWORD", "s3cret")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btls-keytool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn generate_sign_publish_and_validate() {
    let dir = temp_dir("flow");
    let d = dir.to_str().unwrap();
    for (alg, name) in [
        ("ed25519-x25519", "alice-ed"),
        ("ecdsa-p256-ecdh-p256", "alice-p256"),
    ] {
        let out = keytool(
            &[
                "generate",
                "--algorithm",
                alg,
                "--reg",
                "alice",
                "--key",
                name,
                "--out-dir",
                d,
                "--name",
                name,
                "--password-env",
                "KT_PASSWORD",
                "--iterations",
                "1000",
            ],
            &dir,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = keytool(
        &[
            "generate",
            "--algorithm",
            "ed25519-x25519",
            "--reg",
            "registry",
            "--key",
            "root",
            "--out-dir",
            d,
            "--name",
            "registry",
        ],
        &dir,
    );
    assert!(out.status.success());
    let out = keytool(
        &[
            "sign",
            "--registry-key",
            "registry.key.json",
            "--in",
            "alice-ed.pub.json",
            "--out",
            "alice-ed.signed.json",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = keytool(
        &["publish", "--registry-dir", "reg", "alice-ed.signed.json"],
        &dir,
    );
    assert!(out.status.success());
    assert!(keytool(
        &[
            "verify",
            "--registry-pub",
            "registry.pub.json",
            "alice-ed.signed.json"
        ],
        &dir
    )
    .status
    .success());
    assert_eq!(
        keytool(
            &[
                "verify",
                "--registry-pub",
                "registry.pub.json",
                "alice-ed.pub.json"
            ],
            &dir
        )
        .status
        .code(),
        Some(1)
    );

    let own = load_private_key(&dir.join("alice-ed.key.json"), Some("s3cret")).unwrap();
    let RegistryAnswer::Found(found) =
        DirectoryRegistry::new(dir.join("reg")).lookup(b"alice", b"alice-ed")
    else {
        panic!("the registry does not hold alice's key");
    };
    assert_eq!(found.public_key, own.published.public_key);
    let registry = load_published_key(&dir.join("registry.pub.json")).unwrap();
    let policy = ValidationPolicy {
        trusted_registries: vec![registry.public_key.into()],
        ..ValidationPolicy::default()
    };
    let now = found.not_before + 10;
    assert_eq!(
        policy.validate(
            &found,
            (b"alice", b"alice-ed", found.key_algorithm),
            TrustContext {
                known: false,
                first_use: &FirstUseStore::default(),
            },
            now
        ),
        Ok(())
    );
    let shown = keytool(&["show", "alice-ed.key.json"], &dir);
    assert!(
        !String::from_utf8_lossy(&shown.stdout).contains(&hex::encode(own.signing.private_bytes()))
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn errors_name_the_file_and_exit_non_zero() {
    let dir = temp_dir("errors");
    let out = keytool(&["show", "missing.json"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
    let d = dir.to_str().unwrap();
    keytool(
        &[
            "generate",
            "--algorithm",
            "ed25519-x25519",
            "--reg",
            "r",
            "--key",
            "k",
            "--out-dir",
            d,
            "--name",
            "p",
            "--password-env",
            "KT_PASSWORD",
            "--iterations",
            "1000",
        ],
        &dir,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_btls-keytool"))
        .args([
            "sign",
            "--registry-key",
            "p.key.json",
            "--password-env",
            "WRONG",
            "--in",
            "p.pub.json",
            "--out",
            "x.json",
        ])
        .current_dir(&dir)
        .env("WRONG", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.key.json") && err.contains("wrong password"),
        "{err}"
    );
    let out = keytool(
        &[
            "generate",
            "--algorithm",
            "rsa",
            "--reg",
            "r",
            "--key",
            "k",
            "--out-dir",
            d,
        ],
        &dir,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown algorithm"));
    let _ = std::fs::remove_dir_all(dir);
}
