//! `btls-pool`: the TLS Pool daemon for bTLS.

use anyhow::Context;
use btls_pool::config::Config;
use btls_pool::daemon::Daemon;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// The TLS Pool for bTLS: applications hand it TCP sockets over the V1 socket protocol
/// (STARTTLS_CLIENT, STARTTLS_SERVER) and get back plaintext sockets; it holds the keys and
/// runs the bTLS handshakes.
///
/// Start it:   btls-pool --config /etc/btls-pool.toml
/// A sample:   btls-pool init /tmp/pool  (then btls-pool --config /tmp/pool/btls-pool.toml)
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// The configuration file (pool/CONFIG.md describes it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen here instead of the configuration's socket (default /var/run/tlspool.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Write a sample configuration with fresh keys into DIR.
    Init {
        /// Where to write `btls-pool.toml` and `keys/`.
        dir: PathBuf,
        /// The local identity.
        #[arg(long, default_value = "server.example")]
        identity: String,
        /// A peer's published key file to trust; repeatable.
        #[arg(long, value_name = "FILE")]
        known: Vec<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Command::Init {
        dir,
        identity,
        known,
    }) = args.command
    {
        btls_pool::identity::check(&identity).map_err(anyhow::Error::msg)?;
        let known = known
            .iter()
            .map(|k| std::fs::canonicalize(k).with_context(|| k.display().to_string()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (path, keys) =
            btls_pool::sample::write_sample(&dir, &identity, &known, &mut btls::OsRandom)?;
        println!("wrote {} for {identity}", path.display());
        for p in &keys.public {
            println!("  its published key (give it to peers): {}", p.display());
        }
        println!("start it: btls-pool --config {}", path.display());
        return Ok(());
    }
    let path = args
        .config
        .ok_or_else(|| anyhow::anyhow!("--config is required"))?;
    let mut config = Config::load(&path)?;
    if let Some(socket) = args.socket {
        config.socket = socket;
    }
    let identities: Vec<&str> = config.local.iter().map(|l| l.identity.as_str()).collect();
    let summary = format!("local identities: {}", identities.join(", "));
    let daemon = Daemon::bind(config).context("cannot listen")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "btls-pool: listening on {} ({summary})",
            daemon.path().display()
        )?;
        out.flush()?;
    }
    daemon.serve()?;
    Ok(())
}
