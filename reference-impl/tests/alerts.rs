//! Every row of the error table (SPEC §9), provoked in the role that detects it: a frame is
//! altered in flight and the receiver must send exactly the alert the table names, then close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::codec::Codec;
use btls::msgs::{
    AlertDescription as A, CipherSuite, ClientHello, ContentType, HandshakeCode as H,
    HandshakeMessage, KeyAlgorithm, ServerHello, SessionDetails,
};
use btls::testing::{fixture_configs, Pair};
use btls::{Error, Side};
use common::{alerts_sent, events};

fn is(code: H) -> impl Fn(&[u8]) -> bool {
    move |f: &[u8]| f.first() == Some(&ContentType::HANDSHAKE.0) && f.get(1) == Some(&code.0)
}

/// Drives a default pair until the next frame to `to` is `code`, replaces it with `alter(frame)`,
/// delivers it and returns the receiver's error and the alerts it sent.
fn provoke(
    configs: (btls::ClientConfig, btls::ServerConfig),
    to: Side,
    code: H,
    alter: impl Fn(Vec<u8>) -> Vec<u8>,
) -> (Error, Vec<A>) {
    let mut pair = Pair::new(configs.0, configs.1, 5).unwrap();
    assert!(
        pair.drive_until_next(to, is(code)),
        "{code} never sent to {to:?}"
    );
    let frame = pair.queue(to).pop_front().unwrap();
    let altered = alter(frame);
    let conn = pair.conn(to);
    events(conn);
    let err = conn
        .receive(&altered, btls::testing::TEST_NOW_MS)
        .unwrap_err();
    let sent = alerts_sent(&events(conn));
    assert!(
        conn.is_closed(),
        "BT-ALERT-3: the connection closes after the alert"
    );
    (err, sent)
}

fn reencode<M>(
    frame: Vec<u8>,
    decode: impl Fn(&[u8]) -> M,
    f: impl Fn(&mut M),
    encode: impl Fn(M) -> HandshakeMessage,
) -> Vec<u8> {
    let mut msg = decode(&frame[4..]);
    f(&mut msg);
    encode(msg).to_frame()
}

fn client_hello(frame: Vec<u8>, f: impl Fn(&mut ClientHello)) -> Vec<u8> {
    reencode(
        frame,
        |b| ClientHello::decode(b).unwrap(),
        f,
        HandshakeMessage::ClientHello,
    )
}

fn server_hello(frame: Vec<u8>, f: impl Fn(&mut ServerHello)) -> Vec<u8> {
    reencode(
        frame,
        |b| ServerHello::decode(b).unwrap(),
        f,
        HandshakeMessage::ServerHello,
    )
}

fn flip(index: usize) -> impl Fn(Vec<u8>) -> Vec<u8> {
    move |mut f| {
        let i = index.min(f.len() - 1);
        f[i] ^= 0x01;
        f
    }
}

fn last_byte_flipped(mut f: Vec<u8>) -> Vec<u8> {
    let i = f.len() - 1;
    f[i] ^= 0x80;
    f
}

#[track_caller]
fn expect(result: (Error, Vec<A>), alert: A) {
    assert_eq!(result.1, [alert], "error was {:?}", result.0);
    assert_eq!(result.0.alert(), Some(alert));
}

// --- frame layer -----------------------------------------------------------------------------

#[test]
fn oversize_length_is_record_overflow() {
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |_| {
            vec![0x01, 0x01, 0xff, 0xff]
        }),
        A::RECORD_OVERFLOW,
    );
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |_| {
            vec![0x02, 0x00, 0x40, 0x11]
        }),
        A::RECORD_OVERFLOW,
    );
}

#[test]
fn unknown_content_type_is_unexpected_message() {
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |mut f| {
            f[0] = 0x09;
            f
        }),
        A::UNEXPECTED_MESSAGE,
    );
}

#[test]
fn unknown_handshake_code_is_unexpected_message() {
    let r = provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, |mut f| {
        f[1] = 0x7f;
        f
    });
    assert!(matches!(r.0, Error::UnknownHandshakeCode(_)));
    expect(r, A::UNEXPECTED_MESSAGE);
}

#[test]
fn truncated_and_trailing_bodies_are_decode_errors() {
    // Length shortened by one: the body is cut (BT-FRAME-7).
    let cut = |mut f: Vec<u8>| {
        let len = u16::from_be_bytes([f[2], f[3]]) - 1;
        f[2..4].copy_from_slice(&len.to_be_bytes());
        f.pop();
        f
    };
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, cut),
        A::DECODE_ERROR,
    );
    let trailing = |mut f: Vec<u8>| {
        let len = u16::from_be_bytes([f[2], f[3]]) + 1;
        f[2..4].copy_from_slice(&len.to_be_bytes());
        f.push(0);
        f
    };
    expect(
        provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, trailing),
        A::DECODE_ERROR,
    );
    // A non-empty SUCCESSFUL_VALIDATION (BT-FRAME-8).
    let padded = |_| vec![0x01, H::SUCCESSFUL_VALIDATION.0, 0x00, 0x01, 0x00];
    expect(
        provoke(
            fixture_configs(),
            Side::Server,
            H::SUCCESSFUL_VALIDATION,
            padded,
        ),
        A::DECODE_ERROR,
    );
}

#[test]
fn application_data_before_the_handshake_is_unexpected_and_a_bad_subcode_a_decode_error() {
    let app = |_| {
        vec![
            0x03, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]
    };
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, app),
        A::UNEXPECTED_MESSAGE,
    );
    let bad_sub = |_| {
        vec![
            0x03, 0x01, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]
    };
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, bad_sub),
        A::DECODE_ERROR,
    );
}

#[test]
fn alert_with_a_two_byte_body_is_a_decode_error() {
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |_| {
            vec![0x02, 40, 0x00, 0x02, 2, 2]
        }),
        A::DECODE_ERROR,
    );
}

#[test]
fn a_fatal_alert_is_not_answered() {
    let (err, sent) = {
        let (c, s) = fixture_configs();
        let mut pair = Pair::new(c, s, 1).unwrap();
        let r = pair
            .server
            .receive(&[0x02, 0x99, 0x00, 0x01, 0x07], 0)
            .unwrap_err();
        (r, alerts_sent(&events(&mut pair.server)))
    };
    assert!(
        matches!(err, Error::AlertReceived(_)),
        "BT-ALERT-2: unknown description and level are fatal"
    );
    assert!(sent.is_empty(), "BT-ALERT-4");
}

// --- server checks of CLIENT_HELLO (BT-HS-28) -----------------------------------------------

#[test]
fn wrong_client_version_is_protocol_version() {
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
            client_hello(f, |h| h.hello.version = 0x0200)
        }),
        A::PROTOCOL_VERSION,
    );
}

#[test]
fn duplicate_cipher_suite_is_illegal_parameter() {
    let r = provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
        client_hello(f, |h| {
            h.cipher_suites = vec![CipherSuite::AES_256_GCM, CipherSuite::AES_256_GCM]
        })
    });
    expect(r, A::ILLEGAL_PARAMETER);
}

#[test]
fn unknown_key_algorithm_and_no_common_suite_are_failed_handshake() {
    let r = provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
        client_hello(f, |h| h.hello.key_algorithm = KeyAlgorithm(0x0099))
    });
    assert!(matches!(r.0, Error::UnsupportedKeyAlgorithm(_)));
    expect(r, A::FAILED_HANDSHAKE);
    let r = provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
        client_hello(f, |h| h.cipher_suites = vec![CipherSuite(0x0099)])
    });
    assert_eq!(r.0, Error::NoCommonCipherSuite);
    expect(r, A::FAILED_HANDSHAKE);
}

#[test]
fn server_without_a_key_of_the_algorithm_fails_the_handshake() {
    let (c, mut s) = fixture_configs();
    s.keys
        .retain(|k| k.published.key_algorithm == KeyAlgorithm::ECDSA_P256_ECDH_P256);
    expect(
        provoke((c, s), Side::Server, H::CLIENT_HELLO, |f| f),
        A::FAILED_HANDSHAKE,
    );
}

#[test]
fn invalid_key_share_is_illegal_parameter_on_both_sides() {
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
            client_hello(f, |h| h.hello.key_share = vec![7; 31])
        }),
        A::ILLEGAL_PARAMETER,
    );
    // An all-zero X25519 share gives an all-zero secret (BT-KS-1).
    expect(
        provoke(fixture_configs(), Side::Server, H::CLIENT_HELLO, |f| {
            client_hello(f, |h| h.hello.key_share = vec![0; 32])
        }),
        A::ILLEGAL_PARAMETER,
    );
    expect(
        provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, |f| {
            server_hello(f, |h| h.hello.key_share = vec![0; 32])
        }),
        A::ILLEGAL_PARAMETER,
    );
}

#[test]
fn retry_repeating_an_algorithm_or_offering_a_session_is_illegal_parameter() {
    for alter in [
        (|h: &mut ClientHello| h.hello.key_algorithm = KeyAlgorithm::ED25519_X25519)
            as fn(&mut ClientHello),
        |h: &mut ClientHello| h.hello.session_id = Some([9; 32]),
    ] {
        let (mut c, mut s) = fixture_configs();
        s.may_send_key = false;
        c.peer_keys.known.clear();
        let mut pair = Pair::new(c, s, 3).unwrap();
        pair.pump();
        pair.deliver_one(Side::Server).unwrap().unwrap(); // the first CLIENT_HELLO
        assert!(
            pair.drive_until_next(Side::Server, is(H::CLIENT_HELLO)),
            "no retry"
        );
        let retry = pair.queue(Side::Server).pop_front().unwrap();
        let err = pair
            .server
            .receive(&client_hello(retry, alter), 0)
            .unwrap_err();
        assert!(matches!(err, Error::IllegalParameter(_)), "{err:?}");
        assert_eq!(
            alerts_sent(&events(&mut pair.server)),
            [A::ILLEGAL_PARAMETER]
        );
    }
}

// --- client checks of SERVER_HELLO (BT-HS-29) -----------------------------------------------

#[test]
fn wrong_server_version_is_protocol_version() {
    expect(
        provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, |f| {
            server_hello(f, |h| h.hello.version = 0x0101)
        }),
        A::PROTOCOL_VERSION,
    );
}

#[test]
fn algorithm_mismatch_is_illegal_parameter() {
    let r = provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, |f| {
        server_hello(f, |h| {
            h.hello.key_algorithm = KeyAlgorithm::ECDSA_P256_ECDH_P256
        })
    });
    assert!(matches!(
        r.0,
        Error::IllegalParameter(btls::error::IllegalParameter::KeyAlgorithmMismatch)
    ));
    expect(r, A::ILLEGAL_PARAMETER);
}

#[test]
fn session_id_that_was_not_offered_is_illegal_parameter() {
    expect(
        provoke(fixture_configs(), Side::Client, H::SERVER_HELLO, |f| {
            server_hello(f, |h| h.hello.session_id = Some([3; 32]))
        }),
        A::ILLEGAL_PARAMETER,
    );
}

#[test]
fn resumed_server_hello_naming_another_key_is_illegal_parameter() {
    let (c, s) = fixture_configs();
    let mut first = Pair::new(c.clone(), s.clone(), 1).unwrap();
    assert_eq!(first.run().client, Ok(()));
    let r = provoke((c, s), Side::Client, H::SERVER_HELLO, |f| {
        server_hello(f, |h| h.hello.key_handle = b"other".to_vec())
    });
    assert!(matches!(
        r.0,
        Error::IllegalParameter(btls::error::IllegalParameter::ResumedWithAnotherKey)
    ));
    expect(r, A::ILLEGAL_PARAMETER);
}

// --- SESSION_DETAILS and the READY messages --------------------------------------------------

fn session_details(frame: Vec<u8>, f: impl Fn(&mut SessionDetails)) -> Vec<u8> {
    reencode(
        frame,
        |b| SessionDetails::decode(b).unwrap(),
        f,
        HandshakeMessage::SessionDetails,
    )
}

#[test]
fn unoffered_cipher_suite_is_illegal_parameter() {
    let (mut c, s) = fixture_configs();
    c.cipher_suites = vec![CipherSuite::AES_256_GCM];
    let r = provoke((c, s), Side::Client, H::SESSION_DETAILS, |f| {
        session_details(f, |d| d.cipher_suite = CipherSuite::CHACHA20_POLY1305)
    });
    assert!(matches!(
        r.0,
        Error::IllegalParameter(btls::error::IllegalParameter::UnofferedCipherSuite)
    ));
    expect(r, A::ILLEGAL_PARAMETER);
}

#[test]
fn bad_session_details_signature_is_decrypt_error() {
    let r = provoke(
        fixture_configs(),
        Side::Client,
        H::SESSION_DETAILS,
        last_byte_flipped,
    );
    assert_eq!(r.0, Error::BadSessionDetailsSignature);
    expect(r, A::DECRYPT_ERROR);
    // Changing a signed field also breaks the signature (BT-HS-20).
    let r = provoke(fixture_configs(), Side::Client, H::SESSION_DETAILS, flip(4));
    assert_eq!(r.0, Error::BadSessionDetailsSignature);
}

#[test]
fn bad_ready_macs_and_client_signature_are_decrypt_errors() {
    let r = provoke(
        fixture_configs(),
        Side::Client,
        H::SERVER_READY,
        last_byte_flipped,
    );
    assert_eq!(r.0, Error::BadReadyMac(H::SERVER_READY));
    expect(r, A::DECRYPT_ERROR);
    let r = provoke(
        fixture_configs(),
        Side::Server,
        H::CLIENT_READY,
        last_byte_flipped,
    );
    assert_eq!(r.0, Error::BadReadyMac(H::CLIENT_READY));
    expect(r, A::DECRYPT_ERROR);
    let r = provoke(fixture_configs(), Side::Server, H::CLIENT_READY, flip(8));
    assert_eq!(r.0, Error::BadClientSignature);
    expect(r, A::DECRYPT_ERROR);
    let no_signature = |f: Vec<u8>| {
        let mut ready = btls::msgs::ClientReady::decode(&f[4..]).unwrap();
        ready.signature.clear();
        HandshakeMessage::ClientReady(ready).to_frame()
    };
    let r = provoke(
        fixture_configs(),
        Side::Server,
        H::CLIENT_READY,
        no_signature,
    );
    assert_eq!(
        r.0,
        Error::BadClientSignature,
        "BT-HS-21: a full handshake needs the signature"
    );
}

#[test]
fn a_tampered_transcript_is_caught_by_the_signature() {
    // Altering the client's random changes the transcript the server signs over.
    let mut pair = Pair::new(fixture_configs().0, fixture_configs().1, 2).unwrap();
    pair.pump();
    let hello = pair.queue(Side::Server).pop_front().unwrap();
    let altered = client_hello(hello, |h| h.hello.random[0] ^= 1);
    pair.server
        .receive(&altered, btls::testing::TEST_NOW_MS)
        .unwrap();
    let out = pair.run();
    assert_eq!(out.client, Err(Error::BadSessionDetailsSignature));
}

#[test]
fn signature_in_a_resumed_client_ready_is_illegal_parameter() {
    let (c, s) = fixture_configs();
    let mut first = Pair::new(c.clone(), s.clone(), 1).unwrap();
    assert_eq!(first.run().client, Ok(()));
    let with_signature = |f: Vec<u8>| {
        let mut ready = btls::msgs::ClientReady::decode(&f[4..]).unwrap();
        ready.signature = vec![1; 64];
        HandshakeMessage::ClientReady(ready).to_frame()
    };
    let r = provoke((c, s), Side::Server, H::CLIENT_READY, with_signature);
    assert!(matches!(
        r.0,
        Error::IllegalParameter(btls::error::IllegalParameter::SignatureInResumedHandshake)
    ));
    expect(r, A::ILLEGAL_PARAMETER);
}

// --- record layer ----------------------------------------------------------------------------

#[test]
fn tampered_or_replayed_record_is_bad_record_mac() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 4).unwrap();
    pair.run();
    pair.client.send(b"record one").unwrap();
    let mut record = pair.client.take_output();
    pair.server.receive(&record, 0).unwrap();
    // The same record again: the sequence number has moved on (BT-REC-2).
    assert_eq!(pair.server.receive(&record, 0), Err(Error::BadRecordMac));
    assert_eq!(alerts_sent(&events(&mut pair.server)), [A::BAD_RECORD_MAC]);

    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 4).unwrap();
    pair.run();
    pair.client.send(b"record one").unwrap();
    record = pair.client.take_output();
    let last = record.len() - 1;
    record[last] ^= 1;
    assert_eq!(
        pair.server.receive(&record, 0),
        Err(Error::BadRecordMac),
        "BT-REC-4"
    );
    assert!(
        pair.server.take_application_data().is_empty(),
        "BT-REC-4: content discarded"
    );
}

#[test]
fn plaintext_alert_after_protection_is_bad_record_mac() {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 4).unwrap();
    pair.run();
    let forged_close = [0x02, 0x00, 0x00, 0x01, 0x01];
    assert_eq!(
        pair.server.receive(&forged_close, 0),
        Err(Error::BadRecordMac),
        "BT-CLOSE-1: close_notify is authenticated"
    );
}
