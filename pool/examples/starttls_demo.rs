//! Two plain TCP applications that agree to STARTTLS, then talk bTLS through their own pools.
//!
//!     cargo run -p btls-pool --example starttls_demo
//!
//! It writes keys and a configuration for two daemons into a temporary folder (`alice.example`
//! on one, `bob.example` on the other, each knowing the other's published keys), starts both
//! in this process, and runs a line protocol over loopback: the client says `STARTTLS`, the
//! server answers `GO`, each hands its socket to its pool and gets a plaintext socket back;
//! then a request and its answer cross as bTLS.

use anyhow::{bail, Context};
use btls_pool::client::PoolClient;
use btls_pool::config::Config;
use btls_pool::daemon::Daemon;
use btls_pool::packet::Starttls;
use btls_pool::sample::{config_text, make_keys};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;

fn read_line(tcp: &TcpStream) -> anyhow::Result<String> {
    // One byte at a time: nothing after the line may be read, it belongs to bTLS.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let mut r = tcp;
    while r.read(&mut byte)? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("btls-pool-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = btls::OsRandom;
    let alice = make_keys(&dir.join("alice"), "alice.example", None, &mut rng)?;
    let bob = make_keys(&dir.join("bob"), "bob.example", None, &mut rng)?;
    let start = |name: &str,
                 me: &btls_pool::sample::IdentityKeys,
                 peer: &btls_pool::sample::IdentityKeys|
     -> anyhow::Result<_> {
        let base = dir.join(name);
        let path = base.join("btls-pool.toml");
        std::fs::write(
            &path,
            config_text(
                &base,
                &base.join("pool.sock"),
                std::slice::from_ref(me),
                &peer.public,
                "",
            ),
        )?;
        let daemon = Daemon::bind(Config::load(&path)?)?.spawn()?;
        println!("pool {name}: listening on {}", daemon.path().display());
        Ok(daemon)
    };
    let pool_a = start("alice", &alice, &bob)?;
    let pool_b = start("bob", &bob, &alice)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server_socket = pool_b.path().to_owned();
    let server = std::thread::spawn(move || -> anyhow::Result<()> {
        let (tcp, _) = listener.accept()?;
        let hello = read_line(&tcp)?;
        println!("server app  ← {hello}");
        if hello != "STARTTLS" {
            bail!("expected STARTTLS, got {hello:?}");
        }
        (&tcp).write_all(b"GO\n")?;
        let mut pool = PoolClient::connect(&server_socket)?;
        let (mut plain, info) = pool
            .starttls_server(tcp, &Starttls::tcp("bob.example", ""), |_| None)
            .context("STARTTLS_SERVER")?;
        println!(
            "server app  : bTLS with {:?} (validated by its pool)",
            info.remoteid
        );
        let mut request = String::new();
        BufReader::new(&plain).read_line(&mut request)?;
        println!("server app  ← {:?} (over bTLS)", request.trim_end());
        plain.write_all(
            format!(
                "hello {}, you said {}",
                info.remoteid,
                request.trim_end().len()
            )
            .as_bytes(),
        )?;
        plain.shutdown(Shutdown::Write)?;
        Ok(())
    });
    let tcp = TcpStream::connect(addr)?;
    (&tcp).write_all(b"STARTTLS\n")?;
    println!("client app  → STARTTLS");
    let go = read_line(&tcp)?;
    println!("client app  ← {go}");
    let mut pool = PoolClient::connect(pool_a.path())?;
    println!(
        "client app  : pool says {}",
        pool.ping("20261203demo@btls.example")?
    );
    let (mut plain, info) = pool
        .starttls_client(tcp, &Starttls::tcp("alice.example", "bob.example"), |_| {
            None
        })
        .context("STARTTLS_CLIENT")?;
    println!(
        "client app  : bTLS as {:?} with {:?}",
        info.localid, info.remoteid
    );
    plain.write_all(b"what is the time?\n")?;
    let mut answer = String::new();
    plain.read_to_string(&mut answer)?;
    println!("client app  ← {answer:?} (over bTLS)");
    server
        .join()
        .map_err(|_| anyhow::anyhow!("server thread panicked"))??;
    if answer != "hello alice.example, you said 17" {
        bail!("unexpected answer {answer:?}");
    }
    drop((pool_a, pool_b));
    let _ = std::fs::remove_dir_all(Path::new(&dir));
    println!("demo: STARTTLS through two pools, answer received intact");
    Ok(())
}
