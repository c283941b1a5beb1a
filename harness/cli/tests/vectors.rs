//! The test vectors: fresh (regenerating gives the checked-in bytes), valid against their JSON
//! Schemas, passed by the reference, and a broken vector is reported with its file and tcId.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls_profile::vectors::{
    check_iut, generate_all, regenerate, render, verify, verify_file, Change,
};
use harness_core::Iut;
use std::path::PathBuf;
use std::time::Duration;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}

#[test]
fn checked_in_vectors_are_what_the_reference_generates() {
    for file in generate_all() {
        let path = vectors_dir().join(file.name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == render(&file),
            "{} is stale: run `cargo run -p btls-harness -- vectors regenerate` and review the diff",
            path.display()
        );
    }
}

#[test]
fn regenerating_twice_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("btls-vectors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(regenerate(&dir)
        .unwrap()
        .iter()
        .all(|(_, c)| *c == Change::Added));
    assert!(regenerate(&dir)
        .unwrap()
        .iter()
        .all(|(_, c)| *c == Change::Unchanged));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_reference_passes_every_vector() {
    let n = verify(&vectors_dir()).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(n > 1000, "{n}");
}

#[test]
fn every_vector_file_matches_its_schema() {
    for file in generate_all() {
        let path = vectors_dir().join(file.name);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let schema_name = doc["schema"].as_str().unwrap();
        let schema_path = vectors_dir().join("schemas").join(schema_name);
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        // The schema is not vacuous: a test without its tcId is rejected.
        let mut broken = doc.clone();
        broken["testGroups"][0]["tests"][0]
            .as_object_mut()
            .unwrap()
            .remove("tcId");
        assert!(
            !validator.is_valid(&broken),
            "{schema_name} accepts a test without tcId"
        );
    }
}

#[test]
fn a_wrong_expectation_is_reported_with_the_file_and_tc_id() {
    let path = vectors_dir().join("frames.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let test = &mut doc["testGroups"][0]["tests"][0];
    let tc_id = test["tcId"].as_u64().unwrap();
    test["result"] = "invalid".into();
    let errors = verify_file("frames.json", &doc).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].tc_id, tc_id);
    assert!(
        errors[0]
            .to_string()
            .starts_with(&format!("frames.json: tcId {tc_id}: ")),
        "{}",
        errors[0]
    );
}

#[test]
fn a_malformed_test_names_the_missing_field() {
    let path = vectors_dir().join("record.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["testGroups"][0]["tests"][2]
        .as_object_mut()
        .unwrap()
        .remove("frame");
    let errors = verify_file("record.json", &doc).unwrap_err();
    assert!(errors[0].message.contains("`frame`"), "{}", errors[0]);
}

#[test]
fn the_reference_adapter_answers_every_vector_in_vector_mode() {
    let iut = Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    };
    let run = check_iut(&iut, &vectors_dir(), Duration::from_secs(60)).unwrap();
    assert!(
        run.failures.is_empty(),
        "{:#?}",
        &run.failures[..run.failures.len().min(5)]
    );
    assert!(run.unsupported.is_empty());
    assert!(run.passed > 1000, "{}", run.passed);
}

#[test]
fn an_adapter_without_vector_mode_is_unsupported_and_a_silent_one_fails() {
    let unsupported = Iut {
        name: "no-vectors".into(),
        program: "/bin/sh".into(),
        prefix_args: vec![
            "-c".into(),
            "echo 'unsupported option --vectors' >&2; exit 89".into(),
            "sh".into(),
        ],
    };
    let run = check_iut(&unsupported, &vectors_dir(), Duration::from_secs(10)).unwrap();
    assert_eq!(run.unsupported.len(), generate_all().len());
    assert!(run.failures.is_empty());
    let silent = Iut {
        name: "silent".into(),
        program: "/bin/sh".into(),
        prefix_args: vec!["-c".into(), "exit 0".into(), "sh".into()],
    };
    let run = check_iut(&silent, &vectors_dir(), Duration::from_secs(10)).unwrap();
    assert_eq!(run.passed, 0);
    assert!(run.failures.iter().all(|f| f.message == "no answer"));
}
