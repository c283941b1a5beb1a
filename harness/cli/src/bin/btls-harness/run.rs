//! `btls-harness run`: the suite against an IUT, with reports.

use crate::iut_args::{CaptureFormat, IutArgs};
use crate::selection::{select, Selection};
use anyhow::{bail, Context, Result};
use btls_profile::engine::run_case;
use btls_profile::engine::RunOptions;
use btls_profile::scenario::Scenario;
use btls_profile::BtlsProfile;
use clap::Args;
use harness_core::expectations::Expectations;
use harness_core::profile::Profile;
use harness_core::report;
use harness_core::runner::{run_suite, Status, SuiteOptions};
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) iut: IutArgs,
    /// The IUT's known deviations (TOML: `[[deviation]]` tables, each with `case` and `reason`).
    #[arg(long, value_name = "FILE")]
    pub(crate) expectations: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Cases run at once.
    #[arg(long, short = 'j', default_value_t = default_jobs())]
    pub(crate) jobs: usize,
    /// Seed of both sides' randomness.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where to write results.json, junit.xml, summary.md, summary.html and transcripts/ (each
    /// case's transcript, capture and key log).
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    pub(crate) report_dir: PathBuf,
    /// The format of the case captures.
    #[arg(long, value_enum, default_value_t = CaptureFormat::Pcapng)]
    pub(crate) capture_format: CaptureFormat,
    /// Show the real ephemeral ports in captures (by default the listener is 127.0.0.1:4433
    /// and the IUT 127.0.0.1:49152+n, so that captures are byte-identical from run to run).
    #[arg(long)]
    pub(crate) real_ports: bool,
    /// The specification, for the coverage section of the reports.
    #[arg(long, default_value = "reference-impl/SPEC.md")]
    pub(crate) spec: PathBuf,
    /// Print nothing per case.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Start no case once one has failed (those running finish); the reports hold the cases
    /// that ran. For a quick yes or no, as mutation testing needs.
    #[arg(long)]
    pub(crate) fail_fast: bool,
}

pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// Runs `btls-harness run`.
pub(crate) fn main(args: RunArgs) -> Result<bool> {
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let scenarios = select(&args.selection)?;
    if scenarios.is_empty() {
        bail!("the filters select no case");
    }
    let expectations = match &args.expectations {
        Some(path) => Expectations::load(path).map_err(anyhow::Error::msg)?,
        None => Expectations::default(),
    };
    let work_dir = args.report_dir.join("work");
    let mut options = RunOptions::new(args.seed, work_dir.clone());
    options.capture_format = args.capture_format.into();
    options.real_ports = args.real_ports;
    eprintln!(
        "running {} case(s) against {} with {} job(s)",
        scenarios.len(),
        iut.name,
        args.jobs
    );
    let progress: Mutex<std::io::Stderr> = Mutex::new(std::io::stderr());
    let report = run_suite(
        &scenarios,
        Scenario::info,
        |scenario| run_case(scenario, &iut, &options),
        &SuiteOptions {
            protocol: (BtlsProfile.name(), BtlsProfile.display_name()),
            iut: &iut.name,
            seed: args.seed,
            capture_format: options.capture_format,
            expectations: &expectations,
            jobs: args.jobs,
            progress: (!args.quiet).then_some(&progress as &Mutex<dyn std::io::Write + Send>),
            transcripts: Some(args.report_dir.clone()),
            fail_fast: args.fail_fast,
        },
    );
    let _ = std::fs::remove_dir_all(&work_dir);
    let cov = crate::coverage::load(&args.spec, &args.selection.scenarios).ok();
    report::write_all(&report, cov.as_ref(), &args.report_dir)
        .with_context(|| format!("writing reports to {}", args.report_dir.display()))?;
    for stale in &report.stale_expectations {
        eprintln!("warning: the expectations name {stale}, which is not a case of this suite");
    }
    let failures: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.status.is_failure())
        .collect();
    if !failures.is_empty() {
        eprintln!("\nfailures:");
    }
    for case in failures {
        eprintln!(
            "  {}: {}/{}",
            case.status.label(),
            report.iut,
            case.scenario.id
        );
        if let Some(why) = case.explain(Some(&args.report_dir)) {
            eprint!("{why}");
        }
    }
    let not_run = match report.not_run {
        0 => String::new(),
        n => format!(", {n} not run (--fail-fast)"),
    };
    println!(
        "{} passed, {} failed, {} unsupported, {} expected failures{not_run} — {:.2} s; reports in {}",
        report.count(Status::Pass),
        report.count(Status::Fail) + report.count(Status::UnexpectedPass),
        report.count(Status::Unsupported),
        report.count(Status::ExpectedFail),
        report.duration.as_secs_f64(),
        args.report_dir.display()
    );
    Ok(!report.failed())
}
