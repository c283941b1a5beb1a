//! `btls-harness generate`: generated negative cases against an IUT.

use crate::iut_args::IutArgs;
use btls_profile::engine::RunOptions;
use btls_profile::generate::{execute, plan, write_report, Class, Config};
use harness_core::Role;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `--class NAME`: one of the generated classes.
fn parse_class(name: &str) -> Result<Class, String> {
    Class::ALL
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
            format!("unknown class {name} (classes: {})", names.join(", "))
        })
}

/// `btls-harness generate`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GenerateArgs {
    /// The implementation under test.
    #[command(flatten)]
    pub(crate) iut: IutArgs,
    /// A class to generate; repeatable (default: every class).
    #[arg(long = "class", value_parser = parse_class)]
    pub(crate) classes: Vec<Class>,
    /// Only this role of the IUT (default: both).
    #[arg(long, value_parser = ["client", "server"])]
    pub(crate) role: Option<String>,
    /// At most this many cases per class: a seeded sample of the inputs, taken before the
    /// inputs the reference accepts are dropped (default: all).
    #[arg(long)]
    pub(crate) budget: Option<usize>,
    /// Seed of the random mutations, the samples and both sides' randomness.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Random mutations per received frame (class bitflips).
    #[arg(long, default_value_t = 16)]
    pub(crate) random: usize,
    /// Cases run at once.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub(crate) jobs: usize,
    /// Print each case's id and expected answer instead of running them.
    #[arg(long)]
    pub(crate) list: bool,
    /// Where to write generated.md, generated.json and failures/.
    #[arg(long, value_name = "DIR", default_value = "reports/generated/latest")]
    pub(crate) report_dir: PathBuf,
}

/// Runs `btls-harness generate`; `Ok(true)` when every case passed.
pub(crate) fn main(args: GenerateArgs) -> anyhow::Result<bool> {
    let classes = if args.classes.is_empty() {
        Class::ALL.to_vec()
    } else {
        args.classes.clone()
    };
    let roles = match args.role.as_deref() {
        Some("client") => vec![Role::Client],
        Some("server") => vec![Role::Server],
        _ => vec![Role::Server, Role::Client],
    };
    let work_dir = args.report_dir.join("work");
    let config = Config {
        classes,
        roles,
        budget: args.budget,
        seed: args.seed,
        random: args.random,
        work_dir: work_dir.clone(),
    };
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let plans = plan(&config).map_err(anyhow::Error::msg)?;
    let total: usize = plans.iter().map(|p| p.cases.len()).sum();
    if args.list {
        let mut out = std::io::stdout().lock();
        for case in plans.iter().flat_map(|p| &p.cases) {
            writeln!(out, "{}  {}", case.scenario.id, case.expected)?;
        }
        let _ = std::fs::remove_dir_all(&work_dir);
        return Ok(true);
    }
    eprintln!(
        "generated {total} cases in {} ms",
        started.elapsed().as_millis()
    );
    let mut options = RunOptions::new(args.seed, work_dir.clone());
    options.exit_timeout = Duration::from_secs(5);
    let mut report = execute(&plans, &iut, &options, args.jobs, &config);
    report.seconds = started.elapsed().as_secs_f64();
    write_report(&mut report, &args.report_dir)?;
    let _ = std::fs::remove_dir_all(&work_dir);
    let mut out = std::io::stderr();
    for (class, roles) in &report.classes {
        for (role, c) in roles {
            let cells: Vec<String> = c
                .columns()
                .into_iter()
                .map(|(label, _, value)| format!("{label} {value:>5}"))
                .collect();
            let _ = writeln!(out, "{:<10} {role:<6} {}", class.name(), cells.join("  "));
        }
    }
    let _ = writeln!(
        out,
        "{} finding(s); report in {} ({:.1} s)",
        report.findings.len(),
        args.report_dir.display(),
        report.seconds
    );
    Ok(!report.failed())
}
