//! `btls-harness coverage`: every requirement of the specification has a scenario, or a reason.

use anyhow::{Context, Result};
use btls_profile::scenario::{load_dir, Scenario};
use btls_profile::BtlsProfile;
use clap::Args;
use harness_core::coverage::Coverage;
use harness_core::profile::Profile;
use std::path::{Path, PathBuf};

/// The coverage of `spec` by the scenarios in `scenarios_dir`.
pub(crate) fn load(spec: &Path, scenarios_dir: &Path) -> Result<Coverage> {
    let text =
        std::fs::read_to_string(spec).with_context(|| format!("reading {}", spec.display()))?;
    let all = load_dir(scenarios_dir)
        .map_err(|e| anyhow::anyhow!("{} malformed scenario file(s)", e.len()))?;
    let cases: Vec<_> = all.iter().map(Scenario::info).collect();
    Coverage::compute(
        &text,
        BtlsProfile.requirement_prefix(),
        &cases,
        &scenarios_dir.join("untestable.toml"),
    )
    .map_err(anyhow::Error::msg)
}

/// `btls-harness coverage`.
#[derive(Args)]
pub(crate) struct CoverageArgs {
    /// The specification.
    #[arg(long, default_value = "reference-impl/SPEC.md")]
    spec: PathBuf,
    /// The scenarios folder.
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
}

/// Prints the coverage; `Ok(false)` when a requirement has no scenario and no reason.
pub(crate) fn main(args: &CoverageArgs) -> Result<bool> {
    let c = load(&args.spec, &args.scenarios)?;
    println!(
        "{} of {} requirements covered by scenarios, {} untestable",
        c.covered_count(),
        c.defined.len(),
        c.untestable.len()
    );
    let (wanted, checked) = c.role_counts();
    println!("{checked} of {wanted} (requirement, role) pairs checked by a case in that role");
    for problem in c.problems() {
        println!("gap: {problem}");
    }
    Ok(c.is_complete())
}
