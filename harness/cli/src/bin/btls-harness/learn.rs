//! `btls-harness learn`: the state machine an IUT really has, learned and compared with the
//! specification's (SPEC.md §12), drawn in an HTML report.

use crate::iut_args::IutArgs;
use crate::model::RoleArg;
use btls_profile::learn::{self, Options};
use harness_core::Role;
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
    /// How long the IUT must stay silent after an input before its answer counts as complete
    /// (raise it for a slow IUT; a too short period shows as nondeterminism).
    #[arg(long, default_value_t = 40)]
    pub(crate) quiet_ms: u64,
    /// Queries run at once (each is mostly waiting, so more than the cores).
    #[arg(short = 'j', long, default_value_t = 8)]
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
    /// Where the report goes.
    #[arg(long, default_value = "reports/learn")]
    pub(crate) report_dir: PathBuf,
}

/// `btls-harness learn`: exit status 0 when every learned machine equals the specification's.
pub(crate) fn main(args: LearnArgs) -> anyhow::Result<bool> {
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let roles = match args.role {
        RoleArg::Client => vec![Role::Client],
        RoleArg::Server => vec![Role::Server],
        RoleArg::Both => vec![Role::Client, Role::Server],
    };
    let work_dir = std::env::temp_dir().join(format!("btls-learn-{}", std::process::id()));
    let mut all_equal = true;
    for role in roles {
        let options = Options {
            role,
            jobs: args.jobs,
            quiet: Duration::from_millis(args.quiet_ms),
            seed: args.seed,
            random_walks: args.walks,
            depth: args.depth,
            work_dir: work_dir.clone(),
            progress: true,
        };
        let run = learn::run(&iut, &options).map_err(anyhow::Error::msg)?;
        let s = &run.learned.stats;
        println!(
            "{} as {}: {} states (specification {}), {} queries, {} connections, {} rounds, {:.1} s, {} difference(s)",
            run.iut,
            role.as_str(),
            run.learned.machine.states(),
            run.spec.states(),
            s.queries,
            s.sessions,
            s.rounds,
            s.millis as f64 / 1000.0,
            run.differences.len()
        );
        for d in &run.differences {
            println!(
                "  after {}: expected {:?}, got {:?} (specification state {})",
                d.inputs.join(", "),
                d.expected,
                d.actual,
                d.spec_state
            );
        }
        all_equal &= run.differences.is_empty();
    }
    let _ = std::fs::remove_dir_all(&work_dir);
    Ok(all_equal)
}
