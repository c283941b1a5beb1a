//! The harness's bTLS peer on a TCP descriptor the daemon was handed: the reference
//! implementation, driven step by step with a timeout on every wait.

use btls::keys::load_private_keys;
use btls::socket::SecureSocket;
use btls::{ClientConfig, Connection, OsRandom, ServerConfig};
use btls_pool::sample::IdentityKeys;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The peer's handshake timeout.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// An established session of the harness's peer.
#[derive(Debug)]
pub struct PeerSession {
    tcp: TcpStream,
    conn: Connection,
    received: Vec<u8>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs the handshake over `tcp`: as the client when `as_client`, with `keys`, knowing the
/// daemon's published keys.
pub fn handshake(
    tcp: TcpStream,
    as_client: bool,
    keys: &IdentityKeys,
    daemon_public: &[PathBuf],
) -> Result<PeerSession, String> {
    let own = load_private_keys(&keys.private).map_err(|e| e.to_string())?;
    let mut peer_keys = btls::keys::PeerKeys::default();
    peer_keys
        .add_known_files(daemon_public)
        .map_err(|e| e.to_string())?;
    let socket = if as_client {
        let mut c = ClientConfig::new(own);
        c.peer_keys = peer_keys;
        // The peer checks nothing of the daemon's identity: the cases judge the daemon.
        c.accept_any_server = true;
        c.handshake_timeout = HANDSHAKE_TIMEOUT;
        SecureSocket::client_over(tcp, Arc::new(c), Box::new(OsRandom))
    } else {
        let mut s = ServerConfig::new(own);
        s.peer_keys = peer_keys;
        s.handshake_timeout = HANDSHAKE_TIMEOUT;
        SecureSocket::server_over(tcp, Arc::new(s), Box::new(OsRandom))
    }
    .map_err(|e| format!("the peer's handshake failed: {e}"))?;
    let (tcp, mut conn) = socket.into_parts();
    let received = conn.take_application_data();
    Ok(PeerSession {
        tcp,
        conn,
        received,
    })
}

impl PeerSession {
    /// The cipher suite and the daemon's registration.
    pub fn summary(&self) -> String {
        match self.conn.summary() {
            Some(s) => format!(
                "{} with {}",
                s.cipher_suite,
                String::from_utf8_lossy(&s.peer_key.reg_handle)
            ),
            None => "no summary".into(),
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        let out = self.conn.take_output();
        self.tcp.write_all(&out).map_err(|e| e.to_string())
    }

    /// Sends application data.
    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn.send(data).map_err(|e| e.to_string())?;
        self.flush()
    }

    /// Sends close_notify.
    pub fn close(&mut self) -> Result<(), String> {
        self.conn.close();
        self.flush()
    }

    /// Reads once within what is left of `deadline`; false at the end of the stream.
    fn read_once(&mut self, deadline: Instant) -> Result<bool, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("nothing more within the step's wait".into());
        }
        self.tcp
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 16 * 1024];
        let n = self.tcp.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            self.conn.receive_eof().map_err(|e| e.to_string())?;
            return Ok(false);
        }
        let result = self
            .conn
            .receive(buf.get(..n).unwrap_or_default(), now_ms());
        self.received.extend(self.conn.take_application_data());
        self.flush()?;
        result.map_err(|e| e.to_string())?;
        Ok(true)
    }

    /// Waits for `n` bytes of application data.
    pub fn expect(&mut self, n: usize, timeout: Duration) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + timeout;
        while self.received.len() < n {
            if self.conn.is_closed() || !self.read_once(deadline)? {
                return Err(format!(
                    "the connection ended after {} bytes",
                    self.received.len()
                ));
            }
        }
        Ok(self.received.drain(..n).collect())
    }

    /// Waits for close_notify (an end of stream without one is a truncation, BT-CLOSE-3).
    pub fn expect_end(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while !self.conn.is_closed() {
            if !self.read_once(deadline)? {
                break;
            }
        }
        match self.conn.failure() {
            Some(e) => Err(e.to_string()),
            None if self.conn.is_closed() => Ok(()),
            None => Err("the stream ended without close_notify".into()),
        }
    }
}
