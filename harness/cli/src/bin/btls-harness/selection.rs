//! The case selection shared by `run`, `list` and `coverage`: filters, requirements, role, shard.

use anyhow::{bail, Context, Result};
use btls_profile::scenario::{load_dir, Scenario};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct Selection {
    /// The scenarios folder.
    #[arg(long, default_value = "scenarios")]
    pub(crate) scenarios: PathBuf,
    /// Only cases whose id contains this text; repeatable (any matches).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Vec<String>,
    /// Only cases that check this requirement ID; repeatable.
    #[arg(long, value_name = "BT-…")]
    pub(crate) requirement: Vec<String>,
    /// Only cases where the IUT plays this role.
    #[arg(long, value_parser = ["client", "server"])]
    pub(crate) role: Option<String>,
    /// Run only shard K of N (for example 2/4), so several CI runners can split the suite.
    #[arg(long, value_name = "K/N")]
    pub(crate) partition: Option<String>,
}

pub(crate) fn parse_partition(p: &str) -> Result<(usize, usize)> {
    let (k, n) = p
        .split_once('/')
        .context("--partition takes K/N, for example 2/4")?;
    let (k, n): (usize, usize) = (
        k.parse().context("--partition: K")?,
        n.parse().context("--partition: N")?,
    );
    if n == 0 || k == 0 || k > n {
        bail!("--partition {p}: K must be in 1..=N");
    }
    Ok((k, n))
}

pub(crate) fn select(sel: &Selection) -> Result<Vec<Scenario>> {
    let scenarios = load_dir(&sel.scenarios).map_err(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{} scenario file(s) are malformed:\n{}",
            errors.len(),
            text.join("\n")
        )
    })?;
    let partition = sel.partition.as_deref().map(parse_partition).transpose()?;
    Ok(scenarios
        .into_iter()
        .filter(|s| sel.filter.is_empty() || sel.filter.iter().any(|f| s.id.contains(f.as_str())))
        .filter(|s| {
            sel.requirement.is_empty() || sel.requirement.iter().any(|r| s.requirements.contains(r))
        })
        .filter(|s| sel.role.as_deref().is_none_or(|r| r == s.iut_role.as_str()))
        .enumerate()
        .filter(|(i, _)| partition.is_none_or(|(k, n)| i % n == k - 1))
        .map(|(_, s)| s)
        .collect())
}

/// `btls-harness list`: the selected cases, one a line.
pub(crate) fn list(sel: &Selection) -> Result<bool> {
    for s in &select(sel)? {
        println!("{}  [{}]  {}", s.id, s.requirements.join(" "), s.title);
    }
    Ok(true)
}
