#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
//! Generated negative cases: a bounded sample of each class passes against the reference adapter
//! in both roles, and each class catches a deliberately buggy build.

use btls::msgs::{AlertDescription, HandshakeCode};
use btls_profile::engine::RunOptions;
use btls_profile::generate::cases::{Case, Class};
use btls_profile::generate::mutations::Mutation;
use btls_profile::generate::oracle::{Expected, Turn};
use btls_profile::generate::{execute, plan, run_all, Config};
use btls_profile::scenario::{Role, Scenario};
use harness_core::Iut;
use std::path::{Path, PathBuf};

fn work(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("btls-generated-{name}-{}", std::process::id()))
}

fn adapter(quirk: Option<&str>) -> Iut {
    Iut {
        name: quirk.unwrap_or("reference").into(),
        program: PathBuf::from(env!("CARGO_BIN_EXE_btls-iut")),
        prefix_args: quirk
            .map(|q| vec!["--quirk".to_owned(), q.to_owned()])
            .unwrap_or_default(),
    }
}

fn config(classes: Vec<Class>, roles: Vec<Role>, budget: Option<usize>, dir: &Path) -> Config {
    Config {
        classes,
        roles,
        budget,
        seed: 7,
        random: 4,
        work_dir: dir.to_path_buf(),
    }
}

#[test]
fn a_sample_of_every_class_passes_against_the_reference_in_both_roles() {
    let dir = work("sample");
    let config = config(
        Class::ALL.to_vec(),
        vec![Role::Server, Role::Client],
        Some(48),
        &dir,
    );
    let plans = plan(&config).unwrap();
    let iut = adapter(None);
    let report = execute(&plans, &iut, &RunOptions::new(7, dir.clone()), 4, &config);
    let _ = std::fs::remove_dir_all(&dir);
    for f in &report.findings {
        eprintln!(
            "{}: expected {}; got {}\n{}",
            f.id, f.expected, f.actual, f.text
        );
    }
    assert!(!report.failed(), "the reference fails generated cases");
    for class in Class::ALL {
        let roles = &report.classes[&class];
        for role in ["client", "server"] {
            let c = &roles[role];
            assert!(c.ran > 0, "{} {role}: no case ran", class.name());
            assert_eq!(c.sanity_ran, c.sanity_passed);
            assert!(c.sanity_ran > 0);
        }
    }
}

/// Runs the `pick`ed cases of one class (server role) against a quirk build; true when one fails.
fn caught(class: Class, quirk: &str, pick: impl Fn(&Case) -> bool) -> bool {
    caught_in(class, Role::Server, quirk, pick)
}

/// Runs the `pick`ed cases of one class and role against a quirk build; true when one fails.
fn caught_in(class: Class, role: Role, quirk: &str, pick: impl Fn(&Case) -> bool) -> bool {
    let dir = work(quirk);
    let config = config(vec![class], vec![role], None, &dir);
    let plans = plan(&config).unwrap();
    let chosen: Vec<&Scenario> = plans[0]
        .cases
        .iter()
        .filter(|c| pick(c))
        .take(8)
        .map(|c| &c.scenario)
        .collect();
    assert!(!chosen.is_empty(), "{}: no case picked", class.name());
    let clean = run_all(
        &chosen,
        &adapter(None),
        &RunOptions::new(7, dir.clone()),
        4,
        "clean",
    );
    assert!(
        clean.iter().all(|o| o.passed),
        "{}: the picked cases must pass against the clean reference",
        class.name()
    );
    let outcomes = run_all(
        &chosen,
        &adapter(Some(quirk)),
        &RunOptions::new(7, dir.clone()),
        4,
        quirk,
    );
    let _ = std::fs::remove_dir_all(&dir);
    outcomes.iter().any(|o| !o.passed)
}

fn expects(case: &Case, alert: AlertDescription) -> bool {
    matches!(&case.expected, Expected::Alert { alert: a, .. } if *a == alert)
}

#[test]
fn truncation_catches_truncation_as_close() {
    assert!(caught(
        Class::Truncation,
        "truncation-as-close",
        |c| matches!(c.mutation, Mutation::EndOfStream(_))
    ));
}

#[test]
fn lengths_catch_accept_oversize_frame() {
    assert!(caught(
        Class::Lengths,
        "accept-oversize-frame",
        |c| expects(c, AlertDescription::RECORD_OVERFLOW)
    ));
}

#[test]
fn bitflips_catch_decode_error_as_illegal_parameter() {
    assert!(caught(
        Class::Bitflips,
        "decode-error-as-illegal-parameter",
        |c| c.family == "flip" && expects(c, AlertDescription::DECODE_ERROR)
    ));
}

#[test]
fn order_catches_early_server_ready() {
    assert!(caught(Class::Order, "early-server-ready", |c| c.family
        == "duplicate"
        || c.family == "skip"));
}

#[test]
fn alerts_catch_answer_fatal_alert() {
    assert!(caught(Class::Alerts, "answer-fatal-alert", |c| c.family == "alert"));
}

#[test]
fn replay_catches_skip_server_ready_mac() {
    assert!(caught_in(
        Class::Replay,
        Role::Client,
        "skip-server-ready-mac",
        |c| c
            .frame
            .is_some_and(|(_, code)| code == HandshakeCode::SERVER_READY)
    ));
}

#[test]
fn replay_goes_on_after_an_accepted_hello_until_the_iut_alerts() {
    let dir = work("replay-turns");
    let plans = plan(&config(vec![Class::Replay], vec![Role::Client], None, &dir)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let hello = plans[0]
        .cases
        .iter()
        .find(|c| {
            c.frame
                .is_some_and(|(_, code)| code == HandshakeCode::SERVER_HELLO)
        })
        .expect("a replayed SERVER_HELLO case");
    // The client cannot tell a SERVER_HELLO of another session; the SESSION_DETAILS signature
    // over its transcript can.
    match &hello.expected {
        Expected::Alert { before, alert, .. } => {
            assert_eq!(*alert, AlertDescription::DECRYPT_ERROR);
            assert!(before.contains(&Turn::Peer(HandshakeCode::SESSION_DETAILS)));
        }
        other => panic!("expected an alert after turns, got {other}"),
    }
    assert!(hello.text.contains("replace = "), "{}", hello.text);
}

#[test]
fn selection_catches_accept_unoffered_suite() {
    assert!(caught_in(
        Class::Selection,
        Role::Client,
        "accept-unoffered-suite",
        |c| c.path == "narrow" && c.family == "cipher-suite"
    ));
}

#[test]
fn selection_catches_accept_algorithm_mismatch() {
    assert!(caught_in(
        Class::Selection,
        Role::Client,
        "accept-algorithm-mismatch",
        |c| c.family == "key-algorithm"
    ));
}

#[test]
fn timing_catches_no_handshake_timeout() {
    assert!(caught(Class::Timing, "no-handshake-timeout", |c| {
        c.family == "stall"
    }));
}

#[test]
fn timing_trickled_handshakes_complete_and_stalls_end_in_handshake_timeout() {
    let dir = work("timing-kinds");
    let plans = plan(&config(vec![Class::Timing], vec![Role::Server], None, &dir)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let cases = &plans[0].cases;
    let frames = |family: &str| -> std::collections::BTreeSet<(&str, usize)> {
        cases
            .iter()
            .filter(|c| c.family == family)
            .filter_map(|c| c.frame.map(|f| (c.path, f.0)))
            .collect()
    };
    // Every received frame of every path is trickled and stalled.
    assert!(frames("trickle").len() >= 8, "{:?}", frames("trickle"));
    assert_eq!(frames("trickle"), frames("stall"));
    let trickled: Vec<_> = cases.iter().filter(|c| c.family == "trickle").collect();
    assert!(trickled.iter().all(|c| c.expected == Expected::Completes
        && c.text.contains("fragment = [1]")
        && !c.text.contains("handshake_timeout_ms")));
    let stalls: Vec<_> = cases.iter().filter(|c| c.family == "stall").collect();
    assert!(stalls.len() >= 3 * frames("stall").len());
    assert!(stalls
        .iter()
        .all(|c| expects(c, AlertDescription::HANDSHAKE_TIMEOUT)
            && c.text.contains("handshake_timeout_ms = 1000")));
    assert!(cases.iter().any(|c| c.mutation == Mutation::TrickleAll));
}

#[test]
fn boundaries_catch_accept_duplicate_suites() {
    // A cipher_suites offer at its largest repeats the suites: only the field's own edge
    // reaches BT-MSG-3.
    assert!(caught(Class::Boundaries, "accept-duplicate-suites", |c| c
        .family
        == "cipher-suites-boundary"));
}

#[test]
fn boundaries_catch_accept_any_version() {
    assert!(caught(Class::Boundaries, "accept-any-version", |c| c
        .family
        == "version-boundary"));
}

#[test]
fn session_ids_catch_accept_unoffered_session_id() {
    assert!(caught_in(
        Class::SessionIds,
        Role::Client,
        "accept-unoffered-session-id",
        |c| c.family == "session-id"
    ));
}

#[test]
fn content_types_catch_ignore_unknown_content_type() {
    assert!(caught(
        Class::ContentTypes,
        "ignore-unknown-content-type",
        |c| c.family == "content-type"
    ));
}

#[test]
fn codes_catch_ignore_unknown_handshake_code() {
    assert!(caught_in(
        Class::Codes,
        Role::Client,
        "ignore-unknown-handshake-code",
        |c| c.family == "code"
    ));
}

#[test]
fn trailing_catches_ignore_trailing_bytes_in_both_roles() {
    for role in [Role::Client, Role::Server] {
        assert!(caught_in(
            Class::Trailing,
            role,
            "ignore-trailing-bytes",
            |c| c.family == "trailing"
        ));
    }
}

#[test]
fn records_order_catches_accept_replayed_record_in_both_roles() {
    for role in [Role::Client, Role::Server] {
        assert!(caught_in(
            Class::RecordsOrder,
            role,
            "accept-replayed-record",
            |c| c.family == "duplicate"
        ));
    }
}

#[test]
fn records_tamper_catches_bad_record_mac_as_decode_error_in_both_roles() {
    for role in [Role::Client, Role::Server] {
        assert!(caught_in(
            Class::RecordsTamper,
            role,
            "bad-record-mac-as-decode-error",
            |c| c.family == "flip"
        ));
    }
}

#[test]
fn record_classes_expect_what_the_record_rules_say() {
    let dir = work("record-kinds");
    let classes = vec![Class::RecordsOrder, Class::RecordsTamper, Class::Coalesce];
    let plans = plan(&config(
        classes,
        vec![Role::Client, Role::Server],
        None,
        &dir,
    ))
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let find = |class: Class, role: Role, id: &str| -> Case {
        plans
            .iter()
            .filter(|p| p.class == class)
            .flat_map(|p| p.cases.iter())
            .find(|c| c.role == role && c.path == "full" && c.scenario.id.ends_with(id))
            .unwrap_or_else(|| panic!("no case {id}"))
            .clone()
    };
    // Record 0 dropped: record 1 arrives under sequence number 0 and must not open; nothing
    // is delivered.
    let drop = find(Class::RecordsOrder, Role::Server, "drop-record-0");
    assert!(expects(&drop, AlertDescription::BAD_RECORD_MAC));
    assert!(drop.text.contains("release = [1]"), "{}", drop.text);
    assert!(
        drop.text.contains("application_data = \"\""),
        "{}",
        drop.text
    );
    // A replay of record 1 after records 0 and 1: both delivered, the replay refused.
    let dup = find(Class::RecordsOrder, Role::Client, "duplicate-record-1");
    assert!(dup.text.contains(&format!(
        "application_data = \"{}\"",
        hex::encode("rec0rec1")
    )));
    // Every tampered record follows one that opens, which is delivered.
    let tampered = find(Class::RecordsTamper, Role::Server, "tag-byte-15");
    assert!(tampered.text.contains(&hex::encode("rec0")));
    // Coalesced records are all delivered, and the SERVER_READY may share their segment.
    let ready = find(
        Class::Coalesce,
        Role::Client,
        "server-ready-and-records-in-one-segment",
    );
    assert_eq!(ready.expected, Expected::Completes);
    assert!(ready.text.contains("release = [0, 1, 2]"), "{}", ready.text);
    assert!(ready.text.contains(&hex::encode("rec0rec1")));
}
