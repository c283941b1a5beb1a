//! Runs one pool case: starts the daemon (the IUT) with the case's configuration, plays the
//! steps over its socket, records every packet (decoded field by field) in the transcript and
//! the capture, runs the harness's bTLS peer on every TCP descriptor it hands over (recorded
//! through a proxy as a bTLS connection), checks the daemon still answers a PING on a fresh
//! connection, and reaps it.

use crate::peer::{self, PeerSession};
use crate::scenario::{Action, FdKind, Field, PeerMode, PoolScenario, Step, STEP_TIMEOUT_MS};
use btls_pool::errno;
use btls_pool::fdpass::{recv_packet, send_bytes, Received};
use btls_pool::packet::{
    describe, offset, ping_identity, Command, ErrorBody, Packet, Pinentry, Starttls, IDENTITY_LEN,
    IDENTITY_V1, MESSAGE_LEN, PACKET_LEN, PING_LEN, PIN_LEN,
};
use btls_pool::sample::{config_text, make_keys, IdentityKeys};
use harness_capture::{Connection, Direction, Recording};
use harness_core::verdict::{CaseResult, Failure, Verdict};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the daemon may take to say it listens.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The canonical port the pool's packets are recorded on (the socket is a UNIX socket).
pub const POOL_CAPTURE_PORT: u16 = 3760;
/// The harness's identity on the bTLS side.
pub const PEER_IDENTITY: &str = "peer.example";
/// An identity the daemon does not know.
pub const STRANGER_IDENTITY: &str = "stranger.example";

/// How to run cases.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The daemon's binary.
    pub daemon: PathBuf,
    /// Where case folders go.
    pub work_dir: PathBuf,
    /// Seed of the keys.
    pub seed: u64,
}

type Fail = Box<Failure>;

fn fail(step: usize, line: usize, expected: impl Into<String>, actual: impl Into<String>) -> Fail {
    Box::new(Failure {
        step,
        line,
        expected: expected.into(),
        actual: actual.into(),
    })
}

/// The daemon process and what it printed.
struct Daemon {
    child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl Daemon {
    fn start(bin: &Path, config: &Path) -> Result<Self, String> {
        let mut child = std::process::Command::new(bin)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the daemon {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            })
        });
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(out).lines();
                let _ = tx.send(lines.next().and_then(Result::ok));
                for _ in lines {} // drain until the daemon exits
            });
        }
        let mut daemon = Self { child, stderr };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(line)) if line.starts_with("btls-pool: listening on ") => Ok(daemon),
            Ok(line) => {
                let err = daemon.stop();
                Err(format!(
                    "the daemon did not start: {}{}",
                    line.unwrap_or_else(|| "(no output)".into()),
                    if err.is_empty() {
                        String::new()
                    } else {
                        format!("; stderr: {}", err.trim())
                    }
                ))
            }
            Err(_) => {
                daemon.stop();
                Err(format!(
                    "the daemon did not say it listens within {START_TIMEOUT:?}"
                ))
            }
        }
    }

    /// The exit status, if it has exited.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Kills and reaps it; returns its standard error.
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The case's files: keys, the configuration, the socket path.
struct World {
    config: PathBuf,
    socket: PathBuf,
    daemon_keys: Vec<IdentityKeys>,
    peer: IdentityKeys,
    stranger: IdentityKeys,
}

fn world(s: &PoolScenario, dir: &Path, seed: u64) -> anyhow::Result<World> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let keys_dir = dir.join("keys");
    let mut rng = btls::SeededRandom::new(seed);
    let mut daemon_keys = Vec::new();
    for id in &s.daemon.identities {
        let password = s
            .daemon
            .protected
            .contains(id)
            .then_some(s.daemon.pin.as_str());
        daemon_keys.push(make_keys(&keys_dir, id, password, &mut rng)?);
    }
    let peer = make_keys(&keys_dir, PEER_IDENTITY, None, &mut rng)?;
    let stranger = make_keys(&keys_dir, STRANGER_IDENTITY, None, &mut rng)?;
    let socket = dir.join("s");
    let config = dir.join("pool.toml");
    std::fs::write(
        &config,
        config_text(dir, &socket, &daemon_keys, &peer.public, &s.daemon.config),
    )?;
    Ok(World {
        config,
        socket,
        daemon_keys,
        peer,
        stranger,
    })
}

/// One control connection.
struct Control {
    stream: UnixStream,
    last_cbid: u16,
    plain: Option<UnixStream>,
    record: usize,
}

/// Everything a case holds while it runs.
struct Run {
    world: World,
    conns: Vec<Option<Control>>,
    transcript: String,
    packets: Recording,
    session: Arc<Mutex<Recording>>,
    peer: Option<mpsc::Receiver<Result<PeerSession, String>>>,
    peer_session: Option<PeerSession>,
    held: Vec<TcpStream>,
    held_unix: Vec<UnixStream>,
    relays: Vec<JoinHandle<()>>,
}

/// Runs one case.
pub fn run_case(s: &PoolScenario, options: &PoolOptions) -> CaseResult {
    let started = Instant::now();
    let dir = options.work_dir.join(s.id.replace('/', "__"));
    let world = match world(s, &dir, options.seed) {
        Ok(w) => w,
        Err(e) => {
            return result(
                *fail(0, 0, "the case's keys and configuration", e.to_string()),
                started,
            )
        }
    };
    let mut daemon = match Daemon::start(&options.daemon, &world.config) {
        Ok(d) => d,
        Err(e) => return result(*fail(0, 0, "the daemon to start", e), started),
    };
    let mut run = Run {
        world,
        conns: Vec::new(),
        transcript: format!("# {}\n# {}\n", s.id, s.title),
        packets: Recording::default(),
        session: Arc::new(Mutex::new(Recording::default())),
        peer: None,
        peer_session: None,
        held: Vec::new(),
        held_unix: Vec::new(),
        relays: Vec::new(),
    };
    let mut verdict = Verdict::Pass;
    for (i, step) in s.steps.iter().enumerate() {
        if let Some(c) = &step.comment {
            run.transcript.push_str(&format!("# {c}\n"));
        }
        if let Err(f) = run.step(i + 1, step) {
            verdict = Verdict::Fail(*f);
            break;
        }
    }
    if verdict.passed() {
        if let Some(status) = daemon.exited() {
            verdict = Verdict::Fail(*fail(
                0,
                0,
                "the daemon to keep running",
                format!("it exited: {status}"),
            ));
        } else if let Err(f) = run.sanity_ping() {
            verdict = Verdict::Fail(*f);
        }
    }
    // Close the harness's ends, then stop the daemon, so that every relay ends.
    run.conns.clear();
    run.peer_session = None;
    run.peer = None; // a session nobody took is still in the channel
    run.held.clear();
    run.held_unix.clear();
    let stderr = daemon.stop();
    for r in run.relays.drain(..) {
        let _ = r.join();
    }
    if verdict.passed() {
        for x in &s.end.stderr_excludes {
            if stderr.contains(x.as_str()) {
                verdict = Verdict::Fail(*fail(
                    0,
                    0,
                    format!("the daemon's stderr without {x:?}"),
                    "it is there",
                ));
            }
        }
        for x in &s.end.stderr_includes {
            if !stderr.contains(x.as_str()) {
                verdict = Verdict::Fail(*fail(
                    0,
                    0,
                    format!("the daemon's stderr to say {x:?}"),
                    "it does not",
                ));
            }
        }
    }
    let mut capture = run.packets;
    if let Ok(session) = run.session.lock() {
        capture
            .connections
            .extend(session.connections.iter().cloned());
    }
    capture.comment = format!("{} — TLS Pool case, seed {}", s.id, options.seed);
    CaseResult {
        verdict,
        transcript: run.transcript,
        capture,
        key_log: None,
        stderr,
        duration: started.elapsed(),
    }
}

fn result(f: Failure, started: Instant) -> CaseResult {
    CaseResult {
        verdict: Verdict::Fail(f),
        transcript: String::new(),
        capture: Recording::default(),
        key_log: None,
        stderr: String::new(),
        duration: started.elapsed(),
    }
}

fn field_name(f: &Field) -> &'static str {
    match f {
        Field::Reqid(_) => "reqid",
        Field::Cbid(_) | Field::CbidLast | Field::CbidOpen => "cbid",
        Field::Flags(_) => "flags",
        Field::Local(_) => "local",
        Field::Ipproto(_) => "ipproto",
        Field::Streamid(_) => "streamid",
        Field::Localid(_) => "localid",
        Field::Remoteid(_) => "remoteid",
        Field::Identity(_) => "identity",
        Field::Pin(_) => "pin",
        Field::Prompt(_) => "prompt",
        Field::Attempt(_) => "attempt",
        Field::Errno(_) => "errno",
        Field::Message(_) => "message",
    }
}

impl Run {
    fn conn(&mut self, n: usize, step: usize, line: usize) -> Result<&mut Control, Fail> {
        while self.conns.len() <= n {
            self.conns.push(None);
        }
        if self.conns.get(n).is_some_and(Option::is_none) {
            let stream = UnixStream::connect(&self.world.socket)
                .and_then(|s| {
                    s.set_write_timeout(Some(Duration::from_millis(STEP_TIMEOUT_MS)))?;
                    Ok(s)
                })
                .map_err(|e| {
                    fail(
                        step,
                        line,
                        format!("to connect to {}", self.world.socket.display()),
                        e.to_string(),
                    )
                })?;
            let record = self.packets.connections.len();
            let port = 50_000u16.saturating_add(u16::try_from(record).unwrap_or(0));
            self.packets.connections.push(Connection::new(
                SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
                SocketAddrV4::new(Ipv4Addr::LOCALHOST, POOL_CAPTURE_PORT),
            ));
            self.transcript.push_str(&format!("[{n}] connected\n"));
            if let Some(slot) = self.conns.get_mut(n) {
                *slot = Some(Control {
                    stream,
                    last_cbid: 0,
                    plain: None,
                    record,
                });
            }
        }
        self.conns
            .get_mut(n)
            .and_then(Option::as_mut)
            .ok_or_else(|| fail(step, line, "a connection", "none"))
    }

    fn record(&mut self, record: usize, from: Direction, bytes: &[u8], comment: String) {
        if let Some(c) = self.packets.connections.get_mut(record) {
            c.data(from, bytes, comment);
        }
    }

    fn step(&mut self, n: usize, step: &Step) -> Result<(), Fail> {
        let line = step.line;
        let timeout = Duration::from_millis(step.timeout_ms);
        match &step.action {
            Action::Send {
                conn,
                cmd,
                fields,
                unterminated,
                length,
                fd,
                fds,
                peer,
            } => {
                let last = self.conn(*conn, n, line)?.last_cbid;
                let packet = build(*cmd, fields, unterminated.as_deref(), last)
                    .map_err(|e| fail(n, line, "a packet the step describes", e))?;
                let mut bytes = packet.encode().to_vec();
                if let Some(len) = length {
                    bytes.resize(*len, 0);
                }
                let (owned, note) = match fd {
                    Some(kind) => {
                        let (fd, note) = self.descriptor(*kind, *cmd, *peer, n, line)?;
                        (Some(fd), note)
                    }
                    None => (None, String::new()),
                };
                let copies: Vec<BorrowedFd<'_>> = owned.iter().map(AsFd::as_fd).collect();
                let c = self.conn(*conn, n, line)?;
                let stream = c
                    .stream
                    .try_clone()
                    .map_err(|e| fail(n, line, "the socket", e.to_string()))?;
                let record = c.record;
                let sent = if *fds > 1 {
                    send_many(&stream, &bytes, copies.first().copied(), *fds)
                } else {
                    send_bytes(&stream, &bytes, copies.first().copied())
                };
                drop(copies);
                drop(owned); // the daemon has its own copy now
                sent.map_err(|e| fail(n, line, "to send the packet", e.to_string()))?;
                let text = if bytes.len() == PACKET_LEN {
                    describe(&packet)
                } else {
                    format!("{} bytes of {}", bytes.len(), describe(&packet))
                };
                let fd_note = if fd.is_some() {
                    format!(" + {} fd{note}", fds)
                } else {
                    String::new()
                };
                self.transcript
                    .push_str(&format!("[{conn}] → {text}{fd_note}\n"));
                self.record(
                    record,
                    Direction::FromConnector,
                    &bytes,
                    format!("{text}{fd_note}"),
                );
            }
            Action::Expect {
                conn,
                cmd,
                fields,
                fd,
            } => {
                let c = self.conn(*conn, n, line)?;
                let got = recv_packet(&c.stream, Some(timeout), timeout);
                let record = c.record;
                let (bytes, got_fd) = match got {
                    Ok(Received::Packet {
                        extra_fds: extra @ 1..,
                        ..
                    }) => {
                        return Err(fail(
                            n,
                            line,
                            format!("{cmd} with at most one descriptor (POOL-FD-2)"),
                            format!("{} descriptors", extra + 1),
                        ))
                    }
                    Ok(Received::Packet { bytes, fd, .. }) => (bytes, fd),
                    Ok(Received::Closed) => {
                        return Err(fail(
                            n,
                            line,
                            format!("{cmd}"),
                            "the daemon closed the connection",
                        ))
                    }
                    Ok(Received::Short { got, .. }) => {
                        return Err(fail(
                            n,
                            line,
                            format!("{cmd}"),
                            format!("{got} bytes of a packet"),
                        ))
                    }
                    Err(e) => {
                        return Err(fail(
                            n,
                            line,
                            format!("{cmd}"),
                            format!("nothing within {timeout:?} ({e})"),
                        ))
                    }
                };
                let p = Packet::decode(bytes.as_slice())
                    .map_err(|e| fail(n, line, format!("{cmd}"), e.to_string()))?;
                let text = describe(&p);
                let fd_note = if got_fd.is_some() { " + fd" } else { "" };
                self.transcript
                    .push_str(&format!("[{conn}] ← {text}{fd_note}\n"));
                self.record(
                    record,
                    Direction::FromListener,
                    bytes.as_slice(),
                    format!("{text}{fd_note}"),
                );
                if p.cmd != *cmd {
                    return Err(fail(n, line, format!("{cmd}"), text));
                }
                // POOL-PKT-3: unless the step says otherwise, a callback carries an open cbid
                // and every other packet the daemon sends carries 0.
                let callback = matches!(*cmd, Command::STARTTLS_LOCALID | Command::PINENTRY);
                if !fields
                    .iter()
                    .any(|f| matches!(f, Field::Cbid(_) | Field::CbidOpen))
                {
                    let ok = if callback {
                        (1..=1024).contains(&p.cbid)
                    } else {
                        p.cbid == 0
                    };
                    if !ok {
                        return Err(fail(
                            n,
                            line,
                            format!(
                                "{cmd} with cbid {} (POOL-PKT-3)",
                                if callback { "in 1..=1024" } else { "0" }
                            ),
                            text,
                        ));
                    }
                }
                for f in fields {
                    check(&p, f).map_err(|why| {
                        fail(
                            n,
                            line,
                            format!("{cmd} with {} {}", field_name(f), show(f)),
                            format!("{why}: {text}"),
                        )
                    })?;
                }
                let positive_starttls =
                    matches!(*cmd, Command::STARTTLS_CLIENT | Command::STARTTLS_SERVER);
                let want_fd = fd.unwrap_or(positive_starttls);
                if want_fd != got_fd.is_some() {
                    return Err(fail(
                        n,
                        line,
                        format!(
                            "{cmd} {} a descriptor (POOL-FD-2)",
                            if want_fd { "with" } else { "without" }
                        ),
                        text,
                    ));
                }
                let c = self.conn(*conn, n, line)?;
                if p.cbid != 0 {
                    c.last_cbid = p.cbid;
                }
                if let Some(fd) = got_fd {
                    let plain = UnixStream::from(fd);
                    let _ = plain.set_write_timeout(Some(Duration::from_millis(STEP_TIMEOUT_MS)));
                    c.plain = Some(plain);
                }
            }
            Action::ExpectClose(conn) => {
                let c = self.conn(*conn, n, line)?;
                let record = c.record;
                match recv_packet(&c.stream, Some(timeout), timeout) {
                    Ok(Received::Closed) => {
                        self.transcript.push_str(&format!("[{conn}] ← (closed)\n"));
                        if let Some(r) = self.packets.connections.get_mut(record) {
                            r.fin(Direction::FromListener);
                        }
                    }
                    Ok(Received::Packet { bytes, .. }) => {
                        let text = Packet::decode(bytes.as_slice())
                            .map(|p| describe(&p))
                            .unwrap_or_default();
                        return Err(fail(n, line, "the daemon to close the connection", text));
                    }
                    Ok(Received::Short { got, .. }) => {
                        return Err(fail(
                            n,
                            line,
                            "the daemon to close the connection",
                            format!("{got} bytes"),
                        ))
                    }
                    Err(e) => {
                        return Err(fail(
                            n,
                            line,
                            "the daemon to close the connection",
                            format!("nothing within {timeout:?} ({e})"),
                        ))
                    }
                }
            }
            Action::ExpectNothing(conn, ms) => {
                let wait = Duration::from_millis(*ms);
                let c = self.conn(*conn, n, line)?;
                match recv_packet(&c.stream, Some(wait), wait) {
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        self.transcript
                            .push_str(&format!("[{conn}] (nothing for {ms} ms)\n"));
                    }
                    Ok(Received::Packet { bytes, .. }) => {
                        let text = Packet::decode(bytes.as_slice())
                            .map(|p| describe(&p))
                            .unwrap_or_default();
                        return Err(fail(n, line, format!("nothing for {ms} ms"), text));
                    }
                    other => {
                        return Err(fail(
                            n,
                            line,
                            format!("nothing for {ms} ms"),
                            format!("{other:?}"),
                        ))
                    }
                }
            }
            Action::Close(conn) => {
                let c = self.conn(*conn, n, line)?;
                let record = c.record;
                let _ = c.stream.shutdown(Shutdown::Both);
                if let Some(slot) = self.conns.get_mut(*conn) {
                    *slot = None;
                }
                if let Some(r) = self.packets.connections.get_mut(record) {
                    r.fin(Direction::FromConnector);
                }
                self.transcript.push_str(&format!("[{conn}] → (closed)\n"));
            }
            Action::PlainSend(conn, data) => {
                let plain = self.plain(*conn, n, line)?;
                plain.write_all(data.as_bytes()).map_err(|e| {
                    fail(
                        n,
                        line,
                        "to write on the plaintext descriptor",
                        e.to_string(),
                    )
                })?;
                self.transcript
                    .push_str(&format!("[{conn}] plaintext → {data:?}\n"));
            }
            Action::PlainShutdown(conn) => {
                let plain = self.plain(*conn, n, line)?;
                let _ = plain.shutdown(Shutdown::Write);
                self.transcript
                    .push_str(&format!("[{conn}] plaintext → (shutdown)\n"));
            }
            Action::ExpectPlain(conn, data) => {
                let plain = self.plain(*conn, n, line)?;
                let _ = plain.set_read_timeout(Some(timeout));
                let mut buf = vec![0u8; data.len()];
                plain.read_exact(&mut buf).map_err(|e| {
                    fail(
                        n,
                        line,
                        format!("{data:?} on the plaintext descriptor"),
                        e.to_string(),
                    )
                })?;
                if buf != data.as_bytes() {
                    return Err(fail(
                        n,
                        line,
                        format!("{data:?}"),
                        format!("{:?}", String::from_utf8_lossy(&buf)),
                    ));
                }
                self.transcript
                    .push_str(&format!("[{conn}] plaintext ← {data:?}\n"));
            }
            Action::ExpectPlainEnd(conn) => {
                let plain = self.plain(*conn, n, line)?;
                let _ = plain.set_read_timeout(Some(timeout));
                let mut buf = [0u8; 64];
                match plain.read(&mut buf) {
                    Ok(0) => self
                        .transcript
                        .push_str(&format!("[{conn}] plaintext ← (end)\n")),
                    Ok(k) => {
                        return Err(fail(n, line, "the end of data", format!("{k} more bytes")))
                    }
                    Err(e) => return Err(fail(n, line, "the end of data", e.to_string())),
                }
            }
            Action::PeerSend(data) => {
                let peer = self.peer(n, line, timeout)?;
                peer.send(data.as_bytes())
                    .map_err(|e| fail(n, line, "the peer to send", e))?;
                self.transcript.push_str(&format!("peer → {data:?}\n"));
            }
            Action::ExpectPeer(data) => {
                let peer = self.peer(n, line, timeout)?;
                let got = peer
                    .expect(data.len(), timeout)
                    .map_err(|e| fail(n, line, format!("the peer to receive {data:?}"), e))?;
                if got != data.as_bytes() {
                    return Err(fail(
                        n,
                        line,
                        format!("{data:?}"),
                        format!("{:?}", String::from_utf8_lossy(&got)),
                    ));
                }
                self.transcript.push_str(&format!("peer ← {data:?}\n"));
            }
            Action::ExpectPeerEnd => {
                let peer = self.peer(n, line, timeout)?;
                peer.expect_end(timeout)
                    .map_err(|e| fail(n, line, "close_notify from the daemon (BT-CLOSE-1)", e))?;
                self.transcript.push_str("peer ← close_notify\n");
            }
            Action::ExpectPeerEof => {
                let tcp = self
                    .held
                    .last_mut()
                    .ok_or_else(|| fail(n, line, "a silent peer (peer = \"silent\")", "none"))?;
                let deadline = Instant::now() + timeout;
                let mut buf = [0u8; 4096];
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(fail(
                            n,
                            line,
                            "the daemon to close its TCP connection",
                            format!("still open after {timeout:?}"),
                        ));
                    }
                    let _ = tcp.set_read_timeout(Some(left));
                    match tcp.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => continue, // the daemon's CLIENT_HELLO, say
                        Err(e) => {
                            return Err(fail(
                                n,
                                line,
                                "the daemon to close its TCP connection",
                                format!("still open after {timeout:?} ({e})"),
                            ))
                        }
                    }
                }
                self.transcript.push_str("peer ← (TCP closed)\n");
            }
            Action::PeerClose => {
                let peer = self.peer(n, line, timeout)?;
                peer.close()
                    .map_err(|e| fail(n, line, "the peer to close", e))?;
                self.transcript.push_str("peer → close_notify\n");
            }
        }
        Ok(())
    }

    fn plain(&mut self, conn: usize, n: usize, line: usize) -> Result<&mut UnixStream, Fail> {
        self.conn(conn, n, line)?.plain.as_mut().ok_or_else(|| {
            fail(
                n,
                line,
                "a plaintext descriptor from a STARTTLS response",
                "none came on this connection",
            )
        })
    }

    fn peer(&mut self, n: usize, line: usize, timeout: Duration) -> Result<&mut PeerSession, Fail> {
        if self.peer_session.is_none() {
            let rx = self.peer.take().ok_or_else(|| {
                fail(
                    n,
                    line,
                    "a bTLS peer (send with fd = \"tcp\" first)",
                    "none",
                )
            })?;
            let session = rx
                .recv_timeout(timeout)
                .map_err(|_| {
                    fail(
                        n,
                        line,
                        "the peer's handshake to complete",
                        format!("not within {timeout:?}"),
                    )
                })?
                .map_err(|e| fail(n, line, "the peer's handshake to complete", e))?;
            self.transcript.push_str(&format!(
                "peer: handshake complete ({})\n",
                session.summary()
            ));
            self.peer_session = Some(session);
        }
        self.peer_session
            .as_mut()
            .ok_or_else(|| fail(n, line, "a bTLS peer", "none"))
    }

    /// Makes a descriptor to pass; for TCP, starts the harness's peer behind a recording proxy.
    fn descriptor(
        &mut self,
        kind: FdKind,
        cmd: Command,
        mode: PeerMode,
        n: usize,
        line: usize,
    ) -> Result<(OwnedFd, String), Fail> {
        let io = |e: std::io::Error| fail(n, line, "a descriptor to pass", e.to_string());
        match kind {
            FdKind::Unix => {
                let (a, b) = UnixStream::pair().map_err(io)?;
                self.held_unix.push(b);
                Ok((OwnedFd::from(a), " (unix)".into()))
            }
            FdKind::File => {
                let f = std::fs::File::open(&self.world.config).map_err(io)?;
                Ok((OwnedFd::from(f), " (file)".into()))
            }
            FdKind::Tcp => {
                let proxy_l = TcpListener::bind("127.0.0.1:0").map_err(io)?;
                let peer_l = TcpListener::bind("127.0.0.1:0").map_err(io)?;
                let daemon_end =
                    TcpStream::connect(proxy_l.local_addr().map_err(io)?).map_err(io)?;
                let (proxy_a, _) = proxy_l.accept().map_err(io)?;
                let proxy_b = TcpStream::connect(peer_l.local_addr().map_err(io)?).map_err(io)?;
                let (peer_end, _) = peer_l.accept().map_err(io)?;
                if let Ok(mut r) = self.session.lock() {
                    r.open(None);
                }
                let daemon_is_client = cmd == Command::STARTTLS_CLIENT;
                let rec = self.session.clone();
                self.relays.push(std::thread::spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    let profile = btls_profile::BtlsProfile;
                    if daemon_is_client {
                        harness_core::proxy::relay(&profile, &proxy_a, &proxy_b, &rec, deadline);
                    } else {
                        harness_core::proxy::relay(&profile, &proxy_b, &proxy_a, &rec, deadline);
                    }
                }));
                let keys = match mode {
                    PeerMode::Stranger => self.world.stranger.clone(),
                    _ => self.world.peer.clone(),
                };
                let daemon_public: Vec<PathBuf> = self
                    .world
                    .daemon_keys
                    .iter()
                    .flat_map(|k| k.public.clone())
                    .collect();
                match mode {
                    PeerMode::Silent => self.held.push(peer_end),
                    PeerMode::Closes => drop(peer_end),
                    PeerMode::Reference | PeerMode::Stranger => {
                        let (tx, rx) = mpsc::channel();
                        std::thread::spawn(move || {
                            let _ = tx.send(peer::handshake(
                                peer_end,
                                !daemon_is_client,
                                &keys,
                                &daemon_public,
                            ));
                        });
                        self.peer = Some(rx);
                        self.peer_session = None;
                    }
                }
                let note = match mode {
                    PeerMode::Reference => " (tcp, the harness's bTLS peer)",
                    PeerMode::Stranger => " (tcp, a bTLS peer the daemon does not know)",
                    PeerMode::Silent => " (tcp, a silent peer)",
                    PeerMode::Closes => " (tcp, a peer that closes)",
                };
                Ok((OwnedFd::from(daemon_end), note.into()))
            }
        }
    }

    /// After the last step: a fresh connection still gets its PING answered (POOL-CONN-2).
    fn sanity_ping(&mut self) -> Result<(), Fail> {
        let stream = UnixStream::connect(&self.world.socket)
            .map_err(|e| fail(0, 0, "a fresh connection to the daemon", e.to_string()))?;
        let ping = btls_pool::packet::ping_packet(0xfffe, "20261203harness@btls.example")
            .map_err(|e| fail(0, 0, "a PING", e.to_string()))?;
        send_bytes(&stream, &ping.encode(), None)
            .map_err(|e| fail(0, 0, "to send PING", e.to_string()))?;
        let wait = Duration::from_secs(5);
        match recv_packet(&stream, Some(wait), wait) {
            Ok(Received::Packet { bytes, .. }) => {
                let p = Packet::decode(bytes.as_slice())
                    .map_err(|e| fail(0, 0, "PING", e.to_string()))?;
                if p.cmd == Command::PING
                    && ping_identity(&p).ok().as_deref() == Some(IDENTITY_V1)
                    && p.reqid == 0xfffe
                {
                    self.transcript
                        .push_str("[end] PING on a fresh connection answered\n");
                    Ok(())
                } else {
                    Err(fail(
                        0,
                        0,
                        "PING answered on a fresh connection (POOL-CONN-2)",
                        describe(&p),
                    ))
                }
            }
            other => Err(fail(
                0,
                0,
                "PING answered on a fresh connection (POOL-CONN-2)",
                format!("{other:?}"),
            )),
        }
    }
}

/// Several copies of one descriptor in one message.
fn send_many(
    sock: &UnixStream,
    bytes: &[u8],
    fd: Option<BorrowedFd<'_>>,
    n: usize,
) -> std::io::Result<()> {
    use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let fds: Vec<BorrowedFd<'_>> = fd.into_iter().cycle().take(n).collect();
    let mut space = vec![std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(8))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(std::io::Error::other("too many descriptors"));
    }
    sendmsg(
        sock,
        &[std::io::IoSlice::new(bytes)],
        &mut control,
        SendFlags::NOSIGNAL,
    )?;
    Ok(())
}

fn build(
    cmd: Command,
    fields: &[Field],
    unterminated: Option<&str>,
    last_cbid: u16,
) -> Result<Packet, String> {
    let mut p = Packet::new(cmd, 0, 0);
    let mut st = Starttls::tcp("", "");
    let mut pin = Pinentry::default();
    let mut err = ErrorBody {
        errno: 0,
        message: String::new(),
    };
    let mut identity = String::new();
    for f in fields {
        match f {
            Field::Reqid(v) => p.reqid = *v,
            Field::Cbid(v) => p.cbid = *v,
            Field::CbidLast => p.cbid = last_cbid,
            Field::CbidOpen => {}
            Field::Flags(v) => {
                st.flags = *v;
                pin.flags = *v;
            }
            Field::Local(v) => st.local = *v,
            Field::Ipproto(v) => st.ipproto = *v,
            Field::Streamid(v) => st.streamid = *v,
            Field::Localid(v) => st.localid = v.clone(),
            Field::Remoteid(v) => st.remoteid = v.clone(),
            Field::Identity(v) => identity = v.clone(),
            Field::Pin(v) => pin.pin = zeroize::Zeroizing::new(v.clone()),
            Field::Prompt(v) => pin.prompt = v.clone(),
            Field::Attempt(v) => pin.attempt = *v,
            Field::Errno(v) => err.errno = *v,
            Field::Message(v) => err.message = v.clone(),
        }
    }
    let e = |e: btls_pool::packet::PacketError| e.to_string();
    match cmd {
        Command::PING => {
            let q = btls_pool::packet::ping_packet(p.reqid, &identity).map_err(e)?;
            p.data = q.data;
        }
        Command::STARTTLS_CLIENT | Command::STARTTLS_SERVER | Command::STARTTLS_LOCALID => {
            st.write(&mut p).map_err(e)?
        }
        Command::PINENTRY => p.data = pin.packet(p.reqid, p.cbid).map_err(e)?.data,
        Command::ERROR => p.data = err.packet(p.reqid).data,
        _ => {}
    }
    if let Some(field) = unterminated {
        let (at, size) = match field {
            "localid" => (offset::STARTTLS_LOCALID, IDENTITY_LEN),
            "remoteid" => (offset::STARTTLS_REMOTEID, IDENTITY_LEN),
            "identity" => (offset::PING_IDENTITY, PING_LEN),
            "pin" => (offset::PIN_PIN, PIN_LEN),
            "prompt" => (offset::PIN_PROMPT, PIN_LEN),
            "message" => (offset::ERROR_MESSAGE, MESSAGE_LEN),
            other => return Err(format!("unterminated: no string field {other:?}")),
        };
        p.set_raw(at, &vec![b'a'; size]);
    }
    Ok(p)
}

fn show(f: &Field) -> String {
    match f {
        Field::Reqid(v) | Field::Cbid(v) | Field::Streamid(v) => v.to_string(),
        Field::CbidLast => "last".into(),
        Field::CbidOpen => "in 1..=1024".into(),
        Field::Flags(v) => btls_pool::packet::flags::describe(*v),
        Field::Local(v) | Field::Attempt(v) => v.to_string(),
        Field::Ipproto(v) => v.to_string(),
        Field::Localid(v)
        | Field::Remoteid(v)
        | Field::Identity(v)
        | Field::Pin(v)
        | Field::Prompt(v) => format!("{v:?}"),
        Field::Message(v) => format!("containing {v:?}"),
        Field::Errno(v) => errno::label(*v),
    }
}

fn check(p: &Packet, f: &Field) -> Result<(), String> {
    let st = || Starttls::read(p).map_err(|e| e.to_string());
    let pin = || Pinentry::read(p).map_err(|e| e.to_string());
    let ok = match f {
        Field::Reqid(v) => p.reqid == *v,
        Field::Cbid(v) => p.cbid == *v,
        Field::CbidLast => true,
        Field::CbidOpen => (1..=1024).contains(&p.cbid),
        Field::Flags(v) => st()?.flags == *v,
        Field::Local(v) => st()?.local == *v,
        Field::Ipproto(v) => st()?.ipproto == *v,
        Field::Streamid(v) => st()?.streamid == *v,
        Field::Localid(v) => st()?.localid == *v,
        Field::Remoteid(v) => st()?.remoteid == *v,
        Field::Identity(v) => ping_identity(p).map_err(|e| e.to_string())? == *v,
        Field::Pin(v) => *pin()?.pin == *v,
        Field::Prompt(v) => pin()?.prompt == *v,
        Field::Attempt(v) => pin()?.attempt == *v,
        Field::Errno(v) => ErrorBody::read(p).map_err(|e| e.to_string())?.errno == *v,
        Field::Message(v) => ErrorBody::read(p)
            .map_err(|e| e.to_string())?
            .message
            .contains(v.as_str()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} differs", field_name(f)))
    }
}
