//! Checking the reference implementation against a vector file.

use super::VectorError;
use btls::crypto::{
    expand_label, hmac_verify, verify_signature, KeySchedule, RecordKey, Transcript,
};
use btls::msgs::{
    AlertDescription, CipherSuite, ClientReady, ContentType, FrameHeader, HandshakeCode,
    HandshakeMessage, KeyAlgorithm, SessionDetails, FRAME_HEADER_LEN,
};
use serde_json::Value;

struct Ctx<'a> {
    file: &'a str,
    errors: Vec<VectorError>,
}

impl Ctx<'_> {
    fn fail(&mut self, tc_id: u64, message: impl Into<String>) {
        self.errors.push(VectorError {
            file: self.file.to_owned(),
            tc_id,
            message: message.into(),
        });
    }
}

fn text<'a>(test: &'a Value, field: &str) -> Result<&'a str, String> {
    test.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("field `{field}` is missing or not a string"))
}

fn bytes(test: &Value, field: &str) -> Result<Vec<u8>, String> {
    hex::decode(text(test, field)?).map_err(|e| format!("field `{field}`: not hex: {e}"))
}

fn array32(test: &Value, field: &str) -> Result<[u8; 32], String> {
    bytes(test, field)?
        .try_into()
        .map_err(|_| format!("field `{field}`: must be 32 bytes"))
}

fn number(test: &Value, field: &str) -> Result<u64, String> {
    test.get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("field `{field}` is missing or not a number"))
}

fn expect_valid(test: &Value) -> Result<bool, String> {
    match text(test, "result")? {
        "valid" => Ok(true),
        "invalid" => Ok(false),
        other => Err(format!(
            "field `result`: {other:?} is neither valid nor invalid"
        )),
    }
}

/// An implementation's answer to one test: accept (valid) or reject, with the alert it would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Whether the implementation accepts the test's input and agrees with its outputs.
    pub valid: bool,
    /// The alert it sends when it rejects.
    pub alert: Option<String>,
    /// Why, when it rejects or disagrees.
    pub detail: String,
}

fn accept() -> Answer {
    Answer {
        valid: true,
        alert: None,
        detail: String::new(),
    }
}

fn reject(alert: Option<AlertDescription>, detail: impl Into<String>) -> Answer {
    Answer {
        valid: false,
        alert: alert.map(|a| a.to_string().to_ascii_lowercase()),
        detail: detail.into(),
    }
}

/// The reference implementation's answer to `test` of `group`; `Err` when the test is malformed.
pub fn evaluate(group: &Value, test: &Value) -> Result<Answer, String> {
    match group
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "HandshakeDecode" => decode(test),
        "KeySchedule" => key_schedule(test),
        "RecordProtection" => record(group, test),
        "HandshakeSignature" => signature(group, test),
        "ReadyMac" => ready(test),
        "Handshake" => handshake(test),
        other => Err(format!("unknown group type {other:?}")),
    }
}

/// Compares an answer with what the test expects.
pub fn judge(test: &Value, answer: &Answer) -> Result<(), String> {
    let want_valid = expect_valid(test)?;
    if answer.valid != want_valid {
        return Err(format!(
            "answered {}, expected {}{}",
            if answer.valid { "valid" } else { "invalid" },
            text(test, "result")?,
            if answer.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", answer.detail)
            }
        ));
    }
    if !want_valid {
        if let (Some(want), Some(got)) = (
            test.get("alert").and_then(Value::as_str),
            answer.alert.as_deref(),
        ) {
            if !want.eq_ignore_ascii_case(got) {
                return Err(format!("rejected with {got}, expected {want}"));
            }
        }
    }
    Ok(())
}

/// Checks one vector document; returns the number of tests.
pub fn verify_file(file: &str, doc: &Value) -> Result<usize, Vec<VectorError>> {
    let mut ctx = Ctx {
        file,
        errors: Vec::new(),
    };
    let mut count = 0;
    let Some(groups) = doc.get("testGroups").and_then(Value::as_array) else {
        return Err(vec![VectorError {
            file: file.into(),
            tc_id: 0,
            message: "no `testGroups` list".into(),
        }]);
    };
    let mut declared_ok = true;
    for group in groups {
        for test in group
            .get("tests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            count += 1;
            let tc_id = test.get("tcId").and_then(Value::as_u64).unwrap_or(0);
            let outcome = evaluate(group, test).and_then(|answer| judge(test, &answer));
            if let Err(message) = outcome {
                ctx.fail(tc_id, message);
            }
        }
    }
    if doc.get("numberOfTests").and_then(Value::as_u64) != Some(count as u64) {
        declared_ok = false;
    }
    if !declared_ok {
        ctx.fail(
            0,
            format!("numberOfTests does not match the {count} tests in the file"),
        );
    }
    if ctx.errors.is_empty() {
        Ok(count)
    } else {
        Err(ctx.errors)
    }
}

fn decode(test: &Value) -> Result<Answer, String> {
    let code =
        HandshakeCode(u8::try_from(number(test, "code")?).map_err(|_| "field `code`: above 255")?);
    let body = bytes(test, "body")?;
    Ok(match HandshakeMessage::decode(code, &body) {
        Ok(Some(msg)) if msg.body() == body => accept(),
        Ok(Some(_)) => reject(None, "decodes, but does not re-encode to the same bytes"),
        Ok(None) => reject(
            Some(AlertDescription::UNEXPECTED_MESSAGE),
            format!("unknown code {code}"),
        ),
        Err(e) => reject(Some(AlertDescription::DECODE_ERROR), e.to_string()),
    })
}

fn key_schedule(test: &Value) -> Result<Answer, String> {
    let psk = array32(test, "psk")?;
    let flags = test
        .get("flags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let resumed = flags.iter().any(|f| f == "Resumed");
    let ks = KeySchedule::new(resumed.then_some(&psk), &array32(test, "shared")?);
    let h_k = array32(test, "h_k")?;
    let (c, s) = (ks.client_traffic(&h_k), ks.server_traffic(&h_k));
    let derive = |t: &[u8], label: &str, n: usize| {
        let mut out = vec![0u8; n];
        expand_label(t, label, b"", &mut out);
        hex::encode(out)
    };
    let mut checks = vec![
        ("master", hex::encode(ks.master())),
        ("c_ready_key", hex::encode(ks.client_ready_key().as_ref())),
        ("s_ready_key", hex::encode(ks.server_ready_key().as_ref())),
        ("c_traffic", hex::encode(c.as_ref())),
        ("s_traffic", hex::encode(s.as_ref())),
        ("c_key", derive(c.as_ref(), "key", 32)),
        ("c_iv", derive(c.as_ref(), "iv", 12)),
        ("s_key", derive(s.as_ref(), "key", 32)),
        ("s_iv", derive(s.as_ref(), "iv", 12)),
    ];
    // BT-KS-6: a full handshake derives the resumption secret; a resumed one has none.
    if resumed {
        if test.get("h_f").is_some() || test.get("resumption_secret").is_some() {
            return Ok(reject(
                None,
                "a resumed handshake derives no resumption_secret (BT-KS-6)",
            ));
        }
    } else {
        let h_f = array32(test, "h_f")?;
        checks.push((
            "resumption_secret",
            hex::encode(ks.resumption_secret(&h_f).as_ref()),
        ));
    }
    for (field, got) in checks {
        if text(test, field)? != got {
            return Ok(reject(None, format!("`{field}`: derived {got}")));
        }
    }
    Ok(accept())
}

fn record(group: &Value, test: &Value) -> Result<Answer, String> {
    let suite = CipherSuite::from_name(text(group, "cipherSuite")?)
        .ok_or("group `cipherSuite`: unknown")?;
    let traffic = array32(test, "traffic")?;
    let seq = number(test, "seq")?;
    let frame = bytes(test, "frame")?;
    let plaintext = bytes(test, "plaintext")?;
    let header: [u8; FRAME_HEADER_LEN] = frame
        .get(..FRAME_HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or("field `frame`: shorter than a header")?;
    let header = FrameHeader::parse(header);
    let mut opener = RecordKey::from_traffic(suite, &traffic).ok_or("no key for the suite")?;
    opener.set_limit(u64::MAX); // BT-REC-2 at any sequence number; BT-REC-8 is per connection
    opener.set_sequence(seq);
    let mut body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default().to_vec();
    let Some(opened) = opener.open(header, &mut body).map(|p| p.to_vec()) else {
        return Ok(reject(
            Some(AlertDescription::BAD_RECORD_MAC),
            "the frame does not open",
        ));
    };
    let mut sealer = RecordKey::from_traffic(suite, &traffic).ok_or("no key for the suite")?;
    sealer.set_limit(u64::MAX);
    sealer.set_sequence(seq);
    let sealed = sealer
        .seal(header.content_type, header.subcode, &plaintext)
        .ok_or("cannot seal")?;
    Ok(if opened != plaintext {
        reject(None, format!("opens to {}", hex::encode(opened)))
    } else if sealed != frame {
        reject(None, format!("seals to {}", hex::encode(sealed)))
    } else {
        accept()
    })
}

fn signature(group: &Value, test: &Value) -> Result<Answer, String> {
    let alg = KeyAlgorithm::from_name(text(group, "keyAlgorithm")?)
        .ok_or("group `keyAlgorithm`: unknown")?;
    let public = bytes(group, "publicKey")?;
    let th = array32(test, "transcriptHash")?;
    let expected_tbs = match text(test, "context")? {
        "SESSION_DETAILS" => {
            let sid = array32(test, "sessionId")?;
            let suite = CipherSuite(
                u16::try_from(number(test, "cipherSuite")?)
                    .map_err(|_| "field `cipherSuite`: above 65535")?,
            );
            SessionDetails::to_be_signed(&th, &sid, suite)
        }
        "CLIENT_READY" => ClientReady::to_be_signed(&th),
        other => return Err(format!("field `context`: unknown {other:?}")),
    };
    if bytes(test, "signedData")? != expected_tbs {
        return Ok(reject(
            None,
            format!("`signedData` should be {}", hex::encode(&expected_tbs)),
        ));
    }
    Ok(
        if verify_signature(alg, &public, &expected_tbs, &bytes(test, "signature")?) {
            accept()
        } else {
            reject(
                Some(AlertDescription::DECRYPT_ERROR),
                "the signature does not verify",
            )
        },
    )
}

fn ready(test: &Value) -> Result<Answer, String> {
    let ok = hmac_verify(
        &bytes(test, "readyKey")?,
        &bytes(test, "transcriptHash")?,
        &bytes(test, "verifyData")?,
    );
    Ok(if ok {
        accept()
    } else {
        reject(
            Some(AlertDescription::DECRYPT_ERROR),
            "verifyData does not match",
        )
    })
}

fn handshake(test: &Value) -> Result<Answer, String> {
    let alg = KeyAlgorithm::from_name(text(test, "keyAlgorithm")?)
        .ok_or("field `keyAlgorithm`: unknown")?;
    let (client, server) = (
        bytes(test, "clientPublicKey")?,
        bytes(test, "serverPublicKey")?,
    );
    let mut transcript = Transcript::default();
    let frames = test
        .get("frames")
        .and_then(Value::as_array)
        .ok_or("field `frames` is missing")?;
    for (i, entry) in frames.iter().enumerate() {
        let frame = bytes(entry, "frame").map_err(|e| format!("frames[{i}]: {e}"))?;
        if frame.first() != Some(&ContentType::HANDSHAKE.0) {
            return Err(format!("frames[{i}] is not a HANDSHAKE frame"));
        }
        let code = HandshakeCode(frame.get(1).copied().unwrap_or(0));
        let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
        let msg = match HandshakeMessage::decode(code, body) {
            Ok(Some(msg)) => msg,
            Ok(None) => {
                return Ok(reject(
                    Some(AlertDescription::UNEXPECTED_MESSAGE),
                    format!("frames[{i}]: unknown code {code}"),
                ))
            }
            Err(e) => {
                return Ok(reject(
                    Some(AlertDescription::DECODE_ERROR),
                    format!("frames[{i}] ({code}): {e}"),
                ))
            }
        };
        let before = transcript.current();
        transcript.add(&frame);
        match msg {
            HandshakeMessage::SessionDetails(d) => {
                let tbs = SessionDetails::to_be_signed(&before, &d.session_id, d.cipher_suite);
                if !verify_signature(alg, &server, &tbs, &d.signature) {
                    return Ok(reject(
                        Some(AlertDescription::DECRYPT_ERROR),
                        format!("frames[{i}]: the SESSION_DETAILS signature does not verify"),
                    ));
                }
            }
            HandshakeMessage::ClientReady(r)
                if !r.signature.is_empty()
                    && !verify_signature(
                        alg,
                        &client,
                        &ClientReady::to_be_signed(&before),
                        &r.signature,
                    ) =>
            {
                return Ok(reject(
                    Some(AlertDescription::DECRYPT_ERROR),
                    format!("frames[{i}]: the CLIENT_READY signature does not verify"),
                ));
            }
            _ => {}
        }
    }
    let got = hex::encode(transcript.current());
    Ok(if text(test, "transcriptHash")? == got {
        accept()
    } else {
        reject(None, format!("transcript hash is {got}"))
    })
}
