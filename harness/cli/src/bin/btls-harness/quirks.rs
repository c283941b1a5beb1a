//! `btls-harness quirks`: the suite's self-test against deliberately buggy builds.

use btls::Quirk;
use btls_profile::quirks::{run, write, CaseSelection, Options};
use btls_profile::scenario::load_dir;
use std::path::PathBuf;

/// `btls-harness quirks`: the command line.
#[derive(Debug, clap::Args)]
pub(crate) struct QuirksArgs {
    /// The reference adapter (default: btls-iut beside this program).
    #[arg(long, value_name = "PROGRAM")]
    pub(crate) adapter: Option<PathBuf>,
    /// Only this quirk; repeatable (default: every quirk).
    #[arg(long = "quirk", value_name = "NAME")]
    pub(crate) quirks: Vec<String>,
    /// Against each quirk run only the cases that cite the requirement it breaks.
    #[arg(long)]
    pub(crate) relevant_only: bool,
    /// The scenarios folder.
    #[arg(long, default_value = "scenarios")]
    pub(crate) scenarios: PathBuf,
    /// Only cases whose id contains this text; repeatable (any matches).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Vec<String>,
    /// Cases run at once.
    #[arg(long, short = 'j', default_value_t = default_jobs())]
    pub(crate) jobs: usize,
    /// Seed of both sides' randomness.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where to write quirks.json and quirks.md.
    #[arg(long, value_name = "DIR", default_value = "reports/quirks")]
    pub(crate) report_dir: PathBuf,
    /// Print the quirks and the requirement each breaks, and exit.
    #[arg(long)]
    pub(crate) list: bool,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 4)
}

/// Runs `btls-harness quirks`; `Ok(true)` when every quirk was caught.
pub(crate) fn main(args: QuirksArgs) -> anyhow::Result<bool> {
    use anyhow::Context;
    if args.list {
        for q in Quirk::ALL {
            println!(
                "{:<36} {:<11} {}",
                q.name(),
                q.requirement(),
                q.description()
            );
        }
        return Ok(true);
    }
    let adapter = match args.adapter {
        Some(a) => a,
        None => std::env::current_exe()
            .context("locating btls-iut")?
            .with_file_name(format!("btls-iut{}", std::env::consts::EXE_SUFFIX)),
    };
    if !adapter.exists() {
        anyhow::bail!(
            "the reference adapter {} does not exist (cargo build --bin btls-iut)",
            adapter.display()
        );
    }
    let quirks = if args.quirks.is_empty() {
        Quirk::ALL.to_vec()
    } else {
        args.quirks
            .iter()
            .map(|n| Quirk::from_name(n).with_context(|| format!("unknown quirk {n}")))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let scenarios = load_dir(&args.scenarios)
        .map_err(|errs| {
            anyhow::anyhow!(errs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"))
        })?
        .into_iter()
        .filter(|s| args.filter.is_empty() || args.filter.iter().any(|f| s.id.contains(f.as_str())))
        .collect::<Vec<_>>();
    if scenarios.is_empty() {
        anyhow::bail!("the filters select no case");
    }
    let work_dir = std::env::temp_dir().join(format!("btls-quirks-{}", std::process::id()));
    let options = Options {
        adapter,
        quirks,
        scenarios,
        selection: if args.relevant_only {
            CaseSelection::Relevant
        } else {
            CaseSelection::All
        },
        jobs: args.jobs,
        seed: args.seed,
        work_dir: work_dir.clone(),
    };
    eprintln!(
        "running {} case(s) against the clean reference and {} quirk build(s) with {} job(s)",
        options.scenarios.len(),
        options.quirks.len(),
        options.jobs
    );
    let test = run(&options, &mut |q| {
        eprintln!("{:<36} {:<11} {}", q.name, q.requirement, {
            let per_role: Vec<String> = q
                .roles
                .iter()
                .map(|r| {
                    let n = q.caught_in(r).len();
                    let mark = match n {
                        0 => " NOT CAUGHT",
                        1 => " (weak)",
                        _ => "",
                    };
                    format!("{r} {n}{mark}")
                })
                .collect();
            format!(
                "caught by {} of {} case(s): {}",
                q.caught_by.len(),
                q.cases_run,
                per_role.join(", ")
            )
        });
    });
    let _ = std::fs::remove_dir_all(&work_dir);
    write(&test, &args.report_dir)
        .with_context(|| format!("writing reports to {}", args.report_dir.display()))?;
    for case in &test.baseline_failures {
        eprintln!("the clean reference fails {case}");
    }
    println!(
        "{} of {} quirks caught in every role they change, {} weak (one case in a role) — {:.1} s; reports in {}",
        test.quirks.len() - test.uncaught().len(),
        test.quirks.len(),
        test.weak().len(),
        test.seconds,
        args.report_dir.display()
    );
    Ok(test.passed())
}
