//! The TLS Pool's costs next to bTLS without it, in one run (the machine is shared: compare
//! the ratios, not the absolute figures):
//! - `handshake/in-process-pair`: a full bTLS handshake in memory (no I/O), the floor;
//! - `handshake/direct-loopback`: `SecureSocket` client and server over loopback TCP;
//! - `handshake/two-daemons-full`: STARTTLS through two daemons (`IGNORE_CACHES`: full);
//! - `handshake/two-daemons-resumed`: the same, resuming the daemons' cached session;
//! - `relay/direct-loopback` and `relay/two-daemons`: 4 MiB one way and the end of data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmarks"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use btls::socket::SecureSocket;
use btls_pool::packet::{flags, Starttls};
use common::{starttls_both, tcp_pair, World};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BULK: usize = 4 << 20;

fn configs() -> (Arc<btls::ClientConfig>, Arc<btls::ServerConfig>) {
    let (mut c, mut s) = btls::testing::fixture_configs();
    c.resumption = false;
    s.resumption = false;
    (Arc::new(c), Arc::new(s))
}

fn direct_session() -> (SecureSocket, SecureSocket) {
    let (c, s) = configs();
    let (ct, st) = tcp_pair();
    let server = std::thread::spawn(move || SecureSocket::accept(st, s).unwrap());
    let client = SecureSocket::client_over(ct, c, Box::new(btls::OsRandom)).unwrap();
    (client, server.join().unwrap())
}

fn pool_session(
    w: &World,
    full: bool,
) -> (
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
) {
    let mut req = Starttls::tcp("client.example", "server.example");
    if full {
        req.flags = flags::IGNORE_CACHES;
    }
    let (c, s) = starttls_both(
        w.a.path(),
        req,
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    (c.unwrap().0, s.unwrap().0)
}

fn handshakes(c: &mut Criterion) {
    let w = World::pair("bench-handshake");
    let mut g = c.benchmark_group("handshake");
    g.throughput(Throughput::Elements(1));
    let (cc, sc) = configs();
    let mut seed = 0u64;
    g.bench_function("in-process-pair", |b| {
        b.iter(|| {
            seed += 1;
            let mut pair = btls::testing::Pair::new((*cc).clone(), (*sc).clone(), seed).unwrap();
            pair.run()
        })
    });
    g.bench_function("direct-loopback", |b| b.iter(direct_session));
    g.bench_function("two-daemons-full", |b| b.iter(|| pool_session(&w, true)));
    g.bench_function("two-daemons-resumed", |b| {
        b.iter(|| pool_session(&w, false))
    });
    g.finish();
}

/// Times `BULK` bytes written on `tx` and read to the end on `rx`.
fn bulk(
    mut tx: impl Write + Send + 'static,
    mut rx: impl Read,
    end: impl FnOnce(&mut dyn Write) + Send + 'static,
) -> Duration {
    let data = vec![0x5au8; BULK];
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        tx.write_all(&data).unwrap();
        end(&mut tx);
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    while total < BULK {
        let n = rx.read(&mut buf).unwrap();
        assert!(n > 0, "ended after {total} bytes");
        total += n;
    }
    let took = start.elapsed();
    writer.join().unwrap();
    took
}

fn relay(c: &mut Criterion) {
    let w = World::pair("bench-relay");
    let mut g = c.benchmark_group("relay");
    g.throughput(Throughput::Bytes(BULK as u64));
    g.sample_size(20);
    g.bench_function("direct-loopback", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (client, server) = direct_session();
                    bulk(client, server, |_| {})
                })
                .sum()
        })
    });
    g.bench_function("two-daemons", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (client, server) = pool_session(&w, false);
                    let took = bulk(client, server.try_clone().unwrap(), |_| {});
                    let _ = server.shutdown(Shutdown::Both);
                    took
                })
                .sum()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = handshakes, relay
}
criterion_main!(benches);
