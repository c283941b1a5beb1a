//! A syntactically valid frame of every handshake message, for `inject = "CODE"` steps: what a
//! confused or malicious peer might send in any state.

use crate::fixtures::Fixtures;
use btls::msgs::{
    CipherSuite, ClientHello, ClientReady, HandshakeCode as H, HandshakeMessage, Hello,
    KeyAlgorithm, ServerHello, ServerReady, SessionDetails, ValidationFailure, PROTOCOL_VERSION,
};

/// A valid X25519 public key (the base point, u = 9).
const X25519_SHARE: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

/// A sample hello of the party registered as `reg_handle`, its random all `random` bytes.
fn hello(random: u8, reg_handle: &[u8]) -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        random: [random; 32],
        session_id: None,
        key_algorithm: KeyAlgorithm::ED25519_X25519,
        reg_handle: reg_handle.to_vec(),
        key_handle: b"ed25519-1".to_vec(),
        key_share: X25519_SHARE.to_vec(),
    }
}

/// The sample frame of `code`; `None` for a code the specification does not define.
pub fn frame(code: H) -> Option<Vec<u8>> {
    let fixtures = Fixtures::get();
    let msg = match code {
        H::CLIENT_HELLO => HandshakeMessage::ClientHello(ClientHello {
            hello: hello(0x11, b"client.example"),
            cipher_suites: CipherSuite::ALL.to_vec(),
        }),
        H::SERVER_HELLO => HandshakeMessage::ServerHello(ServerHello {
            hello: hello(0x22, b"server.example"),
        }),
        H::SEND_KEY => HandshakeMessage::SendKey,
        H::SENDING_KEY => {
            HandshakeMessage::SendingKey(fixtures.key("server-ed25519")?.published.clone())
        }
        H::CANNOT_SEND_KEY => HandshakeMessage::CannotSendKey,
        H::SUCCESSFUL_VALIDATION => HandshakeMessage::SuccessfulValidation,
        H::FAILED_VALIDATION => {
            HandshakeMessage::FailedValidation(ValidationFailure::UNTRUSTED_KEY)
        }
        H::SESSION_DETAILS => HandshakeMessage::SessionDetails(SessionDetails {
            session_id: [0x33; 32],
            cipher_suite: CipherSuite::AES_256_GCM,
            signature: vec![0x44; 64],
        }),
        H::CLIENT_READY => HandshakeMessage::ClientReady(ClientReady {
            signature: vec![0x55; 64],
            verify_data: [0x66; 32],
        }),
        H::SERVER_READY => HandshakeMessage::ServerReady(ServerReady {
            verify_data: [0x77; 32],
        }),
        _ => return None,
    };
    Some(msg.to_frame())
}
