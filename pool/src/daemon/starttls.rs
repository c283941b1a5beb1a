//! One STARTTLS request: check the descriptor and the fields, choose the local identity
//! (proposing each configured one through STARTTLS_LOCALID when the request names none),
//! unlock protected keys through the PIN-entry program, run the bTLS handshake, answer with
//! the plaintext end of a socketpair, and relay.

use super::conn::ConnShared;
use super::relay::{self, Session};
use super::{tls_session, Shared};
use crate::config::{LocalIdentity, LocalKey, TlsIdentity};
use crate::errno::*;
use crate::identity;
use crate::packet::{flags, Command, Packet, PacketError, Pinentry, Starttls, IPPROTO_TCP};
use btls::keys::{load_private_key, KeyCache, KeyFileError, OwnKey};
use btls::socket::{SecureSocket, SocketError};
use btls::{ClientConfig, Error, OsRandom, ServerConfig};
use rustix::net::{sockopt, AddressFamily, SocketType};
use std::net::TcpStream;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use zeroize::{Zeroize, Zeroizing};

/// Why a request failed: the ERROR it is answered with.
#[derive(Debug)]
pub(crate) struct Fail {
    errno: i32,
    message: String,
    /// Nobody to answer: the application's connection closed.
    silent: bool,
}

fn fail(errno: i32, message: impl Into<String>) -> Fail {
    Fail {
        errno,
        message: message.into(),
        silent: false,
    }
}

fn cancelled() -> Fail {
    Fail {
        errno: ECANCELED,
        message: "the application's connection closed".into(),
        silent: true,
    }
}

/// Runs the request to its end: an ERROR, or a response and a relay until the session ends.
/// The request stops counting as outstanding once it is answered (POOL-CONN-1), and the
/// session does not hold the application's connection open while it relays.
pub(crate) fn run(
    shared: &Arc<Shared>,
    conn: Arc<ConnShared>,
    reqid: u16,
    cmd: Command,
    req: Starttls,
    fd: OwnedFd,
) {
    shared.sessions.fetch_add(1, Ordering::SeqCst);
    let job = shared.id();
    let pending = Pending::new(&conn.outstanding);
    let result = establish(shared, &conn, job, reqid, cmd, &req, fd, &pending);
    pending.release();
    match result {
        Ok(Established {
            tcp,
            mut session,
            protocol,
            answer,
            plain,
        }) => {
            drop(conn);
            shared.log(format_args!(
                "session {job}: {} localid={:?} remoteid={:?} {protocol}",
                if cmd == Command::STARTTLS_CLIENT {
                    "client"
                } else {
                    "server"
                },
                answer.localid,
                answer.remoteid,
            ));
            let stats = relay::relay(tcp, &mut *session, plain);
            shared.log(format_args!(
                "session {job} ended: {} bytes to the peer, {} from it{}",
                stats.to_peer,
                stats.from_peer,
                stats.error.map(|e| format!(", {e}")).unwrap_or_default()
            ));
        }
        Err(f) => {
            if !f.silent {
                shared.log(format_args!(
                    "request {job} ({cmd} reqid {reqid}) failed: {} {}",
                    label(f.errno),
                    f.message
                ));
                conn.error(reqid, f.errno, f.message);
            }
        }
    }
    shared.sessions.fetch_sub(1, Ordering::SeqCst);
}

/// The request's place in its connection's count of unanswered requests (POOL-CONN-1): given
/// back once, just before the answer goes out, so that the application's next request never
/// meets a count that still holds an answered one.
struct Pending<'a> {
    count: &'a std::sync::atomic::AtomicUsize,
    released: std::sync::atomic::AtomicBool,
}

impl<'a> Pending<'a> {
    fn new(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        Self {
            count,
            released: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn release(&self) {
        if !self.released.swap(true, Ordering::SeqCst) {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A session the handshake established, and the response that was sent.
struct Established {
    tcp: TcpStream,
    session: Box<dyn Session + Send>,
    /// `protocol=bTLS suite=… resumed=…`, for the log line.
    protocol: String,
    answer: Starttls,
    plain: UnixStream,
}

#[allow(clippy::too_many_arguments, reason = "the request's parts")]
fn establish(
    shared: &Shared,
    conn: &ConnShared,
    job: u64,
    reqid: u16,
    cmd: Command,
    req: &Starttls,
    fd: OwnedFd,
    pending: &Pending<'_>,
) -> Result<Established, Fail> {
    // POOL-ST-2: TCP only; DTLS, UDP and SCTP are not offered.
    if req.flags & flags::DTLS != 0 {
        return Err(fail(
            EPROTONOSUPPORT,
            "DTLS is not supported: bTLS runs over TCP",
        ));
    }
    if req.ipproto != IPPROTO_TCP {
        return Err(fail(
            EPROTONOSUPPORT,
            format!(
                "ipproto {} is not supported: bTLS runs over TCP (6)",
                req.ipproto
            ),
        ));
    }
    let tcp = tcp_stream(fd)?;
    if !req.remoteid.is_empty() {
        identity::check(&req.remoteid).map_err(|why| fail(EINVAL, format!("remoteid: {why}")))?;
    }
    if !req.localid.is_empty() {
        identity::check(&req.localid).map_err(|why| fail(EINVAL, format!("localid: {why}")))?;
    }
    let local = choose_local(shared, conn, reqid, cmd, req)?;
    if let Some(tls) = &local.tls {
        return establish_tls(
            shared,
            conn,
            job,
            (reqid, cmd, req),
            local,
            tls,
            tcp,
            pending,
        );
    }
    let keys = unlock(shared, conn, local)?;
    let state = shared
        .identities
        .get(&local.identity)
        .ok_or_else(|| fail(ENOENT, format!("no state for {:?}", local.identity)))?;
    let ignore_caches = req.flags & flags::IGNORE_CACHES != 0;
    let check_remote = !req.remoteid.is_empty() && req.flags & flags::IGNORE_REMOTEID == 0;
    let mut peer_keys = shared.peer_keys.clone();
    if ignore_caches {
        peer_keys.cache = Arc::new(KeyCache::new(shared.config.remote.key_cache));
    }
    let r = &shared.config.remote;
    conn.track(job, &tcp);
    let result = if cmd == Command::STARTTLS_CLIENT {
        let mut c = ClientConfig::new(keys);
        c.peer_keys = peer_keys;
        c.cipher_suites = r.cipher_suites.clone();
        c.handshake_timeout = shared.config.handshake_timeout;
        c.resumption = r.resumption && !ignore_caches;
        c.sessions = state.client_sessions.clone();
        // BT-KEY-11 checks the server's registration against the remote identity.
        c.expected_server = check_remote.then(|| req.remoteid.as_bytes().to_vec());
        c.accept_any_server = !check_remote; // the application asked for no check (BT-KEY-16)
        SecureSocket::client_over(tcp, Arc::new(c), Box::new(OsRandom))
    } else {
        let mut s = ServerConfig::new(keys);
        s.peer_keys = peer_keys;
        s.cipher_suites = r.cipher_suites.clone();
        s.handshake_timeout = shared.config.handshake_timeout;
        s.resumption = r.resumption && !ignore_caches;
        s.may_send_key = r.send_key;
        s.sessions = state.server_sessions.clone();
        SecureSocket::server_over(tcp, Arc::new(s), Box::new(OsRandom))
    };
    conn.untrack(job);
    if conn.closed.load(Ordering::SeqCst) {
        return Err(cancelled());
    }
    let socket = result.map_err(handshake_fail)?;
    let peer = socket
        .summary()
        .map(|s| s.peer_key.reg_handle.clone())
        .unwrap_or_default();
    let peer_id = identity::from_reg_handle(&peer).unwrap_or_default();
    // POOL-ID-2: a server that names the remote identity gets that client or an error.
    if check_remote && peer_id != req.remoteid {
        return Err(fail(
            EACCES,
            format!(
                "the peer is {:?}, not the remoteid {:?}",
                String::from_utf8_lossy(&peer),
                req.remoteid
            ),
        ));
    }
    let summary = socket.summary().cloned();
    let protocol = summary
        .map(|s| {
            format!(
                "protocol=bTLS suite={} resumed={}",
                s.cipher_suite, s.resumed
            )
        })
        .unwrap_or_default();
    let (tcp, session) = socket.into_parts();
    respond(
        conn,
        (reqid, cmd, req),
        &local.identity,
        peer_id,
        (tcp, Box::new(session), protocol),
        pending,
    )
}

/// POOL-FD-2: the positive response, with the plaintext end of a socketpair.
fn respond(
    conn: &ConnShared,
    (reqid, cmd, req): (u16, Command, &Starttls),
    localid: &str,
    remoteid: String,
    (tcp, session, protocol): (TcpStream, Box<dyn Session + Send>, String),
    pending: &Pending<'_>,
) -> Result<Established, Fail> {
    let answer = Starttls {
        localid: localid.to_owned(),
        remoteid,
        ..req.clone()
    };
    let (app_end, pool_end) =
        UnixStream::pair().map_err(|e| fail(EAGAIN, format!("socketpair: {e}")))?;
    let packet = answer
        .packet(cmd, reqid, 0)
        .map_err(|e| fail(EINVAL, e.to_string()))?;
    pending.release();
    conn.send(&packet, Some(app_end.as_fd()))
        .map_err(|_| cancelled())?;
    drop(app_end);
    Ok(Established {
        tcp,
        session,
        protocol,
        answer,
        plain: pool_end,
    })
}

/// An identity configured for TLS 1.3: rustls instead of bTLS, the same response and relay.
#[allow(clippy::too_many_arguments, reason = "the request's parts")]
fn establish_tls(
    shared: &Shared,
    conn: &ConnShared,
    job: u64,
    (reqid, cmd, req): (u16, Command, &Starttls),
    local: &LocalIdentity,
    tls: &TlsIdentity,
    mut tcp: TcpStream,
    pending: &Pending<'_>,
) -> Result<Established, Fail> {
    let ignore_caches = req.flags & flags::IGNORE_CACHES != 0;
    let check_remote = !req.remoteid.is_empty() && req.flags & flags::IGNORE_REMOTEID == 0;
    let rustls_conn: rustls::Connection = if cmd == Command::STARTTLS_CLIENT {
        // The remote identity is the server name its certificate must carry.
        let name = rustls::pki_types::ServerName::try_from(req.remoteid.clone()).map_err(|_| {
            fail(
                EINVAL,
                "a TLS client needs the remoteid: it is the name the server's certificate must carry",
            )
        })?;
        let mut config = tls.client.clone();
        if ignore_caches {
            let mut c = (*config).clone();
            c.resumption = rustls::client::Resumption::disabled();
            config = Arc::new(c);
        }
        rustls::ClientConnection::new(config, name)
            .map_err(|e| fail(EPROTO, e.to_string()))?
            .into()
    } else {
        if check_remote {
            return Err(fail(
                EACCES,
                format!(
                    "{:?} speaks TLS without client certificates: the remoteid {:?} cannot be confirmed",
                    local.identity, req.remoteid
                ),
            ));
        }
        rustls::ServerConnection::new(tls.server.clone())
            .map_err(|e| fail(EPROTO, e.to_string()))?
            .into()
    };
    conn.track(job, &tcp);
    let result = tls_session::handshake(rustls_conn, &mut tcp, shared.config.handshake_timeout);
    conn.untrack(job);
    if conn.closed.load(Ordering::SeqCst) {
        return Err(cancelled());
    }
    let session = result.map_err(|(errno, message)| fail(errno, message))?;
    let protocol = format!("protocol=TLS1.3 suite={}", session.suite());
    let remoteid = if cmd == Command::STARTTLS_CLIENT {
        req.remoteid.clone()
    } else {
        String::new()
    };
    respond(
        conn,
        (reqid, cmd, req),
        &local.identity,
        remoteid,
        (tcp, Box::new(session), protocol),
        pending,
    )
}

fn tcp_stream(fd: OwnedFd) -> Result<TcpStream, Fail> {
    match sockopt::socket_type(&fd) {
        Err(rustix::io::Errno::NOTSOCK) => {
            return Err(fail(ENOTSOCK, "the descriptor is not a socket"));
        }
        Err(e) => return Err(fail(EBADF, format!("the descriptor: {e}"))),
        Ok(t) if t != SocketType::STREAM => {
            return Err(fail(
                EPROTONOSUPPORT,
                "the descriptor is not a stream socket",
            ));
        }
        Ok(_) => {}
    }
    let inet = matches!(sockopt::socket_domain(&fd), Ok(d) if d == AddressFamily::INET || d == AddressFamily::INET6);
    let tcp =
        matches!(sockopt::socket_protocol(&fd), Ok(Some(p)) if p == rustix::net::ipproto::TCP);
    if !inet || !tcp {
        return Err(fail(EPROTONOSUPPORT, "the descriptor is not a TCP socket"));
    }
    let tcp = TcpStream::from(fd);
    tcp.peer_addr()
        .map_err(|e| fail(EBADF, format!("the TCP socket is not connected: {e}")))?;
    Ok(tcp)
}

fn handshake_fail(e: SocketError) -> Fail {
    match e {
        SocketError::Protocol(Error::PeerKeyRejected(why)) => {
            fail(EACCES, format!("the peer's key was not accepted: {why}"))
        }
        SocketError::Protocol(Error::HandshakeTimeout) => {
            fail(ETIMEDOUT, "the bTLS handshake did not complete in time")
        }
        SocketError::Protocol(Error::PeerClosedDuringHandshake) => fail(
            ECONNRESET,
            "the peer closed the connection during the handshake",
        ),
        SocketError::Protocol(e @ Error::AlertReceived(_)) => {
            fail(ECONNREFUSED, format!("the peer ended the handshake: {e}"))
        }
        SocketError::Protocol(e) => fail(EPROTO, format!("bTLS handshake failed: {e}")),
        SocketError::Io(e) => fail(
            e.raw_os_error().unwrap_or(EPIPE),
            format!("the TCP connection failed during the handshake: {e}"),
        ),
        other => fail(EPROTO, other.to_string()),
    }
}

/// POOL-CB-1: the named local identity, or each configured one proposed in turn.
fn choose_local<'a>(
    shared: &'a Shared,
    conn: &ConnShared,
    reqid: u16,
    cmd: Command,
    req: &Starttls,
) -> Result<&'a LocalIdentity, Fail> {
    let config = &shared.config;
    if !req.localid.is_empty() {
        return config.local_identity(&req.localid).ok_or_else(|| {
            fail(
                ENOENT,
                format!("no credentials for the local identity {:?}", req.localid),
            )
        });
    }
    if config.local.is_empty() {
        return Err(fail(ENOENT, "no local identity is configured"));
    }
    for candidate in &config.local {
        let proposal = Starttls {
            localid: candidate.identity.clone(),
            ..req.clone()
        };
        let answer = callback(shared, conn, |cbid| {
            proposal.packet(Command::STARTTLS_LOCALID, reqid, cbid)
        })?;
        if answer.cmd == Command::ERROR {
            return Err(fail(EACCES, "the application refused the local identity"));
        }
        let chosen = Starttls::read(&answer).map_err(|e| fail(ENAMETOOLONG, e.to_string()))?;
        if chosen.localid.is_empty() {
            continue; // refused: propose the next one
        }
        return config.local_identity(&chosen.localid).ok_or_else(|| {
            fail(
                ENOENT,
                format!(
                    "the application chose {:?}, which has no credentials",
                    chosen.localid
                ),
            )
        });
    }
    let _ = cmd;
    Err(fail(
        EACCES,
        format!(
            "the application refused every local identity ({} proposed)",
            config.local.len()
        ),
    ))
}

/// Sends a callback over `conn` and waits for its answer.
fn callback(
    shared: &Shared,
    conn: &ConnShared,
    packet: impl FnOnce(u16) -> Result<Packet, PacketError>,
) -> Result<Packet, Fail> {
    let (cbid, rx) = shared
        .callbacks
        .open(conn.id)
        .ok_or_else(|| fail(EAGAIN, "all 1024 callbacks are open"))?;
    let p = match packet(cbid) {
        Ok(p) => p,
        Err(e) => {
            shared.callbacks.close(cbid);
            return Err(fail(EINVAL, e.to_string()));
        }
    };
    if conn.send(&p, None).is_err() {
        shared.callbacks.close(cbid);
        return Err(cancelled());
    }
    let timeout = shared.config.callback_timeout;
    match rx.recv_timeout(timeout) {
        Ok(answer) => Ok(answer),
        Err(RecvTimeoutError::Timeout) => {
            shared.callbacks.close(cbid);
            Err(fail(
                ETIMEDOUT,
                format!(
                    "callback {cbid} ({}) was not answered within {} ms",
                    p.cmd,
                    timeout.as_millis()
                ),
            ))
        }
        Err(RecvTimeoutError::Disconnected) => Err(cancelled()),
    }
}

/// The identity's keys, protected ones unlocked with a PIN from the PIN-entry program.
fn unlock(
    shared: &Shared,
    conn: &ConnShared,
    local: &LocalIdentity,
) -> Result<Vec<Arc<OwnKey>>, Fail> {
    let protected: Vec<_> = local
        .keys
        .iter()
        .filter_map(|k| match k {
            LocalKey::Protected(p) => Some(p),
            LocalKey::Plain(_) => None,
        })
        .collect();
    let mut unlocked = Vec::new();
    if !protected.is_empty() {
        let attempts = shared.config.pin_attempts;
        'attempt: for attempt in 1..=attempts {
            let pin = ask_pin(shared, conn, local, attempt)?;
            unlocked.clear();
            for path in &protected {
                match load_private_key(path, Some(&pin)) {
                    Ok(k) => unlocked.push(Arc::new(k)),
                    Err(KeyFileError::WrongPassword { .. }) => continue 'attempt,
                    Err(e) => return Err(fail(EIO, e.to_string())),
                }
            }
            break;
        }
        if unlocked.len() != protected.len() {
            return Err(fail(
                EACCES,
                format!("wrong PIN {attempts} times for {:?}", local.identity),
            ));
        }
    }
    let mut unlocked = unlocked.into_iter();
    Ok(local
        .keys
        .iter()
        .filter_map(|k| match k {
            LocalKey::Plain(k) => Some(k.clone()),
            LocalKey::Protected(_) => unlocked.next(),
        })
        .collect())
}

/// POOL-PIN-2: asks the registered PIN-entry program; an empty PIN refuses.
fn ask_pin(
    shared: &Shared,
    _conn: &ConnShared,
    local: &LocalIdentity,
    attempt: u32,
) -> Result<Zeroizing<String>, Fail> {
    let program = shared
        .pin
        .lock()
        .ok()
        .and_then(|p| p.clone())
        .filter(|p| !p.conn.closed.load(Ordering::SeqCst))
        .ok_or_else(|| {
            fail(
                ENOKEY,
                format!(
                    "{:?} has a protected key and no PIN-entry program is registered",
                    local.identity
                ),
            )
        })?;
    let request = Pinentry {
        attempt,
        timeout_us: u32::try_from(shared.config.callback_timeout.as_micros()).unwrap_or(u32::MAX),
        prompt: local.prompt.clone(),
        token_label: local.token_label.clone(),
        ..Pinentry::default()
    };
    let answer = callback(shared, &program.conn, |cbid| {
        request.packet(program.reqid, cbid)
    })
    .map_err(|f| {
        if f.silent {
            fail(ECANCELED, "the PIN-entry program went away")
        } else {
            f
        }
    })?;
    if answer.cmd != Command::PINENTRY {
        return Err(fail(
            ECANCELED,
            format!("the PIN-entry program answered {}", answer.cmd),
        ));
    }
    let mut answer = answer;
    let entry = Pinentry::read(&answer).map_err(|e| fail(EINVAL, e.to_string()));
    answer.data.zeroize(); // the PIN's bytes in the packet (POOL-PIN-3)
    let entry = entry?;
    if entry.pin.is_empty() {
        return Err(fail(ECANCELED, "PIN entry was refused"));
    }
    Ok(entry.pin)
}
