//! Runs a suite: many cases against one IUT, in parallel, with progress, applying the IUT's
//! expectations. Every command that runs cases goes through here (and `cargo test` too), so
//! they judge alike and a failing case explains itself on the terminal the same way.

use crate::case::CaseInfo;
use crate::expectations::Expectations;
use crate::pool::parallel_map;
use crate::verdict::{explain, CaseResult, Verdict};
use harness_capture::Format;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a case counts in the run's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Passed.
    Pass,
    /// Failed, and no expectation excuses it.
    Fail,
    /// Failed as the expectations file says it would.
    ExpectedFail,
    /// Passed although the expectations file says it fails: the entry is stale.
    UnexpectedPass,
    /// The IUT does not support an option the case needs.
    Unsupported,
}

impl Status {
    /// Whether this status makes the run fail.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Fail | Self::UnexpectedPass)
    }

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::ExpectedFail => "expected fail",
            Self::UnexpectedPass => "UNEXPECTED PASS",
            Self::Unsupported => "unsupported",
        }
    }
}

/// One case's result with its status.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case.
    pub scenario: CaseInfo,
    /// What happened.
    pub result: CaseResult,
    /// How it counts.
    pub status: Status,
    /// The expectation's reason, if the case has one.
    pub expected_reason: Option<String>,
}

impl CaseReport {
    /// What the terminal shows under a case that counts as a failure: where and why it failed
    /// (or that an expected failure passed), and where its transcript is.
    pub fn explain(&self, transcripts: Option<&std::path::Path>) -> Option<String> {
        let transcript =
            transcripts.map(|d| d.join(crate::report::transcript_name(&self.scenario)));
        match (&self.result.verdict, self.status) {
            (Verdict::Fail(f), Status::Fail) => {
                Some(explain(f, &self.scenario.path, transcript.as_deref()))
            }
            (_, Status::UnexpectedPass) => Some(format!(
                "    {}: passed, but the expectations say it fails ({}): remove the entry\n",
                self.scenario.path.display(),
                self.expected_reason.as_deref().unwrap_or("no reason given")
            )),
            _ => None,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The profile's short name (`btls`), in the reports' schema and suite names.
    pub protocol: &'static str,
    /// The profile's name for people (`bTLS`), in the reports' titles.
    pub protocol_name: &'static str,
    /// The IUT's name.
    pub iut: String,
    /// The seed.
    pub seed: u64,
    /// The cases, in suite order.
    pub cases: Vec<CaseReport>,
    /// Wall time of the run.
    pub duration: Duration,
    /// Expectation entries naming no case.
    pub stale_expectations: Vec<String>,
    /// The format the case captures are written in.
    pub capture_format: Format,
    /// Cases not started because an earlier one failed (`SuiteOptions::fail_fast`).
    pub not_run: usize,
}

impl RunReport {
    /// Number of cases with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.cases.iter().filter(|c| c.status == status).count()
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.cases.iter().any(|c| c.status.is_failure())
    }
}

/// How a result counts, given the case's expectation (if any).
pub fn status(result: &CaseResult, expected: Option<&str>) -> Status {
    match (&result.verdict, expected) {
        (Verdict::Unsupported(_), _) => Status::Unsupported,
        (Verdict::Pass | Verdict::PassLenient(_), None) => Status::Pass,
        (Verdict::Pass | Verdict::PassLenient(_), Some(_)) => Status::UnexpectedPass,
        (Verdict::Fail(_), None) => Status::Fail,
        (Verdict::Fail(_), Some(_)) => Status::ExpectedFail,
    }
}

/// A case's result counted under the expectations: the one judgement every command (and
/// `cargo test`) makes.
pub fn judge(scenario: CaseInfo, result: CaseResult, expectations: &Expectations) -> CaseReport {
    let reason = expectations.reason(&scenario.id).map(str::to_owned);
    let status = status(&result, reason.as_deref());
    CaseReport {
        scenario,
        result,
        status,
        expected_reason: reason,
    }
}

/// How to run a suite.
pub struct SuiteOptions<'a> {
    /// The profile's short name and its name for people (`Profile::name`,
    /// `Profile::display_name`).
    pub protocol: (&'static str, &'static str),
    /// The IUT's name, for case names and the reports.
    pub iut: &'a str,
    /// The seed of the run.
    pub seed: u64,
    /// The format the case captures will be written in.
    pub capture_format: Format,
    /// Known deviations of the IUT.
    pub expectations: &'a Expectations,
    /// Worker threads.
    pub jobs: usize,
    /// Where one progress line per case goes (and, under a failing case, why it failed).
    pub progress: Option<&'a Mutex<dyn Write + Send>>,
    /// Where the reports will put the transcripts, so that a failure can name its file.
    pub transcripts: Option<PathBuf>,
    /// Start no case once one has failed (those already running finish); the cases left are
    /// counted in [`RunReport::not_run`] and appear in no report.
    pub fail_fast: bool,
}

/// Runs `cases` with `run` on `options.jobs` threads. `info` names each case.
pub fn run_suite<C: Sync>(
    cases: &[C],
    info: impl Fn(&C) -> CaseInfo + Sync,
    run: impl Fn(&C) -> CaseResult + Sync,
    options: &SuiteOptions<'_>,
) -> RunReport {
    let started = Instant::now();
    let total = cases.len();
    let done = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    let results = parallel_map(cases, options.jobs, |_, case| {
        if options.fail_fast && stopped.load(Ordering::SeqCst) {
            return None;
        }
        let report = judge(info(case), run(case), options.expectations);
        if report.status.is_failure() {
            stopped.store(true, Ordering::SeqCst);
        }
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(out) = options.progress {
            if let Ok(mut out) = out.lock() {
                let _ = writeln!(
                    out,
                    "[{n:>3}/{total}] {:<15} {}/{} ({} ms)",
                    report.status.label(),
                    options.iut,
                    report.scenario.id,
                    report.result.duration.as_millis()
                );
                if let Some(why) = report.explain(options.transcripts.as_deref()) {
                    let _ = write!(out, "{why}");
                }
            }
        }
        Some(report)
    });
    let ids: Vec<String> = cases.iter().map(|c| info(c).id).collect();
    let cases: Vec<CaseReport> = results.into_iter().flatten().flatten().collect();
    let not_run = total - cases.len();
    RunReport {
        protocol: options.protocol.0,
        protocol_name: options.protocol.1,
        iut: options.iut.to_owned(),
        seed: options.seed,
        cases,
        duration: started.elapsed(),
        stale_expectations: options
            .expectations
            .stale(&ids)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        capture_format: options.capture_format,
        not_run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;
    use crate::verdict::Failure;

    fn info(n: &u32) -> CaseInfo {
        CaseInfo {
            id: format!("server/alerts/case-{n}"),
            title: String::new(),
            path: PathBuf::new(),
            iut_role: Role::Server,
            requirements: Vec::new(),
        }
    }

    fn result(fail: bool) -> CaseResult {
        let verdict = if fail {
            Verdict::Fail(Failure {
                step: 1,
                line: 1,
                expected: "x".into(),
                actual: "y".into(),
            })
        } else {
            Verdict::Pass
        };
        CaseResult {
            verdict,
            transcript: String::new(),
            capture: Default::default(),
            key_log: None,
            stderr: String::new(),
            duration: Duration::ZERO,
        }
    }

    fn options(expectations: &Expectations, fail_fast: bool) -> SuiteOptions<'_> {
        SuiteOptions {
            protocol: ("btls", "bTLS"),
            iut: "iut",
            seed: 1,
            capture_format: Format::Pcapng,
            expectations,
            jobs: 1,
            progress: None,
            transcripts: None,
            fail_fast,
        }
    }

    #[test]
    fn fail_fast_starts_no_case_after_a_failure() {
        let cases: Vec<u32> = (0..6).collect();
        let none = Expectations::default();
        let run = |n: &u32| result(*n == 2);
        let all = run_suite(&cases, info, run, &options(&none, false));
        assert_eq!((all.cases.len(), all.not_run), (6, 0));
        let quick = run_suite(&cases, info, run, &options(&none, true));
        assert_eq!((quick.cases.len(), quick.not_run), (3, 3));
        assert!(quick.failed());
    }
}
