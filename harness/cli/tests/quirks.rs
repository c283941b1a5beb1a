//! The suite's self-test over a bounded subset: every quirk of the reference implementation
//! against the cases that cite the requirement it breaks. Every quirk must be caught by at least
//! one of them (`btls-harness quirks` runs every case against every quirk).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::Quirk;
use btls_profile::quirks::{self, CaseSelection, Options};
use btls_profile::scenario::load_dir;
use std::path::PathBuf;

fn options(name: &str, quirks: Vec<Quirk>, filter: &dyn Fn(&str) -> bool) -> Options {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let scenarios = load_dir(&root)
        .expect("the scenarios load")
        .into_iter()
        .filter(|s| filter(&s.id))
        .collect();
    Options {
        adapter: PathBuf::from(env!("CARGO_BIN_EXE_btls-iut")),
        quirks,
        scenarios,
        selection: CaseSelection::Relevant,
        jobs: 8,
        seed: 1,
        work_dir: std::env::temp_dir().join(format!("btls-quirks-{name}-{}", std::process::id())),
    }
}

#[test]
fn every_quirk_is_caught_in_every_role_it_changes_by_a_case_citing_its_requirement() {
    let opts = options("all", Quirk::ALL.to_vec(), &|_| true);
    let test = quirks::run(&opts, &mut |_| {});
    let _ = std::fs::remove_dir_all(&opts.work_dir);
    let markdown = quirks::markdown(&test);
    assert!(
        test.baseline_failures.is_empty(),
        "the clean reference fails {:?}",
        test.baseline_failures
    );
    let uncaught: Vec<String> = test
        .uncaught()
        .iter()
        .map(|q| format!("{} in {:?}", q.name, q.uncaught_roles()))
        .collect();
    assert!(
        uncaught.is_empty(),
        "quirks not caught in a role whose code they change: {uncaught:?}\n{markdown}"
    );
    // A quirk of code both sides run is caught against a client IUT and a server IUT.
    let oversize = test
        .quirks
        .iter()
        .find(|q| q.name == "accept-oversize-frame")
        .unwrap();
    assert_eq!(oversize.roles, ["client", "server"]);
    assert!(!oversize.caught_by_client.is_empty() && !oversize.caught_by_server.is_empty());
    assert_eq!(test.quirks.len(), Quirk::ALL.len());
    assert!(test.passed());
    let json: serde_json::Value = serde_json::from_str(&quirks::json(&test)).unwrap();
    assert_eq!(json["schema"], quirks::SCHEMA);
    assert!(markdown.contains("| `accept-replayed-record` | BT-REC-2 |"));
    assert!(markdown.contains("| client | server |"));
}

#[test]
fn a_quirk_without_its_catching_case_is_reported_uncaught() {
    // Without the client's second-send-key cases nothing in the suite notices a client that
    // answers a second SEND_KEY: the self-test must say so.
    let opts = options("gap", vec![Quirk::AcceptSecondSendKey], &|id| {
        !id.starts_with("client/states/second-send-key")
    });
    let test = quirks::run(&opts, &mut |_| {});
    let _ = std::fs::remove_dir_all(&opts.work_dir);
    assert!(test.quirks[0].cases_run > 0);
    assert!(!test.passed());
    assert_eq!(test.uncaught().len(), 1);
    assert_eq!(test.quirks[0].uncaught_roles(), ["client"]);
    assert!(quirks::markdown(&test).contains("**NOT CAUGHT**"));
}

#[test]
fn a_quirk_of_both_sides_caught_only_against_a_server_is_a_gap_in_the_client_role() {
    // Without the client's long-alert cases only server cases notice an implementation that
    // accepts a two-byte alert: the server side is caught, the client side is not.
    let opts = options("role-gap", vec![Quirk::AcceptLongAlert], &|id| {
        id != "client/alerts/long-alert" && id != "client/alerts/long-close-notify"
    });
    let test = quirks::run(&opts, &mut |_| {});
    let _ = std::fs::remove_dir_all(&opts.work_dir);
    let q = &test.quirks[0];
    assert!(q.caught(), "a server case catches it");
    assert!(q.caught_by_client.is_empty());
    assert_eq!(q.uncaught_roles(), ["client"]);
    assert!(!test.passed());
    assert!(quirks::markdown(&test).contains("| **0** |"));
}
