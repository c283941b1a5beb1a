//! Every handshake path of SPEC §5 and §8 with a real client and server in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::conn::Event;
use btls::msgs::{
    AlertDescription as A, CipherSuite, HandshakeCode as H, KeyAlgorithm, ValidationFailure,
};
use btls::testing::{fixture_configs, Pair};
use btls::Error;
use common::{alerts_sent, events, sent_codes, strangers};

#[test]
fn both_keys_known_completes_with_the_short_flow_for_every_algorithm_and_suite() {
    for alg in KeyAlgorithm::ALL {
        for suite in CipherSuite::ALL {
            let (mut c, s) = fixture_configs();
            c.keys.retain(|k| k.published.key_algorithm == *alg);
            c.cipher_suites = vec![*suite];
            let mut pair = Pair::new(c, s, 1).unwrap();
            let out = pair.run();
            assert_eq!(out.client, Ok(()));
            assert_eq!(out.server, Ok(()));
            let ce = events(&mut pair.client);
            let se = events(&mut pair.server);
            assert_eq!(
                sent_codes(&ce),
                [H::CLIENT_HELLO, H::SUCCESSFUL_VALIDATION, H::CLIENT_READY]
            );
            assert_eq!(
                sent_codes(&se),
                [H::SERVER_HELLO, H::SESSION_DETAILS, H::SERVER_READY]
            );
            let (cs, ss) = (
                pair.client.summary().unwrap(),
                pair.server.summary().unwrap(),
            );
            assert_eq!(cs.session_id, ss.session_id, "BT-HS-27");
            assert_eq!(cs.transcript_hash, ss.transcript_hash, "BT-HS-27");
            assert_eq!((cs.key_algorithm, cs.cipher_suite), (*alg, *suite));
            assert_eq!((ss.key_algorithm, ss.cipher_suite), (*alg, *suite));
            assert_eq!(cs.peer_key, ss.local_key);
            assert_eq!(ss.peer_key, cs.local_key);
        }
    }
}

#[test]
fn unknown_keys_are_requested_in_both_directions_and_cached_only_after_completion() {
    let (c, s) = strangers();
    let (client_cache, server_cache) = (c.peer_keys.cache.clone(), s.peer_keys.cache.clone());
    let mut pair = Pair::new(c, s, 2).unwrap();
    assert!(pair.drive_until(btls::Side::Server, |c| c.state_name()
        == "ExpectClientReady"));
    assert!(
        server_cache.is_empty(),
        "BT-CACHE-1: not before the handshake completes"
    );
    let out = pair.run();
    assert_eq!((out.client, out.server), (Ok(()), Ok(())));
    let ce = events(&mut pair.client);
    let se = events(&mut pair.server);
    assert_eq!(
        sent_codes(&ce),
        [
            H::CLIENT_HELLO,
            H::SENDING_KEY,
            H::SEND_KEY,
            H::SUCCESSFUL_VALIDATION,
            H::CLIENT_READY
        ]
    );
    assert_eq!(
        sent_codes(&se),
        [
            H::SEND_KEY,
            H::SUCCESSFUL_VALIDATION,
            H::SERVER_HELLO,
            H::SENDING_KEY,
            H::SESSION_DETAILS,
            H::SERVER_READY
        ]
    );
    assert_eq!(client_cache.len(), 1);
    assert_eq!(server_cache.len(), 1);
}

#[test]
fn cached_key_skips_the_request_on_the_next_connection() {
    let (c, s) = strangers();
    let mut pair = Pair::new(c.clone(), s.clone(), 3).unwrap();
    assert_eq!(pair.run().client, Ok(()));
    let mut c2 = c;
    c2.resumption = false;
    let mut pair = Pair::new(c2, s, 4).unwrap();
    assert_eq!(pair.run().client, Ok(()));
    let ce = events(&mut pair.client);
    assert!(!sent_codes(&ce).contains(&H::SEND_KEY));
    assert!(!sent_codes(&ce).contains(&H::SENDING_KEY));
}

#[test]
fn cannot_send_key_makes_the_client_retry_with_its_next_algorithm() {
    let (mut c, mut s) = fixture_configs();
    s.may_send_key = false;
    // The client does not know the server's Ed25519 key, only its P-256 key.
    c.peer_keys
        .known
        .retain(|_, k| k.key_algorithm == KeyAlgorithm::ECDSA_P256_ECDH_P256);
    let mut pair = Pair::new(c, s, 5).unwrap();
    let out = pair.run();
    assert_eq!((out.client, out.server), (Ok(()), Ok(())));
    let ce = events(&mut pair.client);
    let se = events(&mut pair.server);
    assert_eq!(
        sent_codes(&ce),
        [
            H::CLIENT_HELLO,
            H::SEND_KEY,
            H::CLIENT_HELLO,
            H::SUCCESSFUL_VALIDATION,
            H::CLIENT_READY
        ]
    );
    assert_eq!(
        sent_codes(&se),
        [
            H::SERVER_HELLO,
            H::CANNOT_SEND_KEY,
            H::SERVER_HELLO,
            H::SESSION_DETAILS,
            H::SERVER_READY
        ]
    );
    assert_eq!(
        pair.client.summary().unwrap().key_algorithm,
        KeyAlgorithm::ECDSA_P256_ECDH_P256
    );
}

#[test]
fn cannot_send_key_with_no_untried_algorithm_fails_the_handshake() {
    let (mut c, mut s) = fixture_configs();
    s.may_send_key = false;
    c.peer_keys.known.clear();
    c.keys.truncate(1);
    let mut pair = Pair::new(c, s, 6).unwrap();
    let out = pair.run();
    assert_eq!(out.client, Err(Error::NoUntriedKeyAlgorithm));
    assert_eq!(
        alerts_sent(&events(&mut pair.client)),
        [A::FAILED_HANDSHAKE]
    );
    assert!(
        matches!(out.server, Err(Error::AlertReceived(a)) if a.description == A::FAILED_HANDSHAKE)
    );
}

#[test]
fn server_rejecting_the_client_key_sends_failed_validation_then_failed_handshake() {
    let (mut c, mut s) = strangers();
    s.peer_keys.policy.accept_unsigned = false;
    c.peer_keys.policy.accept_unsigned = true;
    let server_cache = s.peer_keys.cache.clone();
    let mut pair = Pair::new(c, s, 7).unwrap();
    let out = pair.run();
    assert_eq!(
        out.server,
        Err(Error::PeerKeyRejected(ValidationFailure::UNTRUSTED_KEY))
    );
    let se = events(&mut pair.server);
    assert_eq!(sent_codes(&se), [H::SEND_KEY, H::FAILED_VALIDATION]);
    assert_eq!(alerts_sent(&se), [A::FAILED_HANDSHAKE], "BT-HS-10");
    assert!(
        server_cache.is_empty(),
        "BT-CACHE-1: a failed handshake leaves the cache as it was"
    );
    let ce = events(&mut pair.client);
    assert!(ce.contains(&Event::PeerRejectedKey(ValidationFailure::UNTRUSTED_KEY)));
    assert!(alerts_sent(&ce).is_empty(), "BT-HS-11, BT-ALERT-4");
    assert!(
        matches!(out.client, Err(Error::AlertReceived(a)) if a.description == A::FAILED_HANDSHAKE)
    );
}

#[test]
fn client_rejecting_an_expired_server_key_sends_failed_validation_then_failed_handshake() {
    let (mut c, s) = fixture_configs();
    for key in c.peer_keys.known.values_mut() {
        key.not_after = 1; // expired in 1970
    }
    let mut pair = Pair::new(c, s, 8).unwrap();
    let out = pair.run();
    assert_eq!(
        out.client,
        Err(Error::PeerKeyRejected(ValidationFailure::EXPIRED_KEY))
    );
    let ce = events(&mut pair.client);
    assert_eq!(sent_codes(&ce), [H::CLIENT_HELLO, H::FAILED_VALIDATION]);
    assert_eq!(alerts_sent(&ce), [A::FAILED_HANDSHAKE]);
    assert!(
        matches!(out.server, Err(Error::AlertReceived(a)) if a.description == A::FAILED_HANDSHAKE)
    );
}

#[test]
fn unexpected_server_identity_is_a_validation_failure() {
    let (mut c, s) = fixture_configs();
    c.expected_server = Some(b"someone-else.example".to_vec());
    let mut pair = Pair::new(c, s, 9).unwrap();
    let out = pair.run();
    assert_eq!(
        out.client,
        Err(Error::PeerKeyRejected(
            ValidationFailure::UNEXPECTED_IDENTITY
        ))
    );
}

#[test]
fn policy_hooks_reject_with_the_reason_of_the_first_failing_check() {
    type Tweak = Box<dyn Fn(&mut btls::ServerConfig)>;
    let cases: Vec<(&str, Tweak, ValidationFailure)> = vec![
        (
            "algorithm not allowed",
            Box::new(|s| {
                s.peer_keys.policy.allowed_algorithms = vec![KeyAlgorithm::ECDSA_P256_ECDH_P256]
            }),
            ValidationFailure::ALGORITHM_NOT_ALLOWED,
        ),
        (
            "pin mismatch",
            Box::new(|s| {
                s.peer_keys.policy.pinned.insert(
                    (b"client.example".to_vec(), b"ed25519-1".to_vec()),
                    vec![0; 32],
                );
            }),
            ValidationFailure::PIN_MISMATCH,
        ),
        (
            "expired",
            Box::new(|s| {
                s.peer_keys
                    .known
                    .values_mut()
                    .for_each(|k| k.not_before = u64::MAX - 1)
            }),
            ValidationFailure::EXPIRED_KEY,
        ),
    ];
    for (name, tweak, reason) in cases {
        let (c, mut s) = fixture_configs();
        tweak(&mut s);
        let mut pair = Pair::new(c, s, 10).unwrap();
        assert_eq!(
            pair.run().server,
            Err(Error::PeerKeyRejected(reason)),
            "{name}"
        );
    }
}

#[test]
fn second_connection_resumes_with_the_abbreviated_handshake() {
    let (c, s) = fixture_configs();
    let mut first = Pair::new(c.clone(), s.clone(), 11).unwrap();
    assert_eq!(first.run().client, Ok(()));
    let original = first.client.summary().unwrap().clone();
    let mut second = Pair::new(c, s, 12).unwrap();
    let out = second.run();
    assert_eq!((out.client, out.server), (Ok(()), Ok(())));
    let ce = events(&mut second.client);
    let se = events(&mut second.server);
    assert_eq!(sent_codes(&ce), [H::CLIENT_HELLO, H::CLIENT_READY]);
    assert_eq!(sent_codes(&se), [H::SERVER_HELLO, H::SERVER_READY]);
    let cs = second.client.summary().unwrap();
    assert!(cs.resumed && second.server.summary().unwrap().resumed);
    assert_eq!(cs.session_id, original.session_id, "BT-RES-3");
    assert_eq!(cs.cipher_suite, original.cipher_suite, "BT-RES-4");
    assert_eq!(
        cs.transcript_hash,
        second.server.summary().unwrap().transcript_hash
    );
    // Application data flows over the resumed session.
    second.client.send(b"resumed hello").unwrap();
    second.run();
    assert_eq!(second.server.take_application_data(), b"resumed hello");
}

#[test]
fn server_without_the_session_falls_back_to_a_full_handshake() {
    let (c, s) = fixture_configs();
    let mut first = Pair::new(c.clone(), s, 13).unwrap();
    assert_eq!(first.run().client, Ok(()));
    let (_, fresh_server) = fixture_configs();
    let mut second = Pair::new(c.clone(), fresh_server, 14).unwrap();
    assert_eq!(second.run().client, Ok(()));
    assert!(!second.client.summary().unwrap().resumed);
    assert_eq!(
        sent_codes(&events(&mut second.server)),
        [H::SERVER_HELLO, H::SESSION_DETAILS, H::SERVER_READY]
    );
}

#[test]
fn expired_session_is_not_resumed() {
    let (c, mut s) = fixture_configs();
    s.session_lifetime = std::time::Duration::from_millis(0);
    let mut first = Pair::new(c.clone(), s.clone(), 15).unwrap();
    assert_eq!(first.run().client, Ok(()));
    let mut second = Pair::new(c, s, 16).unwrap();
    assert_eq!(second.run().client, Ok(()));
    assert!(!second.client.summary().unwrap().resumed);
}

#[test]
fn application_data_flows_both_ways_and_close_notify_closes_cleanly() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 17).unwrap();
    pair.run();
    let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    pair.client.send(&big).unwrap();
    pair.server.send(b"pong").unwrap();
    pair.run();
    assert_eq!(pair.server.take_application_data(), big);
    assert_eq!(pair.client.take_application_data(), b"pong");
    pair.client.close();
    let out = pair.run();
    assert_eq!((out.client, out.server), (Ok(()), Ok(())));
    assert!(pair.client.is_closed() && pair.server.is_closed());
    assert!(
        events(&mut pair.server).contains(&Event::Closed),
        "BT-CLOSE-2"
    );
    assert_eq!(pair.client.receive_eof(), Ok(()));
    assert_eq!(
        pair.client.send(b"late"),
        Err(Error::ConnectionClosed),
        "BT-CLOSE-1"
    );
}

#[test]
fn end_of_stream_without_close_notify_is_truncation() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 18).unwrap();
    pair.run();
    pair.server.send(b"partial").unwrap();
    pair.run();
    assert_eq!(
        pair.client.receive_eof(),
        Err(Error::Truncated),
        "BT-CLOSE-3"
    );
}

#[test]
fn end_of_stream_during_the_handshake_fails_it_without_an_alert() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 19).unwrap();
    pair.pump();
    assert_eq!(
        pair.server.receive_eof(),
        Err(Error::PeerClosedDuringHandshake),
        "BT-CLOSE-4"
    );
    assert!(pair.server.take_output().is_empty());
}

#[test]
fn handshake_timeout_sends_its_alert() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 20).unwrap();
    let deadline = pair.client.timeout().unwrap();
    assert_eq!(pair.client.handle_timeout(deadline - 1), Ok(()));
    assert_eq!(
        pair.client.handle_timeout(deadline),
        Err(Error::HandshakeTimeout),
        "BT-TIME-1"
    );
    let ce = events(&mut pair.client);
    assert_eq!(alerts_sent(&ce), [A::HANDSHAKE_TIMEOUT]);
}

#[test]
fn a_fixed_seed_gives_byte_identical_sessions() {
    let run = |seed| {
        let (c, s) = strangers();
        let mut pair = Pair::new(c, s, seed).unwrap();
        pair.run();
        pair.client.send(b"data").unwrap();
        pair.client.close();
        pair.run();
        pair.wire
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn registry_lookup_replaces_send_key() {
    let dir = std::env::temp_dir().join(format!("btls-hs-registry-{}", std::process::id()));
    let registry = btls::keys::DirectoryRegistry::new(&dir);
    let (mut c, mut s) = strangers();
    for k in btls::testing::fixture_keys(btls::Side::Client) {
        registry.publish(&k.published).unwrap();
    }
    s.peer_keys.registry = Some(std::sync::Arc::new(registry));
    c.peer_keys.policy.accept_unsigned = true;
    let mut pair = Pair::new(c, s, 21).unwrap();
    assert_eq!(pair.run().server, Ok(()));
    assert!(
        !sent_codes(&events(&mut pair.server)).contains(&H::SEND_KEY),
        "BT-KEY-3"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_client_naming_no_expected_server_refuses_to_start_unless_it_accepts_any() {
    let (mut c, s) = fixture_configs();
    c.expected_server = None;
    assert!(matches!(
        Pair::new(c.clone(), s.clone(), 9),
        Err(Error::NoExpectedServer)
    ));
    c.accept_any_server = true;
    let mut pair = Pair::new(c, s, 9).unwrap();
    assert_eq!(pair.run().client, Ok(()));
}

#[test]
fn has_output_says_whether_take_output_has_bytes() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 1).unwrap();
    let client = pair.conn(btls::Side::Client);
    assert!(client.has_output(), "the CLIENT_HELLO waits to be written");
    assert!(!client.take_output().is_empty());
    assert!(!client.has_output());
    assert!(client.take_output().is_empty());
}
