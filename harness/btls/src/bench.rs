//! `btls-harness bench`: benchmarks any implementation through its adapter (`IUT-ADAPTER.md`),
//! so that two implementations are measured on the same work against the same peer.
//!
//! The harness listens on loopback and plays the reference peer with the `btls` crate's
//! [`SecureSocket`]; the adapter connects, as in every scenario. Three measurements:
//!
//! - **full handshakes per second**: `concurrency` adapter processes at once, each running its
//!   share of `handshakes` connections one after another (`--connections`, `--no-resumption`,
//!   `--close`); the rate is completed connections over the time from the first accepted
//!   connection to the last closed one, so process start-up is not counted;
//! - **resumed handshakes per second**: the same with resumption on (each process's first
//!   connection is a full handshake, the others resume its session);
//! - **bulk throughput**, one connection: the IUT receives `bulk_bytes` (`--sink`) and sends
//!   `bulk_bytes` (`--send-bytes`), timed on the harness side from the end of the handshake to
//!   the close. Both options are optional in the contract: an adapter that exits 89 is reported
//!   as unsupported.
//!
//! The harness's own work is in every figure, the same for every IUT; on a two-core machine the
//! peer and the IUT share the cores.

use crate::adapter::adapter_args;
use crate::events::{typed, Event};
use crate::fixtures::Fixtures;
use crate::scenario::{PartyConfig, Role};
use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls::socket::SecureSocket;
use btls::{ClientConfig, OsRandom, ServerConfig};
use harness_core::process::{Finished, Iut, EXIT_UNSUPPORTED};
use serde::Serialize;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The schema name of the JSON a bench run writes.
pub const SCHEMA: &str = "btls-iut-bench/1";

/// What to measure and against which adapter.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The implementation under test.
    pub iut: Iut,
    /// The IUT's bTLS role (the harness plays the other).
    pub role: Role,
    /// The key algorithm of both parties' fixture keys.
    pub key_algorithm: KeyAlgorithm,
    /// The only cipher suite offered and accepted.
    pub cipher_suite: CipherSuite,
    /// Adapter processes running at once.
    pub concurrency: usize,
    /// Connections (handshakes) per handshake measurement, over all processes.
    pub handshakes: u32,
    /// Bytes per bulk direction; 0 skips the bulk measurement.
    pub bulk_bytes: u64,
    /// Longest an adapter process may run.
    pub timeout: Duration,
    /// Where key files are written.
    pub work_dir: PathBuf,
    /// Base seed of the adapters' randomness (each process gets its own).
    pub seed: u64,
}

/// One handshake measurement.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeRun {
    /// Whether resumption was on.
    pub resumption: bool,
    /// Connections asked for.
    pub requested: u32,
    /// Connections whose handshake completed and closed cleanly.
    pub completed: u32,
    /// Of those, how many resumed a session.
    pub resumed: u32,
    /// Connections that failed on the harness's side.
    pub failed: u32,
    /// From the first accepted connection to the last closed one.
    pub seconds: f64,
    /// `completed / seconds`.
    pub per_second: f64,
    /// `ok`, `unsupported` or `failed`.
    pub status: String,
    /// What went wrong, if anything (the first few errors, an adapter's stderr).
    pub errors: Vec<String>,
}

/// One bulk measurement.
#[derive(Debug, Clone, Serialize)]
pub struct BulkRun {
    /// `iut-receives` or `iut-sends`.
    pub direction: String,
    /// Application bytes moved.
    pub bytes: u64,
    /// From the end of the handshake to the close, on the harness's side.
    pub seconds: f64,
    /// `bytes / seconds` in MB/s (10^6 bytes), when the run succeeded.
    pub mb_per_second: Option<f64>,
    /// `ok`, `unsupported` or `failed`.
    pub status: String,
    /// Why it is not `ok`.
    pub detail: Option<String>,
}

/// Everything one `btls-harness bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// [`SCHEMA`].
    pub schema: String,
    /// The IUT's name.
    pub iut: String,
    /// Its adapter program.
    pub program: String,
    /// The IUT's role.
    pub role: String,
    /// The key algorithm.
    pub key_algorithm: String,
    /// The cipher suite.
    pub cipher_suite: String,
    /// Adapter processes at once.
    pub concurrency: usize,
    /// Full handshakes.
    pub full: HandshakeRun,
    /// Resumed handshakes.
    pub resumed: HandshakeRun,
    /// Bulk transfer, both directions.
    pub bulk: Vec<BulkRun>,
}

/// What the harness does on each accepted connection after the handshake.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// Read until the IUT's close_notify (it was given `--close`).
    Handshake,
    /// Send this many bytes, then close and wait for the IUT's close_notify.
    Send(u64),
    /// Read everything until the IUT's close_notify (it was given `--send-bytes`).
    Receive,
}

/// The harness's side of one connection.
#[derive(Debug)]
struct Served {
    accepted: Instant,
    handshake_done: Instant,
    closed: Instant,
    resumed: bool,
    bytes: u64,
}

#[derive(Clone)]
enum Peer {
    Server(Arc<ServerConfig>),
    Client(Arc<ClientConfig>),
}

fn short(alg: KeyAlgorithm) -> &'static str {
    if alg == KeyAlgorithm::ECDSA_P256_ECDH_P256 {
        "p256"
    } else {
        "ed25519"
    }
}

fn fixture(name: &str) -> Result<Arc<btls::keys::OwnKey>, String> {
    Fixtures::get()
        .key(name)
        .ok_or_else(|| format!("no fixture key {name}"))
}

impl Peer {
    /// The reference peer of an IUT playing `opts.role`.
    fn new(opts: &BenchOptions, resumption: bool) -> Result<Self, String> {
        let alg = short(opts.key_algorithm);
        let own = fixture(&format!("{}-{alg}", opts.role.peer().as_str()))?;
        let iut_key = fixture(&format!("{}-{alg}", opts.role.as_str()))?;
        Ok(match opts.role {
            Role::Client => {
                let mut config = ServerConfig::new(vec![own]);
                config.peer_keys.add_known(iut_key.published.clone());
                config.cipher_suites = vec![opts.cipher_suite];
                config.resumption = resumption;
                Self::Server(Arc::new(config))
            }
            Role::Server => {
                let mut config = ClientConfig::new(vec![own]);
                config.peer_keys.add_known(iut_key.published.clone());
                config.cipher_suites = vec![opts.cipher_suite];
                config.resumption = resumption;
                config.expected_server = Some(iut_key.published.reg_handle.clone());
                Self::Client(Arc::new(config))
            }
        })
    }

    fn serve(&self, stream: TcpStream, work: Work) -> Result<Served, String> {
        let accepted = Instant::now();
        let mut socket = match self {
            Self::Server(c) => SecureSocket::server_over(stream, c.clone(), Box::new(OsRandom)),
            Self::Client(c) => SecureSocket::client_over(stream, c.clone(), Box::new(OsRandom)),
        }
        .map_err(|e| format!("handshake: {e}"))?;
        let handshake_done = Instant::now();
        let resumed = socket.summary().is_some_and(|s| s.resumed);
        let mut bytes = 0u64;
        match work {
            Work::Handshake | Work::Receive => {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match socket.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => bytes += n as u64,
                        Err(e) => return Err(format!("reading: {e}")),
                    }
                }
            }
            Work::Send(total) => {
                let chunk = vec![0x5a_u8; btls::msgs::MAX_PLAINTEXT];
                while bytes < total {
                    let n = usize::try_from((total - bytes).min(chunk.len() as u64))
                        .unwrap_or(chunk.len());
                    socket
                        .write_all(chunk.get(..n).unwrap_or_default())
                        .map_err(|e| format!("sending: {e}"))?;
                    bytes += n as u64;
                }
                socket.close().map_err(|e| format!("closing: {e}"))?;
            }
        }
        Ok(Served {
            accepted,
            handshake_done,
            closed: Instant::now(),
            resumed,
            bytes,
        })
    }
}

/// Accepts `total` connections and serves each on its own thread.
struct Acceptor {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Result<Served, String>>>>,
}

impl Acceptor {
    fn start(peer: Peer, total: u32, work: Work) -> Result<Self, String> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let results = Arc::new(Mutex::new(Vec::new()));
            let mut handlers = Vec::new();
            for _ in 0..total {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let peer = peer.clone();
                let results = results.clone();
                handlers.push(std::thread::spawn(move || {
                    let served = peer.serve(stream, work);
                    if let Ok(mut r) = results.lock() {
                        r.push(served);
                    }
                }));
            }
            for h in handlers {
                let _ = h.join();
            }
            let mut guard = results.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *guard)
        });
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops waiting for connections that will not come, and returns what was served.
    fn finish(mut self) -> Vec<Result<Served, String>> {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes an accept that is still waiting; refused when the acceptor is done.
        drop(TcpStream::connect(self.addr));
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

fn adapter_flags(
    opts: &BenchOptions,
    addr: SocketAddr,
    config: &PartyConfig,
    seed: u64,
    extra: &[String],
) -> Result<Vec<String>, String> {
    let mut args = adapter_args(opts.role, config, &addr.to_string(), seed, &opts.work_dir)?;
    args.extend(extra.iter().cloned());
    Ok(args)
}

fn iut_config(opts: &BenchOptions, resumption: bool, connections: u32, close: bool) -> PartyConfig {
    let alg = short(opts.key_algorithm);
    let own = format!("{}-{alg}", opts.role.as_str());
    let peer = format!("{}-{alg}", opts.role.peer().as_str());
    PartyConfig {
        keys: Some(vec![own]),
        known: Some(vec![peer]),
        cipher_suites: Some(vec![opts.cipher_suite.to_string()]),
        resumption: Some(resumption),
        expect_server: (opts.role == Role::Client).then(|| "server.example".to_owned()),
        connections: Some(connections),
        close,
        ..PartyConfig::default()
    }
}

fn adapter_trouble(finished: &[Finished]) -> (bool, Vec<String>) {
    let unsupported = finished.iter().any(|f| f.code == Some(EXIT_UNSUPPORTED));
    let errors = finished
        .iter()
        .filter(|f| f.code != Some(0))
        .take(3)
        .map(|f| {
            let first = f.stderr.lines().next().unwrap_or_default();
            if f.killed {
                format!("adapter killed after the time limit; stderr: {first}")
            } else {
                format!("adapter exited {:?}; stderr: {first}", f.code)
            }
        })
        .collect();
    (unsupported, errors)
}

/// Splits `total` connections over `processes` as evenly as possible (no process gets 0).
fn split(total: u32, processes: usize) -> Vec<u32> {
    let processes = u32::try_from(processes.max(1))
        .unwrap_or(u32::MAX)
        .min(total.max(1));
    (0..processes)
        .map(|i| total / processes + u32::from(i < total % processes))
        .collect()
}

fn run_handshakes(opts: &BenchOptions, resumption: bool) -> Result<HandshakeRun, String> {
    let shares = split(opts.handshakes, opts.concurrency);
    let total: u32 = shares.iter().sum();
    let acceptor = Acceptor::start(Peer::new(opts, resumption)?, total, Work::Handshake)?;
    let mut running = Vec::new();
    for (i, share) in shares.iter().enumerate() {
        let config = iut_config(opts, resumption, *share, true);
        let seed = opts.seed.wrapping_add(1_000_003 * i as u64);
        let args = adapter_flags(opts, acceptor.addr, &config, seed, &[])?;
        running.push(opts.iut.start(&args).map_err(|e| e.to_string())?);
    }
    let finished: Vec<Finished> = running
        .into_iter()
        .map(|r| r.finish(opts.timeout))
        .collect();
    let served = acceptor.finish();
    let (unsupported, mut errors) = adapter_trouble(&finished);
    let ok: Vec<&Served> = served.iter().filter_map(|r| r.as_ref().ok()).collect();
    errors.extend(
        served
            .iter()
            .filter_map(|r| r.as_ref().err())
            .take(3)
            .cloned(),
    );
    let seconds = match (
        ok.iter().map(|s| s.accepted).min(),
        ok.iter().map(|s| s.closed).max(),
    ) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    let completed = u32::try_from(ok.len()).unwrap_or(u32::MAX);
    let status = if unsupported {
        "unsupported"
    } else if completed < total || !errors.is_empty() {
        "failed"
    } else {
        "ok"
    };
    Ok(HandshakeRun {
        resumption,
        requested: total,
        completed,
        resumed: u32::try_from(ok.iter().filter(|s| s.resumed).count()).unwrap_or(u32::MAX),
        failed: u32::try_from(served.len() - ok.len()).unwrap_or(u32::MAX),
        seconds,
        per_second: if seconds > 0.0 {
            f64::from(completed) / seconds
        } else {
            0.0
        },
        status: status.to_owned(),
        errors,
    })
}

fn run_bulk(opts: &BenchOptions, iut_sends: bool) -> Result<BulkRun, String> {
    let bytes = opts.bulk_bytes;
    let (work, extra, direction) = if iut_sends {
        (
            Work::Receive,
            vec!["--send-bytes".to_owned(), bytes.to_string()],
            "iut-sends",
        )
    } else {
        (Work::Send(bytes), vec!["--sink".to_owned()], "iut-receives")
    };
    let acceptor = Acceptor::start(Peer::new(opts, false)?, 1, work)?;
    let config = iut_config(opts, false, 1, iut_sends);
    let args = adapter_flags(opts, acceptor.addr, &config, opts.seed, &extra)?;
    let finished = opts
        .iut
        .start(&args)
        .map_err(|e| e.to_string())?
        .finish(opts.timeout);
    let served = acceptor.finish();
    let mut run = BulkRun {
        direction: direction.to_owned(),
        bytes,
        seconds: 0.0,
        mb_per_second: None,
        status: "failed".to_owned(),
        detail: None,
    };
    if finished.code == Some(EXIT_UNSUPPORTED) {
        run.status = "unsupported".to_owned();
        run.detail = finished.stderr.lines().next().map(str::to_owned);
        return Ok(run);
    }
    let received_by_iut = typed(&finished.events).into_iter().find_map(|e| match e {
        Event::DataReceived { bytes, .. } => Some(bytes),
        _ => None,
    });
    match served.into_iter().next() {
        Some(Ok(s)) => {
            run.seconds = s.closed.duration_since(s.handshake_done).as_secs_f64();
            let moved = if iut_sends {
                s.bytes
            } else {
                received_by_iut.unwrap_or(0)
            };
            if moved != bytes {
                run.detail = Some(format!("{moved} of {bytes} bytes arrived"));
            } else if finished.code != Some(0) {
                run.detail = Some(format!("adapter exited {:?}", finished.code));
            } else if run.seconds > 0.0 {
                run.status = "ok".to_owned();
                run.mb_per_second = Some(bytes as f64 / 1e6 / run.seconds);
            }
        }
        Some(Err(e)) => run.detail = Some(e),
        None => {
            run.detail = Some(format!(
                "the adapter never connected (exit {:?}): {}",
                finished.code,
                finished.stderr.lines().next().unwrap_or_default()
            ))
        }
    }
    Ok(run)
}

/// Runs every measurement.
pub fn run(opts: &BenchOptions) -> Result<BenchResult, String> {
    std::fs::create_dir_all(&opts.work_dir)
        .map_err(|e| format!("{}: {e}", opts.work_dir.display()))?;
    let full = run_handshakes(opts, false)?;
    let resumed = run_handshakes(opts, true)?;
    let mut bulk = Vec::new();
    if opts.bulk_bytes > 0 {
        bulk.push(run_bulk(opts, false)?);
        bulk.push(run_bulk(opts, true)?);
    }
    Ok(BenchResult {
        schema: SCHEMA.to_owned(),
        iut: opts.iut.name.clone(),
        program: opts.iut.program.display().to_string(),
        role: opts.role.as_str().to_owned(),
        key_algorithm: opts.key_algorithm.to_string(),
        cipher_suite: opts.cipher_suite.to_string(),
        concurrency: opts.concurrency,
        full,
        resumed,
        bulk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_split_evenly_and_none_is_empty() {
        assert_eq!(split(10, 3), vec![4, 3, 3]);
        assert_eq!(split(2, 4), vec![1, 1]);
        assert_eq!(split(0, 2), vec![0]);
        assert_eq!(split(7, 1), vec![7]);
    }
}
