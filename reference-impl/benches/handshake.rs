//! Handshake costs in memory on one core, per CPU-second: bTLS full and resumed pairs per key
//! algorithm, the rustls TLS 1.3 baseline beside them, the crypto floor of each, and the
//! primitives the floor is made of. Names are `<group>/<implementation>/<parameter>`; the bench
//! report (`btls-harness bench-report`) reads them from criterion's JSON.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::crypto::{validate_public_key, SigningKey};
use btls::msgs::KeyAlgorithm;
use btls::SeededRandom;
use common::floor::Floor;
use common::measure::{cpu_time, ThreadCpu};
use common::{btls_work, rustls_work};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const ED25519: KeyAlgorithm = KeyAlgorithm::ED25519_X25519;

fn full(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("handshake-full");
    group.throughput(Throughput::Elements(1));
    for alg in KeyAlgorithm::ALL {
        let work = btls_work::Handshakes::full(*alg);
        group.bench_function(BenchmarkId::new("btls", alg), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                black_box(work.pair(seed))
            })
        });
    }
    let work = rustls_work::Handshakes::full(rustls_work::Auth::Server);
    group.bench_function(BenchmarkId::new("rustls", ED25519), |b| {
        b.iter(|| black_box(work.pair()))
    });
    let work = rustls_work::Handshakes::full(rustls_work::Auth::Mutual);
    group.bench_function(BenchmarkId::new("rustls-mutual", ED25519), |b| {
        b.iter(|| black_box(work.pair()))
    });
    for alg in KeyAlgorithm::ALL {
        let floor = Floor::new(*alg);
        group.bench_function(BenchmarkId::new("floor-btls", alg), |b| {
            b.iter(|| floor.btls_full_pair())
        });
    }
    let floor = Floor::new(ED25519);
    group.bench_function(BenchmarkId::new("floor-rustls", ED25519), |b| {
        b.iter(|| floor.rustls_full_pair())
    });
    group.finish();
}

fn resumed(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("handshake-resumed");
    group.throughput(Throughput::Elements(1));
    for alg in KeyAlgorithm::ALL {
        let work = btls_work::Handshakes::resumed(*alg);
        group.bench_function(BenchmarkId::new("btls", alg), |b| {
            let mut seed = 0u64;
            b.iter(|| {
                seed += 1;
                black_box(work.pair(seed))
            })
        });
    }
    let work = rustls_work::Handshakes::resumed();
    group.bench_function(BenchmarkId::new("rustls", ED25519), |b| {
        b.iter(|| black_box(work.pair()))
    });
    for alg in KeyAlgorithm::ALL {
        let floor = Floor::new(*alg);
        group.bench_function(BenchmarkId::new("floor", alg), |b| {
            b.iter(|| floor.resumed_pair())
        });
    }
    group.finish();
}

/// The primitives the floor is made of, one at a time: where a handshake's time can go.
fn primitives(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("primitive");
    for (alg, kx, sig) in [
        (ED25519, "x25519", "ed25519"),
        (KeyAlgorithm::ECDSA_P256_ECDH_P256, "p256", "ecdsa-p256"),
    ] {
        let floor = Floor::new(alg);
        group.bench_function(format!("{kx}-keygen"), |b| b.iter(|| floor.keygen()));
        group.bench_function(format!("{kx}-agree"), |b| b.iter(|| floor.agree()));
        group.bench_function(format!("{sig}-sign"), |b| b.iter(|| floor.sign()));
        group.bench_function(format!("{sig}-verify"), |b| b.iter(|| floor.verify()));
    }
    // What bTLS uses instead of aws-lc-rs for P-256: RFC 6979 signing (reproducible sessions)
    // and point validation (BT-MSG-4, BT-KEY-6), both from RustCrypto's p256.
    let key = SigningKey::generate(
        KeyAlgorithm::ECDSA_P256_ECDH_P256,
        &mut SeededRandom::new(1),
    )
    .unwrap();
    let message = [0x42u8; 91];
    group.bench_function("ecdsa-p256-sign-rfc6979", |b| {
        b.iter(|| key.sign(black_box(&message)))
    });
    group.bench_function("p256-point-validate", |b| {
        b.iter(|| {
            validate_public_key(
                KeyAlgorithm::ECDSA_P256_ECDH_P256,
                black_box(key.public_key()),
            )
        })
    });
    let floor = Floor::new(ED25519);
    group.bench_function("hkdf-expand", |b| b.iter(|| floor.hkdf_expand()));
    group.bench_function("hmac-sha256", |b| b.iter(|| floor.hmac()));
    group.bench_function("transcript-sha256", |b| b.iter(|| floor.transcript_hash()));
    group.bench_function("aead-key-setup", |b| b.iter(|| floor.aead_setup()));
    group.finish();
}

fn config() -> Criterion<ThreadCpu> {
    cpu_time(Duration::from_secs(1), Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = full, resumed, primitives
}
criterion_main!(benches);
