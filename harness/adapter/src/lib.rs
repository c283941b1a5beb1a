//! `btls-iut`: the reference implementation's adapter for the conformance harness. It implements
//! every option of the IUT adapter contract, version 1 (`harness/IUT-ADAPTER.md`), and one
//! extension of its own: `--quirk NAME` turns on a deliberate bug ([`btls::quirks`]) for
//! `btls-harness quirks`; `--list-quirks` lists them.

use btls::conn::{Connection, Event};
use btls::crypto::{OsRandom, RandomSource, SeededRandom};
use btls::keys::{load_private_keys, load_published_key, DirectoryRegistry, TrustedRegistry};
use btls::msgs::{CipherSuite, KeyAlgorithm, FRAME_HEADER_LEN, MAX_FRAME_BODY};
use btls::{ClientConfig, Error, Quirk, Quirks, ServerConfig};
use btls_profile::events::{By, Event as AdapterEvent, Named};
use btls_profile::BtlsFraming;
use clap::{Parser, ValueEnum};
use harness_capture::framing::frame_len;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The contract version this adapter implements.
const CONTRACT: u64 = 1;

#[derive(Clone, Copy, ValueEnum)]
enum Role {
    Client,
    Server,
}

/// Runs bTLS connections for the conformance harness (IUT adapter contract v1).
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// The bTLS role.
    #[arg(long, value_enum, required_unless_present_any = ["vectors", "list_quirks"])]
    role: Option<Role>,
    /// Where the harness listens; the adapter always opens the TCP connection.
    #[arg(long, value_name = "HOST:PORT", required_unless_present_any = ["vectors", "list_quirks"])]
    connect: Option<String>,
    /// Own private key file; repeatable, in preference order.
    #[arg(long = "key", value_name = "FILE", required_unless_present_any = ["vectors", "list_quirks"])]
    keys: Vec<PathBuf>,
    /// Vector mode: answer every test of this vector file and exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["role", "connect"])]
    vectors: Option<PathBuf>,
    /// A published key file of a known peer; repeatable.
    #[arg(long, value_name = "FILE")]
    known: Vec<PathBuf>,
    /// A registry directory to look unknown keys up in.
    #[arg(long, value_name = "DIR")]
    registry_dir: Option<PathBuf>,
    /// A published key file holding a trusted registry key; repeatable.
    #[arg(long, value_name = "FILE")]
    trusted_registry: Vec<PathBuf>,
    /// Scope of every trusted registry key: a registration handle suffix it may vouch for;
    /// repeatable (default: every registration) (BT-KEY-15).
    #[arg(long, value_name = "SUFFIX")]
    registry_scope: Vec<String>,
    /// Trust peer keys on first use, one key per registration (BT-KEY-13).
    #[arg(long)]
    accept_unsigned: bool,
    /// Allowed peer key algorithm; repeatable (default: all).
    #[arg(long, value_name = "NAME")]
    allow_algorithm: Vec<String>,
    /// Cipher suite in preference order; repeatable (default: all).
    #[arg(long, value_name = "NAME")]
    cipher_suite: Vec<String>,
    /// Server: answer SEND_KEY with CANNOT_SEND_KEY.
    #[arg(long)]
    no_send_key: bool,
    /// Neither offer nor accept session resumption.
    #[arg(long)]
    no_resumption: bool,
    /// Client: the server registration handle to expect.
    #[arg(long, value_name = "REG")]
    expect_server: Option<String>,
    /// Number of connections to run one after another, sharing caches and sessions.
    #[arg(long, default_value_t = 1)]
    connections: u32,
    /// Application bytes (hex) to send after the handshake.
    #[arg(long, value_name = "HEX")]
    send: Option<String>,
    /// Send back every application byte received.
    #[arg(long)]
    echo: bool,
    /// Send close_notify after the handshake (and after --send, --send-bytes).
    #[arg(long)]
    close: bool,
    /// Bulk: after the handshake (and --send), send N bytes of application data.
    #[arg(long, value_name = "N")]
    send_bytes: Option<u64>,
    /// Bulk: count received application data instead of reporting it; one `data_received`
    /// event per connection.
    #[arg(long)]
    sink: bool,
    /// Handshake timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    handshake_timeout_ms: u64,
    /// Frames each direction's key may protect, close_notify included (BT-REC-8).
    #[arg(long, value_name = "N", default_value_t = btls::conn::DEFAULT_RECORD_LIMIT)]
    record_limit: u64,
    /// Server: the session lifetime in seconds (BT-RES-3), counted from the full handshake.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    session_lifetime_s: Option<u64>,
    /// The wall clock (Unix seconds) the implementation reads at start; it runs on in real
    /// time. Key validity, cache ages and session lifetimes use it; timers do not change.
    #[arg(long, value_name = "UNIX_S")]
    clock: Option<u64>,
    /// Derive all randomness from this seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Reference adapter only, not part of the contract: turn on a deliberate bug (a name
    /// from --list-quirks); repeatable.
    #[arg(long = "quirk", value_name = "NAME")]
    quirks: Vec<String>,
    /// Print every quirk (name, requirement it breaks, what it does) and exit.
    #[arg(long)]
    list_quirks: bool,
}

fn emit(event: AdapterEvent) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", event.to_line());
    let _ = out.flush();
}

/// `--clock`: milliseconds added to the system clock, fixed once at start.
static CLOCK_OFFSET_MS: OnceLock<i64> = OnceLock::new();

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The implementation's clock: the system clock, moved by `--clock`.
fn now_ms() -> u64 {
    let offset = CLOCK_OFFSET_MS.get().copied().unwrap_or(0);
    system_ms().saturating_add_signed(offset)
}

/// Sets the clock so that it reads `unix_s` now.
fn set_clock(unix_s: u64) {
    let target = i128::from(unix_s) * 1000;
    let offset =
        (target - i128::from(system_ms())).clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    let _ = CLOCK_OFFSET_MS.set(i64::try_from(offset).unwrap_or(0));
}

fn parse_names<T: Copy>(
    names: &[String],
    parse: fn(&str) -> Option<T>,
    all: &[T],
    what: &str,
) -> Result<Vec<T>, String> {
    if names.is_empty() {
        return Ok(all.to_vec());
    }
    names
        .iter()
        .map(|n| parse(n).ok_or_else(|| format!("unknown {what} {n:?}")))
        .collect()
}

enum Roles {
    Client(Arc<ClientConfig>),
    Server(Arc<ServerConfig>),
}

fn build(args: &Args) -> Result<Roles, String> {
    let keys = load_private_keys(&args.keys).map_err(|e| e.to_string())?;
    let mut peer_keys = btls::keys::PeerKeys::default();
    peer_keys
        .add_known_files(&args.known)
        .map_err(|e| e.to_string())?;
    for path in &args.trusted_registry {
        let key = load_published_key(path).map_err(|e| e.to_string())?;
        peer_keys.policy.trusted_registries.push(TrustedRegistry {
            public_key: key.public_key,
            scope: args
                .registry_scope
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        });
    }
    if let Some(dir) = &args.registry_dir {
        peer_keys.registry = Some(Arc::new(DirectoryRegistry::new(dir)));
    }
    peer_keys.policy.accept_unsigned = args.accept_unsigned;
    peer_keys.policy.allowed_algorithms = parse_names(
        &args.allow_algorithm,
        KeyAlgorithm::from_name,
        KeyAlgorithm::ALL,
        "key algorithm",
    )?;
    let suites = parse_names(
        &args.cipher_suite,
        CipherSuite::from_name,
        CipherSuite::ALL,
        "cipher suite",
    )?;
    let timeout = Duration::from_millis(args.handshake_timeout_ms);
    let quirks = args
        .quirks
        .iter()
        .map(|n| {
            Quirk::from_name(n).ok_or_else(|| format!("unknown quirk {n:?} (see --list-quirks)"))
        })
        .collect::<Result<Quirks, String>>()?;
    Ok(match args.role.unwrap_or(Role::Client) {
        Role::Client => {
            let mut c = ClientConfig::new(keys);
            c.peer_keys = peer_keys;
            c.cipher_suites = suites;
            c.resumption = !args.no_resumption;
            c.expected_server = args.expect_server.clone().map(String::into_bytes);
            // Without --expect-server the contract asks for no identity check (BT-KEY-16).
            c.accept_any_server = c.expected_server.is_none();
            c.handshake_timeout = timeout;
            c.record_limit = args.record_limit;
            c.quirks = quirks;
            Roles::Client(Arc::new(c))
        }
        Role::Server => {
            let mut s = ServerConfig::new(keys);
            s.peer_keys = peer_keys;
            s.cipher_suites = suites;
            s.resumption = !args.no_resumption;
            s.may_send_key = !args.no_send_key;
            s.handshake_timeout = timeout;
            s.record_limit = args.record_limit;
            if let Some(secs) = args.session_lifetime_s {
                s.session_lifetime = Duration::from_secs(secs);
            }
            s.quirks = quirks;
            Roles::Server(Arc::new(s))
        }
    })
}

fn report(conn_index: u32, event: Event) {
    let c = conn_index;
    emit(match event {
        Event::HandshakeSent(code) => AdapterEvent::HandshakeSent {
            conn: c,
            code: Named::of(code.name(), code.0),
        },
        Event::HandshakeReceived(code) => AdapterEvent::HandshakeReceived {
            conn: c,
            code: Named::of(code.name(), code.0),
        },
        Event::RejectedPeerKey(r) => AdapterEvent::ValidationFailed {
            conn: c,
            by: By::Local,
            reason: Named::of(r.name(), r.0),
        },
        Event::PeerRejectedKey(r) => AdapterEvent::ValidationFailed {
            conn: c,
            by: By::Peer,
            reason: Named::of(r.name(), r.0),
        },
        Event::HandshakeComplete(s) => AdapterEvent::HandshakeComplete {
            conn: c,
            session_id: hex::encode(s.session_id),
            key_algorithm: s.key_algorithm.to_string(),
            cipher_suite: s.cipher_suite.to_string(),
            resumed: s.resumed,
            peer_reg_handle: String::from_utf8_lossy(&s.peer_key.reg_handle).into_owned(),
            peer_key_handle: String::from_utf8_lossy(&s.peer_key.key_handle).into_owned(),
            peer_public_key: Some(hex::encode(&s.peer_key.public_key)),
        },
        Event::AlertSent(a) => AdapterEvent::AlertSent {
            conn: c,
            description: Named::of(a.description.name(), a.description.0),
            level: u64::from(a.level.0),
        },
        Event::AlertReceived(a) => AdapterEvent::AlertReceived {
            conn: c,
            description: Named::of(a.description.name(), a.description.0),
            level: u64::from(a.level.0),
        },
        Event::Closed => AdapterEvent::Closed { conn: c },
    });
}

/// Hands the connection one whole frame at a time and reports after each, so the order of
/// events and data does not depend on how the transport split the bytes.
fn feed_frames(
    conn: &mut Connection,
    pending: &mut Vec<u8>,
    args: &Args,
    index: u32,
    received: &mut Tally,
) -> Result<(), Error> {
    loop {
        let Some(len) = frame_len(&BtlsFraming, pending) else {
            return Ok(());
        };
        // An oversize header is handed over alone: the connection rejects it at once.
        let take = if len > FRAME_HEADER_LEN + MAX_FRAME_BODY {
            FRAME_HEADER_LEN
        } else {
            len
        };
        if pending.len() < take {
            return Ok(());
        }
        let result = conn.receive(pending.get(..take).unwrap_or_default(), now_ms());
        pending.drain(..take);
        while let Some(ev) = conn.poll_event() {
            report(index, ev);
        }
        let data = conn.take_application_data();
        if !data.is_empty() {
            if args.sink {
                received.add(&data);
            } else {
                emit(AdapterEvent::ApplicationData {
                    conn: index,
                    hex: hex::encode(&data),
                });
            }
            if args.echo && conn.is_established() && !conn.close_notify_sent() {
                conn.send(&data)?;
            }
        }
        result?;
    }
}

/// A count and SHA-256 of application bytes (the `data_sent` and `data_received` events).
struct Tally {
    bytes: u64,
    hash: Sha256,
}

impl Tally {
    fn new() -> Self {
        Self {
            bytes: 0,
            hash: Sha256::new(),
        }
    }

    fn add(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.hash.update(data);
    }

    /// The `data_sent` (`sent`) or `data_received` event for connection `index`.
    fn event(&self, sent: bool, index: u32) -> AdapterEvent {
        let (conn, bytes) = (index, self.bytes);
        let sha256 = Some(hex::encode(self.hash.clone().finalize()));
        if sent {
            AdapterEvent::DataSent {
                conn,
                bytes,
                sha256,
            }
        } else {
            AdapterEvent::DataReceived {
                conn,
                bytes,
                sha256,
            }
        }
    }
}

/// `--send-bytes`: `total` bytes of application data, one full record at a time, written as
/// they are sealed; reports `data_sent` when all are written. `Err` when the transport or the
/// connection fails.
fn send_bulk(
    conn: &mut Connection,
    stream: &mut TcpStream,
    total: u64,
    index: u32,
) -> Result<(), ()> {
    let chunk = vec![0x5a_u8; btls::msgs::MAX_PLAINTEXT];
    let mut sent = Tally::new();
    let mut left = total;
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
        let data = chunk.get(..n).unwrap_or_default();
        conn.send(data).map_err(|_| ())?;
        stream.write_all(&conn.take_output()).map_err(|_| ())?;
        sent.add(data);
        left -= n as u64;
    }
    emit(sent.event(true, index));
    Ok(())
}

/// Runs one connection to its end; `Err` carries the protocol error already reported.
fn run_connection(args: &Args, mut conn: Connection, index: u32) -> Result<(), Error> {
    let address = args.connect.as_deref().unwrap_or_default();
    let mut stream = TcpStream::connect(address).map_err(|_| Error::Internal("connect failed"))?;
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    let mut after_handshake_done = false;
    let mut pending = Vec::new();
    let mut received = Tally::new();
    let result = loop {
        while let Some(ev) = conn.poll_event() {
            report(index, ev);
        }
        // The data goes out as soon as the library accepts it (BT-HS-25 is the library's rule).
        if conn.can_send() && !after_handshake_done {
            after_handshake_done = true;
            if let Some(data) = args.send.as_deref().and_then(|h| hex::decode(h).ok()) {
                if let Err(e) = conn.send(&data) {
                    break Err(e); // BT-REC-8: the close_notify is written below
                }
            }
            if let Some(total) = args.send_bytes {
                if send_bulk(&mut conn, &mut stream, total, index).is_err() {
                    break conn.receive_eof();
                }
            }
            if args.close {
                conn.close();
            }
        }
        let out = conn.take_output();
        if !out.is_empty() && stream.write_all(&out).is_err() {
            break conn.receive_eof();
        }
        if conn.is_closed() {
            break conn.failure().cloned().map_or(Ok(()), Err);
        }
        let wait = conn
            .timeout()
            .map(|d| Duration::from_millis(d.saturating_sub(now_ms()).max(1)));
        let _ = stream.set_read_timeout(wait);
        let step = match stream.read(&mut buf) {
            Ok(0) => conn.receive_eof(),
            Ok(n) => {
                pending.extend_from_slice(buf.get(..n).unwrap_or_default());
                feed_frames(&mut conn, &mut pending, args, index, &mut received)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                conn.handle_timeout(now_ms())
            }
            Err(_) => conn.receive_eof(),
        };
        if let Err(e) = step {
            break Err(e);
        }
    };
    while let Some(ev) = conn.poll_event() {
        report(index, ev);
    }
    if args.sink {
        emit(received.event(false, index));
    }
    let out = conn.take_output();
    let _ = stream.write_all(&out);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if let Err(e) = &result {
        emit(AdapterEvent::Error {
            conn: index,
            message: e.to_string(),
            requirement: Some(e.requirement().to_string()),
        });
    }
    result
}

/// Vector mode: one answer line per test (`harness/IUT-ADAPTER.md`).
fn answer_vectors(path: &std::path::Path) -> ExitCode {
    let doc: serde_json::Value = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("btls-iut: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    for group in doc
        .get("testGroups")
        .and_then(|g| g.as_array())
        .into_iter()
        .flatten()
    {
        for test in group
            .get("tests")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            let tc_id = test
                .get("tcId")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            emit(match btls_profile::vectors::evaluate(group, test) {
                Ok(a) => AdapterEvent::Vector {
                    tc_id,
                    result: if a.valid { "valid" } else { "invalid" }.into(),
                    alert: a.alert,
                    message: None,
                },
                Err(e) => AdapterEvent::Vector {
                    tc_id,
                    result: "malformed".into(),
                    alert: None,
                    message: Some(e),
                },
            });
        }
    }
    ExitCode::SUCCESS
}

/// Runs the adapter with the process's arguments; the exit status follows the contract.
pub fn main() -> ExitCode {
    let args = Args::parse();
    if args.list_quirks {
        for q in Quirk::ALL {
            println!("{}\t{}\t{}", q.name(), q.requirement(), q.description());
        }
        return ExitCode::SUCCESS;
    }
    emit(AdapterEvent::Adapter {
        contract: CONTRACT,
        name: Some("btls reference".into()),
    });
    if let Some(path) = &args.vectors {
        return answer_vectors(path);
    }
    if args
        .send
        .as_deref()
        .is_some_and(|h| hex::decode(h).is_err())
    {
        eprintln!("--send: not hex");
        return ExitCode::from(2);
    }
    if let Some(unix_s) = args.clock {
        set_clock(unix_s);
    }
    let roles = match build(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("btls-iut: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for index in 0..args.connections {
        let rng: Box<dyn RandomSource> = match args.seed {
            Some(seed) => Box::new(SeededRandom::new(seed.wrapping_add(u64::from(index)))),
            None => Box::new(OsRandom),
        };
        let conn = match &roles {
            Roles::Client(c) => Connection::client(c.clone(), rng, now_ms()),
            Roles::Server(s) => Connection::server(s.clone(), rng, now_ms()),
        };
        let outcome = conn.and_then(|conn| run_connection(&args, conn, index));
        failed |= outcome.is_err();
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
