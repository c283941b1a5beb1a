//! # The bTLS conformance harness
//!
//! Drives any bTLS implementation (the IUT), started as a separate process through the adapter
//! contract (`IUT-ADAPTER.md`), through the scenario files of `scenarios/`, and reports where it
//! deviates from the specification.
//!
//! - [`scenario`]: the scenario file format and its loader (errors name file, line and field);
//! - [`toml_errors`], [`names`]: where a mistake in a TOML file is, and the names files may use;
//! - [`fixtures`]: the named keys scenarios use;
//! - [`iut`]: starting, watching and reaping an adapter process;
//! - [`engine`]: running one scenario against one IUT and judging it;
//! - [`wire`], [`alter`]: frames on the wire and how scenarios alter them;
//! - [`interop`]: the interop matrix (every client implementation × every server one);
//! - [`bench`]: benchmarking any IUT over the adapter contract;
//! - [`bench_report`]: the benchmark comparison report;
//! - [`quirks`]: the suite's self-test against deliberately buggy builds of the reference;
//! - [`capture`]: every session recorded as pcapng/pcap with a key log; any capture read back,
//!   reassembled, decoded and replayed;
//! - [`model`]: a model of the handshake outcome and its property against any IUT;
//! - [`generate`]: generated negative cases (truncations, length fields, bit flips, message
//!   order, alerts) against any IUT;
//! - [`vectors`]: test vectors, regenerated, verified and fed to an IUT.
#![forbid(unsafe_code)]

pub mod alter;
pub mod bench;
pub mod bench_report;
pub mod capture;
pub mod coverage;
pub mod engine;
pub mod expectations;
pub mod fixtures;
pub mod generate;
pub mod interop;
pub mod iut;
pub mod model;
pub mod names;
pub mod pool;
pub mod quirks;
pub mod report;
pub mod runner;
pub mod samples;
pub mod scenario;
pub mod toml_errors;
pub mod vectors;
pub mod wire;
