//! `btls-harness`: runs the bTLS conformance suite against any implementation through its adapter
//! (`harness/IUT-ADAPTER.md`) and writes reports. One module per subcommand, each with its
//! arguments; the work is done by the library crates (`harness-core`, `btls-profile`).

mod bench;
mod bench_report;
mod coverage;
mod generate;
mod interop;
mod iut_args;
mod learn;
mod model;
mod pool;
mod quirks;
mod replay;
mod run;
mod selection;
mod tls;
mod vectors;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    Run(run::RunArgs),
    /// List the cases the filters select.
    List(selection::Selection),
    /// Test vectors: regenerate them from the reference, or verify the reference against them.
    Vectors {
        #[command(subcommand)]
        action: vectors::VectorsAction,
    },
    /// Read a capture (pcap or pcapng; ours or tcpdump's): reassemble every TCP stream, decode
    /// every bTLS frame and print the transcript; or play one side of it against an IUT.
    Replay(replay::ReplayArgs),
    /// Benchmark an IUT over the adapter contract: full and resumed handshakes per second with N
    /// adapter processes at once, and bulk throughput both ways; writes JSON for bench-report.
    Bench(bench::BenchArgs),
    /// Write the benchmark comparison report: criterion's estimates, instruction counts, the
    /// machine and IUT bench results, with ratios to rustls, the crypto floor and openssl, and
    /// this run against a saved baseline.
    BenchReport(bench_report::BenchReportArgs),
    /// The suite's self-test: run it against the reference adapter with each deliberate bug
    /// (quirk) on, report which cases caught each, and fail unless every quirk is caught.
    Quirks(quirks::QuirksArgs),
    /// The handshake model's property: generate configuration pairs, run each against the IUT
    /// (with the reference as its peer) and compare every frame with the model of the
    /// specification; report how many cases reached each alert path. Exit status 1 on a
    /// mismatch (its scenario file goes to the report directory) or an unreached path.
    Model(model::ModelArgs),
    /// Generated negative cases in 16 classes: truncations, length fields, bit flips, message
    /// order, alerts, replays from another session, unoffered selections, stalls and one-byte
    /// delivery, field boundaries, session IDs, content types, handshake codes and trailing bytes
    /// of every handshake frame the IUT receives, each judged by the reference run in process in
    /// the IUT's role; and protected records dropped, replayed, reordered, tampered with or
    /// coalesced after the handshake, judged by the record rules. Failures are shrunk and
    /// written as scenario files.
    Generate(generate::GenerateArgs),
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
    Interop(interop::InteropArgs),
    /// Check that every requirement of the specification has a scenario (or a reason why not).
    Coverage(coverage::CoverageArgs),
    /// Learn the IUT's state machine (L* over handshake messages, application data, alerts and
    /// deliberately wrong messages; each query a fresh connection), compare it with the
    /// specification's tables (SPEC.md §12), and write an HTML report with both machines drawn
    /// and every difference as a scenario file that reproduces it. Exit status 1 on a
    /// difference.
    #[command(
        after_help = "Examples:\n  btls-harness learn --iut target/debug/btls-iut --iut-name reference\n  btls-harness learn --iut target/debug/btls-iut --quirks\n  btls-harness learn --iut interop/python/btls-iut-py --iut-name python --quiet-ms 80"
    )]
    Learn(learn::LearnArgs),
    /// The TLS Pool profile: every scenario file of scenarios/pool (V1 pool packets) against a
    /// pool daemon, each case with a fresh daemon, its own configuration and keys, and the
    /// harness's bTLS peer behind every TCP socket it hands over. Writes the same reports as
    /// `run`; exit status 1 on a failing case or a requirement without a case.
    #[command(
        after_help = "Examples:\n  cargo build -p btls-pool && btls-harness pool\n  btls-harness pool --daemon ./my-pool --iut-name mine --filter pin/"
    )]
    Pool(pool::PoolArgs),
    /// The TLS profile: every scenario file of scenarios/tls against a real TLS stack behind
    /// its adapter (harness/tls/adapters), the harness's own TLS client on the other side. The
    /// stack listens on an ephemeral loopback port; the verdict comes from the wire and its
    /// exit status. Writes the same reports as `run`; exit status 1 on a failing case.
    #[command(
        after_help = "Examples:\n  btls-harness tls --stack openssl\n  btls-harness tls --stack ./my-adapter --iut-name mine --filter alerts/"
    )]
    Tls(tls::TlsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::main(args),
        Command::Interop(args) => interop::main(&args),
        Command::Replay(args) => replay::main(&args),
        Command::Bench(args) => bench::main(args),
        Command::BenchReport(args) => bench_report::main(args),
        Command::Quirks(args) => quirks::main(args),
        Command::Model(args) => model::main(args),
        Command::Generate(args) => generate::main(args),
        Command::List(sel) => selection::list(&sel),
        Command::Vectors { action } => vectors::main(action),
        Command::Coverage(args) => coverage::main(&args),
        Command::Learn(args) => learn::main(args),
        Command::Pool(args) => pool::main(args),
        Command::Tls(args) => tls::main(args),
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
