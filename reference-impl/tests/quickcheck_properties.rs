//! Properties of the codec and the record layer (quickcheck): frame headers, alerts and
//! published keys round-trip; arbitrary bytes never panic a decoder or a connection; frames split
//! and rejoin exactly; a sealed record opens once, under its own sequence number only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::codec::Codec;
use btls::crypto::RecordKey;
use btls::msgs::{
    Alert, AlertDescription, AlertLevel, CipherSuite, ContentType, FrameHeader, HandshakeCode,
    HandshakeMessage, KeyAlgorithm, PublishedKey, FRAME_HEADER_LEN,
};
use btls::testing::{fixture_configs, split_frames, Pair, TEST_NOW_MS};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

const CASES: u64 = 300;

fn check<A: quickcheck::Testable>(f: A) {
    QuickCheck::new()
        .tests(CASES)
        .max_tests(CASES * 10)
        .quickcheck(f);
}

fn bytes(g: &mut Gen, min: usize, max: usize) -> Vec<u8> {
    let len = min + usize::arbitrary(g) % (max - min + 1);
    (0..len).map(|_| u8::arbitrary(g)).collect()
}

/// A PublishedKey within the encoding's ranges.
#[derive(Debug, Clone)]
struct AnyKey(PublishedKey);

impl Arbitrary for AnyKey {
    fn arbitrary(g: &mut Gen) -> Self {
        let (a, b) = (u64::arbitrary(g), u64::arbitrary(g));
        Self(PublishedKey {
            reg_handle: bytes(g, 1, 40),
            key_handle: bytes(g, 1, 40),
            key_algorithm: KeyAlgorithm(u16::arbitrary(g)),
            public_key: bytes(g, 1, 100),
            not_before: a.min(b),
            not_after: a.max(b),
            registry_signature: bytes(g, 0, 80),
        })
    }
}

#[test]
fn frame_headers_round_trip() {
    fn prop(ct: u8, sub: u8, len: u16) -> bool {
        let h = FrameHeader::parse([ct, sub, (len >> 8) as u8, len as u8]);
        h.content_type == ContentType(ct)
            && h.subcode == sub
            && h.length == len
            && FrameHeader::parse(h.to_bytes()) == h
    }
    check(prop as fn(u8, u8, u16) -> bool);
}

#[test]
fn alerts_round_trip_and_other_lengths_are_rejected() {
    fn prop(description: u8, level: u8, extra: Vec<u8>) -> bool {
        let alert = Alert::from_body(description, &[level]).unwrap();
        let ok = alert.body() == [level]
            && alert.level == AlertLevel(level)
            && alert.description == AlertDescription(description);
        let mut long = vec![level];
        long.extend_from_slice(&extra);
        ok && (extra.is_empty() || Alert::from_body(description, &long).is_err())
            && Alert::from_body(description, &[]).is_err()
    }
    check(prop as fn(u8, u8, Vec<u8>) -> bool);
}

#[test]
fn published_keys_round_trip_and_reject_any_truncation() {
    fn prop(key: AnyKey, cut: usize) -> bool {
        let encoded = key.0.to_bytes();
        let back = PublishedKey::decode(&encoded);
        let cut = cut % encoded.len();
        back.as_ref() == Ok(&key.0) && PublishedKey::decode(&encoded[..cut]).is_err()
    }
    check(prop as fn(AnyKey, usize) -> bool);
}

#[test]
fn decoding_arbitrary_bodies_never_panics() {
    fn prop(code: u8, body: Vec<u8>) -> bool {
        let _ = HandshakeMessage::decode(HandshakeCode(code), &body);
        let _ = PublishedKey::decode(&body);
        let _ = Alert::from_body(code, &body);
        true
    }
    check(prop as fn(u8, Vec<u8>) -> bool);
}

#[test]
fn frames_split_and_rejoin_exactly() {
    fn prop(bodies: Vec<(u8, u8, Vec<u8>)>) -> bool {
        let frames: Vec<Vec<u8>> = bodies
            .iter()
            .map(|(ct, sub, body)| FrameHeader::frame(ContentType(*ct), *sub, body))
            .collect();
        let wire: Vec<u8> = frames.concat();
        split_frames(&wire) == frames
    }
    check(prop as fn(Vec<(u8, u8, Vec<u8>)>) -> bool);
}

/// Arbitrary bytes after a completed handshake, in any split, never panic either side and never
/// deliver application data: every protected frame must open under the agreed keys.
#[test]
fn arbitrary_bytes_after_the_handshake_deliver_nothing() {
    fn prop(chunks: Vec<Vec<u8>>, to_server: bool) -> bool {
        let (c, s) = fixture_configs();
        let mut pair = Pair::new(c, s, 3).unwrap();
        let out = pair.run();
        assert_eq!((out.client, out.server), (Ok(()), Ok(())));
        let conn = if to_server {
            &mut pair.server
        } else {
            &mut pair.client
        };
        for chunk in &chunks {
            let _ = conn.receive(chunk, TEST_NOW_MS);
        }
        conn.take_application_data().is_empty()
    }
    QuickCheck::new()
        .tests(100)
        .quickcheck(prop as fn(Vec<Vec<u8>>, bool) -> bool);
}

/// BT-REC-2, BT-REC-4: a sealed record opens under its own sequence number, exactly once; a
/// replay or any flipped bit does not open.
#[test]
fn a_record_opens_once_under_its_own_sequence_number() {
    fn prop(
        traffic: Vec<u8>,
        plaintext: Vec<u8>,
        seq: u32,
        flip: usize,
        chacha: bool,
    ) -> TestResult {
        if traffic.len() < 32 {
            return TestResult::discard();
        }
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&traffic[..32]);
        let suite = if chacha {
            CipherSuite::CHACHA20_POLY1305
        } else {
            CipherSuite::AES_256_GCM
        };
        let mut sender = RecordKey::from_traffic(suite, &secret).unwrap();
        let mut receiver = RecordKey::from_traffic(suite, &secret).unwrap();
        // Any sequence number: the record limit (BT-REC-8) is lifted for this property.
        sender.set_limit(u64::MAX);
        receiver.set_limit(u64::MAX);
        sender.set_sequence(u64::from(seq));
        receiver.set_sequence(u64::from(seq));
        let frame = sender
            .seal(ContentType::APPLICATION, 0, &plaintext)
            .unwrap();
        // The header is read from the frame itself: it is authenticated too.
        let open = |r: &mut RecordKey, f: &[u8]| {
            let mut header = [0u8; FRAME_HEADER_LEN];
            header.copy_from_slice(&f[..FRAME_HEADER_LEN]);
            let mut body = f[FRAME_HEADER_LEN..].to_vec();
            r.open(FrameHeader::parse(header), &mut body)
                .map(|p| p.to_vec())
        };
        let mut tampered = frame.clone();
        let bit = flip % (tampered.len() * 8);
        tampered[bit / 8] ^= 1 << (bit % 8);
        let tampered_rejected = open(&mut receiver, &tampered).is_none();
        let first = open(&mut receiver, &frame);
        let replay = open(&mut receiver, &frame);
        TestResult::from_bool(
            tampered_rejected && first.as_deref() == Some(&plaintext[..]) && replay.is_none(),
        )
    }
    check(prop as fn(Vec<u8>, Vec<u8>, u32, usize, bool) -> TestResult);
}
