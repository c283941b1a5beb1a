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
fn timing_fields_on_the_wrong_step_or_an_empty_window_are_rejected_at_their_line() {
    let dir = temp_dir("timing");
    for (name, step, want) in [
        (
            "pause.toml",
            "expect = \"SERVER_HELLO\"\npause_ms = 10",
            "pause.toml:5: step 1: pause_ms: only a step that sends",
        ),
        (
            "within.toml",
            "send = \"CLIENT_HELLO\"\nwithin_ms = 10",
            "within.toml:5: step 1: within_ms: only an expect",
        ),
        (
            "window.toml",
            "expect_alert = \"handshake_timeout\"\nnot_before_ms = 900\nwithin_ms = 900",
            "window.toml:5: step 1: not_before_ms = 900 must be less than within_ms = 900",
        ),
    ] {
        let path = write(&dir, name, &format!("{HEADER}[[step]]\n{step}\n"));
        let err = load_file(&dir, &path).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_reused_field_the_message_lacks_or_does_not_know_is_rejected_at_its_line() {
    let dir = temp_dir("reuse");
    for (name, step, want) in [
        (
            "unknown.toml",
            "send = \"CLIENT_HELLO\"\nalter = { reuse = [\"nonce\"] }",
            "unknown.toml:5: step 1: alter.reuse: unknown field \"nonce\"",
        ),
        (
            "lacks.toml",
            "send = \"CLIENT_READY\"\nalter = { reuse = [\"session_id\"] }",
            "lacks.toml:5: step 1: alter.reuse: CLIENT_READY has no field session_id",
        ),
    ] {
        let path = write(&dir, name, &format!("{HEADER}[[step]]\n{step}\n"));
        let err = load_file(&dir, &path).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn reusing_a_value_the_iut_has_not_sent_fails_the_case_naming_the_field() {
    let dir = temp_dir("reuse-none");
    let path = write(
        &dir,
        "s.toml",
        &format!(
            "{HEADER}[[step]]\nsend = \"CLIENT_HELLO\"\nalter = {{ reuse = [\"session_id\"] }}\n"
        ),
    );
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    let result = run_case(
        &scenario,
        &reference(),
        &RunOptions::new(1, dir.join("work")),
    );
    let Verdict::Fail(why) = &result.verdict else {
        panic!("{:?}", result.verdict);
    };
    assert_eq!(why.step, 1);
    assert!(
        why.actual
            .contains("the IUT has sent no session_id to reuse"),
        "{}",
        why.actual
    );
}

#[test]
fn a_zero_session_lifetime_or_a_clock_for_the_peer_is_rejected_naming_the_field() {
    let dir = temp_dir("lifetime");
    for (name, section, want) in [
        (
            "lifetime.toml",
            "[iut]\nsession_lifetime_s = 0\n",
            "lifetime.toml:6: iut.session_lifetime_s: must be at least 1",
        ),
        (
            "peer-lifetime.toml",
            "[peer]\nsession_lifetime_s = 0\n",
            "peer-lifetime.toml:6: peer.session_lifetime_s: must be at least 1",
        ),
        (
            "clock.toml",
            "[peer]\nclock_s = 4099999999\n",
            "clock.toml:6: peer.clock_s: the harness's peer reads the system clock",
        ),
    ] {
        let text = format!("{HEADER}{section}[[step]]\nsend = \"CLIENT_HELLO\"\n");
        let path = write(&dir, name, &text);
        let err = load_file(&dir, &path).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn an_alert_sooner_than_not_before_ms_or_later_than_within_ms_fails_with_its_arrival() {
    // The reference times out after 300 ms; a window that starts at 2000 ms, or one that
    // closes at 100 ms, must fail with when the alert came.
    let dir = temp_dir("window");
    for (window, want) in [
        ("not_before_ms = 2000", "earlier than the 2000 ms"),
        ("within_ms = 100", "nothing from the IUT by 100 ms"),
    ] {
        let text = format!(
            "{HEADER}[iut]\nhandshake_timeout_ms = 300\n\n[[step]]\nsend = \"CLIENT_HELLO\"\n\n\
             [[step]]\nexpect = \"SERVER_HELLO\"\n\n[[step]]\nexpect_alert = \"handshake_timeout\"\n{window}\n"
        );
        let path = write(&dir, "window.toml", &text);
        let scenario = load_file(&dir, &path).unwrap().remove(0);
        let result = run_case(
            &scenario,
            &reference(),
            &RunOptions::new(1, dir.join("work")),
        );
        let Verdict::Fail(f) = result.verdict else {
            panic!("{window}: {:?}", result.verdict)
        };
        assert_eq!(f.step, 3, "{window}");
        assert!(f.actual.contains(want), "{window}: {}", f.actual);
    }
}

#[test]
fn a_paused_write_stops_when_the_iut_speaks() {
    // The server times out after 300 ms, long before 104 bytes at 40 ms each are written.
    let dir = temp_dir("pause");
    let text = format!(
        "{HEADER}[iut]\nhandshake_timeout_ms = 300\n\n[[step]]\nsend = \"CLIENT_HELLO\"\n\
         fragment = [1]\npause_ms = 40\n\n[[step]]\nexpect_alert = \"handshake_timeout\"\n"
    );
    let path = write(&dir, "pause.toml", &text);
    let scenario = load_file(&dir, &path).unwrap().remove(0);
    let result = run_case(
        &scenario,
        &reference(),
        &RunOptions::new(1, dir.join("work")),
    );
    assert!(result.verdict.passed(), "{:?}", result.verdict);
    assert!(
        result
            .transcript
            .contains("harness stops sending HANDSHAKE CLIENT_HELLO after"),
        "{}",
        result.transcript
    );
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
