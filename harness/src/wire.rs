//! Reading frames from the IUT with deadlines, and describing frames for transcripts.

use btls::msgs::{
    Alert, AlertDescription, ContentType, HandshakeCode, HandshakeMessage, FRAME_HEADER_LEN,
};
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
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

/// Splits the IUT's byte stream into frames.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    fn take_frame(&mut self) -> Option<Vec<u8>> {
        let len = match self.buf.get(2..4) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return None,
        };
        if self.buf.len() < FRAME_HEADER_LEN + len {
            return None;
        }
        Some(self.buf.drain(..FRAME_HEADER_LEN + len).collect())
    }

    /// The next frame, waiting at most `timeout`.
    pub fn next(&mut self, stream: &mut TcpStream, timeout: Duration) -> Read1 {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self.take_frame() {
                return Read1::Frame(frame);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Read1::TimedOut;
            }
            if stream.set_read_timeout(Some(left)).is_err() {
                return Read1::Failed("cannot set a read timeout".into());
            }
            match stream.read(&mut chunk) {
                Ok(0) if self.buf.is_empty() => return Read1::Closed,
                Ok(0) => return Read1::ClosedMidFrame(std::mem::take(&mut self.buf)),
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Read1::TimedOut
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Read1::Failed(e.to_string()),
            }
        }
    }
}

/// The handshake code of a HANDSHAKE frame.
pub fn handshake_code(frame: &[u8]) -> Option<HandshakeCode> {
    (frame.first() == Some(&ContentType::HANDSHAKE.0))
        .then(|| HandshakeCode(frame.get(1).copied().unwrap_or(0)))
}

/// The description of an ALERT frame (its subcode, readable even when protected).
pub fn alert_description(frame: &[u8]) -> Option<AlertDescription> {
    (frame.first() == Some(&ContentType::ALERT.0))
        .then(|| AlertDescription(frame.get(1).copied().unwrap_or(0)))
}

/// One line describing a frame: its kind and, for handshake frames, every decoded field.
pub fn describe(frame: &[u8]) -> String {
    let (Some(&ct), Some(&sub)) = (frame.first(), frame.get(1)) else {
        return format!("partial header {}", hex::encode(frame));
    };
    let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let declared = frame
        .get(2..4)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, u16::from_be_bytes);
    let len_note = if usize::from(declared) == body.len() {
        String::new()
    } else {
        format!(" (length field {declared}, {} body bytes)", body.len())
    };
    match ContentType(ct) {
        ContentType::HANDSHAKE => {
            let code = HandshakeCode(sub);
            match HandshakeMessage::decode(code, body) {
                Ok(Some(msg)) => format!("HANDSHAKE {}{len_note}", compact(&msg)),
                Ok(None) => format!("HANDSHAKE {code} body {}{len_note}", hex::encode(body)),
                Err(e) => format!(
                    "HANDSHAKE {code} undecodable ({e}) body {}{len_note}",
                    hex::encode(body)
                ),
            }
        }
        ContentType::ALERT => match Alert::from_body(sub, body) {
            Ok(a) => format!("ALERT {} level {}{len_note}", a.description, a.level.0),
            Err(_) => format!(
                "ALERT {} protected, {} bytes{len_note}",
                AlertDescription(sub),
                body.len()
            ),
        },
        ContentType::APPLICATION => {
            format!("APPLICATION protected, {} bytes{len_note}", body.len())
        }
        other => format!(
            "{other} subcode 0x{sub:02x} body {}{len_note}",
            hex::encode(body)
        ),
    }
}

fn compact(msg: &HandshakeMessage) -> String {
    match msg {
        HandshakeMessage::SendKey => "SEND_KEY".into(),
        HandshakeMessage::CannotSendKey => "CANNOT_SEND_KEY".into(),
        HandshakeMessage::SuccessfulValidation => "SUCCESSFUL_VALIDATION".into(),
        HandshakeMessage::FailedValidation(r) => format!("FAILED_VALIDATION reason={r}"),
        HandshakeMessage::ClientHello(m) => format!("CLIENT_HELLO {m:?}"),
        HandshakeMessage::ServerHello(m) => format!("SERVER_HELLO {m:?}"),
        HandshakeMessage::SendingKey(m) => format!("SENDING_KEY {m:?}"),
        HandshakeMessage::SessionDetails(m) => format!("SESSION_DETAILS {m:?}"),
        HandshakeMessage::ClientReady(m) => format!("CLIENT_READY {m:?}"),
        HandshakeMessage::ServerReady(m) => format!("SERVER_READY {m:?}"),
    }
}

/// A frame's kind in a few words: `HANDSHAKE CLIENT_HELLO`, `ALERT failed_handshake`,
/// `APPLICATION` (for capture comments).
pub fn frame_name(frame: &[u8]) -> String {
    let (Some(&ct), sub) = (frame.first(), frame.get(1).copied().unwrap_or(0)) else {
        return "an empty frame".into();
    };
    match ContentType(ct) {
        ContentType::HANDSHAKE => format!("HANDSHAKE {}", HandshakeCode(sub)),
        ContentType::ALERT => format!("ALERT {}", AlertDescription(sub)),
        ContentType::APPLICATION => "APPLICATION".into(),
        other => format!("content type {}", other.0),
    }
}
