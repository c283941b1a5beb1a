//! Receives one file over bTLS and answers with its SHA-256, then closes cleanly.
//!
//! ```text
//! cargo run --example file_server -- --key server.key.json --known client.pub.json --out received.bin
//! ```
//! Prints `listening on ADDR` once bound, so a script can read the port.

use anyhow::Context;
use btls::keys::{load_private_key, load_published_key};
use btls::socket::SecureListener;
use btls::ServerConfig;
use clap::Parser;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Receive one file over bTLS.
#[derive(Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// The server's private key file.
    #[arg(long)]
    key: PathBuf,
    /// Environment variable holding the key file's password, if it is protected.
    #[arg(long)]
    password_env: Option<String>,
    /// Published key files of clients this server knows.
    #[arg(long)]
    known: Vec<PathBuf>,
    /// Trust clients' keys on first use instead of requiring them to be known.
    #[arg(long)]
    trust_on_first_use: bool,
    /// Where to write the received file.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let password = args
        .password_env
        .as_deref()
        .map(std::env::var)
        .transpose()
        .context("reading the password variable")?;
    let key = load_private_key(&args.key, password.as_deref())?;
    let mut config = ServerConfig::new(vec![Arc::new(key)]);
    for path in &args.known {
        config.peer_keys.add_known(load_published_key(path)?);
    }
    config.peer_keys.policy.accept_unsigned = args.trust_on_first_use;
    let listener = SecureListener::bind(&args.listen, Arc::new(config))
        .with_context(|| format!("binding {}", args.listen))?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    let mut socket = listener.accept().context("handshake with the client")?;
    if let Some(s) = socket.summary() {
        eprintln!(
            "server: handshake with {} ({}, {})",
            s.peer_key.display_name(),
            s.key_algorithm,
            s.cipher_suite
        );
    }
    let mut len = [0u8; 8];
    socket
        .read_exact(&mut len)
        .context("reading the file length")?;
    let mut data = vec![0u8; usize::try_from(u64::from_be_bytes(len))?];
    socket.read_exact(&mut data).context("reading the file")?;
    std::fs::write(&args.out, &data).with_context(|| format!("writing {}", args.out.display()))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data);
    socket.write_all(digest.as_ref())?;
    let mut rest = Vec::new();
    socket
        .read_to_end(&mut rest)
        .context("waiting for the client's close_notify")?;
    eprintln!(
        "server: received {} bytes, sha256 {}",
        data.len(),
        hex::encode(digest)
    );
    Ok(())
}
