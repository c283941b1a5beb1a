//! `btls-harness replay`: a capture read, turned into a scenario, or played against an IUT.

use anyhow::{bail, Context, Result};
use btls_profile::engine::RunOptions;
use btls_profile::keylog::KeyLog;
use btls_profile::scenario::load_dir;
use clap::Args;
use harness_core::Iut;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct ReplayArgs {
    /// The capture file.
    pub(crate) capture: PathBuf,
    /// A key log to open protected frames with (default: the capture's name with `.keys`, when
    /// that file exists).
    #[arg(long, value_name = "FILE")]
    pub(crate) keylog: Option<PathBuf>,
    /// Play the harness's side of the capture against this IUT adapter and report the first
    /// frame where its answers diverge from the recording.
    #[arg(long, value_name = "PROGRAM")]
    pub(crate) against: Option<PathBuf>,
    /// An argument put before the contract's flags (with --against); repeatable.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) iut_arg: Vec<String>,
    /// Write a scenario file that replays the capture (send the recorded bytes, expect the
    /// recorded answers).
    #[arg(long, value_name = "FILE")]
    pub(crate) to_scenario: Option<PathBuf>,
    /// The case whose IUT configuration and outcome to use (default: the case a harness
    /// capture names in its comment).
    #[arg(long, value_name = "ID")]
    pub(crate) case: Option<String>,
    /// The role the IUT plays (default: the case's).
    #[arg(long, value_parser = ["client", "server"])]
    pub(crate) iut_role: Option<String>,
    /// The scenarios folder (to find --case).
    #[arg(long, default_value = "scenarios")]
    pub(crate) scenarios: PathBuf,
    /// Print only the counts (streams, frames, problems) and the time taken, not the transcript.
    #[arg(long)]
    pub(crate) stats: bool,
    /// Seed given to the IUT (default: the seed a harness capture names, else 1).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

/// Runs `btls-harness replay`.
pub(crate) fn main(args: &ReplayArgs) -> Result<bool> {
    let name = args.capture.display().to_string();
    if args.against.is_none() && args.to_scenario.is_none() {
        return transcript(args, &name);
    }
    let data = std::fs::read(&args.capture).with_context(|| format!("cannot read {name}"))?;
    let comment = harness_capture::read::read_capture(&data, &name)?
        .comment
        .unwrap_or_default();
    let case_id = args
        .case
        .clone()
        .or_else(|| btls_profile::replay::case_of(&comment).map(str::to_owned));
    let cases = match &case_id {
        Some(_) => load_dir(&args.scenarios).map_err(|errs| {
            anyhow::anyhow!(errs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"))
        })?,
        None => Vec::new(),
    };
    let base = match &case_id {
        Some(id) => Some(
            cases
                .iter()
                .find(|c| &c.id == id)
                .with_context(|| format!("no case {id} in {}", args.scenarios.display()))?,
        ),
        None => None,
    };
    let options = btls_profile::replay::ScenarioOptions {
        base,
        iut_role: args.iut_role.as_deref().map(|r| {
            if r == "client" {
                harness_core::Role::Client
            } else {
                harness_core::Role::Server
            }
        }),
        title: format!("Replay of {name}"),
    };
    if let Some(out) = &args.to_scenario {
        let text = btls_profile::replay::to_scenario(&data, &name, &options)
            .map_err(anyhow::Error::msg)?;
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    let Some(program) = &args.against else {
        return Ok(true);
    };
    if !program.exists() {
        bail!("the IUT adapter {} does not exist", program.display());
    }
    let seed = args.seed.or_else(|| {
        comment
            .split("seed ")
            .nth(1)
            .and_then(|s| s.trim_end_matches(')').parse().ok())
    });
    let work = std::env::temp_dir().join(format!("btls-replay-{}", std::process::id()));
    let run = RunOptions::new(seed.unwrap_or(1), work.clone());
    let iut = Iut {
        name: "iut".into(),
        program: program.clone(),
        prefix_args: args.iut_arg.clone(),
    };
    let result = btls_profile::replay::against(&data, &name, &options, &iut, &run);
    let _ = std::fs::remove_dir_all(&work);
    let result = result.map_err(anyhow::Error::msg)?;
    print!("{}", result.transcript);
    if !result.stderr.is_empty() {
        eprintln!("IUT stderr:\n{}", result.stderr);
    }
    Ok(matches!(
        result.verdict,
        harness_core::Verdict::Pass | harness_core::Verdict::PassLenient(_)
    ))
}

pub(crate) fn transcript(args: &ReplayArgs, name: &str) -> Result<bool> {
    let keylog_path = args
        .keylog
        .clone()
        .or_else(|| Some(args.capture.with_extension("keys")).filter(|p| p.exists()));
    let keys = match &keylog_path {
        Some(p) => Some(KeyLog::load(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let started = std::time::Instant::now();
    let file = std::fs::File::open(&args.capture).with_context(|| format!("cannot read {name}"))?;
    let out = btls_profile::replay::transcript_from(file, name, keys.as_ref(), !args.stats)?;
    let took = started.elapsed();
    if !args.stats {
        print!("{}", out.text);
    }
    eprintln!(
        "{} stream(s), {} frame(s), {} problem(s) in {:.3} s{}",
        out.streams,
        out.frames,
        out.problems,
        took.as_secs_f64(),
        if out.truncated.is_some() {
            "; the capture is truncated"
        } else {
            ""
        }
    );
    Ok(out.problems == 0 && out.truncated.is_none())
}
