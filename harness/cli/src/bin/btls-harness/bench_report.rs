//! `btls-harness bench-report`: the benchmark comparison report.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(crate) struct BenchReportArgs {
    /// Criterion's output folder (default: $CARGO_TARGET_DIR/criterion, else target/criterion).
    #[arg(long, value_name = "DIR")]
    pub(crate) criterion: Option<PathBuf>,
    /// The machine description from scripts/bench-machine.sh.
    #[arg(long, value_name = "FILE")]
    pub(crate) machine: Option<PathBuf>,
    /// Instruction counts from scripts/bench-callgrind.sh.
    #[arg(long, value_name = "FILE")]
    pub(crate) callgrind: Option<PathBuf>,
    /// A `btls-harness bench` result; repeatable (the first is the reference for ratios).
    #[arg(long, value_name = "FILE")]
    pub(crate) iut_bench: Vec<PathBuf>,
    /// The baseline this run is compared with.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "reports/bench/baseline.json"
    )]
    pub(crate) baseline: PathBuf,
    /// Where to write results.json, report.md, report.html and charts/.
    #[arg(long, value_name = "DIR", default_value = "reports/bench/latest")]
    pub(crate) out: PathBuf,
    /// Also save this run as the baseline (after comparing with the old one).
    #[arg(long)]
    pub(crate) save_baseline: bool,
    /// Exit 1 when a measurement regressed beyond the noise or a target is missed.
    #[arg(long)]
    pub(crate) fail_on_regression: bool,
}

/// Runs `btls-harness bench-report`.
pub(crate) fn main(args: BenchReportArgs) -> Result<bool> {
    use btls_profile::bench_report as br;
    let criterion_dir = args.criterion.unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("criterion")
    });
    let measurements = br::read_criterion(&criterion_dir).map_err(anyhow::Error::msg)?;
    if measurements.is_empty() {
        bail!(
            "no criterion results in {}: run `cargo bench -p btls` first",
            criterion_dir.display()
        );
    }
    let read = |path: &Path| -> Result<serde_json::Value> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    };
    let machine = match &args.machine {
        Some(p) => read(p)?,
        None => serde_json::json!({}),
    };
    let instructions = match &args.callgrind {
        Some(p) => br::read_callgrind(p).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    let iut_bench = args
        .iut_bench
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>>>()?;
    let mut results = br::Results {
        schema: br::SCHEMA.to_owned(),
        machine,
        measurements,
        instructions,
        iut_bench,
        figures: Vec::new(),
    };
    results.compute_figures();
    let baseline = if args.baseline.exists() {
        Some(br::read_results(&args.baseline).map_err(anyhow::Error::msg)?)
    } else {
        eprintln!(
            "no baseline at {}: the report compares with nothing",
            args.baseline.display()
        );
        None
    };
    let rendered = br::render(
        &results,
        baseline.as_ref().map(|b| (b, args.baseline.as_path())),
    );
    br::write(&args.out, &results, &rendered).map_err(anyhow::Error::msg)?;
    let regressions = baseline
        .as_ref()
        .map(|b| br::compare(&results, b))
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.verdict == br::Verdict::Regression)
        .collect::<Vec<_>>();
    for f in &results.figures {
        let ratios: Vec<String> = f
            .ratios
            .iter()
            .map(|r| {
                let met = match r.met() {
                    Some(true) => " (target met)",
                    Some(false) => " (TARGET MISSED)",
                    None => "",
                };
                format!("{} {:.2}{met}", r.against, r.value)
            })
            .collect();
        println!("{}: {:.0} {}; {}", f.id, f.value, f.unit, ratios.join(", "));
    }
    for c in &regressions {
        println!(
            "regression: {} ({}) {:+.1}%",
            c.id,
            c.kind,
            c.better_by * 100.0
        );
    }
    println!(
        "report in {}/report.html ({} regression(s) beyond noise)",
        args.out.display(),
        regressions.len()
    );
    if args.save_baseline {
        if let Some(dir) = args.baseline.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(
            &args.baseline,
            serde_json::to_string_pretty(&results)? + "\n",
        )
        .with_context(|| format!("writing {}", args.baseline.display()))?;
        println!("saved the baseline {}", args.baseline.display());
    }
    let missed = results
        .figures
        .iter()
        .any(|f| f.ratios.iter().any(|r| r.met() == Some(false)));
    Ok(!args.fail_on_regression || (regressions.is_empty() && !missed))
}
