//! The profile interface: what a protocol gives the harness so that the engine, the captures,
//! the transcripts and the reports can serve it. bTLS is the first profile
//! (`btls_profile::BtlsProfile`); TLS and the TLS Pool socket protocol are written against the
//! same traits.
//!
//! | | bTLS | TLS 1.2 / 1.3 | TLS Pool (V1) |
//! |---|---|---|---|
//! | transport | TCP | TCP | UNIX stream socket, fds passed with `SCM_RIGHTS` |
//! | frame | 4-byte header + body | record: 5-byte header + fragment; handshake messages span records | fixed 376-byte packet |
//! | message name | handshake code | handshake type / content type | `cmd` |
//! | alert | alert frame | alert record (level, description) | `ERROR` packet with an errno |
//! | reference peer | `btls::Connection` | the harness's TLS peer | the pool client library |
//!
//! A profile implements [`Profile`] (how bytes become named frames, and how a named field of a
//! frame is changed) and [`ReferencePeer`] for the harness's side of a connection, and runs its
//! cases through `crate::engine::Case` (the profile's steps, peer and outcome). The engine sees a
//! protocol only through these traits. For example, a profile for fixed-size packets:
//!
//! ```
//! use harness_capture::Framing;
//! use harness_core::profile::{Profile, Transport};
//!
//! /// Packets of 8 bytes: a command byte, then 7 bytes of payload.
//! struct Fixed8;
//!
//! impl Framing for Fixed8 {
//!     fn header_len(&self) -> usize { 0 }
//!     fn frame_len(&self, _: &[u8]) -> usize { 8 }
//! }
//!
//! impl Profile for Fixed8 {
//!     type Framing = Fixed8;
//!     fn name(&self) -> &'static str { "fixed8" }
//!     fn requirement_prefix(&self) -> &'static str { "F8-" }
//!     fn transport(&self) -> Transport { Transport::Unix }
//!     fn framing(&self) -> &Fixed8 { self }
//!     fn frame_name(&self, frame: &[u8]) -> String {
//!         match frame.first() { Some(0x10) => "PING".into(), _ => "?".into() }
//!     }
//!     fn describe(&self, frame: &[u8]) -> String { format!("{} {:02x?}", self.frame_name(frame), frame) }
//!     fn alert_name(&self, frame: &[u8]) -> Option<String> {
//!         (frame.first() == Some(&0x01)).then(|| "ERROR".into())
//!     }
//!     fn compare(&self, recorded: &[u8], actual: &[u8]) -> Result<(), String> {
//!         if recorded == actual { Ok(()) } else { Err(self.describe(actual)) }
//!     }
//!     fn set_field(&self, frame: &[u8], field: &str, _: &toml::Value) -> Result<Vec<u8>, String> {
//!         Err(format!("{}: no field {field}", self.frame_name(frame)))
//!     }
//! }
//!
//! let p = Fixed8;
//! let frames = harness_capture::split_frames(p.framing(), &[0x10; 16]);
//! assert_eq!(frames.len(), 2);
//! assert_eq!(p.frame_name(frames[0]), "PING");
//! ```

use harness_capture::Framing;
use std::fmt::Display;

/// How the harness reaches the IUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A TCP connection on loopback (the IUT connects, or listens and says where).
    Tcp,
    /// A UNIX stream socket; file descriptors travel beside the bytes.
    Unix,
}

/// What a protocol tells the harness about its frames.
pub trait Profile: Send + Sync {
    /// How the protocol delimits frames on the stream.
    type Framing: Framing;

    /// Short name: `btls`, `tls`, `tlspool`.
    fn name(&self) -> &'static str;

    /// The protocol's name for people (`bTLS`, `TLS`, `TLS Pool`), in capture comments and
    /// report titles.
    fn display_name(&self) -> &'static str {
        self.name()
    }

    /// How the specification's requirement IDs begin (`BT-`), for the coverage.
    fn requirement_prefix(&self) -> &'static str;

    /// How the harness reaches the IUT.
    fn transport(&self) -> Transport;

    /// The frame delimiter, shared by the engine, the proxy, the capture decoder and adapters.
    fn framing(&self) -> &Self::Framing;

    /// A frame's short name (`SERVER_HELLO`, `alert decode_error`, `STARTTLS_CLIENT`), for
    /// capture comments and step names.
    fn frame_name(&self, frame: &[u8]) -> String;

    /// One transcript line for a frame: its name and its fields.
    fn describe(&self, frame: &[u8]) -> String;

    /// The frame as a transcript line shows it; `from_iut` for frames the IUT sent. A profile
    /// whose IUTs split data into frames as their reads happen to split it shows those frames
    /// without sizes, so that transcripts stay byte-identical (the engine merges repeats).
    fn transcript_text(&self, frame: &[u8], from_iut: bool) -> String {
        let _ = from_iut;
        self.describe(frame)
    }

    /// The name of the alert (or error) a frame carries, if it is one.
    fn alert_name(&self, frame: &[u8]) -> Option<String>;

    /// Compares a frame with a recorded one field by field (fields random by nature by length
    /// only): `Err` names the first field that differs.
    fn compare(&self, recorded: &[u8], actual: &[u8]) -> Result<(), String>;

    /// The frame with one named field set to `value` and the lengths around it fixed; `Err`
    /// names the field when the frame has no such field or the value does not fit it.
    fn set_field(&self, frame: &[u8], field: &str, value: &toml::Value) -> Result<Vec<u8>, String>;
}

/// The scripted side of a case: a reference implementation the harness drives frame by frame.
/// It does no I/O: the engine moves its output to the IUT and the IUT's frames to it.
pub trait ReferencePeer {
    /// Why the peer rejected a frame (the profile's error, naming its requirement).
    type Error: Display;

    /// Bytes the peer wants to send, in order.
    fn take_output(&mut self) -> Vec<u8>;

    /// Hands the peer one frame from the IUT at time `now_ms`.
    fn receive(&mut self, frame: &[u8], now_ms: u64) -> Result<(), Self::Error>;

    /// The session's lines of the key log, once its handshake completed.
    fn key_log(&self) -> Option<String>;
}
