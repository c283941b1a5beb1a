//! `btls-harness model`: the handshake model's property against an IUT.

use crate::iut_args::IutArgs;
use btls_profile::model::check::run_property;
use btls_profile::model::{generate, Path};
use harness_core::Role;
use std::path::PathBuf;
use std::time::Instant;

/// `btls-harness model`: the model's property against an IUT.
#[derive(Debug, clap::Args)]
pub(crate) struct ModelArgs {
    /// The implementation under test.
    #[command(flatten)]
    pub(crate) iut: IutArgs,
    /// How many configurations to generate.
    #[arg(long, default_value_t = 300)]
    pub(crate) cases: usize,
    /// Seed of the generator (and of the runs).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// The IUT's role.
    #[arg(long, value_enum, default_value_t = RoleArg::Both)]
    pub(crate) role: RoleArg,
    /// Cases run at once.
    #[arg(short = 'j', long, default_value_t = 2)]
    pub(crate) jobs: usize,
    /// Where mismatching cases' scenario files and transcripts go.
    #[arg(long, default_value = "reports/model")]
    pub(crate) report_dir: PathBuf,
}

/// The roles to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleArg {
    /// The IUT is the client.
    Client,
    /// The IUT is the server.
    Server,
    /// Each configuration in both roles.
    Both,
}

/// `btls-harness model`: exit status 0 when every case matches the model and every path was
/// reached.
pub(crate) fn main(args: ModelArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let roles = match args.role {
        RoleArg::Client => vec![Role::Client],
        RoleArg::Server => vec![Role::Server],
        RoleArg::Both => vec![Role::Client, Role::Server],
    };
    let configs = generate::sample(args.seed, args.cases).map_err(anyhow::Error::msg)?;
    let work_dir = std::env::temp_dir().join(format!("btls-model-{}", std::process::id()));
    let summary = run_property(&configs, &roles, &iut, args.seed, args.jobs, &work_dir);
    let _ = std::fs::remove_dir_all(&work_dir);
    println!(
        "{} cases ({} configurations × {} role(s)), seed {}, {:.1} s",
        summary.cases,
        configs.len(),
        roles.len(),
        args.seed,
        started.elapsed().as_secs_f64()
    );
    println!("{:>8} {:>8}  path (connections)", "client", "server");
    for p in Path::all() {
        let [c, s] = summary.paths.get(&p).copied().unwrap_or_default();
        println!("{c:>8} {s:>8}  {p}");
    }
    if summary.unsupported > 0 {
        println!("{} case(s) unsupported by the IUT", summary.unsupported);
    }
    if !summary.failures.is_empty() {
        std::fs::create_dir_all(&args.report_dir)?;
    }
    for (n, case) in summary.failures.iter().enumerate() {
        let base = args.report_dir.join(format!("mismatch-{n}"));
        std::fs::write(base.with_extension("toml"), &case.scenario_file)?;
        std::fs::write(base.with_extension("txt"), &case.transcript)?;
        println!(
            "MISMATCH ({}):\n{}",
            base.with_extension("toml").display(),
            case.result.as_ref().err().map_or("", String::as_str)
        );
    }
    let unreached = summary.unreached();
    for p in &unreached {
        println!("UNREACHED: {p} (raise --cases or change --seed)");
    }
    println!(
        "{} mismatch(es), {} path(s) unreached",
        summary.failures.len(),
        unreached.len()
    );
    Ok(summary.failures.is_empty() && unreached.is_empty())
}
