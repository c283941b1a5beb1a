//! The benchmark comparison report (`btls-harness bench-report`): criterion's estimates, the
//! callgrind instruction counts, the machine and `openssl speed`, and any `btls-harness bench`
//! results, turned into figures with their ratios to the baselines measured in the same run
//! (rustls, the crypto floor, openssl), compared with a saved baseline run, and written as
//! `results.json`, `report.md` and `report.html` with SVG charts.
//!
//! **Noise.** A measurement regresses (or improves) only when both hold: the change exceeds the
//! threshold of its kind ([`NOISE_CPU`] for CPU time, [`NOISE_WALL`] for wall time and the IUT
//! bench, [`NOISE_INSTRUCTIONS`] for instruction counts, [`NOISE_CPU`] for the ratios of the
//! figure table), and, for criterion's measurements, the 95% confidence intervals of the two runs
//! do not overlap. Anything else is reported as within noise.

mod figures;
mod read;
mod render;
mod svg;

pub use figures::compare;
pub use read::{read_callgrind, read_criterion};
pub use render::{render, Rendered};
pub use svg::{bar_chart, change_chart, Bar};

use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ED: &str = "ED25519_X25519";
const P256: &str = "ECDSA_P256_ECDH_P256";
const AES: &str = "AES_256_GCM";
const CHACHA: &str = "CHACHA20_POLY1305";

/// The schema of `results.json` and of the saved baseline.
pub const SCHEMA: &str = "btls-bench-results/1";
/// Relative change of CPU time (and of the figures' ratios) counted as noise.
pub const NOISE_CPU: f64 = 0.10;
/// Relative change of wall time (loopback benchmarks, `btls-harness bench`) counted as noise.
pub const NOISE_WALL: f64 = 0.25;
/// Relative change of an instruction count counted as noise.
pub const NOISE_INSTRUCTIONS: f64 = 0.01;

/// One criterion benchmark's estimate of the mean time per iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// Mean time per iteration, nanoseconds.
    pub ns: f64,
    /// Lower bound of the 95% confidence interval.
    pub lower_ns: f64,
    /// Upper bound of the 95% confidence interval.
    pub upper_ns: f64,
    /// `cpu` (the benchmark thread's CPU time) or `wall`.
    pub clock: String,
    /// Bytes per iteration, for throughput benchmarks.
    pub bytes: Option<u64>,
}

/// One callgrind workload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instructions {
    /// Instructions per unit.
    pub per_unit: f64,
    /// The unit (`handshake pair`, `16 KiB record`).
    pub unit: String,
    /// Instructions per application byte, for bulk workloads.
    pub per_byte: Option<f64>,
}

/// A ratio of a figure to a baseline of the same run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ratio {
    /// What the figure is compared with.
    pub against: String,
    /// The ratio (higher is better for the figure).
    pub value: f64,
    /// The target, if the issue sets one.
    pub target: Option<f64>,
}

impl Ratio {
    /// Whether the target is met (`None` without a target).
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| self.value >= t)
    }
}

/// A headline figure with its ratios.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// Stable identifier, used to compare with the baseline.
    pub id: String,
    /// What it is.
    pub title: String,
    /// The value (higher is better).
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Ratios to the baselines of the same run.
    pub ratios: Vec<Ratio>,
}

/// Everything one run measured: what `results.json` and the baseline hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA`].
    pub schema: String,
    /// The machine (from `scripts/bench-machine.sh`).
    pub machine: serde_json::Value,
    /// Criterion estimates by benchmark id.
    pub measurements: BTreeMap<String, Measurement>,
    /// Instruction counts by workload.
    pub instructions: BTreeMap<String, Instructions>,
    /// `btls-harness bench` results, one per IUT.
    pub iut_bench: Vec<serde_json::Value>,
    /// The headline figures.
    pub figures: Vec<Figure>,
}

/// Where a comparison with the baseline landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse beyond the noise.
    Regression,
    /// Better beyond the noise.
    Improvement,
    /// Within the noise.
    WithinNoise,
}

/// One comparison with the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What was compared (a benchmark id, a workload, a figure's ratio).
    pub id: String,
    /// `time`, `instructions`, `ratio`, `iut`.
    pub kind: &'static str,
    /// The baseline's value, in the unit of the kind.
    pub baseline: f64,
    /// This run's value.
    pub current: f64,
    /// Relative change, positive when better (faster, fewer instructions, higher ratio).
    pub better_by: f64,
    /// The noise threshold that applied.
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Writes `results.json`, `report.md`, `report.html` and `charts/*.svg` into `dir`.
pub fn write(dir: &Path, results: &Results, rendered: &Rendered) -> Result<(), Error> {
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(Error::write(&charts))?;
    let put = |path: PathBuf, text: &str| std::fs::write(&path, text).map_err(Error::write(&path));
    let json =
        serde_json::to_string_pretty(results).map_err(Error::json(dir.join("results.json")))?;
    put(dir.join("results.json"), &(json + "\n"))?;
    put(dir.join("report.md"), &rendered.markdown)?;
    put(dir.join("report.html"), &rendered.html)?;
    for (name, svg) in &rendered.charts {
        put(charts.join(format!("{name}.svg")), svg)?;
    }
    Ok(())
}

/// Reads a saved results file (the baseline).
pub fn read_results(path: &Path) -> Result<Results, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
    serde_json::from_str(&text).map_err(Error::json(path))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests {
    use super::render::fmt_num;
    use super::*;

    fn m(ns: f64, half: f64) -> Measurement {
        Measurement {
            ns,
            lower_ns: ns - half,
            upper_ns: ns + half,
            clock: "cpu".into(),
            bytes: None,
        }
    }

    fn results(pairs: &[(&str, f64)]) -> Results {
        Results {
            schema: SCHEMA.into(),
            machine: serde_json::json!({}),
            measurements: pairs
                .iter()
                .map(|(id, ns)| ((*id).to_owned(), m(*ns, ns * 0.01)))
                .collect(),
            instructions: BTreeMap::new(),
            iut_bench: Vec::new(),
            figures: Vec::new(),
        }
    }

    #[test]
    fn a_slowdown_beyond_noise_is_a_regression_and_a_small_one_is_not() {
        let base = results(&[("a", 100.0), ("b", 100.0), ("c", 100.0)]);
        let cur = results(&[("a", 130.0), ("b", 105.0), ("c", 70.0)]);
        let changes = compare(&cur, &base);
        let v = |id: &str| changes.iter().find(|c| c.id == id).unwrap().verdict;
        assert_eq!(v("a"), Verdict::Regression);
        assert_eq!(v("b"), Verdict::WithinNoise);
        assert_eq!(v("c"), Verdict::Improvement);
    }

    #[test]
    fn overlapping_confidence_intervals_are_noise_whatever_the_change() {
        let mut base = results(&[("a", 100.0)]);
        let cur = results(&[("a", 125.0)]);
        base.measurements.get_mut("a").unwrap().upper_ns = 130.0;
        assert_eq!(compare(&cur, &base)[0].verdict, Verdict::WithinNoise);
    }

    #[test]
    fn figures_carry_the_ratios_and_targets_of_the_issue() {
        let mut r = results(&[
            ("handshake-full/btls/ED25519_X25519", 200.0),
            ("handshake-full/rustls/ED25519_X25519", 300.0),
            ("handshake-full/floor-btls/ED25519_X25519", 100.0),
            ("handshake-resumed/btls/ED25519_X25519", 100.0),
        ]);
        r.compute_figures();
        let full = r
            .figures
            .iter()
            .find(|f| f.id == "full/ED25519_X25519")
            .unwrap();
        assert_eq!(full.ratios[0].value, 1.5);
        assert_eq!(full.ratios[0].met(), Some(true));
        assert_eq!(full.ratios[1].value, 0.5);
        assert_eq!(full.ratios[1].met(), Some(false));
        let resumed = r
            .figures
            .iter()
            .find(|f| f.id == "resumed/ED25519_X25519")
            .unwrap();
        assert_eq!(resumed.ratios[0].value, 2.0);
        let rendered = render(&r, None);
        assert!(rendered.markdown.contains("MISSED"));
        assert!(rendered.html.contains("<svg"));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(fmt_num(5188.4), "5,188");
        assert_eq!(fmt_num(1_234_567.0), "1,234,567");
        assert_eq!(fmt_num(42.25), "42.2");
    }
}
