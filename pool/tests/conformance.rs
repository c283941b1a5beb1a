//! The pool profile's scenario files against this daemon, one trial each
//! (`pool/<area>/<file>`), and the coverage of `pool/PROTOCOL.md`'s requirements.

use harness_core::coverage::Coverage;
use libtest_mimic::{Arguments, Failed, Trial};
use pool_profile::run::{run_case, PoolOptions};
use pool_profile::suite::{info, select};
use std::path::PathBuf;
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let args = Arguments::from_args();
    let scenarios = root().join("scenarios/pool");
    let cases = match select(&scenarios, &[]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let options = Arc::new(PoolOptions {
        daemon: PathBuf::from(env!("CARGO_BIN_EXE_btls-pool")),
        work_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pool-conformance"),
        seed: 1,
    });
    let infos: Vec<_> = cases.iter().map(info).collect();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let options = options.clone();
            Trial::test(case.id.clone(), move || {
                let result = run_case(&case, &options);
                match result.verdict {
                    harness_core::Verdict::Fail(f) => Err(Failed::from(format!(
                        "{}\n--- transcript\n{}--- daemon stderr\n{}",
                        harness_core::verdict::explain(&f, &case.path, None),
                        result.transcript,
                        result.stderr
                    ))),
                    _ => Ok(()),
                }
            })
        })
        .collect();
    trials.push(Trial::test("pool/coverage", move || {
        let spec = std::fs::read_to_string(root().join("pool/PROTOCOL.md"))
            .map_err(|e| Failed::from(e.to_string()))?;
        let c = Coverage::compute(&spec, "POOL-", &infos, &scenarios.join("untestable.toml"))
            .map_err(|e| Failed::from(e.to_string()))?;
        if c.defined.len() < 25 {
            return Err(format!(
                "only {} requirements read from PROTOCOL.md",
                c.defined.len()
            )
            .into());
        }
        if !c.is_complete() {
            return Err(c.problems().join("\n").into());
        }
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit();
}
