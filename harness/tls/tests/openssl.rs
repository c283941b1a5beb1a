//! The TLS suite (`scenarios/tls`) against OpenSSL's `s_server` through its adapter
//! (`harness/tls/adapters/openssl`), as `btls-harness tls --stack openssl` runs it: every case
//! passes, and every case's capture opens in tshark as TLS, decrypts with no option (the
//! secrets are in the pcapng's Decryption Secrets Block), shows no expert warning when the case
//! is a positive one, and its decrypted application data is what the harness sent and what the
//! stack echoed.
//!
//! OpenSSL is installed by `scripts/install-tls-stacks.sh` and tshark by
//! `scripts/install-tshark.sh` (`scripts/test.sh` runs both); without them this test fails and
//! says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use harness_core::runner::Status;
use harness_core::Iut;
use std::path::{Path, PathBuf};
use std::process::Command;
use tls_profile::scenario::Action;
use tls_profile::suite::{run, select, SuiteArgs};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The application data of the first TLS stream of `capture`, decrypted by tshark: (what the
/// harness sent, what the stack sent).
fn tshark_follow(capture: &Path) -> (Vec<u8>, Vec<u8>) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", "tcp.port==4433,tls", "-q", "-z", "follow,tls,raw,0"])
        .output()
        .expect("tshark is not installed: run `bash scripts/install-tshark.sh`");
    assert!(
        out.status.success(),
        "tshark failed on {}",
        capture.display()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut server, mut client) = (Vec::new(), Vec::new());
    // After the header, a line per chunk; tshark's node 0 is the server (port 4433) and the
    // client's chunks are indented by a tab.
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("Node 1"))
        .skip(1)
    {
        if line.starts_with('=') {
            break;
        }
        match line.strip_prefix('\t') {
            Some(hex) => client.extend(hex::decode(hex.trim()).unwrap()),
            None => server.extend(hex::decode(line.trim()).unwrap()),
        }
    }
    (client, server)
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

#[test]
fn the_tls_suite_passes_against_openssl_and_every_capture_decrypts_in_tshark() {
    let root = root();
    let scenarios = root.join("scenarios/tls");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-suite");
    let reports = work.join("reports");
    let _ = std::fs::remove_dir_all(&reports);
    let report = run(&SuiteArgs {
        iut: Iut {
            name: "openssl".into(),
            program: root.join("harness/tls/adapters/openssl"),
            prefix_args: Vec::new(),
        },
        scenarios: scenarios.clone(),
        expectations: Some(root.join("harness/tls/expectations/openssl.toml")),
        filter: Vec::new(),
        jobs: 2,
        seed: 1,
        work_dir: work.clone(),
        cert_script: root.join("scripts/tls-certs.sh"),
        report_dir: Some(reports.clone()),
        progress: false,
    })
    .unwrap();
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !matches!(c.status, Status::Pass | Status::ExpectedFail))
        .map(|c| format!("{}: {:?}\n{}", c.scenario.id, c.status, c.result.transcript))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    assert!(
        report.stale_expectations.is_empty(),
        "stale expectations: {:?}",
        report.stale_expectations
    );
    assert!(report.cases.len() >= 25, "{} cases", report.cases.len());

    let cases = select(&scenarios, &[]).unwrap();
    let mut problems = Vec::new();
    for case in &cases {
        let capture = reports
            .join("transcripts")
            .join(format!("{}.pcapng", case.id.replace('/', "__")));
        let sent: Vec<u8> = case
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::SendApp(d) => Some(d.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let (from_harness, from_iut) = tshark_follow(&capture);
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
        if case.id.contains("/handshake/") {
            let warnings = expert_warnings(&capture);
            if !warnings.is_empty() {
                problems.push(format!("{}: {}", case.id, warnings.join("; ")));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
