//! Properties of the codec and the state machines (proptest).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::msgs::{
    CipherSuite, ClientHello, ClientReady, HandshakeCode, HandshakeMessage, Hello, KeyAlgorithm,
    PublishedKey, ServerHello, ServerReady, SessionDetails, ValidationFailure,
};
use btls::testing::{fixture_configs, Pair, TEST_NOW_MS};
use proptest::prelude::*;

fn bytes(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), min..=max)
}

fn session_id() -> impl Strategy<Value = Option<[u8; 32]>> {
    proptest::option::of(any::<[u8; 32]>())
}

prop_compose! {
    fn client_hello()(version in any::<u16>(), random in any::<[u8; 32]>(), session_id in session_id(),
        alg in any::<u16>(), reg in bytes(1, 255), key in bytes(1, 255), share in bytes(1, 255),
        suites in proptest::collection::vec(any::<u16>(), 1..=127)) -> ClientHello {
        ClientHello {
            hello: Hello { version, random, session_id, key_algorithm: KeyAlgorithm(alg), reg_handle: reg,
                key_handle: key, key_share: share },
            cipher_suites: suites.into_iter().map(CipherSuite).collect(),
        }
    }
}

prop_compose! {
    fn server_hello()(version in any::<u16>(), random in any::<[u8; 32]>(), session_id in session_id(),
        alg in any::<u16>(), reg in bytes(1, 255), key in bytes(1, 255), share in bytes(1, 255)) -> ServerHello {
        ServerHello {
            hello: Hello { version, random, session_id, key_algorithm: KeyAlgorithm(alg), reg_handle: reg,
                key_handle: key, key_share: share },
        }
    }
}

prop_compose! {
    fn published_key()(reg in bytes(1, 255), key in bytes(1, 255), alg in any::<u16>(), public in bytes(1, 1024),
        a in any::<u64>(), b in any::<u64>(), sig in bytes(0, 1024)) -> PublishedKey {
        PublishedKey { reg_handle: reg, key_handle: key, key_algorithm: KeyAlgorithm(alg), public_key: public,
            not_before: a.min(b), not_after: a.max(b), registry_signature: sig }
    }
}

fn handshake_message() -> impl Strategy<Value = HandshakeMessage> {
    prop_oneof![
        client_hello().prop_map(HandshakeMessage::ClientHello),
        server_hello().prop_map(HandshakeMessage::ServerHello),
        Just(HandshakeMessage::SendKey),
        published_key().prop_map(HandshakeMessage::SendingKey),
        Just(HandshakeMessage::CannotSendKey),
        Just(HandshakeMessage::SuccessfulValidation),
        any::<u8>().prop_map(|r| HandshakeMessage::FailedValidation(ValidationFailure(r))),
        (any::<[u8; 32]>(), any::<u16>(), bytes(1, 1024)).prop_map(|(id, s, sig)| {
            HandshakeMessage::SessionDetails(SessionDetails {
                session_id: id,
                cipher_suite: CipherSuite(s),
                signature: sig,
            })
        }),
        (bytes(0, 1024), any::<[u8; 32]>()).prop_map(|(sig, v)| HandshakeMessage::ClientReady(
            ClientReady {
                signature: sig,
                verify_data: v
            }
        )),
        any::<[u8; 32]>()
            .prop_map(|v| HandshakeMessage::ServerReady(ServerReady { verify_data: v })),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(msg in handshake_message()) {
        let body = msg.body();
        let back = HandshakeMessage::decode(msg.code(), &body).unwrap().unwrap();
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(code in any::<u8>(), body in bytes(0, 600)) {
        let _ = HandshakeMessage::decode(HandshakeCode(code), &body);
    }

    #[test]
    fn a_valid_body_with_any_suffix_is_rejected(msg in handshake_message(), extra in bytes(1, 8)) {
        let mut body = msg.body();
        body.extend_from_slice(&extra);
        prop_assert!(HandshakeMessage::decode(msg.code(), &body).is_err());
    }

    /// Arbitrary bytes, in arbitrary chunks, to either role never panic, and never complete a
    /// handshake or deliver application data.
    #[test]
    fn arbitrary_input_never_establishes_a_connection(
        chunks in proptest::collection::vec(bytes(0, 300), 1..8), server_side in any::<bool>()
    ) {
        let (c, s) = fixture_configs();
        let mut pair = Pair::new(c, s, 1).unwrap();
        let conn = if server_side { &mut pair.server } else { &mut pair.client };
        for chunk in &chunks {
            let _ = conn.receive(chunk, TEST_NOW_MS);
        }
        prop_assert!(!conn.is_established());
        prop_assert!(conn.take_application_data().is_empty());
    }

    /// Any single frame of a real handshake with one bit flipped never lets both sides complete
    /// with different views, and every failure sends at most one alert.
    #[test]
    fn a_flipped_bit_in_flight_is_detected(frame_index in 0usize..12, bit in any::<u16>(), seed in 0u64..4) {
        let (c, s) = fixture_configs();
        let mut pair = Pair::new(c, s, seed).unwrap();
        let mut delivered = 0;
        loop {
            pair.pump();
            let to = if pair.queue(btls::Side::Server).is_empty() { btls::Side::Client } else { btls::Side::Server };
            let Some(mut frame) = pair.queue(to).pop_front() else { break };
            if delivered == frame_index {
                let i = usize::from(bit) % (frame.len() * 8);
                frame[i / 8] ^= 1 << (i % 8);
            }
            delivered += 1;
            let _ = pair.conn(to).receive(&frame, TEST_NOW_MS);
        }
        if frame_index < delivered {
            let both = pair.client.is_established() && pair.server.is_established();
            prop_assert!(!both, "a tampered handshake completed on both sides");
        }
    }
}
