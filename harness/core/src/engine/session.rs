//! One live connection of a case: the transcript and capture being written ([`Log`]), and the
//! harness's side of the connection with the IUT ([`Session`]): writes in the pieces a step
//! asks for, reads with deadlines, the peer fed frame by frame.

use super::Step;
use crate::profile::{Profile, ReferencePeer};
use crate::stream::{FrameReader, Read1};
use harness_capture::{split_frames, Direction, Recording};
use std::collections::VecDeque;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The transcript and the capture being written.
pub struct Log<'p, P> {
    pub(super) profile: &'p P,
    pub(super) lines: Vec<String>,
    pub(super) capture: Recording,
    /// The key-log lines of each connection whose handshake completed.
    pub(super) secrets: Vec<String>,
    /// Every frame read from the IUT in this case, over all its connections, in order.
    pub(super) received: Vec<Vec<u8>>,
    /// Whether the harness opens the connections (a listening IUT).
    pub(super) harness_connects: bool,
}

impl<P: Profile> Log<'_, P> {
    /// Logs a frame the harness sent (`outgoing`) or read.
    pub fn frame(&mut self, step: usize, outgoing: bool, frame: &[u8]) {
        let arrow = if outgoing {
            "harness → iut"
        } else {
            "iut → harness"
        };
        if !outgoing {
            self.received.push(frame.to_vec());
        }
        let text = self.profile.transcript_text(frame, !outgoing);
        let line = format!("[{step:>2}] {arrow}  {text}");
        // A profile that logs the IUT's data frames without sizes shows a run of them once.
        if outgoing || self.lines.last() != Some(&line) {
            self.lines.push(line);
        }
    }

    /// Every frame read from the IUT so far in this case, over all its connections, in order
    /// (the one just read last): for checks across messages and connections, such as freshness.
    pub fn received(&self) -> &[Vec<u8>] {
        &self.received
    }

    /// Adds a line to the transcript.
    pub fn note(&mut self, step: usize, text: impl AsRef<str>) {
        self.lines.push(format!("[{step:>2}] {}", text.as_ref()));
    }

    /// The harness's direction in the capture.
    pub fn harness_side(&self) -> Direction {
        if self.harness_connects {
            Direction::FromConnector
        } else {
            Direction::FromListener
        }
    }

    /// The IUT's direction in the capture.
    pub fn iut_side(&self) -> Direction {
        if self.harness_connects {
            Direction::FromListener
        } else {
            Direction::FromConnector
        }
    }

    /// Records bytes on the wire in the capture, with the step that sent or read them.
    pub fn wire(&mut self, from: Direction, bytes: &[u8], comment: String) {
        if let Some(c) = self.capture.current() {
            c.data(from, bytes, comment);
        }
    }

    /// Records the end of `from`'s direction: a FIN, or a reset.
    pub fn wire_end(&mut self, from: Direction, reset: bool) {
        if let Some(c) = self.capture.current() {
            if reset {
                c.reset(from);
            } else {
                c.fin(from);
            }
        }
    }
}

/// One live connection with the IUT and the harness's side of it.
pub struct Session<'p, P, R> {
    pub(super) profile: &'p P,
    /// The connection.
    pub stream: TcpStream,
    pub(super) reader: FrameReader,
    /// The harness's side.
    pub peer: R,
    /// Frames the peer produced and the harness has not written yet.
    pub pending: VecDeque<Vec<u8>>,
    /// The last frame the harness wrote, for `resend`.
    pub last_sent: Vec<u8>,
    /// Frames `hold` steps kept back, in the order the peer made them; a release writes copies
    /// (so one may be written twice, and one never released is dropped).
    pub held: Vec<Vec<u8>>,
    /// When the harness got the connection: the origin of `within_ms` and `not_before_ms`.
    pub opened: Instant,
    /// A `pause_ms` write stopped because the IUT sent something: the step writes no more.
    pub interrupted: bool,
}

impl<P: Profile, R: ReferencePeer> Session<'_, P, R> {
    /// Moves what the peer wants to send into [`Session::pending`], frame by frame.
    pub fn pump(&mut self) {
        let out = self.peer.take_output();
        if !out.is_empty() {
            self.pending.extend(
                split_frames(self.profile.framing(), &out)
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
        }
    }

    /// Writes `frame` to the IUT, in the pieces `step.fragment` gives, and logs it.
    pub fn write<A>(
        &mut self,
        log: &mut Log<'_, P>,
        step: &Step<A>,
        index: usize,
        frame: &[u8],
    ) -> Result<(), String> {
        let what = self.profile.frame_name(frame);
        if step.hold {
            log.note(
                index,
                format!("harness holds {what} back (held frame {})", self.held.len()),
            );
            self.held.push(frame.to_vec());
            return Ok(());
        }
        log.frame(index, true, frame);
        self.last_sent = frame.to_vec();
        let comment = |piece: &[u8]| {
            let part = if piece.len() == frame.len() {
                String::new()
            } else {
                format!(" ({} of {} bytes)", piece.len(), frame.len())
            };
            format!(
                "step {index} (line {}): harness sends {what}{part}",
                step.line
            )
        };
        let pieces: Vec<&[u8]> = match &step.fragment {
            Some(sizes) if !sizes.is_empty() => {
                let mut out = Vec::new();
                let mut rest = frame;
                let mut sizes = sizes.iter().cycle();
                while !rest.is_empty() {
                    let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
                    let (piece, tail) = rest.split_at(n);
                    out.push(piece);
                    rest = tail;
                }
                out
            }
            _ => vec![frame],
        };
        let mut written = 0;
        for piece in pieces {
            if let Some(ms) = step.pause_ms {
                if self.pause(Duration::from_millis(ms)) {
                    self.interrupted = true;
                    log.note(
                        index,
                        format!(
                            "harness stops sending {what} after {written} of {} bytes: the IUT \
                             sent something during the {ms} ms pause",
                            frame.len()
                        ),
                    );
                    return Ok(());
                }
            }
            log.wire(log.harness_side(), piece, comment(piece));
            self.stream
                .write_all(piece)
                .and_then(|_| self.stream.flush())
                .map_err(|e| format!("write to the IUT failed: {e}"))?;
            written += piece.len();
        }
        Ok(())
    }

    /// Waits up to `pause` for the IUT to send something (or close); true if it did, so that a
    /// slow writer stops instead of writing into a connection the IUT has given up on.
    fn pause(&mut self, pause: Duration) -> bool {
        if self.reader.has_pending() {
            return true;
        }
        if pause.is_zero() || self.stream.set_read_timeout(Some(pause)).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        loop {
            match self.stream.peek(&mut byte) {
                Ok(_) => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }

    /// Writes the held frames `order` names (indices into [`Session::held`]) in one write, so
    /// that they travel in one segment, and logs each.
    pub fn release(
        &mut self,
        log: &mut Log<'_, P>,
        index: usize,
        line: usize,
        order: &[usize],
    ) -> Result<(), String> {
        let mut bytes = Vec::new();
        let mut names = Vec::new();
        for &i in order {
            let frame = self.held.get(i).cloned().ok_or_else(|| {
                format!(
                    "release: no held frame {i} ({} held so far)",
                    self.held.len()
                )
            })?;
            log.frame(index, true, &frame);
            names.push(format!("{i}: {}", self.profile.frame_name(&frame)));
            bytes.extend_from_slice(&frame);
            self.last_sent = frame;
        }
        log.wire(
            log.harness_side(),
            &bytes,
            format!(
                "step {index} (line {line}): harness releases held frames [{}] in one segment",
                names.join(", ")
            ),
        );
        self.stream
            .write_all(&bytes)
            .and_then(|_| self.stream.flush())
            .map_err(|e| format!("write to the IUT failed: {e}"))
    }

    /// Writes every frame the peer has queued.
    pub fn flush_peer<A>(
        &mut self,
        log: &mut Log<'_, P>,
        step: &Step<A>,
        index: usize,
    ) -> Result<(), String> {
        self.pump();
        while !self.interrupted {
            let Some(frame) = self.pending.pop_front() else {
                break;
            };
            self.write(log, step, index, &frame)?;
        }
        Ok(())
    }

    /// Reads one frame from the IUT, logs it and hands it to the peer. Returns the frame and
    /// the peer's verdict on it.
    #[allow(
        clippy::type_complexity,
        reason = "the frame and the peer's verdict on it"
    )]
    pub fn read(
        &mut self,
        log: &mut Log<'_, P>,
        index: usize,
        timeout: Duration,
    ) -> Result<(Vec<u8>, Result<(), R::Error>), Read1> {
        let frame = self.read_unfed(log, index, timeout)?;
        let verdict = self.feed(&frame);
        Ok((frame, verdict))
    }

    /// Reads one frame from the IUT and logs it, without handing it to the peer: for a frame
    /// the peer is to read changed, as a man in the middle would pass it on ([`Session::feed`]).
    pub fn read_unfed(
        &mut self,
        log: &mut Log<'_, P>,
        index: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, Read1> {
        match read_logged(&mut self.reader, &mut self.stream, log, index, timeout) {
            Read1::Frame(frame) => {
                log.frame(index, false, &frame);
                Ok(frame)
            }
            other => Err(other),
        }
    }

    /// Hands the peer a frame as though the IUT had sent it; the peer's verdict on it.
    pub fn feed(&mut self, frame: &[u8]) -> Result<(), R::Error> {
        self.peer.receive(frame, crate::clock::now_ms())
    }

    /// How long ago the harness got this connection.
    pub fn age(&self) -> Duration {
        self.opened.elapsed()
    }

    /// Ends the harness's direction of the connection (end of stream) and logs it.
    pub fn shutdown(&mut self, log: &mut Log<'_, P>, index: usize) {
        let _ = self.stream.shutdown(Shutdown::Write);
        log.wire_end(log.harness_side(), false);
        log.note(index, "harness → iut  end of stream");
    }

    /// Describes a frame for a failure message.
    pub fn describe(&self, frame: &[u8]) -> String {
        self.profile.describe(frame)
    }

    /// What a failed read means, for a failure message.
    pub fn read_problem(&self, r: Read1, timeout: Duration) -> String {
        read_problem(self.profile, r, timeout)
    }

    /// What a failed read in `step` means: as [`Session::read_problem`], and a step whose
    /// `within_ms` ran out says so from the connection's start.
    pub fn step_read_problem<A>(&self, r: Read1, step: &Step<A>, timeout: Duration) -> String {
        match (r, step.within_ms) {
            (Read1::TimedOut, Some(ms)) => format!(
                "nothing from the IUT by {ms} ms after the connection opened ({} ms now)",
                self.age().as_millis()
            ),
            (r, _) => self.read_problem(r, timeout),
        }
    }
}

/// What a failed read means, for a failure message.
pub(super) fn read_problem<P: Profile>(profile: &P, r: Read1, timeout: Duration) -> String {
    match r {
        Read1::Closed => "the IUT closed the connection".into(),
        Read1::ClosedMidFrame(b) => format!(
            "the IUT closed the connection in the middle of a frame ({} bytes)",
            b.len()
        ),
        Read1::TimedOut => format!("nothing from the IUT within {} ms", timeout.as_millis()),
        Read1::Failed(e) => format!("the connection failed: {e}"),
        Read1::Frame(f) => profile.describe(&f),
    }
}

/// Reads the IUT's next frame and records what arrived (or how the stream ended) in the capture.
pub(super) fn read_logged<P: Profile>(
    reader: &mut FrameReader,
    stream: &mut TcpStream,
    log: &mut Log<'_, P>,
    index: usize,
    timeout: Duration,
) -> Read1 {
    let r = reader.next(log.profile.framing(), stream, timeout);
    let at = if index == 0 {
        "after the last step".to_owned()
    } else {
        format!("step {index}")
    };
    match &r {
        Read1::Frame(frame) => {
            let name = log.profile.frame_name(frame);
            log.wire(log.iut_side(), frame, format!("{at}: iut sent {name}"));
        }
        Read1::ClosedMidFrame(bytes) => {
            log.wire(
                log.iut_side(),
                bytes,
                format!("{at}: iut sent part of a frame, then closed"),
            );
            log.wire_end(log.iut_side(), false);
        }
        Read1::Closed => log.wire_end(log.iut_side(), false),
        Read1::Failed(_) => log.wire_end(log.iut_side(), true),
        Read1::TimedOut => {}
    }
    r
}

/// Accepts the IUT's next connection, or gives up after `timeout`.
pub fn accept(listener: &TcpListener, timeout: Duration) -> Result<TcpStream, String> {
    let listener = listener.try_clone().map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok((stream, _))) => Ok(stream),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            // Unblock the accepting thread so it ends.
            let _ = TcpStream::connect(addr);
            Err(format!(
                "the IUT did not connect within {} ms",
                timeout.as_millis()
            ))
        }
    }
}
