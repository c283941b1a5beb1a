//! bTLS frames for transcripts: their names, their fields, and field-by-field comparison.

use btls::msgs::layout::layout;
use btls::msgs::{
    Alert, AlertDescription, ContentType, HandshakeCode, HandshakeMessage, Hello, FRAME_HEADER_LEN,
};

/// The handshake code of a HANDSHAKE frame.
pub fn handshake_code(frame: &[u8]) -> Option<HandshakeCode> {
    (frame.first() == Some(&ContentType::HANDSHAKE.0))
        .then(|| HandshakeCode(frame.get(1).copied().unwrap_or(0)))
}

/// The description of an ALERT frame (its subcode, readable even when protected).
pub fn alert_description(frame: &[u8]) -> Option<AlertDescription> {
    (frame.first() == Some(&ContentType::ALERT.0))
        .then(|| AlertDescription(frame.get(1).copied().unwrap_or(0)))
}

/// One line describing a frame: its kind and, for handshake frames, every decoded field.
pub fn describe(frame: &[u8]) -> String {
    let (Some(&ct), Some(&sub)) = (frame.first(), frame.get(1)) else {
        return format!("partial header {}", hex::encode(frame));
    };
    let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let declared = frame
        .get(2..4)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, u16::from_be_bytes);
    let len_note = if usize::from(declared) == body.len() {
        String::new()
    } else {
        format!(" (length field {declared}, {} body bytes)", body.len())
    };
    match ContentType(ct) {
        ContentType::HANDSHAKE => {
            let code = HandshakeCode(sub);
            match HandshakeMessage::decode(code, body) {
                Ok(Some(msg)) => format!("HANDSHAKE {}{len_note}", compact(&msg)),
                Ok(None) => format!("HANDSHAKE {code} body {}{len_note}", hex::encode(body)),
                Err(e) => format!(
                    "HANDSHAKE {code} undecodable ({e}) body {}{len_note}",
                    hex::encode(body)
                ),
            }
        }
        ContentType::ALERT => match Alert::from_body(sub, body) {
            Ok(a) => format!("ALERT {} level {}{len_note}", a.description, a.level.0),
            Err(_) => format!(
                "ALERT {} protected, {} bytes{len_note}",
                AlertDescription(sub),
                body.len()
            ),
        },
        ContentType::APPLICATION => {
            format!("APPLICATION protected, {} bytes{len_note}", body.len())
        }
        other => format!(
            "{other} subcode 0x{sub:02x} body {}{len_note}",
            hex::encode(body)
        ),
    }
}

fn compact(msg: &HandshakeMessage) -> String {
    match msg {
        HandshakeMessage::SendKey => "SEND_KEY".into(),
        HandshakeMessage::CannotSendKey => "CANNOT_SEND_KEY".into(),
        HandshakeMessage::SuccessfulValidation => "SUCCESSFUL_VALIDATION".into(),
        HandshakeMessage::FailedValidation(r) => format!("FAILED_VALIDATION reason={r}"),
        HandshakeMessage::ClientHello(m) => format!("CLIENT_HELLO {m:?}"),
        HandshakeMessage::ServerHello(m) => format!("SERVER_HELLO {m:?}"),
        HandshakeMessage::SendingKey(m) => format!("SENDING_KEY {m:?}"),
        HandshakeMessage::SessionDetails(m) => format!("SESSION_DETAILS {m:?}"),
        HandshakeMessage::ClientReady(m) => format!("CLIENT_READY {m:?}"),
        HandshakeMessage::ServerReady(m) => format!("SERVER_READY {m:?}"),
    }
}

/// A frame's kind in a few words: `HANDSHAKE CLIENT_HELLO`, `ALERT failed_handshake`,
/// `APPLICATION` (for capture comments).
pub fn frame_name(frame: &[u8]) -> String {
    let (Some(&ct), sub) = (frame.first(), frame.get(1).copied().unwrap_or(0)) else {
        return "an empty frame".into();
    };
    match ContentType(ct) {
        ContentType::HANDSHAKE => format!("HANDSHAKE {}", HandshakeCode(sub)),
        ContentType::ALERT => format!("ALERT {}", AlertDescription(sub)),
        ContentType::APPLICATION => "APPLICATION".into(),
        other => format!("content type {}", other.0),
    }
}

/// The values of the seven fields the hellos share, as text.
fn hello_fields(h: &Hello) -> Vec<String> {
    vec![
        format!("0x{:04x}", h.version),
        hex::encode(h.random),
        h.session_id.map(hex::encode).unwrap_or_default(),
        h.key_algorithm.to_string(),
        hex::encode(&h.reg_handle),
        hex::encode(&h.key_handle),
        hex::encode(&h.key_share),
    ]
}

/// The values of a handshake message's fields as text, in the layout table's order.
fn fields(msg: &HandshakeMessage) -> Vec<String> {
    match msg {
        HandshakeMessage::ClientHello(h) => {
            let mut f = hello_fields(&h.hello);
            f.push(format!("{:?}", h.cipher_suites));
            f
        }
        HandshakeMessage::ServerHello(h) => hello_fields(&h.hello),
        HandshakeMessage::SendingKey(k) => vec![
            hex::encode(&k.reg_handle),
            hex::encode(&k.key_handle),
            k.key_algorithm.to_string(),
            hex::encode(&k.public_key),
            k.not_before.to_string(),
            k.not_after.to_string(),
            hex::encode(&k.registry_signature),
        ],
        HandshakeMessage::FailedValidation(r) => vec![r.to_string()],
        HandshakeMessage::SessionDetails(d) => vec![
            hex::encode(d.session_id),
            d.cipher_suite.to_string(),
            hex::encode(&d.signature),
        ],
        HandshakeMessage::ClientReady(r) => {
            vec![hex::encode(&r.signature), hex::encode(r.verify_data)]
        }
        HandshakeMessage::ServerReady(r) => vec![hex::encode(r.verify_data)],
        HandshakeMessage::SendKey
        | HandshakeMessage::CannotSendKey
        | HandshakeMessage::SuccessfulValidation => Vec::new(),
    }
}

/// Compares a frame with the one a recording has in its place: content type, subcode, then
/// every field, fields random by nature by length only (hex has two digits a byte). Protected
/// frames compare by length. `Err` names the first difference.
pub fn compare_frames(recorded: &[u8], actual: &[u8]) -> Result<(), String> {
    let (rt, at) = (recorded.first(), actual.first());
    if rt != at {
        return Err(format!(
            "content type: recorded {}, now {}",
            frame_name(recorded),
            frame_name(actual)
        ));
    }
    if recorded.get(1) != actual.get(1) {
        return Err(format!(
            "subcode: recorded {}, now {}",
            frame_name(recorded),
            frame_name(actual)
        ));
    }
    let rb = recorded.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let ab = actual.get(FRAME_HEADER_LEN..).unwrap_or_default();
    if let Some(code) = handshake_code(recorded) {
        match (
            HandshakeMessage::decode(code, rb),
            HandshakeMessage::decode(code, ab),
        ) {
            (Ok(Some(r)), Ok(Some(a))) => {
                let values = fields(&r).into_iter().zip(fields(&a));
                for (field, (rv, av)) in layout(code).iter().zip(values) {
                    let (name, random) = (field.name, field.random);
                    let same = if random {
                        rv.len() == av.len()
                    } else {
                        rv == av
                    };
                    if !same {
                        let how = if random {
                            " (random by nature: length)"
                        } else {
                            ""
                        };
                        return Err(format!("{code} field {name}{how}: recorded {rv}, now {av}"));
                    }
                }
                Ok(())
            }
            (_, Err(e)) => Err(format!("{code}: the new frame does not decode: {e}")),
            _ if rb == ab => Ok(()),
            _ => Err(format!(
                "{code} body: recorded {}, now {}",
                hex::encode(rb),
                hex::encode(ab)
            )),
        }
    } else if rb.len() == ab.len() {
        Ok(())
    } else {
        Err(format!(
            "{} length: recorded {}, now {}",
            frame_name(recorded),
            rb.len(),
            ab.len()
        ))
    }
}

/// The value of a field that must be fresh (`fresh` on `expect`) in a handshake frame, if the
/// frame's message has it and decodes: a hello's `random` or `key_share`, SESSION_DETAILS'
/// `session_id`.
pub fn fresh_value(frame: &[u8], field: crate::scenario::FreshField) -> Option<Vec<u8>> {
    use crate::scenario::FreshField;
    let code = handshake_code(frame)?;
    let body = frame.get(FRAME_HEADER_LEN..)?;
    let hello = |h: &Hello| match field {
        FreshField::Random => Some(h.random.to_vec()),
        FreshField::KeyShare => Some(h.key_share.clone()),
        FreshField::SessionId => None,
    };
    match HandshakeMessage::decode(code, body).ok()?? {
        HandshakeMessage::ClientHello(h) => hello(&h.hello),
        HandshakeMessage::ServerHello(h) => hello(&h.hello),
        HandshakeMessage::SessionDetails(d) if field == FreshField::SessionId => {
            Some(d.session_id.to_vec())
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn every_message_shows_one_value_per_field_of_its_layout() {
        for code in 0..=u8::MAX {
            let code = HandshakeCode(code);
            let Some(frame) = crate::samples::frame(code) else {
                continue;
            };
            let body = frame.get(FRAME_HEADER_LEN..).unwrap();
            let msg = HandshakeMessage::decode(code, body).unwrap().unwrap();
            assert_eq!(fields(&msg).len(), layout(code).len(), "{code}");
        }
    }
}
