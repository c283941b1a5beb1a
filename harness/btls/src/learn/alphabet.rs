//! The abstract alphabet: what the harness may send in any state, and how what the IUT sends
//! back is named.

use crate::wire::{alert_description, handshake_code};
use btls::msgs::{AlertLevel, ContentType, HandshakeCode as H, FRAME_HEADER_LEN};
use harness_core::Role;

/// The output of an input the IUT did not answer within the quiet period.
pub const NOTHING: &str = "nothing";
/// The IUT closed the connection (end of stream or reset).
pub const CLOSE: &str = "close";
/// Every input after the connection is over.
pub const CLOSED: &str = "closed";

/// One abstract input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// A handshake message: the harness's own next message when it has that one to send, else a
    /// valid sample (`inject`).
    Msg(H),
    /// The harness's hello (this code) naming a key of its registration the IUT does not know
    /// yet (a `-second` fixture key, signed by the registry): the IUT must ask for it.
    HelloNewKey(H),
    /// The message with one bit of its signature flipped.
    BadSignature(H),
    /// The message with one bit of its verify_data (the READY MAC) flipped.
    BadMac(H),
    /// Application data (protected once the harness's side is established, else plaintext).
    Application,
    /// `close_notify` (protected once the harness's side is established).
    CloseNotify,
    /// The fatal alert `failed_handshake`.
    FatalAlert,
    /// A HANDSHAKE frame with the code 0x7f, which §2.2 does not list.
    UnknownCode,
    /// A frame of content type 0x09, which §2.1 does not list.
    UnknownContentType,
}

impl Input {
    /// The name in pictures, reports and queries.
    pub fn name(self) -> String {
        match self {
            Self::Msg(c) => c.to_string(),
            Self::HelloNewKey(c) => format!("{c}(new key)"),
            Self::BadSignature(c) => format!("{c}(bad signature)"),
            Self::BadMac(c) => format!("{c}(bad MAC)"),
            Self::Application => "APPLICATION".into(),
            Self::CloseNotify => "close_notify".into(),
            Self::FatalAlert => "alert failed_handshake".into(),
            Self::UnknownCode => "HANDSHAKE(0x7f)".into(),
            Self::UnknownContentType => "FRAME(type 0x09)".into(),
        }
    }
}

/// The inputs for an IUT in `role`, in a fixed order (the harness plays the other role).
pub fn inputs(role: Role) -> Vec<Input> {
    let common = [
        Input::Msg(H::SEND_KEY),
        Input::Msg(H::SENDING_KEY),
        Input::Msg(H::CANNOT_SEND_KEY),
        Input::Msg(H::SUCCESSFUL_VALIDATION),
        Input::Msg(H::FAILED_VALIDATION),
    ];
    let tail = [
        Input::Application,
        Input::CloseNotify,
        Input::FatalAlert,
        Input::UnknownCode,
        Input::UnknownContentType,
    ];
    let mut v = Vec::new();
    match role {
        Role::Server => {
            v.extend([
                Input::Msg(H::CLIENT_HELLO),
                Input::HelloNewKey(H::CLIENT_HELLO),
                Input::Msg(H::SERVER_HELLO),
            ]);
            v.extend(common);
            v.extend([
                Input::Msg(H::SESSION_DETAILS),
                Input::Msg(H::CLIENT_READY),
                Input::BadSignature(H::CLIENT_READY),
                Input::BadMac(H::CLIENT_READY),
                Input::Msg(H::SERVER_READY),
            ]);
        }
        Role::Client => {
            v.extend([
                Input::Msg(H::SERVER_HELLO),
                Input::HelloNewKey(H::SERVER_HELLO),
                Input::Msg(H::CLIENT_HELLO),
            ]);
            v.extend(common);
            v.extend([
                Input::Msg(H::SESSION_DETAILS),
                Input::BadSignature(H::SESSION_DETAILS),
                Input::Msg(H::CLIENT_READY),
                Input::Msg(H::SERVER_READY),
                Input::BadMac(H::SERVER_READY),
            ]);
        }
    }
    v.extend(tail);
    v
}

/// The inputs' names for `role`.
pub fn names(role: Role) -> Vec<String> {
    inputs(role).into_iter().map(Input::name).collect()
}

/// A word of `role`'s alphabet by names.
pub fn show(role: Role, word: &[usize]) -> String {
    let names = names(role);
    word.iter()
        .map(|&i| names.get(i).map_or("?", String::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of one frame the IUT sent.
pub fn frame_token(frame: &[u8]) -> String {
    if let Some(code) = handshake_code(frame) {
        return code.to_string();
    }
    if let Some(d) = alert_description(frame) {
        let name = d.to_string().to_lowercase();
        // A plaintext alert's level is readable: one other than BT-ALERT-1's is named.
        return match frame.get(FRAME_HEADER_LEN..) {
            Some(&[level]) if AlertLevel(level) != d.level() => {
                format!("alert {name} (level {level})")
            }
            _ => format!("alert {name}"),
        };
    }
    match frame.first() {
        Some(&ct) if ct == ContentType::APPLICATION.0 => "APPLICATION".into(),
        Some(&ct) => format!("frame of content type {ct}"),
        None => "empty frame".into(),
    }
}

/// The output of one input: the frames' names joined by ` + `, then `close` if the IUT
/// closed; `nothing` for silence.
pub fn output(tokens: &[String]) -> String {
    if tokens.is_empty() {
        NOTHING.into()
    } else {
        tokens.join(" + ")
    }
}
