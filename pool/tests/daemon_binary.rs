//! The `btls-pool` program: `--help`, `init`, errors that name the file and field, the socket's
//! mode (POOL-SEC-1), a stale socket file replaced, a live one left alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_btls-pool");

#[test]
fn help_says_how_to_start_it() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for s in ["--config", "--socket", "init", "STARTTLS_CLIENT"] {
        assert!(text.contains(s), "{s} missing from:\n{text}");
    }
}

/// Starts the daemon and waits for its "listening" line; returns the child.
fn start(config: &std::path::Path, socket: &std::path::Path) -> std::process::Child {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--socket")
        .arg(socket)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(line.starts_with("btls-pool: listening on "), "{line}");
    child
}

#[test]
fn init_writes_a_sample_that_starts_with_mode_0600_and_answers_ping() {
    let dir = common::dir("bin-init");
    let out = Command::new(BIN).arg("init").arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("btls-pool.toml");
    assert!(config.is_file());
    let socket = dir.join("s");
    let mut child = start(&config, &socket);
    let meta = std::fs::metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "the sample's socket_mode"
    );
    let mut pool = btls_pool::client::PoolClient::connect(&socket).unwrap();
    assert_eq!(pool.ping("").unwrap(), btls_pool::packet::IDENTITY_V1);
    // A second daemon on the same socket refuses to take it over.
    let second = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--socket")
        .arg(&socket)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another daemon listens here"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The socket file is stale now: the next daemon replaces it.
    let mut third = start(&config, &socket);
    assert_eq!(
        btls_pool::client::PoolClient::connect(&socket)
            .unwrap()
            .ping("")
            .unwrap(),
        btls_pool::packet::IDENTITY_V1
    );
    third.kill().unwrap();
    third.wait().unwrap();
}

#[test]
fn a_bad_configuration_names_the_file_line_and_field() {
    let dir = common::dir("bin-bad");
    let config = dir.join("pool.toml");
    std::fs::write(
        &config,
        "socket = \"s\"\n[[local]]\nidentity = \"a.example\"\nkees = []\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&config.display().to_string()), "{err}");
    assert!(err.contains("line 4") && err.contains("kees"), "{err}");
    let missing = Command::new(BIN)
        .arg("--config")
        .arg(dir.join("none.toml"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.toml: cannot read"));
}
