//! The TLS suite: every scenario file of `scenarios/tls` against one stack behind its adapter,
//! in parallel, judged and reported like every other profile (`results.json`, `junit.xml`,
//! `summary.md`, `summary.html`, and a transcript, a capture and a key log per case).

use crate::case::{info, run_case};
use crate::profile::TlsProfile;
use crate::scenario::{load_all, TlsScenario};
use harness_core::engine::RunOptions;
use harness_core::expectations::Expectations;
use harness_core::profile::Profile;
use harness_core::runner::{run_suite, RunReport, SuiteOptions};
use harness_core::Iut;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// What a suite run needs.
#[derive(Debug, Clone)]
pub struct SuiteArgs {
    /// The stack's adapter (`harness/tls/adapters/openssl`).
    pub iut: Iut,
    /// `scenarios/tls`.
    pub scenarios: PathBuf,
    /// The stack's known deviations, if any.
    pub expectations: Option<PathBuf>,
    /// Only cases whose id contains one of these.
    pub filter: Vec<String>,
    /// Cases run at once.
    pub jobs: usize,
    /// Seed of the harness's randomness.
    pub seed: u64,
    /// Where case folders and the certificates go.
    pub work_dir: PathBuf,
    /// `scripts/tls-certs.sh`.
    pub cert_script: PathBuf,
    /// Where reports go, if anywhere.
    pub report_dir: Option<PathBuf>,
    /// Print a line per case.
    pub progress: bool,
}

/// Loads the scenarios the filter selects, the generated cases after the files; every
/// malformed file is reported.
pub fn select(root: &Path, filter: &[String]) -> Result<Vec<TlsScenario>, String> {
    let mut all = load_all(root).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    all.extend(crate::generate::all().map_err(|e| e.to_string())?);
    Ok(all
        .into_iter()
        .filter(|s| filter.is_empty() || filter.iter().any(|f| s.id.contains(f.as_str())))
        .collect())
}

/// Makes the certificates (once per directory) with the project's script.
pub fn make_certs(script: &Path, dir: &Path) -> Result<(), String> {
    let status = Command::new("bash")
        .arg(script)
        .arg(dir)
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} failed ({status})",
            script.display(),
            dir.display()
        ))
    }
}

/// Runs the suite and writes its reports.
pub fn run(args: &SuiteArgs) -> Result<RunReport, String> {
    if !args.iut.program.is_file() {
        return Err(format!(
            "the adapter {} does not exist (the stacks' adapters are in harness/tls/adapters/)",
            args.iut.program.display()
        ));
    }
    let cases = select(&args.scenarios, &args.filter)?;
    let certs = args.work_dir.join("certs");
    make_certs(&args.cert_script, &certs)?;
    let expectations = match &args.expectations {
        Some(p) => Expectations::load(p).map_err(|e| e.to_string())?,
        None => Expectations::default(),
    };
    let options = RunOptions::new(args.seed, args.work_dir.join("cases"));
    let stdout: Mutex<Box<dyn Write + Send>> = Mutex::new(Box::new(std::io::stdout()));
    let progress: Option<&Mutex<dyn Write + Send>> = if args.progress {
        Some(&stdout as &Mutex<dyn Write + Send>)
    } else {
        None
    };
    let report = run_suite(
        &cases,
        info,
        |s| run_case(s, &certs, &args.iut, &options),
        &SuiteOptions {
            protocol: (TlsProfile.name(), TlsProfile.display_name()),
            iut: &args.iut.name,
            seed: args.seed,
            capture_format: harness_capture::Format::Pcapng,
            expectations: &expectations,
            jobs: args.jobs.max(1),
            progress,
            transcripts: args.report_dir.clone(),
            fail_fast: false,
        },
    );
    if let Some(dir) = &args.report_dir {
        harness_core::report::write_all(&report, None, dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(report)
}
