//! The message codec (SPEC §3, BT-FRAME-7): the first byte picks the handshake code, the rest is
//! the body. Decoding never panics, and a body that decodes re-encodes to a body that decodes to
//! the same message.
#![no_main]

use btls::msgs::{HandshakeCode, HandshakeMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&code, body)) = data.split_first() else {
        return;
    };
    if let Ok(Some(message)) = HandshakeMessage::decode(HandshakeCode(code), body) {
        let again = HandshakeMessage::decode(message.code(), &message.body());
        assert_eq!(again, Ok(Some(message)), "re-encoding changed the message");
    }
});
