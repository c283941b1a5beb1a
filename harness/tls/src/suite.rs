//! The TLS suite: every scenario file of `scenarios/tls` against one stack behind its adapter,
//! in parallel, judged and reported like every other profile (`results.json`, `junit.xml`,
//! `summary.md`, `summary.html`, and a transcript, a capture and a key log per case).

use crate::case::{info, run_case};
use crate::profile::TlsProfile;
use crate::scenario::{load_all, TlsScenario};
use harness_core::coverage::Coverage;
use harness_core::engine::RunOptions;
use harness_core::expectations::Expectations;
use harness_core::profile::Profile;
use harness_core::runner::{run_suite, RunReport, SuiteOptions};
use harness_core::CaseInfo;
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

/// The coverage map's file in a scenario directory: the RFC sections, each `**RFC8446-4.1.2**`,
/// and which roles each binds.
pub const SECTIONS: &str = "RFC-SECTIONS.md";

/// The coverage of the map `root/RFC-SECTIONS.md` by every case below `root` (the filter
/// aside) and the generated ones; sections that cannot be checked, with the reason, in
/// `root/untestable.toml`.
pub fn coverage(root: &Path) -> Result<Coverage, String> {
    let map = root.join(SECTIONS);
    let text = std::fs::read_to_string(&map).map_err(|e| {
        format!(
            "{}: {e} (the coverage map: every RFC section the cases cite)",
            map.display()
        )
    })?;
    let infos: Vec<CaseInfo> = select(root, &[])?.iter().map(info).collect();
    Coverage::compute(
        &text,
        TlsProfile.requirement_prefix(),
        &infos,
        &root.join("untestable.toml"),
    )
    .map_err(|e| e.to_string())
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
    let coverage = coverage(&args.scenarios)?;
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
        harness_core::report::write_all(&report, Some(&coverage), dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn every_section_a_case_cites_is_in_the_coverage_map() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/tls");
        let cov = coverage(&root).unwrap();
        assert!(
            cov.unknown.is_empty(),
            "cited but not in {SECTIONS}: {:?}",
            cov.unknown
        );
        assert!(
            cov.role_table_errors.is_empty(),
            "{:?}",
            cov.role_table_errors
        );
        assert!(
            cov.covered_count() >= 45,
            "{} sections covered",
            cov.covered_count()
        );
    }
}
