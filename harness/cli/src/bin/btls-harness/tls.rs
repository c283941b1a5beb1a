//! `btls-harness tls`: the TLS profile's scenario files against a real TLS stack.

use harness_core::Iut;
use std::path::PathBuf;
use std::process::Command;
use tls_profile::suite::{self, SuiteArgs};

/// `btls-harness tls`.
#[derive(Debug, clap::Args)]
pub(crate) struct TlsArgs {
    /// The stack to test: the name of an adapter in harness/tls/adapters (`openssl`), or the
    /// path of any program that follows the TLS adapter contract (harness/TLS.md).
    #[arg(long, default_value = "openssl")]
    pub(crate) stack: String,
    /// Its name in case names and reports (default: the stack's).
    #[arg(long)]
    pub(crate) iut_name: Option<String>,
    /// The scenario files.
    #[arg(long, default_value = "scenarios/tls")]
    pub(crate) scenarios: PathBuf,
    /// The stack's known deviations (`[[deviation]] case = …, reason = …`); default
    /// harness/tls/expectations/STACK.toml when the stack is one of ours and the file exists.
    #[arg(long, value_name = "FILE")]
    pub(crate) expectations: Option<PathBuf>,
    /// Only cases whose id contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Vec<String>,
    /// Cases run at once.
    #[arg(short = 'j', long, default_value_t = 4)]
    pub(crate) jobs: usize,
    /// Seed of the harness's randomness.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where the reports go (default: reports/tls/STACK).
    #[arg(long)]
    pub(crate) report_dir: Option<PathBuf>,
    /// No line per case.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Run in a private network namespace whose one interface is loopback (`unshare -n`, as
    /// root): for servers that bind every interface. The default for gnutls and nss.
    #[arg(long)]
    pub(crate) netns: bool,
}

/// Stacks whose servers bind every interface and take a fixed port.
const NEEDS_NETNS: [&str; 2] = ["gnutls", "nss"];

/// Set inside the namespace, so that the run does not start another one.
const IN_NETNS: &str = "BTLS_HARNESS_NETNS";

/// Runs this same command again inside a new network namespace with loopback up, and exits
/// with its status.
fn rerun_in_netns() -> anyhow::Result<bool> {
    let exe = std::env::current_exe()?;
    let status = Command::new("unshare")
        .args([
            "-n",
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(IN_NETNS, "1")
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start a private network namespace (unshare from util-linux, as root): {e}"
            )
        })?;
    std::process::exit(status.code().unwrap_or(2));
}

pub(crate) fn main(args: TlsArgs) -> anyhow::Result<bool> {
    if (args.netns || NEEDS_NETNS.contains(&args.stack.as_str()))
        && std::env::var_os(IN_NETNS).is_none()
    {
        return rerun_in_netns();
    }
    let adapter = PathBuf::from("harness/tls/adapters").join(&args.stack);
    let (program, name) = if adapter.is_file() {
        (adapter, args.stack.clone())
    } else {
        let p = PathBuf::from(&args.stack);
        let name = p
            .file_name()
            .map_or_else(|| args.stack.clone(), |n| n.to_string_lossy().into_owned());
        (p, name)
    };
    let name = args.iut_name.unwrap_or(name);
    let report_dir = args
        .report_dir
        .unwrap_or_else(|| PathBuf::from("reports/tls").join(&name));
    let expectations = args.expectations.or_else(|| {
        let p = PathBuf::from("harness/tls/expectations").join(format!("{}.toml", args.stack));
        p.is_file().then_some(p)
    });
    let work_dir = std::env::temp_dir().join(format!("btls-tls-cases-{}", std::process::id()));
    let result = suite::run(&SuiteArgs {
        iut: Iut {
            name: name.clone(),
            program,
            prefix_args: Vec::new(),
        },
        scenarios: args.scenarios,
        expectations,
        filter: args.filter,
        jobs: args.jobs,
        seed: args.seed,
        work_dir: work_dir.clone(),
        cert_script: PathBuf::from("scripts/tls-certs.sh"),
        report_dir: Some(report_dir.clone()),
        progress: !args.quiet,
    });
    let _ = std::fs::remove_dir_all(&work_dir);
    let report = result.map_err(anyhow::Error::msg)?;
    use harness_core::runner::Status;
    println!(
        "{name}: {} passed, {} failed, {} expected failures, {} unexpected passes, {} unsupported ({} cases, {:.1} s); reports in {}",
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::ExpectedFail),
        report.count(Status::UnexpectedPass),
        report.count(Status::Unsupported),
        report.cases.len(),
        report.duration.as_secs_f64(),
        report_dir.display()
    );
    Ok(!report.failed())
}
