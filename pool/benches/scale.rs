//! 1,000 concurrent sessions through two daemons (in this process): descriptors, threads and
//! resident memory before, with every session open, and after they end; then they must be back
//! where they started (within a small slack for allocator caches). Prints the figures; exits
//! non-zero when they do not come back.
//!
//!     cargo bench -p btls-pool --bench scale            # 1000 sessions
//!     SESSIONS=200 cargo bench -p btls-pool --bench scale
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmarks"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use btls_pool::packet::Starttls;
use common::{eventually, open_fds, starttls_both, World};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn snapshot(label: &str, w: &World) -> (usize, u64, u64) {
    let (fds, threads, rss) = (open_fds(), status("Threads:"), status("VmRSS:"));
    println!(
        "{label:<22} fds {fds:>6}  threads {threads:>5}  rss {:>7.1} MiB  daemon sessions {} + {}",
        rss as f64 / 1024.0,
        w.a.stats().sessions,
        w.b.stats().sessions
    );
    (fds, threads, rss)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; this is not a libtest harness
    }
    let n: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let w = World::pair("scale");
    // One session first, so that lazily opened descriptors are in the baseline.
    let (c, s) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "server.example"),
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    drop((c.unwrap(), s.unwrap()));
    assert!(eventually(Duration::from_secs(10), || w.a.stats().sessions
        == 0
        && w.b.stats().sessions == 0));
    let before = snapshot("before", &w);
    let mut rss_after = Vec::new();
    for round in 1..=2 {
        let after = round_of(&w, n, before, round);
        rss_after.push(after.2);
    }
    // glibc keeps freed memory in its per-thread arenas: memory is bounded if a second round
    // does not grow it.
    let growth = rss_after[1].saturating_sub(rss_after[0]);
    println!(
        "resident memory after round 1 {:.1} MiB, after round 2 {:.1} MiB (growth {:.1} MiB)",
        rss_after[0] as f64 / 1024.0,
        rss_after[1] as f64 / 1024.0,
        growth as f64 / 1024.0
    );
    if growth * 10 > rss_after[0] {
        eprintln!("memory grew by more than 10% in the second round");
        std::process::exit(1);
    }
}

fn round_of(w: &World, n: usize, before: (usize, u64, u64), round: u32) -> (usize, u64, u64) {
    let started = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        let (c, s) = starttls_both(
            w.a.path(),
            Starttls::tcp("client.example", "server.example"),
            w.b.path(),
            Starttls::tcp("server.example", ""),
        );
        sessions.push((c.unwrap().0, s.unwrap().0));
    }
    let setup = started.elapsed();
    for (c, s) in &mut sessions {
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
    }
    let open = snapshot(&format!("round {round}: {n} open"), w);
    println!(
        "established {n} sessions in {:.2} s ({:.0}/s), each relayed a message",
        setup.as_secs_f64(),
        n as f64 / setup.as_secs_f64()
    );
    for (c, _) in &sessions {
        c.shutdown(Shutdown::Write).unwrap();
    }
    for (c, mut s) in sessions {
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        drop(s);
        drop(c);
    }
    let ended = eventually(Duration::from_secs(30), || {
        w.a.stats().sessions == 0
            && w.b.stats().sessions == 0
            && open_fds() <= before.0
            && status("Threads:") <= before.1
    });
    let after = snapshot(&format!("round {round}: after"), w);
    println!(
        "per session while open: {:.1} fds, {:.1} threads, {:.1} KiB",
        (open.0 - before.0) as f64 / n as f64,
        (open.1 - before.1) as f64 / n as f64,
        (open.2.saturating_sub(before.2)) as f64 / n as f64
    );
    if !ended || after.0 > before.0 || after.1 > before.1 {
        eprintln!(
            "did not return: {} descriptors and {} threads before, {} and {} after",
            before.0, before.1, after.0, after.1
        );
        std::process::exit(1);
    }
    after
}
