//! # bTLS 1.0 reference implementation
//!
//! The specification is `SPEC.md` beside this crate; requirement IDs (`BT-HS-12`, …) in the code
//! point into it. Layers, each depending only on the ones above it:
//!
//! - [`codec`] and [`msgs`]: the wire format, exact in both directions;
//! - [`crypto`]: signatures, key agreement, key schedule and record protection (aws-lc-rs);
//! - [`keys`]: key stores, the registry, validation policy, the bounded key cache, key files;
//! - [`conn`]: the sans-IO client and server state machines;
//! - [`socket`]: [`socket::SecureSocket`], plain `Read`/`Write` streams over TCP;
//! - [`quirks`]: deliberate bugs, off by default, that prove the conformance suite catches them.
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "tests fail loudly on purpose"
    )
)]

pub mod codec;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod keys;
pub mod msgs;
pub mod quirks;

pub use conn::{ClientConfig, Connection, Event, HandshakeSummary, ServerConfig, Side};
pub use crypto::{OsRandom, RandomSource, SeededRandom};
pub use error::Error;
pub use quirks::{Quirk, Quirks, Sides};
pub mod socket;
pub mod testing;
