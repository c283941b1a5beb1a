//! # Captures for protocol test harnesses
//!
//! Protocol-neutral: what the harness put on the wire and what it read, recorded per TCP
//! connection ([`record`]), written as deterministic pcapng or pcap with checksums, sequence
//! numbers and a comment per packet ([`write`](mod@write)), any capture read back (ours, tcpdump's,
//! Wireshark's: [`read`]) and its TCP streams reassembled ([`reassemble`](mod@reassemble)); and the one deframer
//! that splits a byte stream into a profile's frames ([`framing`]). A profile decodes the frames
//! (the bTLS dissector is `btls_profile::dissect`). Format choices: `harness/CAPTURES.md`.
#![forbid(unsafe_code)]

pub mod framing;
pub mod read;
pub mod reassemble;
pub mod record;
pub mod write;

pub use framing::{split_frames, Deframer, Framing};
pub use read::{read_capture, CaptureError, Segment};
pub use reassemble::{reassemble, Stream};
pub use record::{Connection, Direction, Recording, TcpEvent};
pub use write::{write_capture, write_capture_with_secrets, Format, TLS_KEY_LOG};
