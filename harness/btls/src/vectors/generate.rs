//! Generating every vector file from the reference implementation, deterministically.

use super::{document, VectorFile};
use btls::crypto::{
    expand_label, hmac_sha256, KeySchedule, RandomSource, RecordKey, SeededRandom, SigningKey,
};
use btls::msgs::layout::{place, Shape};
use btls::msgs::{
    AlertDescription, CipherSuite, ClientReady, ContentType, HandshakeCode, HandshakeMessage,
    KeyAlgorithm, SessionDetails, FRAME_HEADER_LEN,
};
use btls::testing::{fixture_configs, Pair};
use btls::Side;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every vector file.
pub fn generate_all() -> Vec<VectorFile> {
    let handshakes = sample_handshakes();
    vec![
        VectorFile {
            name: "frames.json",
            content: frames(&handshakes),
        },
        VectorFile {
            name: "key_schedule.json",
            content: key_schedule(),
        },
        VectorFile {
            name: "record.json",
            content: record(),
        },
        VectorFile {
            name: "signatures.json",
            content: signatures(),
        },
        VectorFile {
            name: "ready.json",
            content: ready(),
        },
        VectorFile {
            name: "handshakes.json",
            content: handshakes_doc(&handshakes),
        },
    ]
}

fn random<const N: usize>(rng: &mut SeededRandom) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill(&mut out);
    out
}

/// A recorded handshake: name, flags, frames in wire order, and the two summaries' key facts.
struct Recorded {
    name: &'static str,
    flags: Vec<&'static str>,
    frames: Vec<(Side, Vec<u8>)>,
    client_key: Vec<u8>,
    server_key: Vec<u8>,
    key_algorithm: KeyAlgorithm,
    summary: Option<btls::HandshakeSummary>,
}

/// One sample handshake: name, flags, key algorithm, suite, whether the client and the server
/// know the peer's key, whether the server may send its key.
type HandshakeCase = (
    &'static str,
    Vec<&'static str>,
    KeyAlgorithm,
    CipherSuite,
    bool,
    bool,
    bool,
);

fn sample_handshakes() -> Vec<Recorded> {
    let mut out = Vec::new();
    let cases: Vec<HandshakeCase> = vec![
        (
            "both keys known, Ed25519, AES-256-GCM",
            vec!["FullHandshake"],
            KeyAlgorithm::ED25519_X25519,
            CipherSuite::AES_256_GCM,
            true,
            true,
            true,
        ),
        (
            "both keys known, P-256, ChaCha20-Poly1305",
            vec!["FullHandshake"],
            KeyAlgorithm::ECDSA_P256_ECDH_P256,
            CipherSuite::CHACHA20_POLY1305,
            true,
            true,
            true,
        ),
        (
            "keys requested in both directions, Ed25519",
            vec!["FullHandshake", "KeyRequested"],
            KeyAlgorithm::ED25519_X25519,
            CipherSuite::AES_256_GCM,
            false,
            false,
            true,
        ),
        (
            "CANNOT_SEND_KEY, then a retry with P-256",
            vec!["FullHandshake", "CannotSendKey"],
            KeyAlgorithm::ED25519_X25519,
            CipherSuite::AES_256_GCM,
            false,
            false,
            false,
        ),
    ];
    for (i, (name, flags, alg, suite, client_knows, server_knows, may_send)) in
        cases.into_iter().enumerate()
    {
        let (mut c, mut s) = fixture_configs();
        c.keys.sort_by_key(|k| k.published.key_algorithm != alg);
        c.cipher_suites = vec![suite];
        c.resumption = false;
        s.resumption = false;
        s.may_send_key = may_send;
        if !client_knows {
            if may_send {
                c.peer_keys.known.clear();
            } else {
                c.peer_keys.known.retain(|_, k| k.key_algorithm != alg);
            }
            c.peer_keys.policy.accept_unsigned = true;
        }
        if !server_knows {
            s.peer_keys.known.clear();
            s.peer_keys.policy.accept_unsigned = true;
        }
        let Ok(mut pair) = Pair::new(c, s, 100 + i as u64) else {
            continue;
        };
        let _ = pair.run();
        out.push(record_pair(name, flags, &mut pair));
    }
    // Resumption: a full handshake, then an abbreviated one.
    let (c, s) = fixture_configs();
    if let (Ok(mut first), true) = (Pair::new(c.clone(), s.clone(), 200), true) {
        let _ = first.run();
        if let Ok(mut second) = Pair::new(c, s, 201) {
            let _ = second.run();
            out.push(record_pair(
                "abbreviated handshake resuming the session of the previous full handshake",
                vec!["Resumed"],
                &mut second,
            ));
        }
    }
    out
}

fn record_pair(name: &'static str, flags: Vec<&'static str>, pair: &mut Pair) -> Recorded {
    let frames = pair
        .wire
        .writes
        .iter()
        .flat_map(|(side, bytes)| {
            btls::testing::split_frames(bytes)
                .into_iter()
                .map(move |f| (*side, f))
        })
        .filter(|(_, f)| f.first() == Some(&ContentType::HANDSHAKE.0))
        .collect();
    let summary = pair.client.summary().cloned();
    let (client_key, server_key, key_algorithm) = match &summary {
        Some(s) => (
            s.local_key.public_key.clone(),
            s.peer_key.public_key.clone(),
            s.key_algorithm,
        ),
        None => (Vec::new(), Vec::new(), KeyAlgorithm::ED25519_X25519),
    };
    Recorded {
        name,
        flags,
        frames,
        client_key,
        server_key,
        key_algorithm,
        summary,
    }
}

/// Offsets and widths of the length prefixes of a body.
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

fn frames(handshakes: &[Recorded]) -> Value {
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

fn key_schedule() -> Value {
    let mut rng = SeededRandom::new(7);
    let mut tests = Vec::new();
    for (i, resumed) in [false, false, true, true].into_iter().enumerate() {
        let shared = random::<32>(&mut rng);
        let psk = resumed.then(|| random::<32>(&mut rng));
        let (h_k, h_f) = (random::<32>(&mut rng), random::<32>(&mut rng));
        let ks = KeySchedule::new(psk.as_ref(), &shared);
        let (c, s) = (ks.client_traffic(&h_k), ks.server_traffic(&h_k));
        let key_iv = |t: &[u8]| {
            let (mut key, mut iv) = ([0u8; 32], [0u8; 12]);
            expand_label(t, "key", b"", &mut key);
            expand_label(t, "iv", b"", &mut iv);
            (hex::encode(key), hex::encode(iv))
        };
        let ((ck, civ), (sk, siv)) = (key_iv(c.as_ref()), key_iv(s.as_ref()));
        let mut test = json!({
            "comment": format!("{} handshake, example {}", if resumed { "resumed" } else { "full" }, i + 1),
            "flags": [if resumed { "Resumed" } else { "Full" }],
            "shared": hex::encode(shared),
            "psk": hex::encode(psk.unwrap_or([0; 32])),
            "h_k": hex::encode(h_k),
            "master": hex::encode(ks.master()),
            "c_ready_key": hex::encode(ks.client_ready_key().as_ref()),
            "s_ready_key": hex::encode(ks.server_ready_key().as_ref()),
            "c_traffic": hex::encode(c.as_ref()),
            "s_traffic": hex::encode(s.as_ref()),
            "c_key": ck, "c_iv": civ, "s_key": sk, "s_iv": siv,
            "result": "valid",
        });
        // BT-KS-6: only a full handshake creates a session, so only it has H_f and a
        // resumption secret; a resumed handshake keeps the session's.
        if let (false, Some(map)) = (resumed, test.as_object_mut()) {
            map.insert("h_f".into(), json!(hex::encode(h_f)));
            map.insert(
                "resumption_secret".into(),
                json!(hex::encode(ks.resumption_secret(&h_f).as_ref())),
            );
        }
        tests.push(test);
    }
    document(
        "bTLS 1.0 key schedule (SPEC §6)",
        "key_schedule_schema.json",
        &[
            "master = HKDF-Extract(psk, shared); the rest by Expand-Label with the labels of SPEC §6.",
            "Only full-handshake tests have h_f and resumption_secret: a resumed handshake creates no session and derives no resumption secret (BT-KS-6).",
        ],
        json!({
            "Full": {"bugType": "BASIC", "description": "psk is 32 zero bytes (BT-KS-2)."},
            "Resumed": {"bugType": "BASIC", "description": "psk is the session's resumption secret (BT-KS-2); no resumption_secret is derived (BT-KS-6)."},
        }),
        vec![json!({"type": "KeySchedule", "tests": tests})],
    )
}

fn record() -> Value {
    let mut groups = Vec::new();
    let mut rng = SeededRandom::new(11);
    for suite in CipherSuite::ALL {
        let mut tests = Vec::new();
        let traffic = random::<32>(&mut rng);
        let (mut key, mut iv) = ([0u8; 32], [0u8; 12]);
        expand_label(&traffic, "key", b"", &mut key);
        expand_label(&traffic, "iv", b"", &mut iv);
        let cases: [(u64, ContentType, u8, Vec<u8>, &str); 4] = [
            (
                0,
                ContentType::APPLICATION,
                0,
                b"hello, bTLS".to_vec(),
                "first application frame",
            ),
            (
                1,
                ContentType::APPLICATION,
                0,
                Vec::new(),
                "empty application frame",
            ),
            (
                0x0102_0304_0506_0708,
                ContentType::APPLICATION,
                0,
                vec![0x5a; 300],
                "large sequence number",
            ),
            (7, ContentType::ALERT, 0, vec![1], "protected close_notify"),
        ];
        for (seq, ct, sub, plaintext, comment) in cases {
            let Some(mut rk) = RecordKey::from_traffic(*suite, &traffic) else {
                continue;
            };
            rk.set_sequence(seq);
            let Some(frame) = rk.seal(ct, sub, &plaintext) else {
                continue;
            };
            let base = json!({"traffic": hex::encode(traffic), "key": hex::encode(key), "iv": hex::encode(iv), "seq": seq, "plaintext": hex::encode(&plaintext)});
            let mut valid = base.clone();
            if let Some(m) = valid.as_object_mut() {
                m.insert("comment".into(), json!(comment));
                m.insert("flags".into(), json!(["Valid"]));
                m.insert("frame".into(), json!(hex::encode(&frame)));
                m.insert("result".into(), json!("valid"));
            }
            tests.push(valid);
            for (what, index) in [
                ("a header byte", 1usize),
                ("the first ciphertext byte", FRAME_HEADER_LEN),
                ("the last tag byte", frame.len() - 1),
            ] {
                let mut bad = frame.clone();
                if let Some(b) = bad.get_mut(index) {
                    *b ^= 0x01;
                }
                let mut t = base.clone();
                if let Some(m) = t.as_object_mut() {
                    m.insert(
                        "comment".into(),
                        json!(format!("{comment} with {what} flipped")),
                    );
                    m.insert("flags".into(), json!(["Tampered"]));
                    m.insert("frame".into(), json!(hex::encode(&bad)));
                    m.insert("result".into(), json!("invalid"));
                    m.insert("alert".into(), json!("bad_record_mac"));
                }
                tests.push(t);
            }
        }
        groups.push(
            json!({"type": "RecordProtection", "cipherSuite": suite.to_string(), "tests": tests}),
        );
    }
    document(
        "bTLS 1.0 record protection (SPEC §7)",
        "record_schema.json",
        &["frame = header || AEAD-Seal(key, iv XOR seq, header, plaintext); the header's length is the ciphertext length."],
        json!({
            "Valid": {"bugType": "BASIC", "description": "Sealing plaintext at seq gives frame; opening frame at seq gives plaintext."},
            "Tampered": {"bugType": "AUTH_BYPASS", "description": "One bit flipped: opening must fail with bad_record_mac (BT-REC-4)."},
        }),
        groups,
    )
}

fn signatures() -> Value {
    let mut groups = Vec::new();
    let mut rng = SeededRandom::new(13);
    for alg in KeyAlgorithm::ALL {
        let Some(key) = SigningKey::generate(*alg, &mut rng) else {
            continue;
        };
        let mut tests = Vec::new();
        for i in 0..2 {
            let th = random::<32>(&mut rng);
            let sid = random::<32>(&mut rng);
            let suite = if i % 2 == 0 {
                CipherSuite::AES_256_GCM
            } else {
                CipherSuite::CHACHA20_POLY1305
            };
            for (context, tbs) in [
                (
                    "SESSION_DETAILS",
                    SessionDetails::to_be_signed(&th, &sid, suite),
                ),
                ("CLIENT_READY", ClientReady::to_be_signed(&th)),
            ] {
                let sig = key.sign(&tbs);
                let base = json!({"context": context, "transcriptHash": hex::encode(th), "sessionId": if context == "SESSION_DETAILS" { hex::encode(sid) } else { String::new() }, "cipherSuite": if context == "SESSION_DETAILS" { suite.0 } else { 0 }, "signedData": hex::encode(&tbs)});
                let mut valid = base.clone();
                if let Some(m) = valid.as_object_mut() {
                    m.insert(
                        "comment".into(),
                        json!(format!("{context} signature, example {}", i + 1)),
                    );
                    m.insert("flags".into(), json!(["Valid"]));
                    m.insert("signature".into(), json!(hex::encode(&sig)));
                    m.insert("result".into(), json!("valid"));
                }
                tests.push(valid);
                let mut bad_sig = sig.clone();
                if let Some(b) = bad_sig.get_mut(10) {
                    *b ^= 0x40;
                }
                let mut bad = base.clone();
                if let Some(m) = bad.as_object_mut() {
                    m.insert(
                        "comment".into(),
                        json!(format!("{context} signature with a flipped bit")),
                    );
                    m.insert("flags".into(), json!(["ModifiedSignature"]));
                    m.insert("signature".into(), json!(hex::encode(&bad_sig)));
                    m.insert("result".into(), json!("invalid"));
                    m.insert("alert".into(), json!("decrypt_error"));
                }
                tests.push(bad);
            }
        }
        groups.push(json!({"type": "HandshakeSignature", "keyAlgorithm": alg.to_string(), "publicKey": hex::encode(key.public_key()), "tests": tests}));
    }
    document(
        "bTLS 1.0 SESSION_DETAILS and CLIENT_READY signatures (BT-HS-20, BT-HS-21)",
        "signatures_schema.json",
        &["signedData is built from context, transcriptHash, sessionId and cipherSuite as SPEC §3.5/§3.6 say; check it, then the signature."],
        json!({
            "Valid": {"bugType": "BASIC", "description": "A signature by the group's key; ECDSA uses RFC 6979 nonces, so it is reproducible."},
            "ModifiedSignature": {"bugType": "AUTH_BYPASS", "description": "One bit of the signature flipped: decrypt_error."},
        }),
        groups,
    )
}

fn ready() -> Value {
    let mut rng = SeededRandom::new(17);
    let mut tests = Vec::new();
    for (i, which) in [
        "CLIENT_READY",
        "SERVER_READY",
        "CLIENT_READY",
        "SERVER_READY",
    ]
    .into_iter()
    .enumerate()
    {
        let key = random::<32>(&mut rng);
        let th = random::<32>(&mut rng);
        let mac = hmac_sha256(&key, &th);
        tests.push(json!({"comment": format!("{which} example {}", i + 1), "flags": ["Valid"], "ready": which, "readyKey": hex::encode(key), "transcriptHash": hex::encode(th), "verifyData": hex::encode(mac), "result": "valid"}));
        let mut bad = mac;
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        tests.push(json!({"comment": format!("{which} with the last byte flipped"), "flags": ["ModifiedMac"], "ready": which, "readyKey": hex::encode(key), "transcriptHash": hex::encode(th), "verifyData": hex::encode(bad), "result": "invalid", "alert": "decrypt_error"}));
    }
    document(
        "bTLS 1.0 READY verify_data (BT-HS-22, BT-HS-23)",
        "ready_schema.json",
        &["verifyData = HMAC-SHA256(readyKey, transcriptHash); compare in constant time."],
        json!({
            "Valid": {"bugType": "BASIC", "description": "The correct MAC."},
            "ModifiedMac": {"bugType": "AUTH_BYPASS", "description": "One bit flipped: decrypt_error."},
        }),
        vec![json!({"type": "ReadyMac", "tests": tests})],
    )
}

fn handshakes_doc(handshakes: &[Recorded]) -> Value {
    let tests: Vec<Value> = handshakes
        .iter()
        .filter_map(|h| {
            let summary = h.summary.as_ref()?;
            let frames: Vec<Value> = h.frames.iter().map(|(side, f)| json!({"from": if *side == Side::Client { "client" } else { "server" }, "frame": hex::encode(f)})).collect();
            Some(json!({
                "comment": h.name,
                "flags": h.flags,
                "keyAlgorithm": h.key_algorithm.to_string(),
                "cipherSuite": summary.cipher_suite.to_string(),
                "clientPublicKey": hex::encode(&h.client_key),
                "serverPublicKey": hex::encode(&h.server_key),
                "frames": frames,
                "sessionId": hex::encode(summary.session_id),
                "transcriptHash": hex::encode(summary.transcript_hash),
                "result": "valid",
            }))
        })
        .collect();
    let mut tests = tests;
    // The first handshake again with one bit of a signature flipped in each signed message.
    if let Some(first) = tests.first().cloned() {
        for (code, what) in [
            (HandshakeCode::SESSION_DETAILS, "SESSION_DETAILS"),
            (HandshakeCode::CLIENT_READY, "CLIENT_READY"),
        ] {
            let mut bad = first.clone();
            if let Some(frames) = bad.get_mut("frames").and_then(Value::as_array_mut) {
                for entry in frames.iter_mut() {
                    let Some(hex_frame) = entry.get("frame").and_then(Value::as_str) else {
                        continue;
                    };
                    let mut frame = hex::decode(hex_frame).unwrap_or_default();
                    if frame.get(1) == Some(&code.0) {
                        // The signature ends the SESSION_DETAILS body; in CLIENT_READY the 32-byte
                        // verify_data follows it.
                        let index = if code == HandshakeCode::SESSION_DETAILS {
                            frame.len() - 1
                        } else {
                            frame.len() - 33
                        };
                        if let Some(b) = frame.get_mut(index) {
                            *b ^= 0x01;
                        }
                        entry["frame"] = json!(hex::encode(&frame));
                    }
                }
            }
            if let Some(m) = bad.as_object_mut() {
                m.insert(
                    "comment".into(),
                    json!(format!(
                        "the first handshake with a bit of the {what} signature flipped"
                    )),
                );
                m.insert("flags".into(), json!(["ModifiedSignature"]));
                m.insert("result".into(), json!("invalid"));
                m.insert("alert".into(), json!("decrypt_error"));
            }
            tests.push(bad);
        }
    }
    document(
        "bTLS 1.0 whole handshakes (SPEC §5, §8)",
        "handshakes_schema.json",
        &[
            "The HANDSHAKE frames of reference sessions in wire order (fixed seeds).",
            "Every frame decodes; transcriptHash is SHA-256 over all of them (BT-HS-1); in full handshakes the SESSION_DETAILS and CLIENT_READY signatures verify under the public keys given.",
        ],
        json!({
            "FullHandshake": {"bugType": "BASIC", "description": "A full handshake."},
            "KeyRequested": {"bugType": "BASIC", "description": "SEND_KEY / SENDING_KEY in both directions."},
            "CannotSendKey": {"bugType": "BASIC", "description": "CANNOT_SEND_KEY and the client's retry (the transcript spans both hellos)."},
            "Resumed": {"bugType": "BASIC", "description": "An abbreviated handshake: no signatures."},
            "ModifiedSignature": {"bugType": "AUTH_BYPASS", "description": "A signature bit flipped: decrypt_error (the transcript hash still matches the frames as given)."},
        }),
        vec![json!({"type": "Handshake", "tests": tests})],
    )
}
