//! `btls-harness learn` end to end: the reference learned in both roles equals the machine of
//! SPEC.md §12; quirk builds that change a transition are exposed, and each difference's
//! scenario file passes against the reference and fails against the quirk build; the HTML
//! report opens in headless Chromium with the pictures drawn.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls_profile::engine::{run_case, RunOptions};
use btls_profile::learn::{self, report, Options, Run};
use btls_profile::scenario::load_str;
use harness_core::{Iut, Role, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// One learning run at a time: each runs many adapter processes at once.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn reference(quirk: Option<&str>) -> Iut {
    Iut {
        name: "reference".into(),
        program: PathBuf::from(env!("CARGO_BIN_EXE_btls-iut")),
        prefix_args: quirk
            .map(|q| vec!["--quirk".into(), q.into()])
            .unwrap_or_default(),
    }
}

fn work_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("btls-learn-test-{name}-{}", std::process::id()))
}

fn learn(iut: &Iut, role: Role, name: &str) -> Run {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let options = Options {
        role,
        jobs: 12,
        quiet: Duration::from_millis(40),
        seed: 1,
        random_walks: 300,
        depth: 1,
        work_dir: work_dir(name),
        progress: false,
    };
    let run = learn::run(iut, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(work_dir(name));
    run
}

/// Runs one reproducing scenario against `iut`.
fn verdict(text: &str, iut: &Iut, name: &str) -> (Verdict, String) {
    let scenario = load_str(Path::new("reproduce.toml"), name, text)
        .expect("the scenario loads")
        .remove(0);
    let result = run_case(&scenario, iut, &RunOptions::new(1, work_dir(name)));
    let _ = std::fs::remove_dir_all(work_dir(name));
    (result.verdict.clone(), result.transcript.clone())
}

#[test]
fn the_reference_learned_in_both_roles_is_the_specifications_machine() {
    for role in [Role::Client, Role::Server] {
        let run = learn(&reference(None), role, role.as_str());
        assert_eq!(
            run.differences,
            Vec::new(),
            "{}: the reference differs from SPEC §12",
            role.as_str()
        );
        assert_eq!(run.learned.machine.states(), run.spec.states());
        assert_eq!(run.initial, learn::spec::initial_output(role));
        assert!(
            run.learned.stats.sessions > 100,
            "every query is a connection"
        );
    }
}

#[test]
fn quirks_that_change_a_transition_are_exposed_and_reproduced() {
    for (quirk, role) in [
        ("early-server-ready", Role::Server),
        ("accept-second-send-key", Role::Client),
        ("no-close-notify-reply", Role::Server),
        ("skip-server-ready-mac", Role::Client),
    ] {
        let build = reference(Some(quirk));
        let run = learn(&build, role, quirk);
        assert!(!run.differences.is_empty(), "{quirk} is not exposed");
        assert!(!run.scenarios.is_empty());
        let text = &run.scenarios[0];
        let (clean, transcript) = verdict(text, &reference(None), quirk);
        assert!(
            matches!(clean, Verdict::Pass | Verdict::PassLenient(_)),
            "{quirk}: the reproducing scenario must pass against the reference:\n{text}\n{transcript}"
        );
        let (buggy, transcript) = verdict(text, &build, quirk);
        match buggy {
            Verdict::Fail(f) => assert!(
                f.step > 0,
                "{quirk}: a step fails, not only the exit status: {f:?}\n{transcript}"
            ),
            other => panic!(
                "{quirk}: the scenario must fail against the quirk build, got {other:?}\n{text}"
            ),
        }
    }
}

/// Headless Chromium with a fresh profile and no background traffic (the machine's network is
/// closed).
fn chromium(profile: &Path) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn the_html_report_opens_in_headless_chromium_with_every_machine_drawn() {
    let server = learn(
        &reference(Some("answer-fatal-alert")),
        Role::Server,
        "report",
    );
    let dir = work_dir("report-html");
    let summaries = report::write(&dir, &[(server, Some("answer-fatal-alert".into()))])
        .expect("the report is written (Graphviz's dot: scripts/install-graphviz.sh)");
    assert!(!summaries[0].equal);
    let html = dir.join("report.html");
    let profile = dir.join("chromium-profile");
    let out = chromium(&profile)
        .args(["--dump-dom", &format!("file://{}", html.display())])
        .output()
        .expect("chromium runs (scripts/install-chromium.sh installs it)");
    let dom = String::from_utf8_lossy(&out.stdout);
    // The browser parsed the inline SVG of the learned machine and of the specification's:
    // two <svg> elements with their states as text.
    assert_eq!(dom.matches("<svg").count(), 2, "{dom}");
    assert!(dom.contains("ExpectClientHello"), "state names are drawn");
    assert!(dom.contains("#c0392b"), "the differing transitions are red");
    assert!(dom.contains("answer-fatal-alert"));
    let shot = dir.join("report.png");
    let status = chromium(&profile)
        .args([
            "--window-size=1400,2400",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("chromium runs");
    assert!(status.status.success(), "{status:?}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real picture"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
