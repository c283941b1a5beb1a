//! Properties of the state machines over whole handshakes (proptest): random configurations that
//! complete agree on everything BT-HS-27 lists; valid frames in random orders never establish a
//! connection except through the one valid handshake, and never release application data
//! before both READY messages have verified.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::conn::{ClientConfig, ServerConfig};
use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls::testing::{fixture_configs, split_frames, Pair, TEST_NOW_MS};
use btls::{Connection, SeededRandom, Side};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

/// Which fixture configuration a case uses.
#[derive(Debug, Clone)]
struct Setup {
    client_p256_first: bool,
    client_suites: Vec<CipherSuite>,
    server_suites: Vec<CipherSuite>,
    client_knows_server: bool,
    server_knows_client: bool,
    may_send_key: bool,
    server_allows: Vec<KeyAlgorithm>,
}

fn suites() -> impl Strategy<Value = Vec<CipherSuite>> {
    prop_oneof![
        Just(vec![CipherSuite::AES_256_GCM]),
        Just(vec![CipherSuite::CHACHA20_POLY1305]),
        Just(vec![
            CipherSuite::AES_256_GCM,
            CipherSuite::CHACHA20_POLY1305
        ]),
        Just(vec![
            CipherSuite::CHACHA20_POLY1305,
            CipherSuite::AES_256_GCM
        ]),
    ]
}

prop_compose! {
    fn setup()(client_p256_first in any::<bool>(), client_suites in suites(), server_suites in suites(),
        client_knows_server in any::<bool>(), server_knows_client in any::<bool>(),
        may_send_key in any::<bool>(),
        server_allows in prop_oneof![
            Just(KeyAlgorithm::ALL.to_vec()),
            Just(vec![KeyAlgorithm::ED25519_X25519]),
            Just(vec![KeyAlgorithm::ECDSA_P256_ECDH_P256]),
        ]) -> Setup {
        Setup { client_p256_first, client_suites, server_suites, client_knows_server,
            server_knows_client, may_send_key, server_allows }
    }
}

fn configs(s: &Setup) -> (ClientConfig, ServerConfig) {
    let (mut c, mut sv) = fixture_configs();
    if s.client_p256_first {
        c.keys.reverse();
    }
    c.cipher_suites = s.client_suites.clone();
    sv.cipher_suites = s.server_suites.clone();
    if !s.client_knows_server {
        c.peer_keys.known.clear();
        c.peer_keys.policy.accept_unsigned = true;
    }
    if !s.server_knows_client {
        sv.peer_keys.known.clear();
        sv.peer_keys.policy.accept_unsigned = true;
    }
    sv.may_send_key = s.may_send_key;
    sv.peer_keys.policy.allowed_algorithms = s.server_allows.clone();
    (c, sv)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// BT-HS-27, BT-HS-14, BT-MSG-9: a client and a server that both complete agree on the
    /// session ID, key algorithm, cipher suite, each other's keys and the transcript hash; the
    /// suite is the server's first choice among the client's offer. With both keys known, every
    /// algorithm allowed and a suite in common, they always complete.
    #[test]
    fn completed_handshakes_agree(s in setup(), seed in 0u64..1000) {
        let (c, sv) = configs(&s);
        let mut pair = Pair::new(c, sv, seed).unwrap();
        let outcome = pair.run();
        let common: Vec<CipherSuite> = s.server_suites.iter().copied()
            .filter(|x| s.client_suites.contains(x)).collect();
        let simple = s.client_knows_server && s.server_knows_client
            && s.server_allows.len() == KeyAlgorithm::ALL.len();
        if simple && !common.is_empty() {
            prop_assert_eq!(&outcome.client, &Ok(()));
            prop_assert_eq!(&outcome.server, &Ok(()));
        }
        if common.is_empty() {
            prop_assert!(!pair.client.is_established() && !pair.server.is_established());
        }
        if let (Some(cs), Some(ss)) = (pair.client.summary(), pair.server.summary()) {
            prop_assert_eq!(cs.session_id, ss.session_id);
            prop_assert_eq!(cs.key_algorithm, ss.key_algorithm);
            prop_assert_eq!(cs.cipher_suite, ss.cipher_suite);
            prop_assert_eq!(cs.transcript_hash, ss.transcript_hash);
            prop_assert_eq!(&cs.peer_key, &ss.local_key);
            prop_assert_eq!(&ss.peer_key, &cs.local_key);
            prop_assert_eq!(Some(&cs.cipher_suite), common.first());
            prop_assert!(s.server_allows.contains(&cs.key_algorithm));
            // Application data crosses both ways under the agreed keys.
            pair.client.send(b"ping").unwrap();
            pair.server.send(b"pong").unwrap();
            pair.run();
            prop_assert_eq!(pair.server.take_application_data(), b"ping".to_vec());
            prop_assert_eq!(pair.client.take_application_data(), b"pong".to_vec());
        } else {
            prop_assert!(pair.client.summary().is_none() || pair.server.summary().is_none());
        }
    }
}

/// Frames of recorded handshakes: the frames one side received in a real handshake with
/// application data at the end, in order, and frames from other handshakes (other seeds,
/// other flows) that are valid frames but not for this connection.
struct Corpus {
    valid: Vec<Vec<u8>>,
    /// How many frames of `valid` complete the handshake (the rest are application data).
    handshake_frames: usize,
    foreign: Vec<Vec<u8>>,
}

fn received_by(pair: &Pair, side: Side) -> Vec<Vec<u8>> {
    pair.wire
        .writes
        .iter()
        .filter(|(by, _)| *by != side)
        .flat_map(|(_, bytes)| split_frames(bytes))
        .collect()
}

fn record(c: ClientConfig, s: ServerConfig, seed: u64, side: Side) -> (Vec<Vec<u8>>, usize) {
    let mut pair = Pair::new(c, s, seed).unwrap();
    let out = pair.run();
    assert_eq!((out.client, out.server), (Ok(()), Ok(())));
    let handshake_frames = received_by(&pair, side).len();
    pair.conn(btls::testing::other(side))
        .send(b"after both READY messages")
        .unwrap();
    pair.run();
    (received_by(&pair, side), handshake_frames)
}

fn strangers() -> (ClientConfig, ServerConfig) {
    let (mut c, mut s) = fixture_configs();
    c.peer_keys.known.clear();
    s.peer_keys.known.clear();
    c.peer_keys.policy.accept_unsigned = true;
    s.peer_keys.policy.accept_unsigned = true;
    (c, s)
}

const SEED: u64 = 7;

fn corpus(side: Side) -> &'static Corpus {
    static CLIENT: OnceLock<Corpus> = OnceLock::new();
    static SERVER: OnceLock<Corpus> = OnceLock::new();
    match side {
        Side::Client => CLIENT.get_or_init(|| build_corpus(side)),
        Side::Server => SERVER.get_or_init(|| build_corpus(side)),
    }
}

fn build_corpus(side: Side) -> Corpus {
    let (c, s) = fixture_configs();
    let (valid, handshake_frames) = record(c, s, SEED, side);
    let mut foreign = Vec::new();
    for seed in [SEED + 10, SEED + 20] {
        let (c, s) = strangers();
        foreign.extend(record(c, s, seed, side).0);
        let (c, s) = fixture_configs();
        foreign.extend(record(c, s, seed, btls::testing::other(side)).0);
    }
    Corpus {
        valid,
        handshake_frames,
        foreign,
    }
}

fn fresh(side: Side) -> Connection {
    let (c, s) = fixture_configs();
    match side {
        Side::Client => {
            Connection::client(Arc::new(c), Box::new(SeededRandom::new(SEED)), TEST_NOW_MS)
        }
        Side::Server => Connection::server(
            Arc::new(s),
            Box::new(SeededRandom::new(SEED + 1)),
            TEST_NOW_MS,
        ),
    }
    .unwrap()
}

/// Feeds a prefix of the valid frames then random picks from the whole corpus, checking after
/// every frame that the connection is established only if it received exactly the valid
/// handshake first, and that application data appears only after the handshake completed.
fn check_sequence(
    side: Side,
    corpus: &Corpus,
    prefix: usize,
    picks: &[usize],
) -> Result<(), TestCaseError> {
    let mut conn = fresh(side);
    let all: Vec<&Vec<u8>> = corpus.valid.iter().chain(corpus.foreign.iter()).collect();
    let sequence: Vec<&Vec<u8>> = corpus
        .valid
        .iter()
        .take(prefix)
        .chain(picks.iter().map(|i| all[i % all.len()]))
        .collect();
    let mut delivered: Vec<&Vec<u8>> = Vec::new();
    let mut completed = false;
    for frame in sequence {
        let _ = conn.receive(frame, TEST_NOW_MS);
        delivered.push(frame);
        let _ = conn.take_output();
        completed |= conn.summary().is_some();
        if conn.is_established() || conn.summary().is_some() {
            let n = corpus.handshake_frames;
            prop_assert!(
                delivered.len() >= n,
                "established after {} frames",
                delivered.len()
            );
            prop_assert!(
                delivered[..n]
                    .iter()
                    .zip(&corpus.valid[..n])
                    .all(|(a, b)| *a == b),
                "established without the valid handshake"
            );
        }
        let data = conn.take_application_data();
        if !data.is_empty() {
            prop_assert!(
                completed,
                "application data released before both READY messages"
            );
            prop_assert_eq!(data, b"after both READY messages".to_vec());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid frames, in random orders and repetitions, to a server.
    #[test]
    fn valid_frames_in_random_orders_to_a_server(prefix in 0usize..6, picks in proptest::collection::vec(any::<usize>(), 0..10)) {
        check_sequence(Side::Server, corpus(Side::Server), prefix, &picks)?;
    }

    /// Valid frames, in random orders and repetitions, to a client.
    #[test]
    fn valid_frames_in_random_orders_to_a_client(prefix in 0usize..6, picks in proptest::collection::vec(any::<usize>(), 0..10)) {
        check_sequence(Side::Client, corpus(Side::Client), prefix, &picks)?;
    }
}

/// The property above is not vacuous: the exact valid sequence does establish the connection
/// and deliver the data.
#[test]
fn the_valid_sequence_itself_establishes_both_sides() {
    for side in [Side::Client, Side::Server] {
        let corpus = corpus(side);
        let mut conn = fresh(side);
        for frame in &corpus.valid {
            conn.receive(frame, TEST_NOW_MS).unwrap();
        }
        assert!(conn.is_established(), "{side:?}");
        assert_eq!(conn.take_application_data(), b"after both READY messages");
    }
}
