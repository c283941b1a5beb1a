//! Drives a [`ClientPeer`] over a real TCP connection without the scenario engine: for direct
//! checks of a stack and for the peer's own tests. Every read has a deadline.

use crate::client13::{ClientPeer, Failure};
use crate::msgs::Record;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A client connection and the bytes read but not yet handed to the client.
pub struct Blocking {
    /// The client.
    pub peer: ClientPeer,
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Blocking {
    /// `peer` on `stream`; each read waits at most `timeout`.
    pub fn new(peer: ClientPeer, stream: TcpStream, timeout: Duration) -> Self {
        let _ = stream.set_nodelay(true);
        Self {
            peer,
            stream,
            buf: Vec::new(),
            timeout,
        }
    }

    fn flush(&mut self) -> Result<(), Failure> {
        let out = self.peer.take_output();
        if out.is_empty() {
            return Ok(());
        }
        self.stream
            .write_all(&out)
            .map_err(|e| Failure::Io(e.to_string()))
    }

    /// Reads one whole record and hands it to the client.
    fn step(&mut self, waiting_for: &'static str) -> Result<(), Failure> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(len) = Record::frame_len(&self.buf) {
                if self.buf.len() >= len {
                    let record: Vec<u8> = self.buf.drain(..len).collect();
                    let r = self.peer.receive(&record);
                    // The client's alert, if it answered with one, goes out before the error.
                    self.flush()?;
                    return r;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Timeout(self.timeout.as_millis(), waiting_for));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| Failure::Io(e.to_string()))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(Failure::Closed(waiting_for)),
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(Failure::Timeout(self.timeout.as_millis(), waiting_for))
                }
                Err(e) => return Err(Failure::Io(e.to_string())),
            }
        }
    }

    /// Sends the ClientHello (unless sent) and runs the handshake to its end.
    pub fn handshake(&mut self) -> Result<(), Failure> {
        if !self.peer.hello_sent() {
            self.peer.send_hello();
        }
        self.flush()?;
        while !self.peer.is_established() {
            self.step("for the server's handshake")?;
        }
        self.flush()
    }

    /// Sends application data.
    pub fn send(&mut self, data: &[u8]) -> Result<(), Failure> {
        self.peer.send_application_data(data)?;
        self.flush()
    }

    /// Reads until `len` bytes of application data have arrived.
    pub fn receive(&mut self, len: usize) -> Result<Vec<u8>, Failure> {
        let mut out = self.peer.take_application_data();
        while out.len() < len {
            self.step("for application data")?;
            out.extend(self.peer.take_application_data());
        }
        Ok(out)
    }

    /// Sends close_notify and reads until the server's close_notify (`Ok(true)`) or the end of
    /// the stream (`Ok(false)`).
    pub fn close(&mut self) -> Result<bool, Failure> {
        self.peer.close()?;
        self.flush()?;
        loop {
            match self.step("for close_notify") {
                Ok(()) => continue,
                Err(Failure::AlertReceived(a)) => {
                    return Ok(a.description == crate::msgs::AlertDescription::CLOSE_NOTIFY)
                }
                Err(Failure::Closed(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}
