//! The harness's own error paths: malformed scenarios name file, line and field; a scenario that
//! expects the wrong alert fails naming the step and both alerts; a missing or hung IUT is a
//! failed case, never a hang.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls_profile::engine::{run_case, RunOptions};
use btls_profile::scenario::load_file;
use harness_core::Iut;
use harness_core::Verdict;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btls-harness-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn reference() -> Iut {
    Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    }
}

const HEADER: &str = "[scenario]\ntitle = \"t\"\niut_role = \"server\"\n\n";

#[test]
fn a_misspelt_field_is_reported_with_file_line_and_field() {
    let dir = temp_dir("typo");
    let path = write(
        &dir,
        "typo.toml",
        &format!("{HEADER}[[step]]\nsned = \"CLIENT_HELLO\"\n"),
    );
    let err = load_file(&dir, &path).unwrap_err().to_string();
    assert!(err.contains("typo.toml:6:"), "{err}");
    assert!(err.contains("sned"), "{err}");
}

#[test]
fn an_unknown_message_name_is_reported_with_its_step_and_line() {
    let dir = temp_dir("unknown");
    let text = format!(
        "{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\n\n[[step]]\nexpect = \"SERVER_HELO\"\n"
    );
    let path = write(&dir, "unknown.toml", &text);
    let err = load_file(&dir, &path).unwrap_err().to_string();
    assert!(err.contains("unknown.toml:8: step 2"), "{err}");
    assert!(err.contains("SERVER_HELO"), "{err}");
}

#[test]
fn two_actions_in_one_step_and_unknown_names_are_rejected_at_their_line() {
    let dir = temp_dir("two");
    let path = write(
        &dir,
        "two.toml",
        &format!("{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\nexpect = \"SEND_KEY\"\n"),
    );
    assert!(load_file(&dir, &path)
        .unwrap_err()
        .to_string()
        .contains("more than one action"));
    let path = write(
        &dir,
        "key.toml",
        &format!("{HEADER}[iut]\nkeys = [\"nobody\"]\n\n[[step]]\nsend = \"CLIENT_HELLO\"\n"),
    );
    assert!(load_file(&dir, &path)
        .unwrap_err()
        .to_string()
        .contains("key.toml:6: iut.keys: unknown fixture key \"nobody\""));
    let path = write(
        &dir,
        "suite.toml",
        &format!(
            "{HEADER}[peer]\ncipher_suites = [\n  \"AES_256_GCM\",\n  \"AES_128_GCM\",\n]\n\n\
             [[step]]\nsend = \"CLIENT_HELLO\"\n\n[outcome]\ncipher_suite = \"AES_256_GCM\"\n"
        ),
    );
    assert!(load_file(&dir, &path)
        .unwrap_err()
        .to_string()
        .contains("suite.toml:8: peer.cipher_suites: unknown cipher suite \"AES_128_GCM\""));
    let path = write(
        &dir,
        "outcome.toml",
        &format!("{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\n\n[outcome]\nvalidation_failed = \"EXPIRED\"\n"),
    );
    assert!(load_file(&dir, &path).unwrap_err().to_string().contains(
        "outcome.toml:9: outcome.validation_failed: unknown validation failure reason \"EXPIRED\""
    ));
    let path = write(
        &dir,
        "field.toml",
        &format!("{HEADER}[[step]]\nsend = \"SEND_KEY\"\nalter = {{ set = {{ version = 1 }} }}\n"),
    );
    assert!(load_file(&dir, &path)
        .unwrap_err()
        .to_string()
        .contains("alter.set.version: SEND_KEY has no such field"));
}

#[test]
fn expecting_the_wrong_alert_fails_naming_the_step_and_both_alerts() {
    let dir = temp_dir("wrong-alert");
    let text = format!(
        "{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\nalter = {{ set = {{ version = 512 }} }}\n\n[[step]]\nexpect_alert = \"decode_error\"\n"
    );
    let path = write(&dir, "wrong.toml", &text);
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    let result = run_case(
        &scenario,
        &reference(),
        &RunOptions::new(1, dir.join("work")),
    );
    let Verdict::Fail(f) = result.verdict else {
        panic!("{:?}", result.verdict)
    };
    assert_eq!((f.step, f.line), (2, 9));
    assert_eq!(f.expected, "alert DECODE_ERROR");
    assert_eq!(f.actual, "alert PROTOCOL_VERSION");
}

#[test]
fn a_missing_iut_binary_is_a_failed_case_with_a_clear_message() {
    let dir = temp_dir("missing");
    let path = write(
        &dir,
        "s.toml",
        &format!("{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\n"),
    );
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    let iut = Iut {
        name: "ghost".into(),
        program: dir.join("no-such-adapter"),
        prefix_args: vec![],
    };
    let result = run_case(&scenario, &iut, &RunOptions::new(1, dir.join("work")));
    let Verdict::Fail(f) = result.verdict else {
        panic!("{:?}", result.verdict)
    };
    assert!(
        f.actual.contains("cannot start IUT") && f.actual.contains("no-such-adapter"),
        "{}",
        f.actual
    );
}

#[test]
fn a_hung_iut_is_killed_and_reaped() {
    let dir = temp_dir("hung");
    let path = write(
        &dir,
        "s.toml",
        &format!("{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\n"),
    );
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    // A shell that ignores the contract's flags and never connects.
    let iut = Iut {
        name: "hung".into(),
        program: "/bin/sh".into(),
        prefix_args: vec!["-c".into(), "sleep 30".into(), "sh".into()],
    };
    let mut options = RunOptions::new(1, dir.join("work"));
    options.connect_timeout = Duration::from_millis(200);
    options.exit_timeout = Duration::from_millis(200);
    let started = Instant::now();
    let result = run_case(&scenario, &iut, &options);
    assert!(started.elapsed() < Duration::from_secs(10));
    let Verdict::Fail(f) = result.verdict else {
        panic!("{:?}", result.verdict)
    };
    assert!(f.actual.contains("did not connect"), "{}", f.actual);
    assert!(
        result.transcript.contains("killed"),
        "{}",
        result.transcript
    );
}

#[test]
fn an_adapter_that_does_not_support_an_option_is_unsupported_not_failed() {
    let dir = temp_dir("unsupported");
    let path = write(
        &dir,
        "s.toml",
        &format!("{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\n"),
    );
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    let iut = Iut {
        name: "partial".into(),
        program: "/bin/sh".into(),
        prefix_args: vec![
            "-c".into(),
            "echo 'unsupported option --seed' >&2; exit 89".into(),
            "sh".into(),
        ],
    };
    let mut options = RunOptions::new(1, dir.join("work"));
    options.connect_timeout = Duration::from_millis(200);
    let result = run_case(&scenario, &iut, &options);
    assert_eq!(
        result.verdict,
        Verdict::Unsupported("unsupported option --seed".into())
    );
}

#[test]
#[cfg(target_os = "linux")]
fn an_adapter_that_leaves_a_process_holding_its_output_does_not_hang_the_harness() {
    // The adapter exits at once but leaves a process behind with its stdout and stderr open.
    let iut = Iut {
        name: "leaky".into(),
        program: "/bin/sh".into(),
        prefix_args: vec![
            "-c".into(),
            "sleep 60 & echo \"{\\\"event\\\":\\\"started\\\",\\\"pid\\\":$!}\"; exit 0".into(),
            "sh".into(),
        ],
    };
    let started = Instant::now();
    let finished = iut.start(&[]).unwrap().finish(Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(finished.code, Some(0));
    assert!(!finished.killed);
    let pid = finished.events[0]["pid"].as_u64().unwrap();
    assert!(
        finished.stderr.contains("still open") && finished.stderr.contains("group was killed"),
        "{}",
        finished.stderr
    );
    // The process it left behind was killed (and reaped by whoever inherited it).
    let deadline = Instant::now() + Duration::from_secs(5);
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!alive(), "process {pid} still running");
}
