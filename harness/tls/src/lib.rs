//! The TLS profile of the conformance harness: the harness's own scriptable TLS peer, written
//! from RFC 5246, RFC 7627 and RFC 8446 on aws-lc-rs, and the adapters that run real TLS stacks
//! (OpenSSL, GnuTLS, rustls, NSS) as implementations under test.
//!
//! Layers, each depending only on those above it:
//! - [`codec`]: the presentation language (integers, length-prefixed vectors).
//! - [`msgs`]: records, handshake framing, hellos, extensions, alerts, with every length and
//!   list open to override.
//! - [`fields`]: the field map of an encoded ClientHello, for changes by field name.
//! - [`keys`]: the TLS 1.3 key schedule, the TLS 1.2 PRF and key block, record protection for both.
//! - [`client`]: the harness's TLS 1.3 and 1.2 client, sans I/O (the engine moves its bytes).
//! - [`generate`]: the generated negative classes (length fields, truncation, bit flips).
//! - [`profile`], [`scenario`], [`case`]: TLS scenario files run by the harness's engine against
//!   a stack behind its adapter (`harness/tls/adapters/`).

pub mod case;
pub mod client;
pub mod codec;
pub mod fields;
pub mod generate;
pub mod keys;
pub mod msgs;
pub mod profile;
pub mod scenario;
pub mod suite;
