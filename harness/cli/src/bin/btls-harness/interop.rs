//! `btls-harness interop`: every client implementation against every server one.

use crate::iut_args::CaptureFormat;
use anyhow::{bail, Context, Result};
use clap::Args;
use harness_core::Iut;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Args)]
pub(crate) struct InteropArgs {
    /// An implementation: NAME=PROGRAM[,ARG...] (ARGs go before the contract's flags), or just
    /// `reference` (the btls-iut next to this program) or `python` (interop/python/btls-iut-py,
    /// from the repository root);
    /// repeatable, in row/column order. Default: reference and python.
    #[arg(long = "impl", value_name = "NAME=PROGRAM[,ARG...]")]
    pub(crate) implementations: Vec<String>,
    /// The folder of interop case files.
    #[arg(long, value_name = "DIR", default_value = "scenarios/interop")]
    pub(crate) cases: PathBuf,
    /// Only cases whose id contains this text or whose code is this text (`R`, `bulk`);
    /// repeatable (any matches).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Vec<String>,
    /// Where to write results.json, report.md, report.html, junit.xml and cells/.
    #[arg(long, value_name = "DIR", default_value = "reports/interop-latest")]
    pub(crate) out: PathBuf,
    /// Base seed; each party's seed is derived from it, the case and the role.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Cells run at once.
    #[arg(long, short = 'j', default_value_t = 2)]
    pub(crate) jobs: usize,
    /// A cell's time limit in seconds (a case's `timeout_ms` overrides it).
    #[arg(long, default_value_t = 30)]
    pub(crate) timeout_secs: u64,
    /// The format of the cell captures.
    #[arg(long, value_enum, default_value_t = CaptureFormat::Pcapng)]
    pub(crate) capture_format: CaptureFormat,
    /// List the cases the filters select and exit.
    #[arg(long)]
    pub(crate) list: bool,
    /// Print nothing per cell.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// The implementation a `--impl` value names.
pub(crate) fn implementation(spec: &str) -> Result<Iut> {
    let (name, rest) = match spec.split_once('=') {
        Some((name, rest)) => (name, Some(rest)),
        None => (spec, None),
    };
    if name.is_empty() || name.contains(['/', '\\', ' ']) {
        bail!("--impl {spec}: the name must be non-empty, without '/', '\\' or spaces");
    }
    let (program, args) = match rest {
        Some(rest) => {
            let mut parts = rest.split(',').map(str::to_owned);
            let program = parts.next().unwrap_or_default();
            if program.is_empty() {
                bail!("--impl {spec}: no program after '='");
            }
            (PathBuf::from(program), parts.collect())
        }
        None => match name {
            "reference" => (
                std::env::current_exe()
                    .context("locating btls-harness")?
                    .with_file_name("btls-iut"),
                Vec::new(),
            ),
            "python" => (PathBuf::from("interop/python/btls-iut-py"), Vec::new()),
            _ => bail!("--impl {spec}: give NAME=PROGRAM (only `reference` and `python` have a default program)"),
        },
    };
    Ok(Iut {
        name: name.to_owned(),
        program,
        prefix_args: args,
    })
}

/// Runs `btls-harness interop`.
pub(crate) fn main(args: &InteropArgs) -> Result<bool> {
    use btls_profile::interop::{self, case::load_cases, cell::CellOptions};
    let specs = if args.implementations.is_empty() {
        vec!["reference".to_owned(), "python".to_owned()]
    } else {
        args.implementations.clone()
    };
    let implementations = specs
        .iter()
        .map(|s| implementation(s))
        .collect::<Result<Vec<_>>>()?;
    for (i, a) in implementations.iter().enumerate() {
        if implementations.iter().skip(i + 1).any(|b| b.name == a.name) {
            bail!("--impl: the name {} is given twice", a.name);
        }
    }
    let cases: Vec<_> = load_cases(&args.cases)
        .map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("interop cases:\n{}", lines.join("\n"))
        })?
        .into_iter()
        .filter(|c| {
            args.filter.is_empty()
                || args
                    .filter
                    .iter()
                    .any(|f| c.id.contains(f.as_str()) || c.code == *f)
        })
        .collect();
    if cases.is_empty() {
        bail!("the filters select no interop case");
    }
    if args.list {
        for c in &cases {
            println!("{:<4} {}  {}", c.code, c.id, c.title);
        }
        return Ok(true);
    }
    let work_dir = args.out.join("work");
    let options = CellOptions {
        seed: args.seed,
        timeout: std::time::Duration::from_secs(args.timeout_secs),
        work_dir: work_dir.clone(),
    };
    let n = implementations.len();
    eprintln!(
        "interop: {n} implementation(s) ({}), {} case(s), {} cell(s), {} job(s)",
        implementations
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        cases.len(),
        n * n * cases.len(),
        args.jobs
    );
    let progress: Mutex<std::io::Stderr> = Mutex::new(std::io::stderr());
    let matrix = interop::run_matrix(
        &implementations,
        &cases,
        &options,
        args.jobs,
        (!args.quiet).then_some(&progress as &Mutex<dyn std::io::Write + Send>),
    );
    let _ = std::fs::remove_dir_all(&work_dir);
    interop::report::write_all(&matrix, args.capture_format.into(), &args.out)
        .with_context(|| format!("writing reports to {}", args.out.display()))?;
    use btls_profile::interop::cell::CellStatus;
    let failed: Vec<_> = matrix
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Failed)
        .collect();
    if !failed.is_empty() {
        eprintln!("\nfailures:");
    }
    for cell in failed {
        eprintln!(
            "  FAIL {} × {}: {}\n      {}\n      transcript: {}",
            cell.client.implementation,
            cell.server.implementation,
            cell.case,
            cell.reason.as_deref().unwrap_or("no reason recorded"),
            args.out
                .join(interop::report::transcript_file(cell))
                .display()
        );
    }
    eprintln!(
        "{} cells in {:.1} s: {} succeeded, {} failed, {} unsupported; report: {}",
        matrix.cells.len(),
        matrix.duration.as_secs_f64(),
        matrix.count(CellStatus::Succeeded),
        matrix.count(CellStatus::Failed),
        matrix.count(CellStatus::Unsupported),
        args.out.join("report.html").display()
    );
    Ok(!matrix.failed())
}
