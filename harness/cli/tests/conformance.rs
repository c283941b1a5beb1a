//! The conformance suite as a test target: every scenario × IUT is one trial named
//! `<iut>/<scenario id>` (for example `reference/server/alerts/send-key`), so `cargo test`
//! runs the suite and `cargo test -- server/` filters it as usual. Each case is judged by the
//! runner's own judgement (`harness_core::runner::judge`) under the IUT's expectations (the file
//! named by `EXPECTATIONS`, none by default), as `btls-harness run` judges it, and a failure
//! explains itself as it does there. The reference IUT's transcripts are insta snapshots in
//! `harness/snapshots/` (`cargo insta review`).

use btls_profile::engine::{run_case, RunOptions};
use btls_profile::scenario::{load_dir, Scenario};
use btls_profile::BtlsProfile;
use harness_core::coverage::Coverage;
use harness_core::expectations::Expectations;
use harness_core::profile::Profile;
use harness_core::runner::{judge, Status};
use harness_core::Iut;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    // Failures are reported through the trial's message; a backtrace per failed snapshot would
    // drown it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../../scenarios");
    let iut = Arc::new(Iut {
        name: "reference".into(),
        program: PathBuf::from(env!("CARGO_BIN_EXE_btls-iut")),
        prefix_args: Vec::new(),
    });
    let expectations = Arc::new(match std::env::var_os("EXPECTATIONS") {
        Some(path) => match Expectations::load(path.as_ref()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        },
        None => Expectations::default(),
    });
    let work_dir = std::env::temp_dir().join(format!("btls-conformance-{}", std::process::id()));
    let snapshots = manifest.join("../snapshots").join(&iut.name);
    let mut trials: Vec<Trial> = match load_dir(&root) {
        Ok(scenarios) => scenarios
            .into_iter()
            .map(|scenario| {
                let iut = iut.clone();
                let expectations = expectations.clone();
                let options = RunOptions::new(1, work_dir.clone());
                let snapshots = snapshots.clone();
                Trial::test(format!("{}/{}", iut.name, scenario.id), move || {
                    let result = run_case(&scenario, &iut, &options);
                    let snapshot_name = scenario.id.replace('/', "__");
                    let mut settings = insta::Settings::clone_current();
                    settings.set_snapshot_path(&snapshots);
                    settings.set_prepend_module_to_snapshot(false);
                    settings.set_omit_expression(true);
                    let transcript = result.transcript.clone();
                    let snapshot =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                            settings.bind(|| insta::assert_snapshot!(snapshot_name, transcript));
                        }));
                    let case = judge(scenario.info(), result, &expectations);
                    if case.status == Status::Unsupported {
                        return Err(Failed::from(format!(
                            "the reference IUT must support every option: {:?}",
                            case.result.verdict
                        )));
                    }
                    if let Some(why) = case.explain(None) {
                        return Err(Failed::from(format!(
                            "{}\n{}\nIUT stderr:\n{}",
                            why, case.result.transcript, case.result.stderr
                        )));
                    }
                    // An expected failure has no snapshot to match: it is judged by the
                    // expectations alone.
                    if case.status == Status::ExpectedFail {
                        return Ok(());
                    }
                    snapshot.map_err(|_| {
                        Failed::from(
                            "the transcript differs from its snapshot (cargo insta review)",
                        )
                    })
                })
            })
            .collect(),
        Err(errors) => errors
            .into_iter()
            .map(|e| {
                let name = format!("scenario-file/{}", e.path.display());
                Trial::test(name, move || Err(Failed::from(e.to_string())))
            })
            .collect(),
    };
    let spec = manifest.join("../../reference-impl/SPEC.md");
    trials.push(Trial::test("coverage/requirements", move || {
        let text = std::fs::read_to_string(&spec).map_err(|e| Failed::from(e.to_string()))?;
        let scenarios = load_dir(&root)
            .map_err(|e| Failed::from(format!("{} malformed scenario file(s)", e.len())))?;
        let cases: Vec<_> = scenarios.iter().map(Scenario::info).collect();
        let coverage = Coverage::compute(&text, BtlsProfile.requirement_prefix(), &cases, &root.join("untestable.toml"))
            .map_err(Failed::from)?;
        if coverage.is_complete() {
            Ok(())
        } else {
            Err(Failed::from(format!(
                "the coverage of SPEC.md by scenarios/ has gaps (a case in the role, or a reason in scenarios/untestable.toml, closes each):\n  {}",
                coverage.problems().join("\n  ")
            )))
        }
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(&work_dir);
    conclusion.exit();
}
