//! Alterations of frames the harness sends (`alter = { … }` in a scenario step).

use btls::msgs::layout::layout;
use btls::msgs::{
    CipherSuite, ClientReady, HandshakeCode as H, HandshakeMessage, Hello, KeyAlgorithm,
    PublishedKey, ServerReady, SessionDetails, ValidationFailure, FRAME_HEADER_LEN,
};
use serde::Deserialize;

/// A change to a frame the harness sends.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alter {
    /// Send these bytes (hex) instead of the peer's frame, whose sending the peer still counts
    /// (a frame from another session); the other changes apply to them.
    pub replace: Option<String>,
    /// Message fields to set before encoding (`version`, `key_algorithm`, `cipher_suites`, …).
    pub set: Option<toml::Table>,
    /// Fields set to the value the IUT last sent in them, on any connection of the case:
    /// `session_id` (of its SESSION_DETAILS), `random`, `key_share` (of its hellos). A value the
    /// IUT sent in an earlier connection, offered back in a later one.
    pub reuse: Option<Vec<String>>,
    /// Cut the body to this many bytes and fix the length field.
    pub truncate_body: Option<usize>,
    /// Append these bytes (hex) to the body and fix the length field.
    pub append: Option<String>,
    /// Overwrite the header's length field.
    pub set_length: Option<u16>,
    /// Overwrite the content type.
    pub set_content_type: Option<u8>,
    /// Overwrite the subcode.
    pub set_subcode: Option<u8>,
    /// Flip this bit of the whole frame (bit 0 is the high bit of byte 0).
    pub flip_bit: Option<usize>,
    /// Overwrite bytes of the whole frame at these offsets (the length field is not fixed).
    pub patch: Option<Vec<Patch>>,
    /// Cut the whole frame after this many bytes (header included; the length is not fixed).
    pub truncate_frame: Option<usize>,
    /// SESSION_DETAILS or CLIENT_READY: add the group order L to the `S` half of the peer's own
    /// Ed25519 signature, the malleated signature of Wycheproof and RFC 8032 §5.1.7 that a
    /// verifier skipping the `S < L` check accepts (BT-HS-20, BT-HS-21).
    #[serde(default)]
    pub malleate_signature: bool,
    /// SESSION_DETAILS or CLIENT_READY: replace the `s` half of the peer's own ECDSA P-256
    /// signature by n − s. `(r, n − s)` is the other valid signature of the same nonce, which
    /// anyone can make without the key (ECDSA is malleable), so the receiver accepts it; what
    /// it must notice is that the two transcripts now differ (BT-HS-22, BT-HS-19).
    #[serde(default)]
    pub negate_ecdsa_s: bool,
}

/// The Ed25519 group order L, little-endian (RFC 8032 §5.1).
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `S + L` in the second half of a 64-byte Ed25519 signature (S < L < 2^253, so the sum fits).
pub(crate) fn malleate(signature: &mut [u8]) -> Result<(), String> {
    let s_half = signature
        .get_mut(32..64)
        .ok_or("alter.malleate_signature: the signature is not 64 bytes")?;
    let mut carry = 0u16;
    for (b, l) in s_half.iter_mut().zip(ED25519_L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    Ok(())
}

/// The P-256 group order n, big-endian (SEC 2 §2.4.2).
pub(crate) const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `n − s` in the second half of a 64-byte ECDSA P-256 signature `r || s` (0 < s < n).
pub(crate) fn negate_s(signature: &mut [u8]) -> Result<(), String> {
    let s_half = signature
        .get_mut(32..64)
        .ok_or("alter.negate_ecdsa_s: the signature is not 64 bytes")?;
    let mut borrow = 0i16;
    for (b, n) in s_half.iter_mut().zip(P256_N).rev() {
        let diff = i16::from(n) - i16::from(*b) - borrow;
        borrow = i16::from(diff < 0);
        *b = (diff.rem_euclid(256) & 0xff) as u8;
    }
    Ok(())
}

/// Changes the signature of a SESSION_DETAILS or CLIENT_READY frame with `change` (the
/// alteration `name`).
fn resign_frame(
    frame: &[u8],
    name: &str,
    change: fn(&mut [u8]) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let (code, body) = match frame {
        [1, code, _, _, body @ ..] => (H(*code), body),
        _ => return Err(format!("alter.{name}: not a handshake frame")),
    };
    let msg = HandshakeMessage::decode(code, body)
        .map_err(|e| format!("alter.{name}: {e}"))?
        .ok_or_else(|| format!("alter.{name}: an empty message"))?;
    let msg = match msg {
        HandshakeMessage::SessionDetails(mut d) if d.signature.len() == 64 => {
            change(&mut d.signature)?;
            HandshakeMessage::SessionDetails(d)
        }
        HandshakeMessage::ClientReady(mut r) if r.signature.len() == 64 => {
            change(&mut r.signature)?;
            HandshakeMessage::ClientReady(r)
        }
        other => {
            return Err(format!(
                "alter.{name}: {} has no 64-byte signature",
                other.code()
            ))
        }
    };
    Ok(msg.to_frame())
}

/// Bytes written over a frame at an offset (`alter.patch`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// Offset in the frame (0 is the content type byte).
    pub at: usize,
    /// The bytes (hex).
    pub hex: String,
}

/// Checks at load time that every field of `set` exists in `code`'s message.
pub fn check_fields(code: H, set: &toml::Table) -> Result<(), String> {
    // The fields `alter.set` may change: every field of the message's layout.
    let allowed: Vec<&str> = layout(code).iter().map(|f| f.name).collect();
    for name in set.keys() {
        if !allowed.contains(&name.as_str()) {
            return Err(format!(
                "alter.set.{name}: {code} has no such field (fields: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn int(name: &str, v: &toml::Value) -> Result<u64, String> {
    v.as_integer()
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| format!("alter.set.{name}: expected a non-negative integer"))
}

fn u16_field(name: &str, v: &toml::Value) -> Result<u16, String> {
    u16::try_from(int(name, v)?).map_err(|_| format!("alter.set.{name}: above 65535"))
}

fn bytes(name: &str, v: &toml::Value) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("alter.set.{name}: expected a hex string"))?;
    hex::decode(s).map_err(|e| format!("alter.set.{name}: not hex: {e}"))
}

fn text(name: &str, v: &toml::Value) -> Result<Vec<u8>, String> {
    v.as_str()
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| format!("alter.set.{name}: expected a string"))
}

fn array<const N: usize>(name: &str, v: &toml::Value) -> Result<[u8; N], String> {
    bytes(name, v)?
        .try_into()
        .map_err(|_| format!("alter.set.{name}: must be {N} bytes"))
}

fn algorithm(name: &str, v: &toml::Value) -> Result<KeyAlgorithm, String> {
    match v.as_str() {
        Some(s) => KeyAlgorithm::from_name(s)
            .ok_or_else(|| format!("alter.set.{name}: unknown algorithm {s:?}")),
        None => Ok(KeyAlgorithm(u16_field(name, v)?)),
    }
}

fn suite(name: &str, v: &toml::Value) -> Result<CipherSuite, String> {
    match v.as_str() {
        Some(s) => CipherSuite::from_name(s)
            .ok_or_else(|| format!("alter.set.{name}: unknown suite {s:?}")),
        None => Ok(CipherSuite(u16_field(name, v)?)),
    }
}

fn session_id(name: &str, v: &toml::Value) -> Result<Option<[u8; 32]>, String> {
    let b = bytes(name, v)?;
    if b.is_empty() {
        return Ok(None);
    }
    b.try_into()
        .map(Some)
        .map_err(|_| format!("alter.set.{name}: must be empty or 32 bytes"))
}

/// Sets the fields of `set` that both hellos carry.
fn hello_fields(set: &toml::Table, hello: &mut Hello) -> Result<(), String> {
    for (k, v) in set {
        match k.as_str() {
            "version" => hello.version = u16_field(k, v)?,
            "random" => hello.random = array(k, v)?,
            "session_id" => hello.session_id = session_id(k, v)?,
            "key_algorithm" => hello.key_algorithm = algorithm(k, v)?,
            "reg_handle" => hello.reg_handle = text(k, v)?,
            "key_handle" => hello.key_handle = text(k, v)?,
            "key_share" => hello.key_share = bytes(k, v)?,
            _ => {}
        }
    }
    Ok(())
}

/// Rewrites the body of a HANDSHAKE frame with the fields of `set` changed.
/// The frame with the fields of `set` changed and re-encoded (lengths fixed).
pub fn set_fields(frame: &[u8], set: &toml::Table) -> Result<Vec<u8>, String> {
    let code = H(*frame.get(1).ok_or("frame too short")?);
    let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let msg = HandshakeMessage::decode(code, body)
        .map_err(|e| format!("cannot alter {code}: it does not decode ({e})"))?
        .ok_or_else(|| format!("cannot alter unknown message {code}"))?;
    let msg = match msg {
        HandshakeMessage::ClientHello(mut h) => {
            hello_fields(set, &mut h.hello)?;
            if let Some(v) = set.get("cipher_suites") {
                let list = v
                    .as_array()
                    .ok_or("alter.set.cipher_suites: expected a list")?;
                h.cipher_suites = list
                    .iter()
                    .map(|s| suite("cipher_suites", s))
                    .collect::<Result<_, _>>()?;
            }
            HandshakeMessage::ClientHello(h)
        }
        HandshakeMessage::ServerHello(mut h) => {
            hello_fields(set, &mut h.hello)?;
            HandshakeMessage::ServerHello(h)
        }
        HandshakeMessage::SendingKey(mut k) => {
            let PublishedKey {
                reg_handle,
                key_handle,
                key_algorithm,
                public_key,
                not_before,
                not_after,
                registry_signature,
            } = &mut k;
            for (name, v) in set {
                match name.as_str() {
                    "reg_handle" => *reg_handle = text(name, v)?,
                    "key_handle" => *key_handle = text(name, v)?,
                    "key_algorithm" => *key_algorithm = algorithm(name, v)?,
                    "public_key" => *public_key = bytes(name, v)?,
                    "not_before" => *not_before = int(name, v)?,
                    "not_after" => *not_after = int(name, v)?,
                    "registry_signature" => *registry_signature = bytes(name, v)?,
                    _ => {}
                }
            }
            HandshakeMessage::SendingKey(k)
        }
        HandshakeMessage::FailedValidation(mut reason) => {
            if let Some(v) = set.get("reason") {
                reason = match v.as_str() {
                    Some(s) => ValidationFailure::from_name(s)
                        .ok_or_else(|| format!("alter.set.reason: unknown {s:?}"))?,
                    None => ValidationFailure(
                        u8::try_from(int("reason", v)?)
                            .map_err(|_| "alter.set.reason: above 255")?,
                    ),
                };
            }
            HandshakeMessage::FailedValidation(reason)
        }
        HandshakeMessage::SessionDetails(mut d) => {
            let SessionDetails {
                session_id: sid,
                cipher_suite,
                signature,
            } = &mut d;
            for (name, v) in set {
                match name.as_str() {
                    "session_id" => *sid = array(name, v)?,
                    "cipher_suite" => *cipher_suite = suite(name, v)?,
                    "signature" => *signature = bytes(name, v)?,
                    _ => {}
                }
            }
            HandshakeMessage::SessionDetails(d)
        }
        HandshakeMessage::ClientReady(mut r) => {
            let ClientReady {
                signature,
                verify_data,
            } = &mut r;
            for (name, v) in set {
                match name.as_str() {
                    "signature" => *signature = bytes(name, v)?,
                    "verify_data" => *verify_data = array(name, v)?,
                    _ => {}
                }
            }
            HandshakeMessage::ClientReady(r)
        }
        HandshakeMessage::ServerReady(mut r) => {
            let ServerReady { verify_data } = &mut r;
            if let Some(v) = set.get("verify_data") {
                *verify_data = array("verify_data", v)?;
            }
            HandshakeMessage::ServerReady(r)
        }
        other => other,
    };
    Ok(msg.to_frame())
}

fn fix_length(frame: &mut [u8]) {
    let len = u16::try_from(frame.len().saturating_sub(FRAME_HEADER_LEN)).unwrap_or(u16::MAX);
    if let Some(slot) = frame.get_mut(2..4) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
}

/// Applies `alter` to a whole frame, in the order: replacement, fields, signature malleation,
/// body truncation, appended bytes, header bytes, patches, bit flip, frame truncation.
pub fn apply(frame: Vec<u8>, alter: &Alter) -> Result<Vec<u8>, String> {
    let frame = match &alter.replace {
        Some(bytes) => hex::decode(bytes).map_err(|e| format!("alter.replace: not hex: {e}"))?,
        None => frame,
    };
    let mut frame = match &alter.set {
        Some(set) => set_fields(&frame, set)?,
        None => frame,
    };
    if alter.malleate_signature {
        frame = resign_frame(&frame, "malleate_signature", malleate)?;
    }
    if alter.negate_ecdsa_s {
        frame = resign_frame(&frame, "negate_ecdsa_s", negate_s)?;
    }
    if let Some(n) = alter.truncate_body {
        frame.truncate(FRAME_HEADER_LEN + n);
        fix_length(&mut frame);
    }
    if let Some(extra) = &alter.append {
        frame.extend(hex::decode(extra).map_err(|e| format!("alter.append: not hex: {e}"))?);
        fix_length(&mut frame);
    }
    if let Some(len) = alter.set_length {
        if let Some(slot) = frame.get_mut(2..4) {
            slot.copy_from_slice(&len.to_be_bytes());
        }
    }
    if let (Some(ct), Some(b)) = (alter.set_content_type, frame.get_mut(0)) {
        *b = ct;
    }
    if let (Some(sub), Some(b)) = (alter.set_subcode, frame.get_mut(1)) {
        *b = sub;
    }
    for patch in alter.patch.iter().flatten() {
        let bytes = hex::decode(&patch.hex).map_err(|e| format!("alter.patch: not hex: {e}"))?;
        let len = frame.len();
        let slot = frame
            .get_mut(patch.at..patch.at + bytes.len())
            .ok_or_else(|| {
                format!(
                    "alter.patch: offset {} is beyond the frame's {len} bytes",
                    patch.at
                )
            })?;
        slot.copy_from_slice(&bytes);
    }
    if let Some(bit) = alter.flip_bit {
        let len = frame.len();
        let byte = frame.get_mut(bit / 8).ok_or_else(|| {
            format!("alter.flip_bit: bit {bit} is beyond the frame's {len} bytes")
        })?;
        *byte ^= 0x80 >> (bit % 8);
    }
    if let Some(n) = alter.truncate_frame {
        frame.truncate(n);
    }
    Ok(frame)
}
