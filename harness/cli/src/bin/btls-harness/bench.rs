//! `btls-harness bench`: any IUT benchmarked over the adapter contract.

use crate::iut_args::IutArgs;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    pub(crate) iut: IutArgs,
    /// The IUT's role; the harness plays the other with the reference implementation.
    #[arg(long, value_parser = ["client", "server"], default_value = "client")]
    pub(crate) role: String,
    /// The key algorithm of both parties.
    #[arg(long, value_name = "NAME", default_value = "ED25519_X25519")]
    pub(crate) key_algorithm: String,
    /// The cipher suite.
    #[arg(long, value_name = "NAME", default_value = "AES_256_GCM")]
    pub(crate) cipher_suite: String,
    /// Adapter processes running at once.
    #[arg(long, default_value_t = 2)]
    pub(crate) concurrency: usize,
    /// Connections per handshake measurement, over all processes.
    #[arg(long, default_value_t = 400)]
    pub(crate) handshakes: u32,
    /// Bytes per bulk direction (0: no bulk measurement).
    #[arg(long, default_value_t = 64 << 20)]
    pub(crate) bulk_bytes: u64,
    /// Longest an adapter process may run, in seconds.
    #[arg(long, default_value_t = 120)]
    pub(crate) timeout_secs: u64,
    /// Base seed of the adapters' randomness.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where to write the results (JSON, schema btls-iut-bench/1).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// Runs `btls-harness bench`.
pub(crate) fn main(args: BenchArgs) -> Result<bool> {
    use btls::msgs::{CipherSuite, KeyAlgorithm};
    use harness_core::Role;
    let iut = args.iut.iut().map_err(anyhow::Error::msg)?;
    let key_algorithm = KeyAlgorithm::from_name(&args.key_algorithm)
        .with_context(|| format!("unknown key algorithm {}", args.key_algorithm))?;
    let cipher_suite = CipherSuite::from_name(&args.cipher_suite)
        .with_context(|| format!("unknown cipher suite {}", args.cipher_suite))?;
    let work_dir = std::env::temp_dir().join(format!("btls-bench-{}", std::process::id()));
    let opts = btls_profile::bench::BenchOptions {
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
    let result = btls_profile::bench::run(&opts).map_err(anyhow::Error::msg);
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
