//! Handshakes over loopback TCP, wall time: connect, handshake, close_notify both ways, with the
//! server on its own thread — bTLS's `SecureSocket` per key algorithm beside rustls's
//! `StreamOwned`. Two threads on a two-core machine: wall time, not CPU time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::msgs::KeyAlgorithm;
use common::{btls_work, rustls_work};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

fn loopback(c: &mut Criterion) {
    for (group_name, resumed) in [("loopback-full", false), ("loopback-resumed", true)] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(1));
        for alg in KeyAlgorithm::ALL {
            let work = if resumed {
                btls_work::Handshakes::resumed(*alg)
            } else {
                btls_work::Handshakes::full(*alg)
            };
            let server = btls_work::LoopbackServer::start(work);
            group.bench_function(BenchmarkId::new("btls", alg), |b| {
                let mut seed = 0u64;
                b.iter(|| {
                    seed += 1;
                    server.connection(seed)
                })
            });
        }
        let work = if resumed {
            rustls_work::Handshakes::resumed()
        } else {
            rustls_work::Handshakes::full(rustls_work::Auth::Server)
        };
        let server = rustls_work::LoopbackServer::start(work);
        group.bench_function(
            BenchmarkId::new("rustls", KeyAlgorithm::ED25519_X25519),
            |b| b.iter(|| server.connection()),
        );
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = loopback
}
criterion_main!(benches);
