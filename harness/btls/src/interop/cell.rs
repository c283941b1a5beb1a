//! One cell of the matrix: a client implementation, a server implementation and a case. Both
//! adapters are started, joined through the recording [`proxy`](harness_core::proxy), always reaped,
//! and judged against the case's expectations.

use super::case::{Expect, InteropCase};
use crate::adapter::adapter_args;
use crate::events::{typed, Event};
use crate::outcome;
use crate::profile::BtlsProfile;
use crate::scenario::Role;
use harness_capture::{Direction, Recording};
use harness_core::process::{Finished, Iut, Running, CONTRACT_VERSION, EXIT_UNSUPPORTED};
use harness_core::proxy::{relay, End, Proxy};
use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// How long a party may take to exit after the proxy gave up on the cell (and closed its
/// connections) before it is killed: a party that was only waiting for its peer exits at once,
/// so the one still running at the end is the one that hung.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// How a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// Both parties reported what the case expects.
    Succeeded,
    /// A party did not (the reason names it).
    Failed,
    /// An adapter declared an option of the case unsupported (exit status 89).
    Unsupported,
}

impl CellStatus {
    /// `succeeded`, `failed` or `unsupported`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Unsupported => "unsupported",
        }
    }
}

/// What one party of a cell did.
#[derive(Debug, Clone)]
pub struct PartyRun {
    /// The implementation's name.
    pub implementation: String,
    /// The seed it was given.
    pub seed: u64,
    /// How its process ended; `None` when it could not be started.
    pub finished: Option<Finished>,
}

/// The result of one cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// The case's id.
    pub case: String,
    /// The case's short code.
    pub code: String,
    /// The verdict.
    pub status: CellStatus,
    /// One line: which side, what was expected, what was seen (failed or unsupported cells).
    pub reason: Option<String>,
    /// The client party.
    pub client: PartyRun,
    /// The server party.
    pub server: PartyRun,
    /// What the proxy saw, with canonical addresses.
    pub recording: Recording,
    /// What the proxy noticed (an adapter that never connected, a connection that timed out).
    pub notes: Vec<String>,
    /// Wall time.
    pub duration: Duration,
}

/// How a cell runs.
#[derive(Debug, Clone)]
pub struct CellOptions {
    /// The run's seed; each party's seed is derived from it, the case and the role.
    pub seed: u64,
    /// A cell's time limit, unless its case sets `timeout_ms`.
    pub timeout: Duration,
    /// Where key files are written (a folder per cell is made below it).
    pub work_dir: std::path::PathBuf,
}

/// The seed of `role` in `case`: the same whatever the implementations, so that two cells of a
/// case differ only by the implementations.
pub fn party_seed(base: u64, case: &str, role: Role) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in case.bytes().chain([0]).chain(role.as_str().bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ base.wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 16
}

fn side_name(side: Direction) -> &'static str {
    match side {
        Direction::FromConnector => "client",
        Direction::FromListener => "server",
    }
}

/// What the cell's threads report to it.
enum Note {
    Accepted(Direction, std::io::Result<TcpStream>),
    Exited(Direction),
}

/// Starts a party and a thread that reaps it (killing it at `limit`) and then says so on `tx`.
fn start_party(
    iut: &Iut,
    args: &[String],
    side: Direction,
    limit: Duration,
    tx: &mpsc::Sender<Note>,
) -> Result<std::thread::JoinHandle<Finished>, String> {
    let running: Running = iut.start(args).map_err(|e| e.to_string())?;
    let tx = tx.clone();
    Ok(std::thread::spawn(move || {
        let finished = running.finish(limit);
        let _ = tx.send(Note::Exited(side));
        finished
    }))
}

/// Accepts up to `n` connections on `side`'s listener, reporting each on `tx`.
fn accept_thread(
    listener: std::net::TcpListener,
    side: Direction,
    n: u32,
    tx: mpsc::Sender<Note>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for _ in 0..n {
            let r = listener.accept().map(|(s, _)| s);
            let failed = r.is_err();
            if tx.send(Note::Accepted(side, r)).is_err() || failed {
                break;
            }
        }
    })
}

/// The pairing loop: joins the n-th client connection to the n-th server connection and relays
/// them, until `n` connections are done, a party exits without connecting, or the deadline.
fn run_connections(
    rx: &mpsc::Receiver<Note>,
    n: u32,
    deadline: Instant,
    recording: &Mutex<Recording>,
    notes: &mut Vec<String>,
) -> [u32; 2] {
    let mut queues: [VecDeque<TcpStream>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut exited = [false; 2];
    let mut accepted = [0u32; 2];
    let index = |side: Direction| usize::from(side == Direction::FromListener);
    for k in 0..n {
        loop {
            let [c, s] = &mut queues;
            if !c.is_empty() && !s.is_empty() {
                break;
            }
            for side in [Direction::FromConnector, Direction::FromListener] {
                let i = index(side);
                if exited.get(i) == Some(&true) && queues.get(i).is_some_and(VecDeque::is_empty) {
                    notes.push(format!(
                        "the {} adapter exited without opening connection {k}",
                        side_name(side)
                    ));
                    return accepted;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Note::Accepted(side, Ok(stream))) => {
                    if let Some(q) = queues.get_mut(index(side)) {
                        q.push_back(stream);
                    }
                    if let Some(a) = accepted.get_mut(index(side)) {
                        *a += 1;
                    }
                }
                Ok(Note::Accepted(side, Err(e))) => {
                    notes.push(format!("accepting the {} adapter: {e}", side_name(side)));
                    return accepted;
                }
                Ok(Note::Exited(side)) => {
                    if let Some(x) = exited.get_mut(index(side)) {
                        *x = true;
                    }
                }
                Err(_) => {
                    let missing: Vec<&str> = [Direction::FromConnector, Direction::FromListener]
                        .into_iter()
                        .filter(|s| queues.get(index(*s)).is_some_and(VecDeque::is_empty))
                        .map(side_name)
                        .collect();
                    notes.push(format!(
                        "the {} adapter did not open connection {k} in time",
                        missing.join(" and ")
                    ));
                    return accepted;
                }
            }
        }
        let [c, s] = &mut queues;
        let (Some(client), Some(server)) = (c.pop_front(), s.pop_front()) else {
            return accepted;
        };
        if let Ok(mut r) = recording.lock() {
            r.open(None);
        }
        let (from_client, from_server) = relay(&BtlsProfile, &client, &server, recording, deadline);
        for (side, end) in [
            (Direction::FromConnector, from_client),
            (Direction::FromListener, from_server),
        ] {
            match end {
                End::Fin => {}
                End::Reset(e) => notes.push(format!(
                    "connection {k}: the {} side reset the stream ({e})",
                    side_name(side)
                )),
                End::Timeout => {
                    notes.push(format!(
                        "connection {k}: the {} side was still open at the time limit",
                        side_name(side)
                    ));
                    return accepted;
                }
            }
        }
    }
    accepted
}

/// Runs `case` with `client` as the client and `server` as the server.
pub fn run_cell(
    case: &InteropCase,
    client: &Iut,
    server: &Iut,
    options: &CellOptions,
) -> CellResult {
    let started = Instant::now();
    let limit = case
        .timeout_ms
        .map_or(options.timeout, Duration::from_millis);
    let deadline = started + limit;
    let seeds = [
        party_seed(options.seed, &case.id, Role::Client),
        party_seed(options.seed, &case.id, Role::Server),
    ];
    let recording = Mutex::new(Recording {
        comment: format!(
            "bTLS interop case {} (client {}, server {}, seed {})",
            case.id, client.name, server.name, options.seed
        ),
        connections: Vec::new(),
    });
    let mut notes = Vec::new();
    let mut finished: [Option<Finished>; 2] = [None, None];
    let mut start_error: Option<String> = None;
    let dir = options.work_dir.join(format!(
        "{}__{}__{}",
        client.name,
        server.name,
        case.id.replace('/', "__")
    ));
    match Proxy::bind() {
        Err(e) => start_error = Some(format!("the proxy cannot listen: {e}")),
        Ok(proxy) => {
            let (tx, rx) = mpsc::channel();
            let n = case.connections();
            let mut accepters = Vec::new();
            for side in [Direction::FromConnector, Direction::FromListener] {
                if let Ok(l) = proxy.listener(side).try_clone() {
                    accepters.push((side, accept_thread(l, side, n, tx.clone())));
                }
            }
            let mut waiters = Vec::new();
            for (side, iut, role, config, seed) in [
                (
                    Direction::FromListener,
                    server,
                    Role::Server,
                    &case.server,
                    seeds[1],
                ),
                (
                    Direction::FromConnector,
                    client,
                    Role::Client,
                    &case.client,
                    seeds[0],
                ),
            ] {
                let addr = match side {
                    Direction::FromConnector => proxy.client_addr(),
                    Direction::FromListener => proxy.server_addr(),
                };
                let party_dir = dir.join(role.as_str());
                let started = addr
                    .map_err(|e| e.to_string())
                    .and_then(|addr| {
                        std::fs::create_dir_all(&party_dir)
                            .map_err(|e| format!("{}: {e}", party_dir.display()))?;
                        adapter_args(role, config, &addr.to_string(), seed, &party_dir)
                    })
                    .and_then(|args| start_party(iut, &args, side, limit + KILL_GRACE, &tx));
                match started {
                    Ok(h) => waiters.push((side, h)),
                    Err(e) => {
                        start_error.get_or_insert(format!("{} `{}`: {e}", role.as_str(), iut.name));
                        // The other party would wait for a peer that never comes.
                        break;
                    }
                }
            }
            let accepted = if start_error.is_none() {
                run_connections(&rx, n, deadline, &recording, &mut notes)
            } else {
                [0, 0]
            };
            // Connections accepted but never paired are closed with the channel, so that an
            // adapter waiting on one sees the end of stream at once.
            drop(rx);
            // Unblock accept threads still waiting for a connection that will not come.
            for (side, handle) in accepters {
                let i = usize::from(side == Direction::FromListener);
                let missing = n.saturating_sub(accepted.get(i).copied().unwrap_or(0));
                if let Ok(addr) = proxy.listener(side).local_addr() {
                    for _ in 0..missing {
                        if handle.is_finished() {
                            break;
                        }
                        let _ = TcpStream::connect(addr);
                    }
                }
                let _ = handle.join();
            }
            drop(proxy);
            for (side, handle) in waiters {
                let i = usize::from(side == Direction::FromListener);
                if let Some(slot) = finished.get_mut(i) {
                    *slot = handle.join().ok();
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let [client_finished, server_finished] = finished;
    let mut result = CellResult {
        case: case.id.clone(),
        code: case.code.clone(),
        status: CellStatus::Succeeded,
        reason: None,
        client: PartyRun {
            implementation: client.name.clone(),
            seed: seeds[0],
            finished: client_finished,
        },
        server: PartyRun {
            implementation: server.name.clone(),
            seed: seeds[1],
            finished: server_finished,
        },
        recording: recording.into_inner().unwrap_or_else(|e| e.into_inner()),
        notes,
        duration: started.elapsed(),
    };
    let (status, reason) = match start_error {
        Some(e) => (CellStatus::Failed, Some(format!("cannot start the {e}"))),
        None => judge(case, &result, limit),
    };
    result.status = status;
    result.reason = reason;
    result
}

/// The adapter's own explanation of a failure: its first `error` event, else its last line of
/// standard error (where an interpreter puts the exception that ended a traceback).
fn why(f: &Finished) -> String {
    typed(&f.events)
        .into_iter()
        .find_map(|e| match e {
            Event::Error { message, .. } => Some(message),
            _ => None,
        })
        .or_else(|| {
            f.stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_owned())
        })
        .map(|w| format!(" ({w})"))
        .unwrap_or_default()
}

/// The verdict of a cell whose parties ran.
fn judge(case: &InteropCase, cell: &CellResult, limit: Duration) -> (CellStatus, Option<String>) {
    let parties = [
        ("client", &cell.client, &case.expect_client),
        ("server", &cell.server, &case.expect_server),
    ];
    for (role, party, _) in parties {
        if let Some(f) = &party.finished {
            if f.code == Some(EXIT_UNSUPPORTED) {
                let what = f.stderr.lines().next().unwrap_or("no reason given");
                return (
                    CellStatus::Unsupported,
                    Some(format!(
                        "{role} `{}` does not support the case: {what}",
                        party.implementation
                    )),
                );
            }
        }
    }
    let notes = if cell.notes.is_empty() {
        String::new()
    } else {
        format!("; proxy: {}", cell.notes.join("; "))
    };
    // A party that hung or broke the contract is named before a peer that only reacted to it.
    for phase in 0..3 {
        for (role, party, expect) in parties {
            let who = format!("{role} `{}`", party.implementation);
            let Some(f) = &party.finished else {
                return (
                    CellStatus::Failed,
                    Some(format!("{who}: its process could not be reaped{notes}")),
                );
            };
            let checked = match phase {
                0 => check_alive(f, limit),
                1 => check_contract(f),
                _ => check_party(f, expect),
            };
            if let Err(e) = checked {
                return (CellStatus::Failed, Some(format!("{who}: {e}{notes}")));
            }
        }
    }
    for (role, side, expect) in [
        ("client", Direction::FromConnector, &case.expect_client),
        ("server", Direction::FromListener, &case.expect_server),
    ] {
        if let Some(want) = &expect.handshake {
            let got = handshakes_sent(&cell.recording, side);
            let want: Vec<String> = want.iter().map(|w| w.to_ascii_uppercase()).collect();
            if got != want {
                let party = if role == "client" {
                    &cell.client
                } else {
                    &cell.server
                };
                return (
                    CellStatus::Failed,
                    Some(format!(
                        "{role} `{}`: expected to send the handshake messages [{}] on the wire, sent [{}]{notes}",
                        party.implementation,
                        want.join(", "),
                        got.join(", ")
                    )),
                );
            }
        }
    }
    if let Err(e) = check_bulk(case, cell) {
        return (CellStatus::Failed, Some(format!("{e}{notes}")));
    }
    (CellStatus::Succeeded, None)
}

/// A party must exit by itself within the cell's time limit.
fn check_alive(f: &Finished, limit: Duration) -> Result<(), String> {
    if f.killed {
        return Err(format!(
            "still running {} ms after the cell's time limit ({} ms) and killed{}",
            KILL_GRACE.as_millis(),
            limit.as_millis(),
            why(f)
        ));
    }
    Ok(())
}

/// A party's first line must name contract version 1.
fn check_contract(f: &Finished) -> Result<(), String> {
    let contract = typed(&f.events).into_iter().find_map(|e| match e {
        Event::Adapter { contract, .. } => Some(contract),
        _ => None,
    });
    match contract {
        None => Err(format!(
            "exit status {} without the contract's first line {{\"event\":\"adapter\",…}}{}",
            f.code.map_or("none".into(), |c| c.to_string()),
            why(f)
        )),
        Some(c) if c != CONTRACT_VERSION => Err(format!(
            "speaks adapter contract {c}, expected {CONTRACT_VERSION}"
        )),
        Some(_) => Ok(()),
    }
}

/// Checks one party's exit status and events against `expect`.
fn check_party(f: &Finished, expect: &Expect) -> Result<(), String> {
    outcome::check_party(f.code, &typed(&f.events), &expect.check(), &why(f))
        .map_err(|m| m.to_string())
}

/// The handshake messages `from` put on the wire, in order, over every connection.
pub fn handshakes_sent(recording: &Recording, from: Direction) -> Vec<String> {
    recording
        .connections
        .iter()
        .flat_map(|c| c.events())
        .filter_map(|e| match e {
            harness_capture::TcpEvent::Data { from: f, bytes, .. } if *f == from => {
                crate::wire::handshake_code(bytes).map(|c| c.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The checksums of bulk data: a receiver's `data_received.sha256` must equal the sender's
/// `data_sent.sha256` (contract revision 1.1); byte counts when either lacks one.
fn check_bulk(case: &InteropCase, cell: &CellResult) -> Result<(), String> {
    let directions = [
        (
            &cell.client,
            &cell.server,
            &case.expect_server,
            "client → server",
        ),
        (
            &cell.server,
            &cell.client,
            &case.expect_client,
            "server → client",
        ),
    ];
    for (sender, receiver, expect, way) in directions {
        if expect.data_received.is_none() {
            continue;
        }
        let (Some(s), Some(r)) = (&sender.finished, &receiver.finished) else {
            continue;
        };
        let sent: Vec<(u64, String)> = typed(&s.events)
            .into_iter()
            .filter_map(|e| match e {
                Event::DataSent { bytes, sha256, .. } => Some((bytes, sha256.unwrap_or_default())),
                _ => None,
            })
            .collect();
        let got: Vec<(u64, String)> = typed(&r.events)
            .into_iter()
            .filter_map(|e| match e {
                Event::DataReceived { bytes, sha256, .. } => {
                    Some((bytes, sha256.unwrap_or_default()))
                }
                _ => None,
            })
            .collect();
        let Some((sent_bytes, sent_hash)) = sent.first() else {
            return Err(format!(
                "{way}: sender `{}` reported no data_sent event (contract revision 1.1)",
                sender.implementation
            ));
        };
        let Some((got_bytes, got_hash)) = got.first() else {
            continue;
        };
        if sent_bytes != got_bytes {
            return Err(format!(
                "{way}: `{}` sent {sent_bytes} bytes, `{}` received {got_bytes}",
                sender.implementation, receiver.implementation
            ));
        }
        if !sent_hash.is_empty()
            && !got_hash.is_empty()
            && !sent_hash.eq_ignore_ascii_case(got_hash)
        {
            return Err(format!(
                "{way}: SHA-256 of the data sent by `{}` is {sent_hash}, of the data `{}` received {got_hash}",
                sender.implementation, receiver.implementation
            ));
        }
    }
    Ok(())
}

/// Whether SHA-256 was compared for the bulk data of `cell`: in every direction that carried
/// data, the sender reported it in `data_sent` and the receiver in `data_received` (else only
/// lengths were compared).
pub fn checksums_compared(cell: &CellResult) -> bool {
    // (sent, hash of what was sent, hash of what was received), per party.
    let bulk = |p: &PartyRun| {
        let events = p
            .finished
            .as_ref()
            .map(|f| typed(&f.events))
            .unwrap_or_default();
        let sent = events.iter().any(|e| matches!(e, Event::DataSent { .. }));
        let hash_sent = events
            .iter()
            .any(|e| matches!(e, Event::DataSent { sha256: Some(h), .. } if !h.is_empty()));
        let hash_received = events
            .iter()
            .any(|e| matches!(e, Event::DataReceived { sha256: Some(h), .. } if !h.is_empty()));
        (sent, hash_sent, hash_received)
    };
    let (client, server) = (bulk(&cell.client), bulk(&cell.server));
    let directions = [(client, server), (server, client)];
    let carried: Vec<_> = directions.iter().filter(|(s, _)| s.0).collect();
    !carried.is_empty() && carried.iter().all(|(s, r)| s.1 && r.2)
}

/// The directory-safe stem of a cell (`reference__python__handshake__ed25519-aes`).
pub fn cell_stem(client: &str, server: &str, case: &str) -> String {
    format!("{client}__{server}__{}", case.replace('/', "__"))
}
