//! Every HANDSHAKE frame body, decoded by its handshake code (SPEC §2.2).

use super::ContentType;
use super::{
    ClientHello, ClientReady, FrameHeader, HandshakeCode, PublishedKey, ServerHello, ServerReady,
    SessionDetails, ValidationFailure,
};
use crate::codec::{Codec, DecodeError, Reader};

/// A decoded HANDSHAKE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeMessage {
    /// CLIENT_HELLO.
    ClientHello(ClientHello),
    /// SERVER_HELLO.
    ServerHello(ServerHello),
    /// SEND_KEY: "I do not know the key you named; send it".
    SendKey,
    /// SENDING_KEY with the sender's published key.
    SendingKey(PublishedKey),
    /// CANNOT_SEND_KEY: the server will not send its key.
    CannotSendKey,
    /// SUCCESSFUL_VALIDATION of the peer's key.
    SuccessfulValidation,
    /// FAILED_VALIDATION with its reason.
    FailedValidation(ValidationFailure),
    /// SESSION_DETAILS.
    SessionDetails(SessionDetails),
    /// CLIENT_READY.
    ClientReady(ClientReady),
    /// SERVER_READY.
    ServerReady(ServerReady),
}

impl HandshakeMessage {
    /// The handshake code this message travels under.
    pub fn code(&self) -> HandshakeCode {
        match self {
            Self::ClientHello(_) => HandshakeCode::CLIENT_HELLO,
            Self::ServerHello(_) => HandshakeCode::SERVER_HELLO,
            Self::SendKey => HandshakeCode::SEND_KEY,
            Self::SendingKey(_) => HandshakeCode::SENDING_KEY,
            Self::CannotSendKey => HandshakeCode::CANNOT_SEND_KEY,
            Self::SuccessfulValidation => HandshakeCode::SUCCESSFUL_VALIDATION,
            Self::FailedValidation(_) => HandshakeCode::FAILED_VALIDATION,
            Self::SessionDetails(_) => HandshakeCode::SESSION_DETAILS,
            Self::ClientReady(_) => HandshakeCode::CLIENT_READY,
            Self::ServerReady(_) => HandshakeCode::SERVER_READY,
        }
    }

    /// The body bytes.
    pub fn body(&self) -> Vec<u8> {
        match self {
            Self::ClientHello(m) => m.to_bytes(),
            Self::ServerHello(m) => m.to_bytes(),
            Self::SendingKey(m) => m.to_bytes(),
            Self::SessionDetails(m) => m.to_bytes(),
            Self::ClientReady(m) => m.to_bytes(),
            Self::ServerReady(m) => m.to_bytes(),
            Self::FailedValidation(reason) => vec![reason.0],
            Self::SendKey | Self::CannotSendKey | Self::SuccessfulValidation => Vec::new(),
        }
    }

    /// The whole frame: header and body.
    pub fn to_frame(&self) -> Vec<u8> {
        FrameHeader::frame(ContentType::HANDSHAKE, self.code().0, &self.body())
    }

    /// Decodes a body received under `code`. `Ok(None)` means the code is unknown
    /// (BT-FRAME-5); malformed bodies are a [`DecodeError`] (BT-FRAME-7, BT-FRAME-8).
    pub fn decode(code: HandshakeCode, body: &[u8]) -> Result<Option<Self>, DecodeError> {
        let msg = match code {
            HandshakeCode::CLIENT_HELLO => Self::ClientHello(ClientHello::decode(body)?),
            HandshakeCode::SERVER_HELLO => Self::ServerHello(ServerHello::decode(body)?),
            HandshakeCode::SEND_KEY => empty(body, "SEND_KEY", Self::SendKey)?,
            HandshakeCode::SENDING_KEY => Self::SendingKey(PublishedKey::decode(body)?),
            HandshakeCode::CANNOT_SEND_KEY => empty(body, "CANNOT_SEND_KEY", Self::CannotSendKey)?,
            HandshakeCode::SUCCESSFUL_VALIDATION => {
                empty(body, "SUCCESSFUL_VALIDATION", Self::SuccessfulValidation)?
            }
            HandshakeCode::FAILED_VALIDATION => {
                let mut r = Reader::new(body);
                let reason = ValidationFailure(r.u8("FAILED_VALIDATION reason")?);
                r.expect_end("FAILED_VALIDATION")?;
                Self::FailedValidation(reason)
            }
            HandshakeCode::SESSION_DETAILS => Self::SessionDetails(SessionDetails::decode(body)?),
            HandshakeCode::CLIENT_READY => Self::ClientReady(ClientReady::decode(body)?),
            HandshakeCode::SERVER_READY => Self::ServerReady(ServerReady::decode(body)?),
            _ => return Ok(None),
        };
        Ok(Some(msg))
    }
}

fn empty(
    body: &[u8],
    what: &'static str,
    msg: HandshakeMessage,
) -> Result<HandshakeMessage, DecodeError> {
    Reader::new(body).expect_end(what)?;
    Ok(msg)
}
