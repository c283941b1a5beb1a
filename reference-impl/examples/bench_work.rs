//! Runs N units of one benchmark workload, for instruction counts under callgrind
//! (`scripts/bench-callgrind.sh`). Setup (configurations, certificates, the first handshake of
//! a resumed workload) happens outside `measured`, and the script collects only inside it
//! (`--toggle-collect`), so instructions / N is the cost of one unit.
//!
//! `cargo run --release --example bench_work -- WORKLOAD N`; `--list` prints the workloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on purpose"
)]

#[path = "../benches/common/mod.rs"]
mod common;

use btls::msgs::{CipherSuite, KeyAlgorithm};
use common::floor::{AeadFloor, Floor};
use common::{btls_work, rustls_work, BULK_RECORD};
use std::hint::black_box;
use std::process::ExitCode;

const ED: KeyAlgorithm = KeyAlgorithm::ED25519_X25519;
const P256: KeyAlgorithm = KeyAlgorithm::ECDSA_P256_ECDH_P256;

/// Each workload: its name, its unit, and a constructor of the closure run once per unit.
type Unit = Box<dyn FnMut(u64)>;

const WORKLOADS: &[(&str, &str)] = &[
    ("btls-full/ED25519_X25519", "handshake pair"),
    ("btls-full/ECDSA_P256_ECDH_P256", "handshake pair"),
    ("btls-resumed/ED25519_X25519", "handshake pair"),
    ("btls-resumed/ECDSA_P256_ECDH_P256", "handshake pair"),
    ("rustls-full/ED25519_X25519", "handshake pair"),
    ("rustls-mutual-full/ED25519_X25519", "handshake pair"),
    ("rustls-resumed/ED25519_X25519", "handshake pair"),
    ("floor-btls-full/ED25519_X25519", "handshake pair"),
    ("floor-rustls-full/ED25519_X25519", "handshake pair"),
    ("floor-resumed/ED25519_X25519", "handshake pair"),
    ("btls-bulk/AES_256_GCM", "16 KiB record"),
    ("btls-bulk/CHACHA20_POLY1305", "16 KiB record"),
    ("rustls-bulk/AES_256_GCM", "16 KiB record"),
    ("floor-bulk/AES_256_GCM", "16 KiB record"),
];

fn workload(name: &str) -> Option<Unit> {
    let data = vec![0x5a; BULK_RECORD];
    Some(match name {
        "btls-full/ED25519_X25519" | "btls-full/ECDSA_P256_ECDH_P256" => {
            let w = btls_work::Handshakes::full(if name.contains("P256") { P256 } else { ED });
            Box::new(move |i| {
                black_box(w.pair(i));
            })
        }
        "btls-resumed/ED25519_X25519" | "btls-resumed/ECDSA_P256_ECDH_P256" => {
            let w = btls_work::Handshakes::resumed(if name.contains("P256") { P256 } else { ED });
            Box::new(move |i| {
                black_box(w.pair(i));
            })
        }
        "rustls-full/ED25519_X25519" => {
            let w = rustls_work::Handshakes::full(rustls_work::Auth::Server);
            Box::new(move |_| {
                black_box(w.pair());
            })
        }
        "rustls-mutual-full/ED25519_X25519" => {
            let w = rustls_work::Handshakes::full(rustls_work::Auth::Mutual);
            Box::new(move |_| {
                black_box(w.pair());
            })
        }
        "rustls-resumed/ED25519_X25519" => {
            let w = rustls_work::Handshakes::resumed();
            Box::new(move |_| {
                black_box(w.pair());
            })
        }
        "floor-btls-full/ED25519_X25519" => {
            let f = Floor::new(ED);
            Box::new(move |_| f.btls_full_pair())
        }
        "floor-rustls-full/ED25519_X25519" => {
            let f = Floor::new(ED);
            Box::new(move |_| f.rustls_full_pair())
        }
        "floor-resumed/ED25519_X25519" => {
            let f = Floor::new(ED);
            Box::new(move |_| f.resumed_pair())
        }
        "btls-bulk/AES_256_GCM" | "btls-bulk/CHACHA20_POLY1305" => {
            let suite = if name.contains("CHACHA") {
                CipherSuite::CHACHA20_POLY1305
            } else {
                CipherSuite::AES_256_GCM
            };
            let mut w = btls_work::Bulk::new(suite);
            Box::new(move |_| {
                black_box(w.send_receive(&data));
            })
        }
        "rustls-bulk/AES_256_GCM" => {
            let mut w = rustls_work::Bulk::new();
            Box::new(move |_| {
                black_box(w.send_receive(&data));
            })
        }
        "floor-bulk/AES_256_GCM" => {
            let mut f = AeadFloor::new(CipherSuite::AES_256_GCM);
            Box::new(move |_| {
                black_box(f.seal_open(&data));
            })
        }
        _ => return None,
    })
}

/// The only code callgrind collects: `n` units of the workload.
#[inline(never)]
fn measured(n: u64, unit: &mut dyn FnMut(u64)) {
    for i in 0..n {
        unit(i + 1);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for (name, unit) in WORKLOADS {
            println!("{name}\t{unit}");
        }
        return ExitCode::SUCCESS;
    }
    let (Some(name), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) else {
        eprintln!("usage: bench_work WORKLOAD N   (bench_work --list for the workloads)");
        return ExitCode::from(2);
    };
    let Some(mut unit) = workload(name) else {
        eprintln!("unknown workload {name}; bench_work --list");
        return ExitCode::from(2);
    };
    let start = std::time::Instant::now();
    measured(n, &mut *unit);
    eprintln!(
        "{name}: {n} units in {:.3} s",
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
