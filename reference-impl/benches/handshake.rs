//! Handshake and record costs of the reference implementation, in memory on one core.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls::testing::{fixture_configs, Pair};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn full_handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake/full");
    for alg in KeyAlgorithm::ALL {
        let (mut client, mut server) = fixture_configs();
        client.keys.retain(|k| k.published.key_algorithm == *alg);
        client.resumption = false;
        server.resumption = false;
        group.bench_function(BenchmarkId::from_parameter(alg), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                let mut pair = Pair::new(client.clone(), server.clone(), seed).unwrap();
                let out = pair.run();
                out.client.unwrap();
                black_box(&pair.client);
            })
        });
    }
    group.finish();
}

fn resumed_handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake/resumed");
    for alg in KeyAlgorithm::ALL {
        let (mut client, server) = fixture_configs();
        client.keys.retain(|k| k.published.key_algorithm == *alg);
        let mut first = Pair::new(client.clone(), server.clone(), 1).unwrap();
        first.run().client.unwrap();
        group.bench_function(BenchmarkId::from_parameter(alg), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                let mut pair = Pair::new(client.clone(), server.clone(), seed).unwrap();
                pair.run().client.unwrap();
                assert!(pair.client.summary().unwrap().resumed);
            })
        });
    }
    group.finish();
}

fn bulk(c: &mut Criterion) {
    let mut group = c.benchmark_group("record/send+receive");
    let data = vec![0x5a; 16384];
    for suite in CipherSuite::ALL {
        let (mut client, server) = fixture_configs();
        client.cipher_suites = vec![*suite];
        let mut pair = Pair::new(client, server, 1).unwrap();
        pair.run().client.unwrap();
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(BenchmarkId::new(suite.to_string(), "16KiB"), |b| {
            b.iter(|| {
                pair.client.send(&data).unwrap();
                let wire = pair.client.take_output();
                pair.server.receive(&wire, 0).unwrap();
                black_box(pair.server.take_application_data());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, full_handshake, resumed_handshake, bulk);
criterion_main!(benches);
