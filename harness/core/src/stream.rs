//! Reading a profile's frames from the IUT's stream, every read bounded by a deadline.

use harness_capture::{Deframer, Framing};
use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

/// What reading the next frame gave.
#[derive(Debug)]
pub enum Read1 {
    /// A whole frame.
    Frame(Vec<u8>),
    /// End of stream at a frame boundary.
    Closed,
    /// End of stream in the middle of a frame (the bytes so far).
    ClosedMidFrame(Vec<u8>),
    /// Nothing complete arrived before the deadline.
    TimedOut,
    /// The transport failed (reset).
    Failed(String),
}

/// A stream whose reads can be bounded in time (a TCP or UNIX stream socket).
pub trait TimedRead: Read {
    /// Bounds the next reads to `timeout`.
    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()>;
}

impl TimedRead for std::net::TcpStream {
    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

impl TimedRead for std::os::unix::net::UnixStream {
    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

/// Splits the IUT's byte stream into frames, with a deadline for each.
#[derive(Debug, Default)]
pub struct FrameReader {
    deframer: Deframer,
}

impl FrameReader {
    /// Whether bytes of a frame not yet complete (or whole frames not yet taken) are buffered.
    pub fn has_pending(&self) -> bool {
        !self.deframer.pending().is_empty()
    }

    /// The next frame, waiting at most `timeout`.
    pub fn next(
        &mut self,
        framing: &impl Framing,
        stream: &mut impl TimedRead,
        timeout: Duration,
    ) -> Read1 {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self.deframer.next_frame(framing) {
                return Read1::Frame(frame);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Read1::TimedOut;
            }
            if stream.set_timeout(left).is_err() {
                return Read1::Failed("cannot set a read timeout".into());
            }
            match stream.read(&mut chunk) {
                Ok(0) if self.deframer.pending().is_empty() => return Read1::Closed,
                Ok(0) => return Read1::ClosedMidFrame(self.deframer.take_pending()),
                Ok(n) => self.deframer.push(chunk.get(..n).unwrap_or_default()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Read1::TimedOut
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Read1::Failed(e.to_string()),
            }
        }
    }
}
