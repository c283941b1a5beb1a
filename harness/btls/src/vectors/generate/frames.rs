//! `frames.json`: every message encoded, valid and broken (cut, extended, each length prefix one off).

use super::*;
use btls::msgs::layout::{place, Shape};
use btls::msgs::{AlertDescription, HandshakeCode, HandshakeMessage, FRAME_HEADER_LEN};
use serde_json::{json, Value};

/// The length prefixes of `body` (a body of `code`): offset and width, from the layout table.
fn length_prefixes(code: HandshakeCode, body: &[u8]) -> Vec<(usize, usize)> {
    place(code, body)
        .into_iter()
        .filter_map(|p| match p.field.shape {
            Shape::Prefixed { width, .. } => Some((p.offset, width)),
            Shape::Fixed(_) => None,
        })
        .collect()
}

fn decode_result(code: HandshakeCode, body: &[u8]) -> (bool, Option<AlertDescription>, String) {
    match HandshakeMessage::decode(code, body) {
        Ok(Some(_)) => (true, None, String::new()),
        Ok(None) => (
            false,
            Some(AlertDescription::UNEXPECTED_MESSAGE),
            format!("unknown handshake code {code}"),
        ),
        Err(e) => (false, Some(AlertDescription::DECODE_ERROR), e.to_string()),
    }
}

fn frame_test(comment: String, flags: &[&str], code: HandshakeCode, body: &[u8]) -> Value {
    let (valid, alert, why) = decode_result(code, body);
    let comment = if why.is_empty() {
        comment
    } else {
        format!("{comment} ({why})")
    };
    json!({
        "comment": comment,
        "flags": flags,
        "code": code.0,
        "body": hex::encode(body),
        "result": if valid { "valid" } else { "invalid" },
        "alert": alert.map(|a| a.to_string().to_ascii_lowercase()),
    })
}

pub(super) fn frames(handshakes: &[Recorded]) -> Value {
    let mut bodies: BTreeMap<u8, Vec<Vec<u8>>> = BTreeMap::new();
    for h in handshakes {
        for (_, frame) in &h.frames {
            let code = frame.get(1).copied().unwrap_or(0);
            let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default().to_vec();
            let list = bodies.entry(code).or_default();
            if !list.contains(&body) && list.len() < 2 {
                list.push(body);
            }
        }
    }
    bodies
        .entry(HandshakeCode::FAILED_VALIDATION.0)
        .or_default()
        .extend([vec![0x01], vec![0xee]]);
    let mut groups = Vec::new();
    for (code, list) in &bodies {
        let code = HandshakeCode(*code);
        let mut tests = Vec::new();
        for (i, body) in list.iter().enumerate() {
            tests.push(frame_test(
                format!("{code} from a reference session, example {}", i + 1),
                &["Valid"],
                code,
                body,
            ));
            for cut in 0..body.len() {
                tests.push(frame_test(
                    format!("{code} truncated to {cut} of {} bytes", body.len()),
                    &["Truncated"],
                    code,
                    body.get(..cut).unwrap_or_default(),
                ));
            }
            let mut longer = body.clone();
            longer.push(0);
            tests.push(frame_test(
                format!("{code} with one trailing byte"),
                &["TrailingBytes"],
                code,
                &longer,
            ));
            for (offset, width) in length_prefixes(code, body) {
                for delta in [-1i64, 1] {
                    let mut altered = body.clone();
                    let value = match width {
                        1 => i64::from(altered.get(offset).copied().unwrap_or(0)),
                        _ => altered
                            .get(offset..offset + 2)
                            .and_then(|b| <[u8; 2]>::try_from(b).ok())
                            .map_or(0, |b| i64::from(u16::from_be_bytes(b))),
                    };
                    let new = value + delta;
                    let max = if width == 1 { 255 } else { 65535 };
                    if new < 0 || new > max {
                        continue;
                    }
                    match width {
                        1 => {
                            if let Some(b) = altered.get_mut(offset) {
                                *b = new as u8;
                            }
                        }
                        _ => {
                            if let Some(b) = altered.get_mut(offset..offset + 2) {
                                b.copy_from_slice(&(new as u16).to_be_bytes());
                            }
                        }
                    }
                    let flag = if delta < 0 {
                        "LengthTooShort"
                    } else {
                        "LengthTooLong"
                    };
                    let test = frame_test(
                        format!(
                            "{code}: length prefix at offset {offset} {} by one",
                            if delta < 0 { "decreased" } else { "increased" }
                        ),
                        &[flag],
                        code,
                        &altered,
                    );
                    if test.get("result").and_then(Value::as_str) == Some("invalid") {
                        tests.push(test);
                    }
                }
            }
        }
        groups
            .push(json!({"type": "HandshakeDecode", "message": code.to_string(), "tests": tests}));
    }
    let unknown: Vec<Value> = [0x00u8, 0x0b, 0x7f, 0xff]
        .iter()
        .map(|c| {
            frame_test(
                format!("unknown handshake code 0x{c:02x}"),
                &["UnknownCode"],
                HandshakeCode(*c),
                &[],
            )
        })
        .collect();
    groups.push(json!({"type": "HandshakeDecode", "message": "unknown", "tests": unknown}));
    document(
        "bTLS 1.0 handshake message encoding (SPEC §3)",
        "frames_schema.json",
        &[
            "Each test is the body of a HANDSHAKE frame with handshake code `code`.",
            "A valid body decodes and re-encodes to the same bytes; an invalid one must be rejected with `alert`.",
        ],
        json!({
            "Valid": {"bugType": "BASIC", "description": "A body taken from a reference session."},
            "Truncated": {"bugType": "MALFORMED", "description": "The body is cut short (BT-FRAME-7): decode_error."},
            "TrailingBytes": {"bugType": "MALFORMED", "description": "A byte after the last field (BT-FRAME-7): decode_error."},
            "LengthTooShort": {"bugType": "MALFORMED", "description": "A length prefix decreased by one, everything else unchanged."},
            "LengthTooLong": {"bugType": "MALFORMED", "description": "A length prefix increased by one, everything else unchanged."},
            "UnknownCode": {"bugType": "MALFORMED", "description": "A handshake code SPEC §2.2 does not define (BT-FRAME-5): unexpected_message."},
        }),
        groups,
    )
}
