//! The TLS Pool profile of the harness: scenario files whose frames are V1 pool packets, run
//! against a pool daemon as the IUT (`harness/POOL.md`). A case starts the daemon with its own
//! configuration and keys, talks to its UNIX socket over as many control connections as the
//! steps name, passes descriptors with `SCM_RIGHTS`, runs the harness's bTLS peer behind every
//! TCP descriptor it hands over, and records the packets (decoded field by field) and the bTLS
//! sessions in the transcript and the capture.

pub mod peer;
pub mod profile;
pub mod run;
pub mod scenario;
pub mod suite;

pub use profile::PoolProfile;
