//! The recording TCP proxy between a client adapter and a server adapter, for any profile.
//!
//! The adapter contract says an adapter always opens its TCP connection, whatever its role,
//! so the proxy listens twice on ephemeral loopback ports: the client adapter connects to
//! [`Proxy::client_addr`], the server adapter to [`Proxy::server_addr`], and the n-th
//! connection of one is joined to the n-th of the other. [`relay`] then forwards bytes both ways
//! and records every frame (as the profile splits and names them) with its direction into the capture [`Recording`], as one TCP
//! connection from the client (the connector, canonical address `127.0.0.1:49152+n`) to the
//! server (the listener, `127.0.0.1:4433`).
//!
//! Frames are recorded whole, at the moment their last byte reaches the proxy and before they
//! are forwarded, so the capture never depends on how TCP happened to split the bytes, and an
//! answer is always recorded after the frame it answers. The ends of stream (FIN or reset) are
//! recorded after the last frame of the connection. So a capture is byte-identical from run to
//! run whenever the two parties take turns; only frames the two send at the same time (bulk
//! data both ways) may interleave differently. Each direction is read by one thread
//! and written by another through an unbounded queue: a peer that writes a large amount before
//! reading never blocks the other direction.

use crate::profile::Profile;
use harness_capture::{Deframer, Direction, Recording};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Instant;

/// The two listening sockets of one cell.
pub struct Proxy {
    client_side: TcpListener,
    server_side: TcpListener,
}

impl Proxy {
    /// Listens on two ephemeral loopback ports.
    pub fn bind() -> std::io::Result<Self> {
        Ok(Self {
            client_side: TcpListener::bind("127.0.0.1:0")?,
            server_side: TcpListener::bind("127.0.0.1:0")?,
        })
    }

    /// Where the client adapter connects.
    pub fn client_addr(&self) -> std::io::Result<SocketAddr> {
        self.client_side.local_addr()
    }

    /// Where the server adapter connects.
    pub fn server_addr(&self) -> std::io::Result<SocketAddr> {
        self.server_side.local_addr()
    }

    /// The listener of `side` (`Direction::FromConnector` is the client's).
    pub fn listener(&self, side: Direction) -> &TcpListener {
        match side {
            Direction::FromConnector => &self.client_side,
            Direction::FromListener => &self.server_side,
        }
    }
}

/// How one direction of a relayed connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// An orderly end of stream.
    Fin,
    /// A reset or another transport error.
    Reset(String),
    /// The deadline passed with the stream still open.
    Timeout,
}

/// What the reading thread of a direction hands to its writing thread.
enum Chunk {
    Data(Vec<u8>),
    Reset,
}

fn direction_name(from: Direction) -> &'static str {
    match from {
        Direction::FromConnector => "client → server",
        Direction::FromListener => "server → client",
    }
}

fn record(recording: &Mutex<Recording>, apply: impl FnOnce(&mut harness_capture::Connection)) {
    if let Ok(mut r) = recording.lock() {
        if let Some(c) = r.current() {
            apply(c);
        }
    }
}

/// Reads `src` until it ends or `deadline`, recording each frame from `from` and passing the
/// bytes on.
fn read_side<P: Profile>(
    profile: &P,
    mut src: &TcpStream,
    from: Direction,
    recording: &Mutex<Recording>,
    tx: &mpsc::Sender<Chunk>,
    deadline: Instant,
    aborted: &AtomicBool,
) -> End {
    let mut frames = Deframer::default();
    let mut buf = vec![0u8; 64 * 1024];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || src.set_read_timeout(Some(left)).is_err() {
            break End::Timeout;
        }
        match src.read(&mut buf) {
            // After an abort the harness itself shut this socket down: not a FIN of the party.
            Ok(0) if aborted.load(Ordering::SeqCst) => {
                break End::Reset("the other side's connection was aborted".into())
            }
            Ok(0) => break End::Fin,
            Ok(n) => {
                let bytes = buf.get(..n).unwrap_or_default();
                frames.push(bytes);
                let whole: Vec<Vec<u8>> =
                    std::iter::from_fn(|| frames.next_frame(profile.framing())).collect();
                record(recording, |c| {
                    for f in &whole {
                        let name = profile.frame_name(f);
                        c.data(from, f, format!("{}: {name}", direction_name(from)));
                    }
                });
                let _ = tx.send(Chunk::Data(bytes.to_vec()));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break End::Timeout
            }
            Err(e) => break End::Reset(e.to_string()),
        }
    };
    let rest = frames.take_pending();
    record(recording, |c| {
        c.data(
            from,
            &rest,
            format!("{}: incomplete frame", direction_name(from)),
        );
    });
    if end != End::Fin {
        aborted.store(true, Ordering::SeqCst);
        let _ = tx.send(Chunk::Reset);
        // Shut this connection down too: its party sees the abort, and its writer stops.
        let _ = src.shutdown(Shutdown::Both);
    }
    end
}

/// Writes what `rx` brings to `dst`, then ends `dst`'s direction the way the source ended.
fn write_side(mut dst: &TcpStream, rx: &mpsc::Receiver<Chunk>, aborted: &AtomicBool) {
    let mut broken = false;
    for chunk in rx {
        match chunk {
            Chunk::Data(bytes) if !broken => broken = dst.write_all(&bytes).is_err(),
            Chunk::Data(_) => {}
            Chunk::Reset => {
                aborted.store(true, Ordering::SeqCst);
                let _ = dst.shutdown(Shutdown::Both);
                return;
            }
        }
    }
    let _ = dst.shutdown(Shutdown::Write);
}

/// Forwards bytes between `client` and `server` until both directions have ended (or
/// `deadline`), recording them in the current connection of `recording`. Returns how the
/// client's and the server's directions ended.
pub fn relay<P: Profile>(
    profile: &P,
    client: &TcpStream,
    server: &TcpStream,
    recording: &Mutex<Recording>,
    deadline: Instant,
) -> (End, End) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let aborted = AtomicBool::new(false);
    let aborted = &aborted;
    std::thread::scope(|scope| {
        let (to_server, for_server) = mpsc::channel();
        let (to_client, for_client) = mpsc::channel();
        scope.spawn(move || write_side(server, &for_server, aborted));
        scope.spawn(move || write_side(client, &for_client, aborted));
        let from_client = scope.spawn(move || {
            read_side(
                profile,
                client,
                Direction::FromConnector,
                recording,
                &to_server,
                deadline,
                aborted,
            )
        });
        let from_server = read_side(
            profile,
            server,
            Direction::FromListener,
            recording,
            &to_client,
            deadline,
            aborted,
        );
        drop(to_client);
        let from_client = from_client
            .join()
            .unwrap_or_else(|_| End::Reset("the relay thread panicked".into()));
        // The ends of stream are recorded last, the client's first: when each arrived relative
        // to the other side's last frames is a matter of scheduling, and the capture must not
        // depend on it.
        record(recording, |c| {
            for (from, end) in [
                (Direction::FromConnector, &from_client),
                (Direction::FromListener, &from_server),
            ] {
                match end {
                    End::Fin => c.fin(from),
                    _ => c.reset(from),
                }
            }
        });
        (from_client, from_server)
    })
}
