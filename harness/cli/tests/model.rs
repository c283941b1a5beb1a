#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
//! The handshake model's property: the reference client and server in memory, and the reference
//! adapter (`btls-iut`) through the adapter contract in both roles, produce exactly the frames
//! the model of the specification predicts.

use btls_profile::model::check::{check_in_process, run_property};
use btls_profile::model::{generate, Path};
use btls_profile::scenario::Role;
use harness_core::Iut;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn reference_in_memory_follows_the_model(config in generate::config(), seed in any::<u64>()) {
        if let Err(report) = check_in_process(&config, seed) {
            prop_assert!(false, "{}", report);
        }
    }
}

/// Over a fixed sample large enough, the generator reaches every path, and the reference in
/// memory follows the model on each.
#[test]
fn every_path_is_reached_in_memory() {
    let configs = generate::sample(7, 600).unwrap();
    let mut reached: BTreeMap<Path, usize> = BTreeMap::new();
    for (i, c) in configs.iter().enumerate() {
        let prediction = check_in_process(c, i as u64).unwrap_or_else(|e| panic!("{e}"));
        for c in &prediction.connections {
            *reached.entry(c.path).or_default() += 1;
        }
    }
    for (path, n) in &reached {
        eprintln!("{n:>5}  {path}");
    }
    let missing: Vec<String> = Path::all()
        .into_iter()
        .filter(|p| !reached.contains_key(p))
        .map(|p| p.to_string())
        .collect();
    assert!(missing.is_empty(), "unreached: {missing:?}");
}

fn btls_iut() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_btls-iut"))
}

#[test]
fn btls_iut_follows_the_model_in_both_roles() {
    let iut = Iut {
        name: "reference".into(),
        program: btls_iut(),
        prefix_args: Vec::new(),
    };
    let configs = generate::sample(11, 100).unwrap();
    let work = std::env::temp_dir().join(format!("btls-model-test-{}", std::process::id()));
    let summary = run_property(&configs, &[Role::Client, Role::Server], &iut, 11, 2, &work);
    let _ = std::fs::remove_dir_all(&work);
    assert_eq!(summary.cases, 200);
    assert_eq!(summary.unsupported, 0);
    let reports: Vec<&str> = summary
        .failures
        .iter()
        .filter_map(|c| c.result.as_ref().err().map(String::as_str))
        .collect();
    assert!(reports.is_empty(), "{}", reports.join("\n\n"));
}
