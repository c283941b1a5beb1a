//! `key_schedule.json`, `record.json`, `signatures.json`, `ready.json`: the cryptography of a
//! session, computed by the reference from seeded inputs.

use super::*;
use btls::crypto::{expand_label, hmac_sha256, KeySchedule, RecordKey, SeededRandom, SigningKey};
use btls::msgs::{
    CipherSuite, ClientReady, ContentType, KeyAlgorithm, SessionDetails, FRAME_HEADER_LEN,
};
use serde_json::{json, Value};

/// Offsets and widths of the length prefixes of a body.
pub(super) fn key_schedule() -> Value {
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

pub(super) fn record() -> Value {
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
            // The record vectors show BT-REC-2's nonce at any sequence number; the record
            // limit (BT-REC-8) is a rule of connections, checked by the conformance cases.
            rk.set_limit(u64::MAX);
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

pub(super) fn signatures() -> Value {
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
                if i == 0 {
                    let other = if context == "SESSION_DETAILS" {
                        ClientReady::to_be_signed(&th)
                    } else {
                        SessionDetails::to_be_signed(&th, &sid, suite)
                    };
                    for (flag, comment, signature) in wycheproof(*alg, &sig, &key.sign(&other)) {
                        let mut t = base.clone();
                        if let Some(m) = t.as_object_mut() {
                            m.insert("comment".into(), json!(format!("{context}: {comment}")));
                            m.insert("flags".into(), json!([flag]));
                            m.insert("signature".into(), json!(hex::encode(&signature)));
                            m.insert("result".into(), json!("invalid"));
                            m.insert("alert".into(), json!("decrypt_error"));
                        }
                        tests.push(t);
                    }
                    let mut negated = sig.clone();
                    if *alg == KeyAlgorithm::ECDSA_P256_ECDH_P256
                        && crate::alter::negate_s(&mut negated).is_ok()
                    {
                        let mut t = base.clone();
                        if let Some(m) = t.as_object_mut() {
                            m.insert(
                                "comment".into(),
                                json!(format!("{context}: (r, n - s), the other valid signature")),
                            );
                            m.insert("flags".into(), json!(["MalleableEcdsa"]));
                            m.insert("signature".into(), json!(hex::encode(&negated)));
                            m.insert("result".into(), json!("valid"));
                        }
                        tests.push(t);
                    }
                }
            }
        }
        groups.push(json!({"type": "HandshakeSignature", "keyAlgorithm": alg.to_string(), "publicKey": hex::encode(key.public_key()), "tests": tests}));
    }
    document(
        "bTLS 1.1 SESSION_DETAILS and CLIENT_READY signatures (BT-HS-20, BT-HS-21)",
        "signatures_schema.json",
        &["signedData is built from context, transcriptHash, sessionId and cipherSuite as SPEC §3.5/§3.6 say; check it, then the signature."],
        json!({
            "Valid": {"bugType": "BASIC", "description": "A signature by the group's key; ECDSA uses RFC 6979 nonces, so it is reproducible."},
            "ModifiedSignature": {"bugType": "AUTH_BYPASS", "description": "One bit of the signature flipped: decrypt_error."},
            "MalleatedS": {"bugType": "SIGNATURE_MALLEABILITY", "description": "Ed25519: the valid signature with L added to S (RFC 8032 §5.1.7 requires S < L): decrypt_error."},
            "WrongLength": {"bugType": "MODIFIED_SIGNATURE", "description": "The valid signature one byte short, one byte long, or a single byte (BT-HS-20, BT-HS-21: a signature of the wrong length does not verify): decrypt_error."},
            "RangeCheck": {"bugType": "MISSING_RANGE_CHECK", "description": "ECDSA-P256: r or s zero, or equal to the group order n (both must lie in 1..n-1): decrypt_error."},
            "MalleableEcdsa": {"bugType": "SIGNATURE_MALLEABILITY", "description": "ECDSA-P256: (r, n - s) verifies as (r, s) does, and anyone can make it without the key: valid. A receiver must accept it; what protects the handshake is that each party's transcript holds the bytes it received, so a man in the middle who swaps it is caught at the READY MACs."},
            "OtherLabel": {"bugType": "CONFUSED_CONTEXT", "description": "A valid signature by the same key over the other message's signed data (the other label, the other role): decrypt_error."},
        }),
        groups,
    )
}

/// Wycheproof-style invalid signatures derived from `sig`, a valid one (flag, comment, bytes);
/// `other` is the key's valid signature over the other message's signed data.
fn wycheproof(alg: KeyAlgorithm, sig: &[u8], other: &[u8]) -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let short = sig
        .get(..sig.len().saturating_sub(1))
        .unwrap_or_default()
        .to_vec();
    let mut long = sig.to_vec();
    long.push(0);
    out.push((
        "WrongLength",
        format!("{} bytes, one short", short.len()),
        short,
    ));
    out.push((
        "WrongLength",
        format!("{} bytes, one long", long.len()),
        long,
    ));
    out.push((
        "WrongLength",
        "a single byte".to_owned(),
        sig.get(..1).unwrap_or_default().to_vec(),
    ));
    if alg == KeyAlgorithm::ED25519_X25519 {
        let mut m = sig.to_vec();
        if crate::alter::malleate(&mut m).is_ok() {
            out.push(("MalleatedS", "S + L (non-canonical S)".to_owned(), m));
        }
    } else if sig.len() == 64 {
        let (r, s) = sig.split_at(32);
        for (comment, bytes) in [
            ("r = 0", [&[0u8; 32][..], s].concat()),
            ("s = 0", [r, &[0u8; 32][..]].concat()),
            ("r = n", [&crate::alter::P256_N[..], s].concat()),
            ("s = n", [r, &crate::alter::P256_N[..]].concat()),
        ] {
            out.push(("RangeCheck", comment.to_owned(), bytes));
        }
    }
    out.push((
        "OtherLabel",
        "the key's signature over the other message's signed data".to_owned(),
        other.to_vec(),
    ));
    out
}

pub(super) fn ready() -> Value {
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
