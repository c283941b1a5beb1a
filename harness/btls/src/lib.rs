//! # The bTLS profile of the conformance harness
//!
//! Everything the harness knows about bTLS, on top of the protocol-neutral core
//! (`harness-core`) and captures (`harness-capture`):
//!
//! - [`profile`]: bTLS as a profile: framing, frame names, comparison, field changes, the
//!   reference implementation as the scripted peer;
//! - [`wire`]: bTLS frames described for transcripts and compared field by field;
//! - [`scenario`]: the scenario file format and its loader (errors name file, line and field);
//!   [`names`]: the names files may use; [`fixtures`]: the named keys scenarios use;
//! - [`alter`]: how scenarios change the frames the harness sends;
//! - [`adapter`]: the adapter contract's flags for a party; [`peer`]: the harness's reference
//!   peer configured from a scenario;
//! - [`engine`]: one scenario against one IUT, judged; [`events`]: the adapter contract's events,
//!   typed; [`outcome`]: the one check of a party's exit status and events (suite and interop);
//! - [`keylog`], [`dissect`], [`replay`]: key logs, the frames of a reassembled capture decoded,
//!   and a capture turned into a transcript, a scenario, or a run against an IUT;
//! - [`interop`]: the interop matrix (every client implementation × every server one);
//! - [`quirks`]: the suite's self-test against deliberately buggy builds of the reference;
//! - [`model`]: a model of the handshake outcome and its property against any IUT;
//! - [`generate`]: generated negative cases against any IUT;
//! - [`vectors`]: test vectors, regenerated, verified and fed to an IUT;
//! - [`error`]: the profile's error type for files, key logs, interop cases and adapters;
//! - [`bench`](mod@bench), [`bench_report`]: any IUT benchmarked over the adapter contract, and the
//!   benchmark comparison report.
#![forbid(unsafe_code)]

pub mod adapter;
pub mod alter;
pub mod bench;
pub mod bench_report;
pub mod dissect;
pub mod engine;
pub mod error;
pub mod events;
pub mod fixtures;
pub mod generate;
pub mod interop;
pub mod keylog;
pub mod learn;
pub mod model;
pub mod names;
pub mod outcome;
pub mod peer;
pub mod profile;
pub mod quirks;
pub mod replay;
pub mod samples;
pub mod scenario;
pub mod vectors;
pub mod wire;

pub use error::Error;
pub use profile::{BtlsFraming, BtlsProfile};
