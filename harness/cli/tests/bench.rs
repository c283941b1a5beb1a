//! `btls-harness bench` over the adapter contract: the reference adapter completes every
//! measurement, and an adapter without the optional bulk options is reported as unsupported
//! for bulk, never as failed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls_profile::bench::{run, BenchOptions};
use btls_profile::scenario::Role;
use harness_core::Iut;
use std::path::PathBuf;
use std::time::Duration;

fn options(name: &str, iut: Iut, role: Role) -> BenchOptions {
    let work_dir: PathBuf =
        std::env::temp_dir().join(format!("btls-bench-test-{name}-{}", std::process::id()));
    BenchOptions {
        iut,
        role,
        key_algorithm: KeyAlgorithm::ED25519_X25519,
        cipher_suite: CipherSuite::AES_256_GCM,
        concurrency: 2,
        handshakes: 6,
        bulk_bytes: 100_000,
        timeout: Duration::from_secs(30),
        work_dir,
        seed: 1,
    }
}

fn reference() -> Iut {
    Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    }
}

#[test]
fn the_reference_adapter_completes_every_measurement_in_both_roles() {
    for role in [Role::Client, Role::Server] {
        let result = run(&options(role.as_str(), reference(), role)).unwrap();
        assert_eq!(result.full.status, "ok", "{:?}", result.full);
        assert_eq!(result.full.completed, 6);
        assert_eq!(result.full.resumed, 0);
        assert_eq!(result.resumed.status, "ok", "{:?}", result.resumed);
        assert!(result.full.per_second > 0.0);
        assert_eq!(result.bulk.len(), 2);
        for b in &result.bulk {
            assert_eq!(b.status, "ok", "{b:?}");
            assert!(b.mb_per_second.unwrap() > 0.0);
        }
    }
    // As a client, each process resumes after its first connection.
    let result = run(&options("resume", reference(), Role::Client)).unwrap();
    assert_eq!(result.resumed.resumed, 4);
}

#[cfg(unix)]
#[test]
fn an_adapter_without_bulk_options_is_unsupported_for_bulk() {
    let dir = std::env::temp_dir().join(format!("btls-bench-test-shim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shim = dir.join("no-bulk.sh");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --sink|--send-bytes) \
             echo \"unsupported option $a\" >&2; exit 89;; esac; done\nexec {} \"$@\"\n",
            env!("CARGO_BIN_EXE_btls-iut")
        ),
    )
    .unwrap();
    let iut = Iut {
        name: "no-bulk".into(),
        program: "sh".into(),
        prefix_args: vec![shim.display().to_string()],
    };
    let result = run(&options("shim", iut, Role::Client)).unwrap();
    assert_eq!(result.full.status, "ok", "{:?}", result.full);
    for b in &result.bulk {
        assert_eq!(b.status, "unsupported", "{b:?}");
        assert!(b.detail.as_deref().unwrap().contains("unsupported option"));
    }
}
