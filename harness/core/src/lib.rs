//! # The conformance harness's core
//!
//! Protocol-neutral: it knows processes, cases, verdicts and reports, not any protocol's
//! messages. A profile ([`profile`]) plugs a protocol in; bTLS is the first (`btls-profile`).
//!
//! - [`process`]: starting, watching and reaping an adapter process (the IUT contract);
//! - [`engine`]: one case against one IUT for any profile: listen, start, accept, the steps,
//!   the transcript and the capture, the verdict;
//! - [`proxy`]: the recording proxy between two adapters (the interop matrix);
//! - [`case`], [`verdict`]: what a case is, how it ended, and how a failure explains itself;
//! - [`runner`]: a suite in parallel with progress and expectations; [`pool`]: the worker pool;
//! - [`learn`]: the state machine an IUT really has, learned (L*), compared with the
//!   specification's and drawn;
//! - [`expectations`]: known deviations with a reason each; stale entries fail;
//! - [`coverage`]: requirement coverage of a specification by a suite;
//! - [`report`]: JSON, JUnit XML, Markdown and HTML reports with transcripts and captures;
//! - [`scenario_files`]: scenario files of any profile: their folder, ids, `[matrix]` expansion,
//!   errors by file and line;
//! - [`toml_errors`]: where a mistake in a TOML file is (file, line, field);
//! - [`stream`]: a profile's frames read from the IUT, each read with a deadline;
//! - [`error`]: the core's one error type;
//! - [`clock`], [`role`]: the harness's one wall clock and the two roles.
#![forbid(unsafe_code)]

pub mod case;
pub mod clock;
pub mod coverage;
pub mod engine;
pub mod error;
pub mod expectations;
pub mod learn;
pub mod pool;
pub mod process;
pub mod profile;
pub mod proxy;
pub mod report;
pub mod role;
pub mod runner;
pub mod scenario_files;
pub mod stream;
pub mod toml_errors;
pub mod verdict;

pub use case::CaseInfo;
pub use error::Error;
pub use process::{Finished, Iut, Running, CONTRACT_VERSION, EXIT_UNSUPPORTED};
pub use role::Role;
pub use verdict::{CaseResult, Failure, Verdict};
