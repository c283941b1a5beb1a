//! `btls-harness`: runs the bTLS conformance suite against any implementation through its adapter
//! (`harness/IUT-ADAPTER.md`) and writes reports.

use anyhow::{bail, Context, Result};
use btls_harness::capture::{self, Format, KeyLog};
use btls_harness::coverage::Coverage;
use btls_harness::engine::RunOptions;
use btls_harness::expectations::Expectations;
use btls_harness::iut::{Iut, IutArgs};
use btls_harness::report;
use btls_harness::runner::{run_suite, Status};
use btls_harness::scenario::{load_dir, Scenario};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// The bTLS 1.0 conformance harness.
///
/// Runs scripted scenarios against an implementation under test (IUT), started as a separate
/// process through its adapter, and reports every deviation from the specification with the
/// scenario, step and requirement behind it.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite against an IUT and write reports.
    Run(RunArgs),
    /// List the cases the filters select.
    List(Selection),
    /// Test vectors: regenerate them from the reference, or verify the reference against them.
    Vectors {
        #[command(subcommand)]
        action: VectorsAction,
    },
    /// Read a capture (pcap or pcapng; ours or tcpdump's): reassemble every TCP stream, decode
    /// every bTLS frame and print the transcript; or play one side of it against an IUT.
    Replay(ReplayArgs),
    /// Benchmark an IUT over the adapter contract: full and resumed handshakes per second with N
    /// adapter processes at once, and bulk throughput both ways; writes JSON for bench-report.
    Bench(BenchArgs),
    /// Write the benchmark comparison report: criterion's estimates, instruction counts, the
    /// machine and IUT bench results, with ratios to rustls, the crypto floor and openssl, and
    /// this run against a saved baseline.
    BenchReport(BenchReportArgs),
    /// The suite's self-test: run it against the reference adapter with each deliberate bug
    /// (quirk) on, report which cases caught each, and fail unless every quirk is caught.
    Quirks(btls_harness::quirks::QuirksArgs),
    /// The handshake model's property: generate configuration pairs, run each against the IUT
    /// (with the reference as its peer) and compare every frame with the model of the
    /// specification; report how many cases reached each alert path. Exit status 1 on a
    /// mismatch (its scenario file goes to the report directory) or an unreached path.
    Model(btls_harness::model::check::ModelArgs),
    /// Generated negative cases (truncations, length fields, bit flips, message order, alerts,
    /// replays from another session, unoffered selections, stalls and one-byte delivery of every
    /// handshake frame the IUT receives), each judged by the reference run in process in the
    /// IUT's role; failures are shrunk and written as scenario files.
    Generate(btls_harness::generate::GenerateArgs),
    /// The interop matrix: every client implementation against every server implementation on
    /// every interop case, with the harness as a recording proxy between them (harness/INTEROP.md).
    ///
    /// For each (client, server, case) cell the server's and the client's adapters are started
    /// with the case's flags; both connect to the harness, which joins and relays their
    /// connections and records every frame. A cell is succeeded, failed (with a one-line reason
    /// naming the side) or unsupported (an adapter exited 89). Writes results.json, report.md,
    /// report.html, junit.xml and cells/ (a capture and a transcript per cell). Exit status 1
    /// when a cell failed; unsupported cells do not fail the run.
    #[command(
        after_help = "Examples:\n  btls-harness interop\n  btls-harness interop --filter resumption --filter bulk\n  btls-harness interop --impl reference --impl mine=./my-adapter,--verbose\n  btls-harness interop --impl python=python3,interop/python/btls-iut-py"
    )]
    Interop(InteropArgs),
    /// Check that every requirement of the specification has a scenario (or a reason why not).
    Coverage {
        /// The specification.
        #[arg(long, default_value = "reference-impl/SPEC.md")]
        spec: PathBuf,
        /// The scenarios folder.
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
    },
}

#[derive(Subcommand)]
enum VectorsAction {
    /// Rewrite every vector file from the reference implementation and say which changed.
    Regenerate {
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
    /// Check the reference implementation against every vector file.
    Verify {
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
    /// Feed every vector file to an IUT in the adapter's vector mode and judge its answers.
    Check {
        #[command(flatten)]
        iut: IutArgs,
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
}

#[derive(Args)]
struct Selection {
    /// The scenarios folder.
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    /// Only cases whose id contains this text; repeatable (any matches).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Only cases that check this requirement ID; repeatable.
    #[arg(long, value_name = "BT-…")]
    requirement: Vec<String>,
    /// Only cases where the IUT plays this role.
    #[arg(long, value_parser = ["client", "server"])]
    role: Option<String>,
    /// Run only shard K of N (for example 2/4), so several CI runners can split the suite.
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
}

#[derive(Args)]
struct ReplayArgs {
    /// The capture file.
    capture: PathBuf,
    /// A key log to open protected frames with (default: the capture's name with `.keys`, when
    /// that file exists).
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Play the harness's side of the capture against this IUT adapter and report the first
    /// frame where its answers diverge from the recording.
    #[arg(long, value_name = "PROGRAM")]
    against: Option<PathBuf>,
    /// An argument put before the contract's flags (with --against); repeatable.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    iut_arg: Vec<String>,
    /// Write a scenario file that replays the capture (send the recorded bytes, expect the
    /// recorded answers).
    #[arg(long, value_name = "FILE")]
    to_scenario: Option<PathBuf>,
    /// The case whose IUT configuration and outcome to use (default: the case a harness
    /// capture names in its comment).
    #[arg(long, value_name = "ID")]
    case: Option<String>,
    /// The role the IUT plays (default: the case's).
    #[arg(long, value_parser = ["client", "server"])]
    iut_role: Option<String>,
    /// The scenarios folder (to find --case).
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    /// Print only the counts (streams, frames, problems) and the time taken, not the transcript.
    #[arg(long)]
    stats: bool,
    /// Seed given to the IUT (default: the seed a harness capture names, else 1).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    iut: IutArgs,
    /// The IUT's role; the harness plays the other with the reference implementation.
    #[arg(long, value_parser = ["client", "server"], default_value = "client")]
    role: String,
    /// The key algorithm of both parties.
    #[arg(long, value_name = "NAME", default_value = "ED25519_X25519")]
    key_algorithm: String,
    /// The cipher suite.
    #[arg(long, value_name = "NAME", default_value = "AES_256_GCM")]
    cipher_suite: String,
    /// Adapter processes running at once.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Connections per handshake measurement, over all processes.
    #[arg(long, default_value_t = 400)]
    handshakes: u32,
    /// Bytes per bulk direction (0: no bulk measurement).
    #[arg(long, default_value_t = 64 << 20)]
    bulk_bytes: u64,
    /// Longest an adapter process may run, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Base seed of the adapters' randomness.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the results (JSON, schema btls-iut-bench/1).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct BenchReportArgs {
    /// Criterion's output folder (default: $CARGO_TARGET_DIR/criterion, else target/criterion).
    #[arg(long, value_name = "DIR")]
    criterion: Option<PathBuf>,
    /// The machine description from scripts/bench-machine.sh.
    #[arg(long, value_name = "FILE")]
    machine: Option<PathBuf>,
    /// Instruction counts from scripts/bench-callgrind.sh.
    #[arg(long, value_name = "FILE")]
    callgrind: Option<PathBuf>,
    /// A `btls-harness bench` result; repeatable (the first is the reference for ratios).
    #[arg(long, value_name = "FILE")]
    iut_bench: Vec<PathBuf>,
    /// The baseline this run is compared with.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "reports/bench/baseline.json"
    )]
    baseline: PathBuf,
    /// Where to write results.json, report.md, report.html and charts/.
    #[arg(long, value_name = "DIR", default_value = "reports/bench/latest")]
    out: PathBuf,
    /// Also save this run as the baseline (after comparing with the old one).
    #[arg(long)]
    save_baseline: bool,
    /// Exit 1 when a measurement regressed beyond the noise or a target is missed.
    #[arg(long)]
    fail_on_regression: bool,
}

#[derive(Args)]
struct InteropArgs {
    /// An implementation: NAME=PROGRAM[,ARG...] (ARGs go before the contract's flags), or just
    /// `reference` (the btls-iut next to this program) or `python` (interop/python/btls-iut-py,
    /// from the repository root);
    /// repeatable, in row/column order. Default: reference and python.
    #[arg(long = "impl", value_name = "NAME=PROGRAM[,ARG...]")]
    implementations: Vec<String>,
    /// The folder of interop case files.
    #[arg(long, value_name = "DIR", default_value = "scenarios/interop")]
    cases: PathBuf,
    /// Only cases whose id contains this text or whose code is this text (`R`, `bulk`);
    /// repeatable (any matches).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Where to write results.json, report.md, report.html, junit.xml and cells/.
    #[arg(long, value_name = "DIR", default_value = "reports/interop-latest")]
    out: PathBuf,
    /// Base seed; each party's seed is derived from it, the case and the role.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cells run at once.
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
    /// A cell's time limit in seconds (a case's `timeout_ms` overrides it).
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// The format of the cell captures.
    #[arg(long, value_enum, default_value_t = Format::Pcapng)]
    capture_format: Format,
    /// List the cases the filters select and exit.
    #[arg(long)]
    list: bool,
    /// Print nothing per cell.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    iut: IutArgs,
    /// The IUT's known deviations (TOML: [[deviation]] case = "…", reason = "…").
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
    #[command(flatten)]
    selection: Selection,
    /// Cases run at once.
    #[arg(long, short = 'j', default_value_t = default_jobs())]
    jobs: usize,
    /// Seed of both sides' randomness.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write results.json, junit.xml, summary.md, summary.html and transcripts/ (each
    /// case's transcript, capture and key log).
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    report_dir: PathBuf,
    /// The format of the case captures.
    #[arg(long, value_enum, default_value_t = Format::Pcapng)]
    capture_format: Format,
    /// Show the real ephemeral ports in captures (by default the listener is 127.0.0.1:4433
    /// and the IUT 127.0.0.1:49152+n, so that captures are byte-identical from run to run).
    #[arg(long)]
    real_ports: bool,
    /// The specification, for the coverage section of the reports.
    #[arg(long, default_value = "reference-impl/SPEC.md")]
    spec: PathBuf,
    /// Print nothing per case.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

fn parse_partition(p: &str) -> Result<(usize, usize)> {
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

fn select(sel: &Selection) -> Result<Vec<Scenario>> {
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

fn coverage(spec: &Path, scenarios_dir: &Path) -> Result<Coverage> {
    let text =
        std::fs::read_to_string(spec).with_context(|| format!("reading {}", spec.display()))?;
    let all = load_dir(scenarios_dir)
        .map_err(|e| anyhow::anyhow!("{} malformed scenario file(s)", e.len()))?;
    Coverage::compute(&text, &all, &scenarios_dir.join("untestable.toml"))
        .map_err(anyhow::Error::msg)
}

fn replay(args: &ReplayArgs) -> Result<bool> {
    let name = args.capture.display().to_string();
    if args.against.is_none() && args.to_scenario.is_none() {
        return transcript(args, &name);
    }
    let data = std::fs::read(&args.capture).with_context(|| format!("cannot read {name}"))?;
    let comment = capture::read::read_capture(&data, &name)?
        .comment
        .unwrap_or_default();
    let case_id = args
        .case
        .clone()
        .or_else(|| capture::replay::case_of(&comment).map(str::to_owned));
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
    let options = capture::replay::ScenarioOptions {
        base,
        iut_role: args.iut_role.as_deref().map(|r| {
            if r == "client" {
                btls_harness::scenario::Role::Client
            } else {
                btls_harness::scenario::Role::Server
            }
        }),
        title: format!("Replay of {name}"),
    };
    if let Some(out) = &args.to_scenario {
        let text =
            capture::replay::to_scenario(&data, &name, &options).map_err(anyhow::Error::msg)?;
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
    let result = capture::replay::against(&data, &name, &options, &iut, &run);
    let _ = std::fs::remove_dir_all(&work);
    let result = result.map_err(anyhow::Error::msg)?;
    print!("{}", result.transcript);
    if !result.stderr.is_empty() {
        eprintln!("IUT stderr:\n{}", result.stderr);
    }
    Ok(matches!(
        result.verdict,
        btls_harness::engine::Verdict::Pass | btls_harness::engine::Verdict::PassLenient(_)
    ))
}

fn transcript(args: &ReplayArgs, name: &str) -> Result<bool> {
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
    let out = capture::replay::transcript_from(file, name, keys.as_ref(), !args.stats)?;
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

fn run(args: RunArgs) -> Result<bool> {
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let scenarios = select(&args.selection)?;
    if scenarios.is_empty() {
        bail!("the filters select no case");
    }
    let expectations = match &args.expectations {
        Some(path) => Expectations::load(path).map_err(anyhow::Error::msg)?,
        None => Expectations::default(),
    };
    let work_dir = args.report_dir.join("work");
    let mut options = RunOptions::new(args.seed, work_dir.clone());
    options.capture_format = args.capture_format;
    options.real_ports = args.real_ports;
    eprintln!(
        "running {} case(s) against {} with {} job(s)",
        scenarios.len(),
        iut.name,
        args.jobs
    );
    let progress: Mutex<std::io::Stderr> = Mutex::new(std::io::stderr());
    let report = run_suite(
        scenarios,
        &iut,
        &expectations,
        &options,
        args.jobs,
        (!args.quiet).then_some(&progress as &Mutex<dyn std::io::Write + Send>),
    );
    let _ = std::fs::remove_dir_all(&work_dir);
    let cov = coverage(&args.spec, &args.selection.scenarios).ok();
    report::write_all(&report, cov.as_ref(), &args.report_dir)
        .with_context(|| format!("writing reports to {}", args.report_dir.display()))?;
    for stale in &report.stale_expectations {
        eprintln!("warning: the expectations name {stale}, which is not a case of this suite");
    }
    for case in report.cases.iter().filter(|c| c.status.is_failure()) {
        eprintln!(
            "{}: {}/{} ({})",
            case.status.label(),
            report.iut,
            case.scenario.id,
            case.scenario.path.display()
        );
    }
    println!(
        "{} passed, {} failed, {} unsupported, {} expected failures — {:.2} s; reports in {}",
        report.count(Status::Pass),
        report.count(Status::Fail) + report.count(Status::UnexpectedPass),
        report.count(Status::Unsupported),
        report.count(Status::ExpectedFail),
        report.duration.as_secs_f64(),
        args.report_dir.display()
    );
    Ok(!report.failed())
}

fn bench(args: BenchArgs) -> Result<bool> {
    use btls::msgs::{CipherSuite, KeyAlgorithm};
    use btls_harness::scenario::Role;
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let key_algorithm = KeyAlgorithm::from_name(&args.key_algorithm)
        .with_context(|| format!("unknown key algorithm {}", args.key_algorithm))?;
    let cipher_suite = CipherSuite::from_name(&args.cipher_suite)
        .with_context(|| format!("unknown cipher suite {}", args.cipher_suite))?;
    let work_dir = std::env::temp_dir().join(format!("btls-bench-{}", std::process::id()));
    let opts = btls_harness::bench::BenchOptions {
        iut,
        role: if args.role == "server" {
            Role::Server
        } else {
            Role::Client
        },
        key_algorithm,
        cipher_suite,
        concurrency: args.concurrency,
        handshakes: args.handshakes,
        bulk_bytes: args.bulk_bytes,
        timeout: std::time::Duration::from_secs(args.timeout_secs),
        work_dir: work_dir.clone(),
        seed: args.seed,
    };
    let result = btls_harness::bench::run(&opts).map_err(anyhow::Error::msg);
    let _ = std::fs::remove_dir_all(&work_dir);
    let result = result?;
    for run in [&result.full, &result.resumed] {
        println!(
            "{} handshakes: {:.0}/s ({} of {} completed, {} resumed, {:.3} s, {} process(es)) {}",
            if run.resumption { "resumed" } else { "full" },
            run.per_second,
            run.completed,
            run.requested,
            run.resumed,
            run.seconds,
            result.concurrency,
            run.status
        );
        for e in &run.errors {
            eprintln!("  {e}");
        }
    }
    for b in &result.bulk {
        match b.mb_per_second {
            Some(mbps) => println!("bulk {}: {mbps:.0} MB/s ({} bytes)", b.direction, b.bytes),
            None => println!(
                "bulk {}: {} ({})",
                b.direction,
                b.status,
                b.detail.as_deref().unwrap_or("")
            ),
        }
    }
    let json = serde_json::to_string_pretty(&result)?;
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, json + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => println!("{json}"),
    }
    let failed = [&result.full, &result.resumed]
        .iter()
        .any(|r| r.status == "failed")
        || result.bulk.iter().any(|b| b.status == "failed");
    Ok(!failed)
}

fn bench_report(args: BenchReportArgs) -> Result<bool> {
    use btls_harness::bench_report as br;
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

/// The implementation a `--impl` value names.
fn implementation(spec: &str) -> Result<Iut> {
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

fn interop(args: &InteropArgs) -> Result<bool> {
    use btls_harness::interop::{self, case::load_cases, cell::CellOptions};
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
        .map_err(|errors| anyhow::anyhow!("interop cases:\n{}", errors.join("\n")))?
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
    interop::report::write_all(&matrix, args.capture_format, &args.out)
        .with_context(|| format!("writing reports to {}", args.out.display()))?;
    use btls_harness::interop::cell::CellStatus;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Interop(args) => interop(&args),
        Command::Replay(args) => replay(&args),
        Command::Bench(args) => bench(args),
        Command::BenchReport(args) => bench_report(args),
        Command::Quirks(args) => btls_harness::quirks::main(args),
        Command::Model(args) => btls_harness::model::check::main(args),
        Command::Generate(args) => btls_harness::generate::main(args),
        Command::List(sel) => select(&sel).map(|cases| {
            for s in &cases {
                println!("{}  [{}]  {}", s.id, s.requirements.join(" "), s.title);
            }
            true
        }),
        Command::Vectors {
            action: VectorsAction::Regenerate { dir },
        } => btls_harness::vectors::regenerate(&dir)
            .map_err(anyhow::Error::from)
            .map(|changes| {
                for (path, change) in changes {
                    println!("{change:?}: {}", path.display());
                }
                true
            }),
        Command::Vectors {
            action: VectorsAction::Verify { dir },
        } => Ok(match btls_harness::vectors::verify(&dir) {
            Ok(n) => {
                println!("{n} vectors verified in {}", dir.display());
                true
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                false
            }
        }),
        Command::Vectors {
            action: VectorsAction::Check { iut, dir },
        } => iut.iut().map_err(anyhow::Error::msg).and_then(|iut| {
            btls_harness::vectors::check_iut(&iut, &dir, std::time::Duration::from_secs(60))
                .map_err(anyhow::Error::msg)
                .map(|run| {
                    for e in &run.failures {
                        eprintln!("{e}");
                    }
                    for (file, why) in &run.unsupported {
                        eprintln!("unsupported: {file}: {why}");
                    }
                    println!(
                        "{} passed, {} failed, {} file(s) unsupported",
                        run.passed,
                        run.failures.len(),
                        run.unsupported.len()
                    );
                    run.failures.is_empty()
                })
        }),
        Command::Coverage { spec, scenarios } => coverage(&spec, &scenarios).map(|c| {
            println!(
                "{} of {} requirements covered by scenarios, {} untestable",
                c.covered_count(),
                c.defined.len(),
                c.untestable.len()
            );
            for id in &c.missing {
                println!("missing: {id}");
            }
            for id in &c.unknown {
                println!("cited but not defined in the specification: {id}");
            }
            c.is_complete()
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("btls-harness: {e:#}");
            ExitCode::from(2)
        }
    }
}
