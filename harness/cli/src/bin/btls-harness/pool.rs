//! `btls-harness pool`: the TLS Pool profile's scenario files against a pool daemon.

use pool_profile::suite::{self, SuiteArgs};
use std::path::PathBuf;

/// `btls-harness pool`.
#[derive(Debug, clap::Args)]
pub(crate) struct PoolArgs {
    /// The pool daemon to test (started once per case as `DAEMON --config FILE`).
    #[arg(long, value_name = "DAEMON", default_value = "target/debug/btls-pool")]
    pub(crate) daemon: PathBuf,
    /// Its name in case names and reports.
    #[arg(long, default_value = "btls-pool")]
    pub(crate) iut_name: String,
    /// The scenario files.
    #[arg(long, default_value = "scenarios/pool")]
    pub(crate) scenarios: PathBuf,
    /// The protocol document whose requirement IDs the coverage counts.
    #[arg(long, default_value = "pool/PROTOCOL.md")]
    pub(crate) spec: PathBuf,
    /// The daemon's known deviations (`[[deviation]] case = …, reason = …`).
    #[arg(long, value_name = "FILE")]
    pub(crate) expectations: Option<PathBuf>,
    /// Only cases whose id contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Vec<String>,
    /// Cases run at once.
    #[arg(short = 'j', long, default_value_t = 4)]
    pub(crate) jobs: usize,
    /// Seed of the cases' keys.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where the reports go (results.json, junit.xml, summary.md, summary.html, transcripts/).
    #[arg(long, default_value = "reports/pool")]
    pub(crate) report_dir: PathBuf,
    /// No line per case.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

pub(crate) fn main(args: PoolArgs) -> anyhow::Result<bool> {
    let work_dir = std::env::temp_dir().join(format!("btls-pool-cases-{}", std::process::id()));
    let (report, coverage) = suite::run(&SuiteArgs {
        daemon: args.daemon,
        iut_name: args.iut_name,
        untestable: args.scenarios.join("untestable.toml"),
        scenarios: args.scenarios,
        spec: args.spec,
        expectations: args.expectations,
        filter: args.filter,
        jobs: args.jobs,
        seed: args.seed,
        work_dir: work_dir.clone(),
        report_dir: Some(args.report_dir.clone()),
        progress: !args.quiet,
    })
    .map_err(anyhow::Error::msg)?;
    let _ = std::fs::remove_dir_all(&work_dir);
    use harness_core::runner::Status;
    println!(
        "{}: {} passed, {} failed, {} expected failures, {} unexpected passes ({} cases, {:.1} s); \
         requirements covered {}/{} ({} untestable); reports in {}",
        report.iut,
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::ExpectedFail),
        report.count(Status::UnexpectedPass),
        report.cases.len(),
        report.duration.as_secs_f64(),
        coverage.covered_count(),
        coverage.defined.len(),
        coverage.untestable.len(),
        args.report_dir.display()
    );
    if !coverage.is_complete() {
        for problem in coverage.problems() {
            println!("coverage gap: {problem}");
        }
    }
    Ok(!report.failed() && coverage.is_complete())
}
