//! # The TLS Pool for bTLS
//!
//! A local daemon that runs bTLS for applications, so that they never hold private keys or run
//! handshakes: an application connects to its UNIX socket, PINGs it, and hands over a TCP
//! socket with STARTTLS_CLIENT or STARTTLS_SERVER; the daemon runs the handshake and hands
//! back a socket of plaintext. The socket protocol is the original TLS Pool's V1, packet for
//! packet, so applications written against V1's client library work unchanged;
//! `pool/PROTOCOL.md` lists its requirements (`POOL-PKT-1`, …) and the errno of every error.
//!
//! Layers, each depending only on the ones above it:
//! - [`packet`], [`errno`], [`identity`]: the 376-byte packet, its fields, the error codes;
//! - [`fdpass`]: one packet per `sendmsg`, descriptors beside it (`SCM_RIGHTS`);
//! - [`config`], [`tls`]: the configuration file, TLS 1.3 credentials;
//! - [`daemon`]: the daemon; [`client`]: the library applications use.
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

pub mod client;
pub mod config;
pub mod daemon;
pub mod errno;
pub mod fdpass;
pub mod identity;
pub mod packet;
pub mod sample;
pub mod tls;
