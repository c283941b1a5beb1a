//! The whole conformance suite as one test of this adapter, for mutation testing
//! (`scripts/mutants.sh`). cargo-mutants mutates the reference crate, rebuilds this test against
//! it and runs it. The test program is the adapter under test as well: the harness starts it as
//! the IUT with `BTLS_MUTATION_SUITE_IUT` set, and it then runs [`btls_iut::main`], so a mutant
//! costs one build of the crates that link the reference, not of the whole harness. The harness
//! that judges it was built once, unmutated, outside the mutated tree, and is named by
//! `BTLS_MUTANTS_HARNESS`. The test fails when any case fails; the handshake cases run first,
//! so that a mutant that breaks every handshake is caught in seconds.
//!
//! Not part of `cargo test` (`test = false` in Cargo.toml): run it by name,
//! `BTLS_MUTANTS_HARNESS=… cargo test -p btls-iut --test mutation_suite`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

const AS_IUT: &str = "BTLS_MUTATION_SUITE_IUT";

fn main() -> ExitCode {
    if std::env::var_os(AS_IUT).is_some() {
        return btls_iut::main();
    }
    let Some(harness) = std::env::var_os("BTLS_MUTANTS_HARNESS") else {
        eprintln!(
            "mutation_suite: set BTLS_MUTANTS_HARNESS to an unmutated btls-harness binary \
             (scripts/mutants.sh does)"
        );
        return ExitCode::from(2);
    };
    let me = match std::env::current_exe() {
        Ok(me) => me,
        Err(e) => {
            eprintln!("mutation_suite: cannot find its own program: {e}");
            return ExitCode::from(2);
        }
    };
    let scenarios = std::env::var_os("BTLS_MUTANTS_SCENARIOS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
        PathBuf::from,
    );
    let report_dir = std::env::temp_dir().join(format!("btls-mutants-{}", std::process::id()));
    // The handshake cases first: a mutant that breaks the handshake fails them in seconds,
    // where the whole suite would wait out the step timeouts of hundreds of cases.
    let mut status = Err(std::io::Error::other("not run"));
    for filter in [Some("/handshake/"), None] {
        let mut run = Command::new(&harness);
        run.env(AS_IUT, "1")
            .arg("run")
            .arg("--iut")
            .arg(&me)
            .args(["--iut-name", "mutant"])
            .arg("--scenarios")
            .arg(&scenarios)
            .arg("--report-dir")
            .arg(&report_dir)
            // Cases wait on the IUT more than they compute, so four at once on two cores;
            // the first failure ends the run (a mutant caught needs no more cases).
            .args(["--jobs", "4", "-q", "--fail-fast"]);
        if let Some(f) = filter {
            run.args(["--filter", f]);
        }
        status = run.status();
        if !matches!(&status, Ok(s) if s.success()) {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&report_dir);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("mutation_suite: the conformance suite failed ({s})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!(
                "mutation_suite: cannot run {}: {e}",
                PathBuf::from(&harness).display()
            );
            ExitCode::from(2)
        }
    }
}
