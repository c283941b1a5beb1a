//! The pool suite: every scenario file against one daemon, in parallel, judged and reported
//! like every other profile (`results.json`, `junit.xml`, `summary.md`, `summary.html`, and a
//! transcript and a capture per case), with requirement coverage of `pool/PROTOCOL.md`.

use crate::run::{run_case, PoolOptions};
use crate::scenario::{load_all, PoolScenario};
use crate::PoolProfile;
use harness_core::coverage::Coverage;
use harness_core::expectations::Expectations;
use harness_core::profile::Profile;
use harness_core::runner::{run_suite, RunReport, SuiteOptions};
use harness_core::{CaseInfo, Role};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a suite run needs.
#[derive(Debug, Clone)]
pub struct SuiteArgs {
    /// The daemon binary (the IUT).
    pub daemon: PathBuf,
    /// The IUT's name in case names and reports.
    pub iut_name: String,
    /// `scenarios/pool`.
    pub scenarios: PathBuf,
    /// `pool/PROTOCOL.md`, whose requirement IDs the coverage counts.
    pub spec: PathBuf,
    /// The untestable list beside the scenarios.
    pub untestable: PathBuf,
    /// The IUT's known deviations, if any.
    pub expectations: Option<PathBuf>,
    /// Only cases whose id contains one of these.
    pub filter: Vec<String>,
    /// Worker threads.
    pub jobs: usize,
    /// Seed of the cases' keys.
    pub seed: u64,
    /// Where case folders go.
    pub work_dir: PathBuf,
    /// Where reports go, if anywhere.
    pub report_dir: Option<PathBuf>,
    /// Print a line per case.
    pub progress: bool,
}

/// A case's identity for the runner and the reports.
pub fn info(s: &PoolScenario) -> CaseInfo {
    CaseInfo {
        id: s.id.clone(),
        title: s.title.clone(),
        path: s.path.clone(),
        iut_role: Role::Server,
        requirements: s.requirements.clone(),
    }
}

/// Loads the scenarios the filter selects; every malformed file is reported.
pub fn select(root: &Path, filter: &[String]) -> Result<Vec<PoolScenario>, String> {
    let all = load_all(root).map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(all
        .into_iter()
        .filter(|s| filter.is_empty() || filter.iter().any(|f| s.id.contains(f.as_str())))
        .collect())
}

/// Runs the suite and writes its reports.
pub fn run(args: &SuiteArgs) -> Result<(RunReport, Coverage), String> {
    if !args.daemon.is_file() {
        return Err(format!(
            "the daemon {} does not exist: build it with `cargo build -p btls-pool`",
            args.daemon.display()
        ));
    }
    let all = select(&args.scenarios, &[])?;
    let cases: Vec<PoolScenario> = all
        .iter()
        .filter(|s| args.filter.is_empty() || args.filter.iter().any(|f| s.id.contains(f.as_str())))
        .cloned()
        .collect();
    let spec =
        std::fs::read_to_string(&args.spec).map_err(|e| format!("{}: {e}", args.spec.display()))?;
    let infos: Vec<CaseInfo> = all.iter().map(info).collect();
    let coverage = Coverage::compute(
        &spec,
        PoolProfile.requirement_prefix(),
        &infos,
        &args.untestable,
    )
    .map_err(|e| e.to_string())?;
    let expectations = match &args.expectations {
        Some(p) => Expectations::load(p).map_err(|e| e.to_string())?,
        None => Expectations::default(),
    };
    let options = PoolOptions {
        daemon: args.daemon.clone(),
        work_dir: args.work_dir.clone(),
        seed: args.seed,
    };
    let stdout: Mutex<Box<dyn Write + Send>> = Mutex::new(Box::new(std::io::stdout()));
    let progress: Option<&Mutex<dyn Write + Send>> = if args.progress {
        Some(&stdout as &Mutex<dyn Write + Send>)
    } else {
        None
    };
    let profile = PoolProfile;
    let report = run_suite(
        &cases,
        info,
        |s| run_case(s, &options),
        &SuiteOptions {
            protocol: (profile.name(), profile.display_name()),
            iut: &args.iut_name,
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
        harness_core::report::write_all(&report, Some(&coverage), dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok((report, coverage))
}
