//! The field layout of every handshake message body (SPEC §3): each field's name, how it is
//! encoded (fixed size, or a length prefix with its limits) and whether it is random by nature.
//! The one table the decoders read their limits from, and that the harness uses to alter fields
//! by name, to compare frames, and to find length prefixes for generated cases and vectors: a
//! limit changes in one place.

use super::HandshakeCode;

/// How a field is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Exactly this many bytes (integers are big-endian).
    Fixed(usize),
    /// A big-endian length prefix of `width` bytes, then between `min` and `max` bytes.
    Prefixed {
        /// The prefix's width in bytes (1 or 2).
        width: usize,
        /// The fewest bytes allowed.
        min: usize,
        /// The most bytes allowed.
        max: usize,
    },
}

/// One field of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The specification's name of the field.
    pub name: &'static str,
    /// How it is encoded.
    pub shape: Shape,
    /// Whether its value differs from session to session by nature (randoms, shares,
    /// signatures, MACs): comparisons of recorded frames compare it by length only.
    pub random: bool,
}

const fn fixed(name: &'static str, size: usize, random: bool) -> Field {
    Field {
        name,
        shape: Shape::Fixed(size),
        random,
    }
}

const fn prefixed(name: &'static str, width: usize, min: usize, max: usize, random: bool) -> Field {
    Field {
        name,
        shape: Shape::Prefixed { width, min, max },
        random,
    }
}

/// `version` (BT-HS-3).
pub const VERSION: Field = fixed("version", 2, false);
/// `random` of the hellos (BT-MSG-5).
pub const RANDOM: Field = fixed("random", 32, true);
/// `session_id` of the hellos: empty or 32 bytes (BT-RES-2); the ID a server chose, so random
/// from run to run.
pub const HELLO_SESSION_ID: Field = prefixed("session_id", 1, 0, 32, true);
/// `key_algorithm`.
pub const KEY_ALGORITHM: Field = fixed("key_algorithm", 2, false);
/// `reg_handle`.
pub const REG_HANDLE: Field = prefixed("reg_handle", 1, 1, 255, false);
/// `key_handle`.
pub const KEY_HANDLE: Field = prefixed("key_handle", 1, 1, 255, false);
/// `key_share`: the ephemeral public key (BT-MSG-4).
pub const KEY_SHARE: Field = prefixed("key_share", 1, 1, 255, true);
/// `cipher_suites`: 1 to 127 suites of 2 bytes (BT-MSG-2, BT-MSG-3).
pub const CIPHER_SUITES: Field = prefixed("cipher_suites", 1, 2, 254, false);
/// `public_key` of a published key.
pub const PUBLIC_KEY: Field = prefixed("public_key", 2, 1, 1024, false);
/// `not_before` (milliseconds since the epoch).
pub const NOT_BEFORE: Field = fixed("not_before", 8, false);
/// `not_after` (milliseconds since the epoch).
pub const NOT_AFTER: Field = fixed("not_after", 8, false);
/// `registry_signature`: empty when the key is not signed.
pub const REGISTRY_SIGNATURE: Field = prefixed("registry_signature", 2, 0, 1024, false);
/// `reason` of FAILED_VALIDATION.
pub const REASON: Field = fixed("reason", 1, false);
/// `session_id` of SESSION_DETAILS: chosen fresh by the server.
pub const DETAILS_SESSION_ID: Field = fixed("session_id", 32, true);
/// `cipher_suite` of SESSION_DETAILS.
pub const CIPHER_SUITE: Field = fixed("cipher_suite", 2, false);
/// `signature` of SESSION_DETAILS (BT-HS-20).
pub const DETAILS_SIGNATURE: Field = prefixed("signature", 2, 1, 1024, true);
/// `signature` of CLIENT_READY: empty on a resumed session.
pub const READY_SIGNATURE: Field = prefixed("signature", 2, 0, 1024, true);
/// `verify_data` of the READY messages (BT-KS-6).
pub const VERIFY_DATA: Field = fixed("verify_data", 32, true);

/// The fields of `code`'s body in wire order; empty for bodiless and unknown messages.
pub fn layout(code: HandshakeCode) -> &'static [Field] {
    const HELLO: [Field; 7] = [
        VERSION,
        RANDOM,
        HELLO_SESSION_ID,
        KEY_ALGORITHM,
        REG_HANDLE,
        KEY_HANDLE,
        KEY_SHARE,
    ];
    /// The hello's fields, then the offered suites.
    #[allow(
        clippy::indexing_slicing,
        reason = "evaluated at compile time: an index out of bounds fails the build"
    )]
    const CLIENT_HELLO: [Field; 8] = {
        let mut out = [CIPHER_SUITES; 8];
        let mut i = 0;
        while i < HELLO.len() {
            out[i] = HELLO[i];
            i += 1;
        }
        out
    };
    const PUBLISHED_KEY: [Field; 7] = [
        REG_HANDLE,
        KEY_HANDLE,
        KEY_ALGORITHM,
        PUBLIC_KEY,
        NOT_BEFORE,
        NOT_AFTER,
        REGISTRY_SIGNATURE,
    ];
    match code {
        HandshakeCode::CLIENT_HELLO => &CLIENT_HELLO,
        HandshakeCode::SERVER_HELLO => &HELLO,
        HandshakeCode::SENDING_KEY => &PUBLISHED_KEY,
        HandshakeCode::FAILED_VALIDATION => &[REASON],
        HandshakeCode::SESSION_DETAILS => &[DETAILS_SESSION_ID, CIPHER_SUITE, DETAILS_SIGNATURE],
        HandshakeCode::CLIENT_READY => &[READY_SIGNATURE, VERIFY_DATA],
        HandshakeCode::SERVER_READY => &[VERIFY_DATA],
        _ => &[],
    }
}

/// Where one field of a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The field.
    pub field: Field,
    /// Offset of its first byte (its length prefix, if it has one) in the body.
    pub offset: usize,
    /// Its value's length: the fixed size, or what its prefix says.
    pub len: usize,
}

/// The fields of `body`, a body of `code`, with their offsets, read as far as the body goes
/// (a truncated body gives the fields it holds, and a prefix holding more than the body the
/// length it claims).
pub fn place(code: HandshakeCode, body: &[u8]) -> Vec<Placed> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for field in layout(code) {
        let (head, len) = match field.shape {
            Shape::Fixed(size) => (0, size),
            Shape::Prefixed { width, .. } => {
                let Some(prefix) = body.get(offset..offset + width) else {
                    break;
                };
                let len = prefix
                    .iter()
                    .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
                (width, len)
            }
        };
        if offset + head > body.len() || (head == 0 && offset + len > body.len()) {
            break;
        }
        out.push(Placed {
            field: *field,
            offset,
            len,
        });
        offset += head + len;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::msgs::{
        CipherSuite, ClientHello, ClientReady, Hello, KeyAlgorithm, PublishedKey, ServerHello,
        ServerReady, SessionDetails,
    };

    fn bodies() -> Vec<(HandshakeCode, Vec<u8>)> {
        let hello = Hello {
            version: 0x0100,
            random: [1; 32],
            session_id: Some([2; 32]),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            reg_handle: b"reg".to_vec(),
            key_handle: b"key".to_vec(),
            key_share: vec![3; 32],
        };
        let client = ClientHello {
            hello: hello.clone(),
            cipher_suites: vec![CipherSuite::AES_256_GCM, CipherSuite::CHACHA20_POLY1305],
        };
        let server = ServerHello {
            hello: Hello {
                session_id: None,
                ..hello
            },
        };
        let key = PublishedKey {
            reg_handle: b"reg".to_vec(),
            key_handle: b"key".to_vec(),
            key_algorithm: KeyAlgorithm::ED25519_X25519,
            public_key: vec![6; 32],
            not_before: 1,
            not_after: 2,
            registry_signature: Vec::new(),
        };
        let details = SessionDetails {
            session_id: [7; 32],
            cipher_suite: CipherSuite::AES_256_GCM,
            signature: vec![8; 64],
        };
        let ready = ClientReady {
            signature: vec![9; 64],
            verify_data: [10; 32],
        };
        let server_ready = ServerReady {
            verify_data: [11; 32],
        };
        let enc = |c: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            c(&mut out);
            out
        };
        vec![
            (HandshakeCode::CLIENT_HELLO, enc(&|o| client.encode(o))),
            (HandshakeCode::SERVER_HELLO, enc(&|o| server.encode(o))),
            (HandshakeCode::SENDING_KEY, enc(&|o| key.encode(o))),
            (HandshakeCode::SESSION_DETAILS, enc(&|o| details.encode(o))),
            (HandshakeCode::CLIENT_READY, enc(&|o| ready.encode(o))),
            (
                HandshakeCode::SERVER_READY,
                enc(&|o| server_ready.encode(o)),
            ),
            (HandshakeCode::FAILED_VALIDATION, vec![1]),
        ]
    }

    #[test]
    fn every_field_is_placed_in_a_valid_body_and_the_body_is_used_up() {
        for (code, body) in bodies() {
            let placed = place(code, &body);
            assert_eq!(placed.len(), layout(code).len(), "{code}");
            let end = placed.last().map_or(0, |p| {
                let head = match p.field.shape {
                    Shape::Fixed(_) => 0,
                    Shape::Prefixed { width, .. } => width,
                };
                p.offset + head + p.len
            });
            assert_eq!(end, body.len(), "{code}");
        }
    }

    #[test]
    fn a_truncated_body_places_the_fields_it_holds() {
        let (code, body) = bodies().remove(0);
        let placed = place(code, body.get(..40).unwrap());
        let names: Vec<&str> = placed.iter().map(|p| p.field.name).collect();
        assert_eq!(names, ["version", "random", "session_id"]);
    }
}
