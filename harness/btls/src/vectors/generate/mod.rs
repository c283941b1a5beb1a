//! Generating every vector file from the reference implementation, deterministically.

mod crypto;
mod frames;

use crypto::{key_schedule, ready, record, signatures};
use frames::frames;

use super::{document, VectorFile};
use btls::crypto::{RandomSource, SeededRandom};
use btls::msgs::{CipherSuite, ContentType, HandshakeCode, KeyAlgorithm};
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

pub(super) fn random<const N: usize>(rng: &mut SeededRandom) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill(&mut out);
    out
}

/// A recorded handshake: name, flags, frames in wire order, and the two summaries' key facts.
pub(super) struct Recorded {
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
