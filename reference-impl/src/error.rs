//! The crate's one error type, and the one function that maps an error to the alert sent on the
//! wire (SPEC §9).

use crate::codec::DecodeError;
use crate::msgs::{Alert, AlertDescription, ContentType, HandshakeCode, ValidationFailure};

/// Why a connection failed. Each variant's doc names the requirement behind it; [`Error::alert`]
/// is the error table of SPEC §9.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame header announced a body longer than `MAX_FRAME_BODY` (BT-FRAME-2).
    #[error("frame length {length} exceeds the maximum of 16400")]
    FrameTooLarge {
        /// The announced length.
        length: u16,
    },
    /// A frame had a content type the specification does not define (BT-FRAME-3).
    #[error("unknown content type {0}")]
    UnknownContentType(ContentType),
    /// A HANDSHAKE frame had an unknown handshake code (BT-FRAME-5).
    #[error("unknown handshake code {0}")]
    UnknownHandshakeCode(HandshakeCode),
    /// An APPLICATION frame had a subcode other than 0 (BT-FRAME-6).
    #[error("APPLICATION frame with subcode 0x{0:02x}")]
    ApplicationSubcodeNotZero(u8),
    /// A body did not decode (BT-FRAME-7, BT-FRAME-8, BT-ALERT-5).
    #[error("{frame} body does not decode: {error}")]
    MalformedBody {
        /// Which frame (`CLIENT_HELLO`, `ALERT`, …).
        frame: String,
        /// What was wrong.
        error: DecodeError,
    },
    /// A frame that the state tables do not allow in the current state (BT-HS-24).
    #[error("unexpected {got} in state {state}")]
    UnexpectedMessage {
        /// The state the receiver was in.
        state: &'static str,
        /// What arrived.
        got: String,
    },
    /// APPLICATION data arrived before the receiver's handshake completed (BT-HS-25).
    #[error("application data before the handshake completed")]
    ApplicationDataBeforeHandshakeComplete,
    /// The peer's version is not 0x0100 (BT-HS-3).
    #[error("unsupported protocol version 0x{0:04x}")]
    UnsupportedVersion(u16),
    /// The client's key algorithm is unknown or the server holds no key of it (BT-HS-4).
    #[error("no key of algorithm {0}")]
    UnsupportedKeyAlgorithm(crate::msgs::KeyAlgorithm),
    /// None of the offered cipher suites is supported (BT-HS-5).
    #[error("no common cipher suite")]
    NoCommonCipherSuite,
    /// After CANNOT_SEND_KEY the client has no key of an untried algorithm (BT-HS-16).
    #[error("the server cannot send its key and no other key algorithm is left to try")]
    NoUntriedKeyAlgorithm,
    /// This party rejected the peer's key and sent FAILED_VALIDATION (BT-HS-10).
    #[error("peer key rejected: {0}")]
    PeerKeyRejected(ValidationFailure),
    /// A well-formed field had a value not allowed here (the `illegal_parameter` rows of §9).
    #[error("illegal parameter: {0}")]
    IllegalParameter(IllegalParameter),
    /// The SESSION_DETAILS signature did not verify (BT-HS-20).
    #[error("SESSION_DETAILS signature does not verify")]
    BadSessionDetailsSignature,
    /// The CLIENT_READY signature was missing or did not verify (BT-HS-21).
    #[error("CLIENT_READY signature does not verify")]
    BadClientSignature,
    /// A READY message's verify_data was wrong (BT-HS-22, BT-HS-23).
    #[error("{0} verify_data does not match the transcript")]
    BadReadyMac(HandshakeCode),
    /// A protected frame did not open (BT-REC-4).
    #[error("a protected frame failed to authenticate")]
    BadRecordMac,
    /// The handshake did not complete in time (BT-TIME-1).
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// A local failure unrelated to the peer.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The peer sent an alert that ends the connection (BT-ALERT-2, BT-CLOSE-5).
    #[error("peer sent alert {}", .0.description)]
    AlertReceived(Alert),
    /// The stream ended during the handshake (BT-CLOSE-4).
    #[error("the peer closed the connection during the handshake")]
    PeerClosedDuringHandshake,
    /// The stream ended after the handshake without close_notify (BT-CLOSE-3).
    #[error("the connection was truncated: end of stream without close_notify")]
    Truncated,
    /// The application wrote before the handshake completed.
    #[error("the handshake has not completed")]
    HandshakeNotComplete,
    /// The application wrote after the connection was closed or failed.
    #[error("the connection is closed")]
    ConnectionClosed,
    /// The record limit left no room for more application data: close_notify was sent as the
    /// last protected frame and the data was not sent (BT-REC-8).
    #[error("the record limit is reached: close_notify sent, the data not sent")]
    RecordLimitReached,
    /// A client configuration names no expected server and does not accept any (BT-KEY-16).
    #[error("the client configuration names no expected server registration (set expected_server, or accept_any_server to skip the check)")]
    NoExpectedServer,
}

/// The `illegal_parameter` cases, named for what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IllegalParameter {
    /// CLIENT_HELLO listed a cipher suite twice (BT-MSG-3).
    #[error("a cipher suite is offered twice")]
    DuplicateCipherSuite,
    /// A key share has the wrong length or is not a valid point, or the agreement was zero
    /// (BT-MSG-4, BT-KS-1).
    #[error("invalid key share")]
    InvalidKeyShare,
    /// SERVER_HELLO named another algorithm than the CLIENT_HELLO (BT-MSG-6).
    #[error("SERVER_HELLO key algorithm differs from CLIENT_HELLO's")]
    KeyAlgorithmMismatch,
    /// SERVER_HELLO's session ID is neither empty nor the offered one (BT-MSG-7).
    #[error("SERVER_HELLO session_id is not the offered one")]
    SessionIdNotEchoed,
    /// SESSION_DETAILS selected a suite the client did not offer (BT-MSG-9).
    #[error("cipher suite was not offered")]
    UnofferedCipherSuite,
    /// A retried CLIENT_HELLO named an algorithm already tried, or carried a session ID
    /// (BT-HS-16).
    #[error("retried CLIENT_HELLO repeats a key algorithm or offers a session")]
    InvalidRetry,
    /// A resumed CLIENT_READY carried a signature (BT-RES-6).
    #[error("resumed CLIENT_READY carries a signature")]
    SignatureInResumedHandshake,
    /// A resumed SERVER_HELLO named another server key than the session's (BT-RES-5).
    #[error("resumed SERVER_HELLO names another server key")]
    ResumedWithAnotherKey,
}

impl Error {
    /// The alert this party sends for this error, or `None` when no alert is sent (the peer
    /// already ended the connection, or the error is the application's).
    pub fn alert(&self) -> Option<AlertDescription> {
        use AlertDescription as A;
        Some(match self {
            Self::FrameTooLarge { .. } => A::RECORD_OVERFLOW,
            Self::UnknownContentType(_)
            | Self::UnknownHandshakeCode(_)
            | Self::UnexpectedMessage { .. }
            | Self::ApplicationDataBeforeHandshakeComplete => A::UNEXPECTED_MESSAGE,
            Self::ApplicationSubcodeNotZero(_) | Self::MalformedBody { .. } => A::DECODE_ERROR,
            Self::UnsupportedVersion(_) => A::PROTOCOL_VERSION,
            Self::UnsupportedKeyAlgorithm(_)
            | Self::NoCommonCipherSuite
            | Self::NoUntriedKeyAlgorithm
            | Self::PeerKeyRejected(_) => A::FAILED_HANDSHAKE,
            Self::IllegalParameter(_) => A::ILLEGAL_PARAMETER,
            Self::BadSessionDetailsSignature | Self::BadClientSignature | Self::BadReadyMac(_) => {
                A::DECRYPT_ERROR
            }
            Self::BadRecordMac => A::BAD_RECORD_MAC,
            Self::HandshakeTimeout => A::HANDSHAKE_TIMEOUT,
            Self::Internal(_) => A::INTERNAL_ERROR,
            Self::AlertReceived(_)
            | Self::PeerClosedDuringHandshake
            | Self::Truncated
            | Self::HandshakeNotComplete
            | Self::ConnectionClosed
            | Self::RecordLimitReached
            | Self::NoExpectedServer => return None,
        })
    }
}

impl Error {
    /// The requirement ID of SPEC.md behind this error, for reports and logs.
    pub fn requirement(&self) -> &'static str {
        match self {
            Self::FrameTooLarge { .. } => "BT-FRAME-2",
            Self::UnknownContentType(_) => "BT-FRAME-3",
            Self::UnknownHandshakeCode(_) => "BT-FRAME-5",
            Self::ApplicationSubcodeNotZero(_) => "BT-FRAME-6",
            Self::MalformedBody { .. } => "BT-FRAME-7",
            Self::UnexpectedMessage { .. } => "BT-HS-24",
            Self::ApplicationDataBeforeHandshakeComplete | Self::HandshakeNotComplete => "BT-HS-25",
            Self::UnsupportedVersion(_) => "BT-HS-3",
            Self::UnsupportedKeyAlgorithm(_) => "BT-HS-4",
            Self::NoCommonCipherSuite => "BT-HS-5",
            Self::NoUntriedKeyAlgorithm => "BT-HS-16",
            Self::PeerKeyRejected(_) => "BT-HS-10",
            Self::IllegalParameter(p) => p.requirement(),
            Self::BadSessionDetailsSignature => "BT-HS-20",
            Self::BadClientSignature => "BT-HS-21",
            Self::BadReadyMac(code) if *code == HandshakeCode::SERVER_READY => "BT-HS-23",
            Self::BadReadyMac(_) => "BT-HS-22",
            Self::BadRecordMac => "BT-REC-4",
            Self::HandshakeTimeout => "BT-TIME-1",
            Self::Internal(_) => "BT-ALERT-3",
            Self::AlertReceived(_) => "BT-ALERT-2",
            Self::PeerClosedDuringHandshake => "BT-CLOSE-4",
            Self::Truncated => "BT-CLOSE-3",
            Self::ConnectionClosed => "BT-CLOSE-1",
            Self::RecordLimitReached => "BT-REC-8",
            Self::NoExpectedServer => "BT-KEY-16",
        }
    }
}

impl IllegalParameter {
    /// The requirement ID behind this case.
    pub fn requirement(&self) -> &'static str {
        match self {
            Self::DuplicateCipherSuite => "BT-MSG-3",
            Self::InvalidKeyShare => "BT-MSG-4",
            Self::KeyAlgorithmMismatch => "BT-MSG-6",
            Self::SessionIdNotEchoed => "BT-MSG-7",
            Self::UnofferedCipherSuite => "BT-MSG-9",
            Self::InvalidRetry => "BT-HS-16",
            Self::SignatureInResumedHandshake => "BT-RES-6",
            Self::ResumedWithAnotherKey => "BT-RES-5",
        }
    }
}

impl From<IllegalParameter> for Error {
    fn from(p: IllegalParameter) -> Self {
        Self::IllegalParameter(p)
    }
}
