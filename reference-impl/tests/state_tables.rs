//! The state × input tables of SPEC §12: every handshake code in every state, both roles.
//! A code the table lists must not be answered with `unexpected_message`; every other code must
//! be, with exactly that alert (BT-HS-24, BT-HS-26).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::conn::{ClientConfig, ServerConfig};
use btls::msgs::{
    AlertDescription, CipherSuite, ClientReady, HandshakeCode as H, HandshakeMessage, ServerReady,
    SessionDetails, ValidationFailure,
};
use btls::testing::{fixture_configs, fixture_keys, Pair};
use btls::{Error, Side};
use common::{alerts_sent, events, strangers};

/// A syntactically valid frame for every handshake code.
fn sample_frames() -> Vec<(H, Vec<u8>)> {
    let (c, s) = fixture_configs();
    let mut pair = Pair::new(c, s, 99).unwrap();
    pair.pump();
    let client_hello = pair.queue(Side::Server).front().unwrap().clone();
    pair.deliver_one(Side::Server);
    pair.pump();
    let server_hello = pair.queue(Side::Client).front().unwrap().clone();
    let key = fixture_keys(Side::Server)[0].published.clone();
    vec![
        (H::CLIENT_HELLO, client_hello),
        (H::SERVER_HELLO, server_hello),
        (H::SEND_KEY, HandshakeMessage::SendKey.to_frame()),
        (H::SENDING_KEY, HandshakeMessage::SendingKey(key).to_frame()),
        (
            H::CANNOT_SEND_KEY,
            HandshakeMessage::CannotSendKey.to_frame(),
        ),
        (
            H::SUCCESSFUL_VALIDATION,
            HandshakeMessage::SuccessfulValidation.to_frame(),
        ),
        (
            H::FAILED_VALIDATION,
            HandshakeMessage::FailedValidation(ValidationFailure::UNTRUSTED_KEY).to_frame(),
        ),
        (
            H::SESSION_DETAILS,
            HandshakeMessage::SessionDetails(SessionDetails {
                session_id: [1; 32],
                cipher_suite: CipherSuite::AES_256_GCM,
                signature: vec![2; 64],
            })
            .to_frame(),
        ),
        (
            H::CLIENT_READY,
            HandshakeMessage::ClientReady(ClientReady {
                signature: vec![3; 64],
                verify_data: [4; 32],
            })
            .to_frame(),
        ),
        (
            H::SERVER_READY,
            HandshakeMessage::ServerReady(ServerReady {
                verify_data: [5; 32],
            })
            .to_frame(),
        ),
    ]
}

struct Row {
    side: Side,
    state: &'static str,
    configs: fn() -> (ClientConfig, ServerConfig),
    allowed: &'static [H],
}

fn client_unknown_to_server() -> (ClientConfig, ServerConfig) {
    let (c, mut s) = fixture_configs();
    s.peer_keys.known.clear();
    s.peer_keys.policy.accept_unsigned = true;
    (c, s)
}

fn server_unknown_to_client() -> (ClientConfig, ServerConfig) {
    let (mut c, s) = fixture_configs();
    c.peer_keys.known.clear();
    c.peer_keys.policy.accept_unsigned = true;
    (c, s)
}

const ROWS: &[Row] = &[
    Row {
        side: Side::Client,
        state: "ExpectServerHello",
        configs: fixture_configs,
        allowed: &[H::SEND_KEY, H::SERVER_HELLO, H::FAILED_VALIDATION],
    },
    Row {
        side: Side::Client,
        state: "ExpectClientKeyVerdict",
        configs: client_unknown_to_server,
        allowed: &[H::SUCCESSFUL_VALIDATION, H::FAILED_VALIDATION],
    },
    Row {
        side: Side::Client,
        state: "ExpectServerKey",
        configs: server_unknown_to_client,
        allowed: &[H::SENDING_KEY, H::CANNOT_SEND_KEY],
    },
    Row {
        side: Side::Client,
        state: "ExpectSessionDetails",
        configs: fixture_configs,
        allowed: &[H::SESSION_DETAILS],
    },
    Row {
        side: Side::Client,
        state: "ExpectServerReady",
        configs: fixture_configs,
        allowed: &[H::SERVER_READY],
    },
    Row {
        side: Side::Client,
        state: "Established",
        configs: fixture_configs,
        allowed: &[],
    },
    Row {
        side: Side::Server,
        state: "ExpectClientHello",
        configs: fixture_configs,
        allowed: &[H::CLIENT_HELLO],
    },
    Row {
        side: Side::Server,
        state: "ExpectClientKey",
        configs: client_unknown_to_server,
        allowed: &[H::SENDING_KEY],
    },
    Row {
        side: Side::Server,
        state: "ExpectClientVerdict",
        configs: fixture_configs,
        allowed: &[H::SEND_KEY, H::SUCCESSFUL_VALIDATION, H::FAILED_VALIDATION],
    },
    Row {
        side: Side::Server,
        state: "ExpectClientVerdictAfterKey",
        configs: server_unknown_to_client,
        allowed: &[H::SUCCESSFUL_VALIDATION, H::FAILED_VALIDATION],
    },
    Row {
        side: Side::Server,
        state: "ExpectClientReady",
        configs: fixture_configs,
        allowed: &[H::CLIENT_READY],
    },
    Row {
        side: Side::Server,
        state: "Established",
        configs: fixture_configs,
        allowed: &[],
    },
];

#[test]
fn every_state_answers_every_unlisted_handshake_code_with_unexpected_message() {
    let samples = sample_frames();
    let mut checked = 0;
    for row in ROWS {
        for (code, frame) in &samples {
            let (c, s) = (row.configs)();
            let mut pair = Pair::new(c, s, 7).unwrap();
            assert!(
                pair.drive_until(row.side, |c| c.state_name() == row.state),
                "{:?} never reached {}",
                row.side,
                row.state
            );
            let conn = pair.conn(row.side);
            events(conn);
            let result = conn.receive(frame, btls::testing::TEST_NOW_MS);
            let unexpected = matches!(result, Err(Error::UnexpectedMessage { .. }));
            if row.allowed.contains(code) {
                assert!(
                    !unexpected,
                    "{:?} {} must accept {code}: {result:?}",
                    row.side, row.state
                );
            } else {
                assert!(
                    unexpected,
                    "{:?} {} must reject {code}: {result:?}",
                    row.side, row.state
                );
                let sent = alerts_sent(&events(conn));
                assert_eq!(
                    sent,
                    [AlertDescription::UNEXPECTED_MESSAGE],
                    "{:?} {} {code}",
                    row.side,
                    row.state
                );
                assert!(conn.is_closed());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROWS.len() * H::ALL.len());
}

#[test]
fn after_failed_validation_other_frames_are_ignored_until_the_alert() {
    let (mut c, s) = strangers();
    c.peer_keys.policy.accept_unsigned = false;
    let mut pair = Pair::new(c, s, 8).unwrap();
    // The client rejects the server key: the server receives FAILED_VALIDATION.
    assert!(pair.drive_until(Side::Server, |c| c.state_name() == "PeerRejectedKey"));
    let junk = HandshakeMessage::SendKey.to_frame();
    assert_eq!(pair.server.receive(&junk, 0), Ok(()), "BT-HS-11");
    assert!(
        pair.server.take_output().is_empty(),
        "BT-HS-11: nothing is sent"
    );
    pair.run();
    assert!(
        matches!(pair.server.failure(), Some(Error::AlertReceived(a)) if a.description == AlertDescription::FAILED_HANDSHAKE)
    );
}
