//! Packet captures of the harness's sessions: recording, writing pcapng or pcap, reading any
//! capture back, reassembling its TCP streams, decoding the bTLS frames in them, key logs, and
//! replaying a recorded session against an IUT. The format choices are in `harness/CAPTURES.md`.

pub mod decode;
pub mod keylog;
pub mod read;
pub mod reassemble;
pub mod record;
pub mod replay;
pub mod write;

pub use keylog::{KeyLog, KeyLogEntry};
pub use read::{read_capture, CaptureError, Segment};
pub use reassemble::{reassemble, Stream};
pub use record::{Connection, Direction, Recording, TcpEvent};
pub use write::{write_capture, Format};
