//! Wire messages of bTLS 1.0 (SPEC §1–§3): registries, the frame header and one module per
//! message body.

mod alert;
mod enums;
mod frame;
mod handshake;
mod hello;
pub mod layout;
mod published_key;
mod ready;
mod session_details;

pub use alert::Alert;
pub use enums::{
    AlertDescription, AlertLevel, CipherSuite, ContentType, HandshakeCode, KeyAlgorithm,
    ValidationFailure,
};
pub use frame::{frame_len, FrameHeader, FRAME_HEADER_LEN, MAX_FRAME_BODY, MAX_PLAINTEXT};
pub use handshake::HandshakeMessage;
pub use hello::{ClientHello, Hello, ServerHello, PROTOCOL_VERSION};
pub use published_key::PublishedKey;
pub use ready::{ClientReady, ServerReady};
pub use session_details::SessionDetails;

/// Length of the random in both hellos (BT-MSG-5).
pub const RANDOM_LEN: usize = 32;
/// Length of a session ID (BT-HS-13).
pub const SESSION_ID_LEN: usize = 32;
/// Length of a READY message's verify_data (BT-HS-22, BT-HS-23).
pub const VERIFY_DATA_LEN: usize = 32;
