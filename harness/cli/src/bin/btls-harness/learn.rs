//! `btls-harness learn`: the state machine an IUT really has, learned and compared with the
//! specification's (SPEC.md §12), drawn in an HTML report.

use crate::iut_args::IutArgs;
use crate::model::RoleArg;
use btls::Quirk;
use btls_profile::learn::{self, quirk_roles, report, Options, Run, STATE_QUIRKS};
use harness_core::{Iut, Role};
use std::path::PathBuf;
use std::time::Duration;

/// `btls-harness learn`.
#[derive(Debug, clap::Args)]
pub(crate) struct LearnArgs {
    /// The implementation under test.
    #[command(flatten)]
    pub(crate) iut: IutArgs,
    /// The IUT's role.
    #[arg(long, value_enum, default_value_t = RoleArg::Both)]
    pub(crate) role: RoleArg,
    /// Also learn the reference adapter (`--iut` must be `btls-iut`) with each of its quirks on,
    /// in the roles the quirk applies to, and report which quirks the learned machines expose;
    /// fails unless every quirk that changes a state transition is exposed.
    #[arg(long)]
    pub(crate) quirks: bool,
    /// With --quirks: only these quirks (repeatable).
    #[arg(long, value_name = "NAME")]
    pub(crate) quirk: Vec<String>,
    /// How long the IUT must stay silent after an input before its answer counts as complete
    /// (raise it for a slow IUT; a too short period shows as nondeterminism).
    #[arg(long, default_value_t = 25)]
    pub(crate) quiet_ms: u64,
    /// Queries run at once (each is mostly waiting, so more than the cores).
    #[arg(short = 'j', long, default_value_t = 16)]
    pub(crate) jobs: usize,
    /// Seed of both sides' randomness and of the random walks.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Random walks per equivalence test.
    #[arg(long, default_value_t = 300)]
    pub(crate) walks: usize,
    /// The W-method's depth (inputs between the transition cover and the characterising set).
    #[arg(long, default_value_t = 1)]
    pub(crate) depth: usize,
    /// Where the report goes (report.html, report.md, learn.json, the pictures, reproduce/).
    #[arg(long, default_value = "reports/learn")]
    pub(crate) report_dir: PathBuf,
}

fn print_run(run: &Run, quirk: Option<&str>) {
    let s = &run.learned.stats;
    println!(
        "{}{} as {}: {} states (specification {}), {} queries, {} connections, {} rounds, {:.1} s, {} difference(s)",
        run.iut,
        quirk.map(|q| format!(" --quirk {q}")).unwrap_or_default(),
        run.role.as_str(),
        run.learned.machine.states(),
        run.spec.states(),
        s.queries,
        s.sessions,
        s.rounds,
        s.millis as f64 / 1000.0,
        run.differences.len()
    );
    for d in run.differences.iter().take(5) {
        println!(
            "  after {}: expected {:?}, got {:?} (specification state {})",
            d.inputs.join(", "),
            d.expected,
            d.actual,
            d.spec_state
        );
    }
    if run.differences.len() > 5 {
        println!("  … {} more in the report", run.differences.len() - 5);
    }
}

/// `btls-harness learn`: exit status 0 when every learned machine of the IUT equals the
/// specification's (and, with --quirks, every state-changing quirk is exposed).
pub(crate) fn main(args: LearnArgs) -> anyhow::Result<bool> {
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let roles = match args.role {
        RoleArg::Client => vec![Role::Client],
        RoleArg::Server => vec![Role::Server],
        RoleArg::Both => vec![Role::Client, Role::Server],
    };
    let work_dir = std::env::temp_dir().join(format!("btls-learn-{}", std::process::id()));
    let options = |role| Options {
        role,
        jobs: args.jobs,
        quiet: Duration::from_millis(args.quiet_ms),
        seed: args.seed,
        random_walks: args.walks,
        depth: args.depth,
        work_dir: work_dir.clone(),
        progress: !args.quirks,
    };
    let mut runs: Vec<(Run, Option<String>)> = Vec::new();
    let mut ok = true;
    for &role in &roles {
        let run = learn::run(&iut, &options(role)).map_err(anyhow::Error::msg)?;
        print_run(&run, None);
        ok &= run.differences.is_empty();
        runs.push((run, None));
    }
    if args.quirks {
        let quirks: Vec<Quirk> = if args.quirk.is_empty() {
            Quirk::ALL.to_vec()
        } else {
            args.quirk
                .iter()
                .map(|n| Quirk::from_name(n).ok_or_else(|| anyhow::anyhow!("unknown quirk {n}")))
                .collect::<anyhow::Result<_>>()?
        };
        println!(
            "\n{:<34} {:<12} {:<7} {:>6} {:>6}  exposed",
            "quirk", "requirement", "role", "states", "diffs"
        );
        let mut missed = Vec::new();
        for q in quirks {
            let build = Iut {
                name: iut.name.clone(),
                program: iut.program.clone(),
                prefix_args: [
                    iut.prefix_args.clone(),
                    vec!["--quirk".into(), q.name().into()],
                ]
                .concat(),
            };
            let mut exposed = false;
            for role in quirk_roles(q.description())
                .into_iter()
                .filter(|r| roles.contains(r))
            {
                let run = learn::run(&build, &options(role)).map_err(anyhow::Error::msg)?;
                let shows =
                    !run.differences.is_empty() || run.initial != learn::spec::initial_output(role);
                exposed |= shows;
                println!(
                    "{:<34} {:<12} {:<7} {:>6} {:>6}  {}",
                    q.name(),
                    q.requirement(),
                    role.as_str(),
                    run.learned.machine.states(),
                    run.differences.len(),
                    if shows { "yes" } else { "no" }
                );
                runs.push((run, Some(q.name().to_owned())));
            }
            if !exposed && STATE_QUIRKS.contains(&q.name()) {
                missed.push(q.name());
            }
        }
        if !missed.is_empty() {
            println!("state-changing quirks not exposed: {}", missed.join(", "));
            ok = false;
        }
    }
    let _ = std::fs::remove_dir_all(&work_dir);
    report::write(&args.report_dir, &runs).map_err(anyhow::Error::msg)?;
    println!("report: {}", args.report_dir.join("report.html").display());
    Ok(ok)
}
