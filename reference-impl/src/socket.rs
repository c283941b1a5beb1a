//! [`SecureSocket`]: bTLS over a TCP stream with plain `Read`/`Write`, as the notes ask: the
//! application reads and writes bytes "without concern of the underlying protocol".
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::sync::Arc;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (client_config, _) = btls::testing::fixture_configs();
//! let mut socket = btls::socket::SecureSocket::connect("127.0.0.1:4433", Arc::new(client_config))?;
//! socket.write_all(b"hello")?;
//! let mut reply = Vec::new();
//! socket.read_to_end(&mut reply)?; // an error, not a short read, if the peer truncates
//! socket.close()?;
//! # Ok(()) }
//! ```

use crate::conn::{ClientConfig, Connection, HandshakeSummary, ServerConfig};
use crate::crypto::{OsRandom, RandomSource};
use crate::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long [`SecureSocket::close`] waits for the peer's close_notify.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a socket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The transport failed.
    #[error("transport: {0}")]
    Io(#[from] io::Error),
    /// The protocol failed; the alert (if any) was sent before the error was returned.
    #[error("bTLS: {0}")]
    Protocol(#[from] Error),
}

impl From<SocketError> for io::Error {
    fn from(e: SocketError) -> Self {
        match e {
            SocketError::Io(e) => e,
            SocketError::Protocol(Error::Truncated) => {
                io::Error::new(io::ErrorKind::UnexpectedEof, Error::Truncated)
            }
            SocketError::Protocol(e) => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A bTLS connection over TCP.
pub struct SecureSocket {
    stream: TcpStream,
    conn: Connection,
    buf: Vec<u8>,
    peer_closed: bool,
}

impl std::fmt::Debug for SecureSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureSocket")
            .field("peer", &self.stream.peer_addr().ok())
            .field("conn", &self.conn)
            .finish()
    }
}

impl SecureSocket {
    /// Connects to `addr` and completes the handshake as a client.
    pub fn connect(
        addr: impl ToSocketAddrs,
        config: Arc<ClientConfig>,
    ) -> Result<Self, SocketError> {
        let stream = TcpStream::connect(addr)?;
        Self::client_over(stream, config, Box::new(OsRandom))
    }

    /// Runs the client handshake over an already connected stream, with the given randomness.
    pub fn client_over(
        stream: TcpStream,
        config: Arc<ClientConfig>,
        rng: Box<dyn RandomSource>,
    ) -> Result<Self, SocketError> {
        let conn = Connection::client(config, rng, now_ms())?;
        Self::handshake(stream, conn)
    }

    /// Runs the server handshake over an accepted stream.
    pub fn accept(stream: TcpStream, config: Arc<ServerConfig>) -> Result<Self, SocketError> {
        Self::server_over(stream, config, Box::new(OsRandom))
    }

    /// Runs the server handshake over an accepted stream, with the given randomness.
    pub fn server_over(
        stream: TcpStream,
        config: Arc<ServerConfig>,
        rng: Box<dyn RandomSource>,
    ) -> Result<Self, SocketError> {
        let conn = Connection::server(config, rng, now_ms())?;
        Self::handshake(stream, conn)
    }

    fn handshake(stream: TcpStream, conn: Connection) -> Result<Self, SocketError> {
        stream.set_nodelay(true)?;
        let mut socket = Self {
            stream,
            conn,
            buf: vec![0; 32 * 1024],
            peer_closed: false,
        };
        while socket.conn.is_handshaking() {
            socket.flush_output()?;
            socket.read_some()?;
        }
        socket.flush_output()?;
        if let Some(err) = socket.conn.failure() {
            return Err(err.clone().into());
        }
        Ok(socket)
    }

    /// Writes whatever the connection has queued (frames, alerts).
    fn flush_output(&mut self) -> io::Result<()> {
        let out = self.conn.take_output();
        if !out.is_empty() {
            self.stream.write_all(&out)?;
        }
        Ok(())
    }

    /// Reads once from the transport into the connection, honouring the handshake deadline
    /// (BT-TIME-1). Returns whether the transport is still open.
    fn read_some(&mut self) -> Result<bool, SocketError> {
        let deadline = self.conn.timeout();
        let wait = deadline.map(|d| Duration::from_millis(d.saturating_sub(now_ms()).max(1)));
        self.stream.set_read_timeout(wait)?;
        let read = self.stream.read(&mut self.buf);
        let result = match read {
            Ok(0) => {
                self.peer_closed = true;
                self.conn.receive_eof()
            }
            Ok(n) => {
                let data = self.buf.get(..n).unwrap_or_default();
                self.conn.receive(data, now_ms())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.conn.handle_timeout(now_ms())
            }
            Err(e) => return Err(e.into()),
        };
        // Send the alert or close_notify reply before reporting.
        let flushed = self.flush_output();
        result?;
        flushed?;
        Ok(!self.peer_closed)
    }

    /// What the handshake established.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.conn.summary()
    }

    /// The sans-IO connection underneath, for inspection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream and the sans-IO connection, for a caller that drives both directions itself
    /// (a relay that polls the stream and another descriptor). Received application data not
    /// yet read stays in the connection.
    pub fn into_parts(self) -> (TcpStream, Connection) {
        (self.stream, self.conn)
    }

    /// Closes cleanly: sends close_notify, waits (at most [`CLOSE_TIMEOUT`]) for the peer's, and
    /// shuts the stream down (BT-CLOSE-1, BT-CLOSE-2).
    pub fn close(mut self) -> Result<(), SocketError> {
        self.conn.close();
        self.flush_output()?;
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        self.stream.set_read_timeout(Some(CLOSE_TIMEOUT))?;
        while !self.conn.is_closed() {
            match self.stream.read(&mut self.buf) {
                Ok(0) => {
                    self.conn.receive_eof()?;
                    break;
                }
                Ok(n) => {
                    let data = self.buf.get(..n).unwrap_or_default();
                    self.conn.receive(data, now_ms())?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

impl Read for SecureSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.conn.read_application_data(buf);
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if self.conn.is_closed() {
                return match self.conn.failure() {
                    Some(err) => Err(SocketError::Protocol(err.clone()).into()),
                    None => Ok(0), // close_notify received: a clean end of data
                };
            }
            self.read_some().map_err(io::Error::from)?;
        }
    }
}

impl Write for SecureSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn
            .send(buf)
            .map_err(|e| io::Error::from(SocketError::Protocol(e)))?;
        self.flush_output()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_output()?;
        self.stream.flush()
    }
}

/// A TCP listener that hands out server [`SecureSocket`]s.
#[derive(Debug)]
pub struct SecureListener {
    listener: TcpListener,
    config: Arc<ServerConfig>,
}

impl SecureListener {
    /// Listens on `addr` (use port 0 for an ephemeral port).
    pub fn bind(addr: impl ToSocketAddrs, config: Arc<ServerConfig>) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr)?,
            config,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts one connection and completes its handshake.
    pub fn accept(&self) -> Result<SecureSocket, SocketError> {
        let (stream, _) = self.listener.accept()?;
        SecureSocket::accept(stream, self.config.clone())
    }
}
