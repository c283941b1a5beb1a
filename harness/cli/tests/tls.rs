//! The TLS suite (`scenarios/tls`) against each stack the project installs, as a user runs it
//! (`btls-harness tls --stack NAME`): OpenSSL's `s_server`, rustls (the adapter built from
//! `harness/tls-rustls`) and GnuTLS's `gnutls-serv` (in a private network namespace the command
//! makes, since gnutls-serv binds every interface). Every case passes or is a listed deviation,
//! and every case's capture opens in tshark as TLS, decrypts with no option (the secrets are in
//! the pcapng's Decryption Secrets Block), shows no expert warning when the case is a positive
//! one, and its decrypted application data is what the harness sent and what the stack echoed.
//!
//! The stacks are installed by `scripts/install-tls-stacks.sh` and tshark by
//! `scripts/install-tshark.sh` (`scripts/test.sh` runs both); without them this test fails and
//! says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tls_profile::scenario::Action;
use tls_profile::suite::select;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The application data of TLS stream `stream` (a case's connection) of `capture`, decrypted
/// by tshark: (what the harness sent, what the stack sent).
fn tshark_follow(capture: &Path, stream: u32) -> (Vec<u8>, Vec<u8>) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", "tcp.port==4433,tls", "-q", "-z"])
        .arg(format!("follow,tls,raw,{stream}"))
        .output()
        .expect("tshark is not installed: run `bash scripts/install-tshark.sh`");
    assert!(
        out.status.success(),
        "tshark failed on {}",
        capture.display()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // After the header, a line per chunk: node 0's unindented, node 1's indented by a tab.
    // Node 0 is whichever side tshark met first; the header names it (the server is 4433).
    let node0_is_server = text
        .lines()
        .find(|l| l.starts_with("Node 0:"))
        .is_some_and(|l| l.trim_end().ends_with(":4433"));
    let (mut node0, mut node1) = (Vec::new(), Vec::new());
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("Node 1"))
        .skip(1)
    {
        if line.starts_with('=') {
            break;
        }
        match line.strip_prefix('\t') {
            Some(hex) => node1.extend(hex::decode(hex.trim()).unwrap()),
            None => node0.extend(hex::decode(line.trim()).unwrap()),
        }
    }
    if node0_is_server {
        (node1, node0)
    } else {
        (node0, node1)
    }
}

fn expert_warnings(capture: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", "tcp.port==4433,tls", "-q", "-z", "expert,warn"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("Warning") || l.contains("Error"))
        .map(str::to_owned)
        .collect()
}

/// Runs `btls-harness tls --stack STACK` and checks its reports; returns the summary line.
fn check_stack(stack: &str) -> String {
    let root = root();
    let reports = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{stack}"));
    let _ = std::fs::remove_dir_all(&reports);
    let out = Command::new(env!("CARGO_BIN_EXE_btls-harness"))
        .current_dir(&root)
        .args(["tls", "--stack", stack, "-q", "-j", "2", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "btls-harness tls --stack {stack} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scenarios = root.join("scenarios/tls");
    let cases = select(&scenarios, &[]).unwrap();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        let capture = reports
            .join("transcripts")
            .join(format!("{}.pcapng", case.id.replace('/', "__")));
        let sent: Vec<u8> = case
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                // A record with a flipped byte does not decrypt, nor is it echoed.
                Action::SendApp(d, None) => Some(d.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let (mut from_harness, mut from_iut) = (Vec::new(), Vec::new());
        for stream in 0..case.iut.connections {
            let (h, i) = tshark_follow(&capture, stream);
            from_harness.extend(h);
            from_iut.extend(i);
        }
        // A case that stopped before its data steps (unsupported, a known deviation, or
        // settled by an answer the RFC allows) sent less than its file says: its capture must
        // still decode, which tshark_follow checked.
        let transcript = std::fs::read_to_string(capture.with_extension("txt")).unwrap();
        let ran_every_step = transcript.contains("\nverdict: pass")
            && !transcript.contains("the remaining steps do not apply");
        if !ran_every_step {
            continue;
        }
        if from_harness != sent {
            problems.push(format!(
                "{}: tshark decrypted {:?} from the harness, which sent {:?}",
                case.id,
                String::from_utf8_lossy(&from_harness),
                String::from_utf8_lossy(&sent)
            ));
        }
        if from_iut.len() != sent.len() {
            problems.push(format!(
                "{}: tshark decrypted {} bytes from the stack, which echoed {}",
                case.id,
                from_iut.len(),
                sent.len()
            ));
        }
        if case.id.starts_with("server/handshake/") {
            let warnings = expert_warnings(&capture);
            if !warnings.is_empty() {
                problems.push(format!("{}: {}", case.id, warnings.join("; ")));
            }
        }
    }
    assert!(problems.is_empty(), "{stack}:\n{}", problems.join("\n"));
    stdout
}

#[test]
fn openssl_passes_the_tls_suite_and_every_capture_decrypts_in_tshark() {
    let summary = check_stack("openssl");
    let deviations = std::fs::read_to_string(root().join("harness/tls/expectations/openssl.toml"))
        .unwrap()
        .matches("[[deviation]]")
        .count();
    assert!(
        summary.contains(&format!("{deviations} expected failures")),
        "{summary}"
    );
}

#[test]
fn rustls_passes_the_tls_suite_and_every_capture_decrypts_in_tshark() {
    // The adapter is a program of this workspace: build it if this test runs alone.
    let built = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-q", "-p", "tls-rustls-adapter"])
        .status()
        .unwrap();
    assert!(built.success(), "cargo build -p tls-rustls-adapter failed");
    check_stack("rustls");
}

#[test]
fn gnutls_passes_the_tls_suite_in_a_private_network_namespace() {
    check_stack("gnutls");
}
