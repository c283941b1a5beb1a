//! Runs a suite: many scenarios against one IUT, in parallel, with progress, applying the IUT's
//! expectations.

use crate::engine::{run_case, CaseResult, RunOptions, Verdict};
use crate::expectations::Expectations;
use crate::iut::Iut;
use crate::pool::parallel_map;
use crate::scenario::Scenario;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// The scenario.
    pub scenario: Scenario,
    /// What happened.
    pub result: CaseResult,
    /// How it counts.
    pub status: Status,
    /// The expectation's reason, if the case has one.
    pub expected_reason: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunReport {
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
    pub capture_format: crate::capture::Format,
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

fn status(result: &CaseResult, expected: Option<&str>) -> Status {
    match (&result.verdict, expected) {
        (Verdict::Unsupported(_), _) => Status::Unsupported,
        (Verdict::Pass | Verdict::PassLenient(_), None) => Status::Pass,
        (Verdict::Pass | Verdict::PassLenient(_), Some(_)) => Status::UnexpectedPass,
        (Verdict::Fail(_), None) => Status::Fail,
        (Verdict::Fail(_), Some(_)) => Status::ExpectedFail,
    }
}

/// Runs `scenarios` against `iut` on `jobs` threads, printing one progress line per case to
/// `progress` (if given).
pub fn run_suite(
    scenarios: Vec<Scenario>,
    iut: &Iut,
    expectations: &Expectations,
    options: &RunOptions,
    jobs: usize,
    progress: Option<&Mutex<dyn Write + Send>>,
) -> RunReport {
    let started = Instant::now();
    let total = scenarios.len();
    let done = AtomicUsize::new(0);
    let results = parallel_map(&scenarios, jobs, |_, scenario| {
        let result = run_case(scenario, iut, options);
        let reason = expectations.reason(&scenario.id).map(str::to_owned);
        let status = status(&result, reason.as_deref());
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(out) = progress {
            if let Ok(mut out) = out.lock() {
                let _ = writeln!(
                    out,
                    "[{n:>3}/{total}] {:<15} {}/{} ({} ms)",
                    status.label(),
                    iut.name,
                    scenario.id,
                    result.duration.as_millis()
                );
            }
        }
        CaseReport {
            scenario: scenario.clone(),
            result,
            status,
            expected_reason: reason,
        }
    });
    let ids: Vec<String> = scenarios.iter().map(|s| s.id.clone()).collect();
    let cases = results.into_iter().flatten().collect();
    RunReport {
        iut: iut.name.clone(),
        seed: options.seed,
        cases,
        duration: started.elapsed(),
        stale_expectations: expectations
            .stale(&ids)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        capture_format: options.capture_format,
    }
}
