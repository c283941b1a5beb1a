//! Workloads shared by the criterion benchmarks and the instruction-count runner
//! (`examples/bench_work.rs`), so that time and instruction counts measure the same work.
#![allow(
    dead_code,
    reason = "each benchmark target uses a part of the shared workloads"
)]

pub(crate) mod btls_work;
pub(crate) mod floor;
pub(crate) mod measure;
pub(crate) mod rustls_work;

use btls::msgs::KeyAlgorithm;

/// The short name of a key algorithm in benchmark names and reports.
pub(crate) fn alg_name(alg: KeyAlgorithm) -> String {
    alg.to_string()
}

/// The record sizes the record benchmarks measure: a small message, a typical write, a full record.
pub(crate) const RECORD_SIZES: [(usize, &str); 3] = [(64, "64B"), (1024, "1KiB"), (16384, "16KiB")];

/// The size of one bulk-transfer write: one full record (BT-REC-7), as in the rustls baseline.
pub(crate) const BULK_RECORD: usize = 16384;
