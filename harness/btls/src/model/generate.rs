//! Arbitrary configuration pairs for the model (proptest strategies), weighted so that a few
//! hundred cases reach every alert path of [`super::Path`].

use super::{Alg, Expect, ModelConfig, PartyModel, Suite, Variant};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn algs() -> impl Strategy<Value = Vec<Alg>> {
    prop_oneof![
        1 => Just(vec![Alg::Ed25519]),
        1 => Just(vec![Alg::P256]),
        2 => Just(vec![Alg::Ed25519, Alg::P256]),
        2 => Just(vec![Alg::P256, Alg::Ed25519]),
    ]
}

fn suites() -> impl Strategy<Value = Vec<Suite>> {
    prop_oneof![
        1 => Just(vec![Suite::Aes256Gcm]),
        1 => Just(vec![Suite::Chacha20Poly1305]),
        3 => Just(vec![Suite::Aes256Gcm, Suite::Chacha20Poly1305]),
        3 => Just(vec![Suite::Chacha20Poly1305, Suite::Aes256Gcm]),
    ]
}

fn own_variant() -> impl Strategy<Value = Variant> {
    prop_oneof![
        6 => Just(Variant::Plain),
        2 => Just(Variant::Signed),
        1 => Just(Variant::Expired),
        1 => Just(Variant::BadSig),
    ]
}

/// A known or registry entry for one algorithm of the peer, or none.
fn entry(none_weight: u32) -> impl Strategy<Value = Option<Variant>> {
    prop_oneof![
        none_weight => Just(None),
        3 => Just(Some(Variant::Plain)),
        2 => Just(Some(Variant::Signed)),
        1 => Just(Some(Variant::Expired)),
        1 => Just(Some(Variant::BadSig)),
        1 => Just(Some(Variant::Impostor)),
    ]
}

fn entries(none_weight: u32) -> impl Strategy<Value = Vec<(Alg, Variant)>> {
    (entry(none_weight), entry(none_weight)).prop_map(|(e, p)| {
        [(Alg::Ed25519, e), (Alg::P256, p)]
            .into_iter()
            .filter_map(|(a, v)| v.map(|v| (a, v)))
            .collect()
    })
}

fn allow() -> impl Strategy<Value = Vec<Alg>> {
    prop_oneof![
        6 => Just(vec![Alg::Ed25519, Alg::P256]),
        1 => Just(vec![Alg::Ed25519]),
        1 => Just(vec![Alg::P256]),
    ]
}

fn party() -> impl Strategy<Value = PartyModel> {
    (
        (algs(), proptest::collection::vec(own_variant(), 2)),
        entries(8),
        entries(10),
        any::<bool>(),
        any::<bool>(),
        allow(),
        suites(),
        prop::bool::weighted(0.75),
    )
        .prop_map(
            |(
                (algs, variants),
                known,
                registry,
                trust_registry,
                accept_unsigned,
                allow,
                suites,
                resumption,
            )| PartyModel {
                keys: algs
                    .into_iter()
                    .zip(
                        variants
                            .into_iter()
                            .chain(std::iter::repeat(Variant::Plain)),
                    )
                    .collect(),
                known,
                registry,
                trust_registry,
                accept_unsigned,
                allow,
                suites,
                resumption,
            },
        )
}

/// Arbitrary configuration pairs.
pub fn config() -> impl Strategy<Value = ModelConfig> {
    (
        party(),
        party(),
        prop::bool::weighted(0.6),
        prop_oneof![
            6 => Just(Expect::Right),
            2 => Just(Expect::Unset),
            1 => Just(Expect::Wrong),
        ],
        prop::bool::weighted(0.5),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(mut client, server, mut send_key, expect_server, reconnect, lean_to_retry)| {
                // Retries need several things at once (the first server key unknown to the
                // client, CANNOT_SEND_KEY, a second algorithm): some cases lean that way.
                if lean_to_retry {
                    if let Some((first, _)) = client.keys.first().copied() {
                        client.known.retain(|(a, _)| *a != first);
                        client.registry.retain(|(a, _)| *a != first);
                        send_key = false;
                    }
                }
                ModelConfig {
                    client,
                    server,
                    send_key,
                    expect_server,
                    reconnect,
                }
            },
        )
}

/// `n` configurations drawn from `seed`: the same seed gives the same configurations.
pub fn sample(seed: u64, n: usize) -> Result<Vec<ModelConfig>, String> {
    let mut bytes = [0u8; 32];
    for (i, b) in seed.to_le_bytes().iter().enumerate() {
        if let Some(slot) = bytes.get_mut(i) {
            *slot = *b;
        }
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = config();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .map(|t| proptest::strategy::ValueTree::current(&t))
                .map_err(|e| e.to_string())
        })
        .collect()
}
