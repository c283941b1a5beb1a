//! The TLS profile of the conformance harness: the harness's own scriptable TLS peer, written
//! from RFC 5246, RFC 5077 and RFC 8446 on aws-lc-rs, and the launchers that run real TLS stacks
//! (OpenSSL, GnuTLS, rustls, NSS) as implementations under test.
//!
//! Layers, each depending only on those above it:
//! - [`codec`]: the presentation language (integers, length-prefixed vectors).
//! - [`msgs`]: records, handshake framing, hellos, extensions, alerts, with every length and
//!   list open to override.
//! - [`keys`]: the TLS 1.3 key schedule and record protection.
//! - [`client13`]: the harness's TLS 1.3 client, sans I/O.
//! - [`blocking`]: that client over a TCP connection, without the scenario engine.
//! - [`server_process`]: a stack's server program as the IUT.

pub mod blocking;
pub mod client13;
pub mod codec;
pub mod keys;
pub mod msgs;
pub mod server_process;
