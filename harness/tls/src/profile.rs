//! TLS as a harness profile: records are the frames (a 5-byte header and its fragment), named by
//! content type and, in clear, by the handshake messages they carry.

use crate::msgs::{Alert, ContentType, HandshakeType, Record, RECORD_HEADER_LEN};
use harness_capture::Framing;
use harness_core::profile::{Profile, Transport};

/// TLS records on a TCP stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsFraming;

impl Framing for TlsFraming {
    fn header_len(&self) -> usize {
        RECORD_HEADER_LEN
    }

    fn frame_len(&self, header: &[u8]) -> usize {
        Record::frame_len(header).unwrap_or(RECORD_HEADER_LEN)
    }
}

/// TLS 1.2 and 1.3 (RFC 5246, RFC 8446).
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsProfile;

/// The handshake messages a clear handshake record holds, by name; a fragment that is not a
/// run of known messages (a TLS 1.2 record protected after change_cipher_spec, whose explicit
/// nonce and ciphertext read as nonsense) is named as protected.
fn clear_messages(fragment: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = fragment;
    while let [typ, a, b, c, tail @ ..] = rest {
        let typ = HandshakeType(*typ);
        if typ.name().is_none() {
            return vec!["protected handshake record (or not handshake messages)".into()];
        }
        names.push(typ.to_string());
        let len = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
        if tail.len() < len {
            names.push("(continues in the next record)".into());
            break;
        }
        rest = tail.get(len..).unwrap_or_default();
    }
    names
}

impl Profile for TlsProfile {
    type Framing = TlsFraming;

    fn name(&self) -> &'static str {
        "tls"
    }

    fn display_name(&self) -> &'static str {
        "TLS"
    }

    fn requirement_prefix(&self) -> &'static str {
        "RFC"
    }

    fn transport(&self) -> Transport {
        Transport::Tcp
    }

    fn framing(&self) -> &TlsFraming {
        &TlsFraming
    }

    fn frame_name(&self, frame: &[u8]) -> String {
        match Record::decode(frame) {
            Ok(r) => match r.content_type {
                ContentType::HANDSHAKE => clear_messages(&r.fragment).join(" "),
                ContentType::ALERT => match Alert::decode(&r.fragment) {
                    Ok(a) => format!("alert {}", a.description),
                    // TLS 1.2 protects alerts in a record of the same content type.
                    Err(_) if r.fragment.len() > 2 => "protected alert".into(),
                    Err(_) => "ALERT (malformed)".into(),
                },
                ContentType::APPLICATION_DATA => "protected record".into(),
                other => other.to_string(),
            },
            Err(_) => format!("{} bytes", frame.len()),
        }
    }

    fn describe(&self, frame: &[u8]) -> String {
        match Record::decode(frame) {
            Ok(r) => format!(
                "{} record, version {}, {} bytes: {}",
                r.content_type,
                r.version,
                r.fragment.len(),
                self.frame_name(frame)
            ),
            Err(e) => format!("{} bytes that are not a record ({e})", frame.len()),
        }
    }

    fn transcript_text(&self, frame: &[u8], from_iut: bool) -> String {
        // A stack's records carry its own randomness: the transcript keeps their kind and
        // size, never their bytes.
        let _ = from_iut;
        self.describe(frame)
    }

    fn alert_name(&self, frame: &[u8]) -> Option<String> {
        let r = Record::decode(frame).ok()?;
        (r.content_type == ContentType::ALERT)
            .then(|| {
                Alert::decode(&r.fragment)
                    .ok()
                    .map(|a| a.description.to_string())
            })
            .flatten()
    }

    fn compare(&self, recorded: &[u8], actual: &[u8]) -> Result<(), String> {
        if recorded == actual {
            Ok(())
        } else {
            Err(self.describe(actual))
        }
    }

    fn set_field(&self, frame: &[u8], field: &str, _: &toml::Value) -> Result<Vec<u8>, String> {
        Err(format!(
            "{}: TLS scenarios change fields in their send steps (`alter`), not with {field}",
            self.frame_name(frame)
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::msgs::{handshake_message, ProtocolVersion};

    #[test]
    fn records_are_named_by_what_they_carry() {
        let mut fragment = handshake_message(HandshakeType::SERVER_HELLO, &[0; 3], None);
        fragment.extend(handshake_message(HandshakeType::CERTIFICATE, &[0; 9], None));
        fragment.truncate(fragment.len() - 1);
        let rec = Record {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS12,
            fragment,
        }
        .encode(None);
        assert_eq!(
            TlsProfile.frame_name(&rec),
            "SERVER_HELLO CERTIFICATE (continues in the next record)"
        );
        let alert = Record {
            content_type: ContentType::ALERT,
            version: ProtocolVersion::TLS12,
            fragment: vec![2, 40],
        }
        .encode(None);
        assert_eq!(TlsProfile.alert_name(&alert).unwrap(), "HANDSHAKE_FAILURE");
        assert_eq!(TlsFraming.frame_len(&alert[..5]), 7);
    }
}
