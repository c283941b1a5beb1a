//! The verdict of a case, where it failed, and everything it produced.

use harness_capture::Recording;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// The verdict of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The IUT did what the scenario expects.
    Pass,
    /// It passed, but only under a lenient grade (for example a close without the alert).
    PassLenient(String),
    /// It did not.
    Fail(Failure),
    /// The IUT said it does not support an option the scenario needs.
    Unsupported(String),
}

/// Where and how a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The 1-based step, or 0 for the end-of-case checks.
    pub step: usize,
    /// The line of the step in the scenario file.
    pub line: usize,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
}

/// Everything a case produced.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The verdict.
    pub verdict: Verdict,
    /// One line per frame and per notable event.
    pub transcript: String,
    /// Every byte exchanged with the IUT, for the case's capture.
    pub capture: Recording,
    /// The secrets of the sessions whose handshake completed, in the profile's key log format
    /// (written beside the capture so that it can be decrypted).
    pub key_log: Option<String>,
    /// The IUT's standard error.
    pub stderr: String,
    /// Wall time.
    pub duration: Duration,
}

impl fmt::Display for Failure {
    /// `step 3 (line 14): expected alert decode_error; got the IUT closed the connection`, or
    /// `end of case: expected …` for the checks after the last step.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.step == 0 {
            write!(f, "end of case")?;
        } else {
            write!(f, "step {} (line {})", self.step, self.line)?;
        }
        write!(f, ": expected {}; got {}", self.expected, self.actual)
    }
}

impl Verdict {
    /// Whether the IUT did what the case expects (leniently or not).
    pub fn passed(&self) -> bool {
        matches!(self, Self::Pass | Self::PassLenient(_))
    }
}

/// What a failing case prints on the terminal under its name, as `cargo test` prints a panic:
/// the scenario file and line, the step, expected and actual, and where the transcript is.
pub fn explain(failure: &Failure, scenario: &Path, transcript: Option<&Path>) -> String {
    let mut text = if failure.step == 0 {
        format!(
            "    {}: end of case
",
            scenario.display()
        )
    } else {
        format!(
            "    {}:{}: step {}
",
            scenario.display(),
            failure.line,
            failure.step
        )
    };
    text.push_str(&format!(
        "      expected: {}
",
        failure.expected
    ));
    text.push_str(&format!(
        "      actual:   {}
",
        failure.actual
    ));
    if let Some(t) = transcript {
        text.push_str(&format!(
            "      transcript: {}
",
            t.display()
        ));
    }
    text
}
