//! Sends one file over bTLS and checks the SHA-256 the server answers with.
//!
//! ```text
//! cargo run --example file_client -- --connect 127.0.0.1:4433 --key client.key.json \
//!     --known server.pub.json --send notes.txt
//! ```

use anyhow::{bail, Context};
use btls::keys::{load_private_key, load_published_key};
use btls::socket::SecureSocket;
use btls::ClientConfig;
use clap::Parser;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Send one file over bTLS.
#[derive(Parser)]
struct Args {
    /// Server address, host:port.
    #[arg(long)]
    connect: String,
    /// The client's private key file.
    #[arg(long)]
    key: PathBuf,
    /// Environment variable holding the key file's password, if it is protected.
    #[arg(long)]
    password_env: Option<String>,
    /// Published key files of servers this client knows.
    #[arg(long)]
    known: Vec<PathBuf>,
    /// The server registration handle to expect.
    #[arg(long)]
    expect_server: Option<String>,
    /// The file to send.
    #[arg(long)]
    send: PathBuf,
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
    let mut config = ClientConfig::new(vec![Arc::new(key)]);
    for path in &args.known {
        config.peer_keys.add_known(load_published_key(path)?);
    }
    config.expected_server = args.expect_server.map(String::into_bytes);
    // BT-KEY-16: without --expect-server the example says explicitly that it checks no identity.
    config.accept_any_server = config.expected_server.is_none();
    let data =
        std::fs::read(&args.send).with_context(|| format!("reading {}", args.send.display()))?;

    let mut socket = SecureSocket::connect(&args.connect, Arc::new(config))
        .with_context(|| format!("handshake with {}", args.connect))?;
    socket.write_all(&u64::try_from(data.len())?.to_be_bytes())?;
    socket.write_all(&data)?;
    let mut answer = [0u8; 32];
    socket
        .read_exact(&mut answer)
        .context("reading the server's digest")?;
    socket.close().context("closing")?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data);
    if digest.as_ref() != answer {
        bail!(
            "the server's digest {} differs from ours {}",
            hex::encode(answer),
            hex::encode(digest)
        );
    }
    println!(
        "sent {} bytes, sha256 {} confirmed by the server",
        data.len(),
        hex::encode(digest)
    );
    Ok(())
}
