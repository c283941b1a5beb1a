//! One application connection: reads packets, answers PING and every error at once, starts a
//! STARTTLS on a thread of its own, routes callback answers, registers a PIN-entry program.
//! When the connection closes, its open callbacks and handshakes are cancelled (POOL-CONN-3);
//! sessions already established go on.

use super::{PinProgram, Shared, STACK};
use crate::errno::*;
use crate::fdpass::{recv_packet, send_bytes, Received};
use crate::packet::{
    ping_identity, ping_packet, Command, ErrorBody, Packet, PacketError, Pinentry, Starttls,
    IDENTITY_V1, PACKET_LEN,
};
use std::collections::HashMap;
use std::net::TcpStream;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroize;

/// How long a response may wait for an application that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the connection's threads share.
#[derive(Debug)]
pub(crate) struct ConnShared {
    pub(crate) id: u64,
    writer: Mutex<UnixStream>,
    pub(crate) outstanding: AtomicUsize,
    pub(crate) closed: AtomicBool,
    handshakes: Mutex<HashMap<u64, TcpStream>>,
}

impl ConnShared {
    /// Sends one packet (and a descriptor) as one message.
    pub(crate) fn send(&self, p: &Packet, fd: Option<BorrowedFd<'_>>) -> std::io::Result<()> {
        let w = self
            .writer
            .lock()
            .map_err(|_| std::io::Error::other("writer poisoned"))?;
        let sent = send_bytes(&w, &p.encode(), fd);
        if sent.is_err() {
            // A packet sent in part (the application stopped reading) leaves the stream out of
            // step: end the connection rather than send the next packet misaligned.
            let _ = w.shutdown(std::net::Shutdown::Both);
        }
        sent
    }

    /// Sends an ERROR answering `reqid`.
    pub(crate) fn error(&self, reqid: u16, errno: i32, message: impl Into<String>) {
        let body = ErrorBody {
            errno,
            message: message.into(),
        };
        let _ = self.send(&body.packet(reqid), None);
    }

    /// Registers a handshake's stream so that closing the connection can cut it short.
    pub(crate) fn track(&self, job: u64, tcp: &TcpStream) {
        if let (Ok(mut h), Ok(clone)) = (self.handshakes.lock(), tcp.try_clone()) {
            h.insert(job, clone);
        }
        // A close that came before the registration still cancels it.
        if self.closed.load(Ordering::SeqCst) {
            let _ = tcp.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Forgets a handshake that ended.
    pub(crate) fn untrack(&self, job: u64) {
        if let Ok(mut h) = self.handshakes.lock() {
            h.remove(&job);
        }
    }

    fn cancel_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut h) = self.handshakes.lock() {
            for (_, tcp) in h.drain() {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// Serves one application connection until it closes.
pub(crate) fn serve(shared: &Arc<Shared>, stream: UnixStream) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let _ = writer.set_write_timeout(Some(WRITE_TIMEOUT));
    let conn = Arc::new(ConnShared {
        id: shared.id(),
        writer: Mutex::new(writer),
        outstanding: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        handshakes: Mutex::new(HashMap::new()),
    });
    let timeout = shared.config.packet_timeout;
    loop {
        match recv_packet(&stream, None, timeout) {
            Ok(Received::Packet {
                mut bytes,
                fd,
                extra_fds,
            }) => {
                if extra_fds > 0 {
                    let reqid = Packet::decode(bytes.as_slice())
                        .map(|p| p.reqid)
                        .unwrap_or(0);
                    conn.error(
                        reqid,
                        EPROTO,
                        format!(
                            "a packet carries at most one descriptor; got {}",
                            extra_fds + 1
                        ),
                    );
                    continue;
                }
                let decoded = Packet::decode(bytes.as_slice());
                bytes.zeroize(); // a PINENTRY's PIN (POOL-PIN-3)
                match decoded {
                    Ok(p) => handle(shared, &conn, p, fd),
                    Err(e) => conn.error(0, EPROTO, e.to_string()),
                }
            }
            Ok(Received::Short { got, closed }) => {
                // POOL-PKT-2: the stream's framing is lost; say so (the application may have
                // only shut its writing down) and end the connection.
                conn.error(
                    0,
                    EPROTO,
                    if closed {
                        format!("short packet: {got} of {PACKET_LEN} bytes, then the end of stream")
                    } else {
                        format!(
                            "short packet: {got} of {PACKET_LEN} bytes within {} ms",
                            timeout.as_millis()
                        )
                    },
                );
                let _ = stream.shutdown(std::net::Shutdown::Both);
                break;
            }
            Ok(Received::Closed) | Err(_) => break,
        }
    }
    conn.cancel_all();
    shared.callbacks.drop_connection(conn.id);
    if let Ok(mut pin) = shared.pin.lock() {
        if pin.as_ref().is_some_and(|p| p.conn.id == conn.id) {
            *pin = None;
            shared.log(format_args!("PIN-entry program went away"));
        }
    }
}

fn no_fd(conn: &ConnShared, p: &Packet, fd: &Option<OwnedFd>) -> bool {
    if fd.is_some() {
        conn.error(
            p.reqid,
            EPROTO,
            format!("{} takes no descriptor; it was closed", p.cmd),
        );
        return false;
    }
    true
}

fn starttls_errno(e: &PacketError) -> i32 {
    match e {
        PacketError::Unterminated { .. } => ENAMETOOLONG,
        _ => EINVAL,
    }
}

fn handle(shared: &Arc<Shared>, conn: &Arc<ConnShared>, p: Packet, fd: Option<OwnedFd>) {
    match p.cmd {
        Command::PING => {
            if !no_fd(conn, &p, &fd) {
                return;
            }
            match ping_identity(&p) {
                Ok(id) => {
                    shared.log(format_args!("PING from {id:?}"));
                    if let Ok(answer) = ping_packet(p.reqid, IDENTITY_V1) {
                        let _ = conn.send(&answer, None);
                    }
                }
                Err(e) => conn.error(p.reqid, EINVAL, e.to_string()),
            }
        }
        Command::STARTTLS_CLIENT | Command::STARTTLS_SERVER => {
            let Some(fd) = fd else {
                conn.error(
                    p.reqid,
                    EPROTO,
                    format!(
                        "{} came without a descriptor: pass the TCP socket with SCM_RIGHTS",
                        p.cmd
                    ),
                );
                return;
            };
            let req = match Starttls::read(&p) {
                Ok(r) => r,
                Err(e) => return conn.error(p.reqid, starttls_errno(&e), e.to_string()),
            };
            let max = shared.config.max_requests_per_connection;
            if conn.outstanding.fetch_add(1, Ordering::SeqCst) >= max {
                conn.outstanding.fetch_sub(1, Ordering::SeqCst);
                return conn.error(
                    p.reqid,
                    EAGAIN,
                    format!("{max} STARTTLS requests are outstanding on this connection"),
                );
            }
            let (s, c) = (shared.clone(), conn.clone());
            let (reqid, cmd) = (p.reqid, p.cmd);
            let spawned = std::thread::Builder::new()
                .name("btls-pool starttls".into())
                .stack_size(STACK * 2)
                .spawn(move || super::starttls::run(&s, c, reqid, cmd, req, fd));
            if spawned.is_err() {
                conn.outstanding.fetch_sub(1, Ordering::SeqCst);
                conn.error(p.reqid, EAGAIN, "the daemon cannot start another thread");
            }
        }
        Command::STARTTLS_LOCALID => {
            if !no_fd(conn, &p, &fd) {
                return;
            }
            route(shared, conn, p);
        }
        Command::PINENTRY => {
            if !no_fd(conn, &p, &fd) {
                return;
            }
            if shared.callbacks.is_open_on(p.cbid, conn.id) {
                return route(shared, conn, p);
            }
            register_pin_program(shared, conn, &p);
        }
        Command::ERROR | Command::SUCCESS => {
            if !no_fd(conn, &p, &fd) {
                return;
            }
            if shared.callbacks.is_open_on(p.cbid, conn.id) {
                return route(shared, conn, p);
            }
            let mut pin = shared.pin.lock().ok();
            let is_program = pin
                .as_ref()
                .and_then(|g| g.as_ref())
                .is_some_and(|prog| prog.conn.id == conn.id && prog.reqid == p.reqid);
            if p.cmd == Command::ERROR && is_program {
                if let Some(g) = pin.as_mut() {
                    **g = None;
                }
                drop(pin);
                shared.log(format_args!("PIN-entry program stopped"));
                let _ = conn.send(&Packet::new(Command::SUCCESS, p.reqid, 0), None);
            } else {
                drop(pin);
                conn.error(
                    p.reqid,
                    EINVAL,
                    format!(
                        "{} answers a callback, and no callback {} is open on this connection",
                        p.cmd, p.cbid
                    ),
                );
            }
        }
        other => conn.error(
            p.reqid,
            ENOSYS,
            format!("command {:#x} is not a V1 command", other.0),
        ),
    }
}

fn route(shared: &Shared, conn: &ConnShared, p: Packet) {
    let (reqid, cbid, cmd) = (p.reqid, p.cbid, p.cmd);
    if shared.callbacks.answer(conn.id, p) == super::callbacks::Routed::NotOpen {
        conn.error(
            reqid,
            EINVAL,
            format!("{cmd}: no callback {cbid} is open on this connection"),
        );
    }
}

/// POOL-PIN-1: a PINENTRY that answers no open callback offers PIN entry; one program at a time.
fn register_pin_program(shared: &Shared, conn: &Arc<ConnShared>, p: &Packet) {
    let offer = match Pinentry::read(p) {
        Ok(o) => o,
        Err(e) => return conn.error(p.reqid, EINVAL, e.to_string()),
    };
    if !offer.pin.is_empty() {
        return conn.error(
            p.reqid,
            EINVAL,
            "a PIN came, and no PINENTRY callback is open for it on this connection",
        );
    }
    let Ok(mut pin) = shared.pin.lock() else {
        return;
    };
    if let Some(prog) = pin.as_ref() {
        if prog.conn.id != conn.id && !prog.conn.closed.load(Ordering::SeqCst) {
            drop(pin);
            return conn.error(
                p.reqid,
                EBUSY,
                "another PIN-entry program is registered; one at a time",
            );
        }
    }
    *pin = Some(PinProgram {
        conn: conn.clone(),
        reqid: p.reqid,
    });
    drop(pin);
    shared.log(format_args!("PIN-entry program registered"));
}
