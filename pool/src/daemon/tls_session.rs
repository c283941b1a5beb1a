//! A TLS 1.3 session (rustls) as the relay drives it, and its handshake over the descriptor.

use super::relay::Session;
use crate::errno::*;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// An established rustls connection.
pub(crate) struct TlsSession {
    conn: rustls::Connection,
    plaintext: Vec<u8>,
    closed: bool,
    sent_close: bool,
}

impl TlsSession {
    /// The negotiated suite, for the log line.
    pub(crate) fn suite(&self) -> String {
        self.conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "?".into())
    }

    fn drain_plaintext(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) => {
                    // close_notify: answer it, as bTLS does (the relay has no half-close).
                    self.closed = true;
                    if !self.sent_close {
                        self.conn.send_close_notify();
                        self.sent_close = true;
                    }
                    return Ok(());
                }
                Ok(n) => self
                    .plaintext
                    .extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    self.closed = true;
                    return Err(e.to_string());
                }
            }
        }
    }
}

impl Session for TlsSession {
    fn receive(&mut self, data: &[u8], _now_ms: u64) -> Result<(), String> {
        let mut rest = data;
        while !rest.is_empty() {
            if self.conn.read_tls(&mut rest).map_err(|e| e.to_string())? == 0 {
                break;
            }
            if let Err(e) = self.conn.process_new_packets() {
                self.closed = true;
                return Err(format!("TLS: {e}"));
            }
            self.drain_plaintext()?;
        }
        Ok(())
    }

    fn receive_eof(&mut self) -> Result<(), String> {
        if self.closed || self.sent_close {
            self.closed = true;
            return Ok(());
        }
        self.closed = true;
        Err("TLS: the connection was truncated: end of stream without close_notify".into())
    }

    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| e.to_string())
    }

    fn close(&mut self) {
        if !self.sent_close {
            self.conn.send_close_notify();
            self.sent_close = true;
        }
    }

    fn take_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut out).is_err() {
                break;
            }
        }
        out
    }

    fn take_application_data(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.plaintext)
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Why a TLS handshake failed: (errno, message).
fn failure(e: &io::Error) -> (i32, String) {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return match tls {
            rustls::Error::InvalidCertificate(why) => (
                EACCES,
                format!("the peer's certificate was not accepted: {why:?}"),
            ),
            rustls::Error::AlertReceived(alert) => (
                ECONNREFUSED,
                format!("the peer ended the TLS handshake: alert {alert:?}"),
            ),
            other => (EPROTO, format!("TLS handshake failed: {other}")),
        };
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => (
            ETIMEDOUT,
            "the TLS handshake did not complete in time".into(),
        ),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => (
            ECONNRESET,
            "the peer closed the connection during the TLS handshake".into(),
        ),
        _ => (
            e.raw_os_error().unwrap_or(EPROTO),
            format!("the TCP connection failed during the TLS handshake: {e}"),
        ),
    }
}

/// Runs the handshake of `conn` over `tcp` within `timeout`.
pub(crate) fn handshake(
    mut conn: rustls::Connection,
    tcp: &mut TcpStream,
    timeout: Duration,
) -> Result<TlsSession, (i32, String)> {
    // One read at a time, each bounded by what is left (complete_io would read on until the
    // handshake ends, each read with the whole wait again): a peer that trickles bytes is
    // still cut off at the deadline.
    let deadline = Instant::now() + timeout;
    while conn.is_handshaking() {
        while conn.wants_write() {
            conn.write_tls(tcp).map_err(|e| failure(&e))?;
        }
        if !conn.is_handshaking() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err((
                ETIMEDOUT,
                "the TLS handshake did not complete in time".into(),
            ));
        }
        tcp.set_read_timeout(Some(left))
            .map_err(|e| (EBADF, e.to_string()))?;
        match conn.read_tls(tcp) {
            Ok(0) => {
                return Err((
                    ECONNRESET,
                    "the peer closed the connection during the TLS handshake".into(),
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(failure(&e)),
        }
        if let Err(e) = conn.process_new_packets() {
            // Send the alert rustls queued before reporting.
            while conn.wants_write() && conn.write_tls(tcp).is_ok() {}
            return Err(failure(&io::Error::new(io::ErrorKind::InvalidData, e)));
        }
    }
    while conn.wants_write() {
        conn.write_tls(tcp).map_err(|e| failure(&e))?;
    }
    let _ = tcp.set_read_timeout(None);
    let mut session = TlsSession {
        conn,
        plaintext: Vec::new(),
        closed: false,
        sent_close: false,
    };
    session.drain_plaintext().map_err(|e| (EPROTO, e))?;
    Ok(session)
}
