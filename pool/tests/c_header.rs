//! The C header written from V1's facts agrees with the Rust layout, and a C application
//! built against it (V1's way: one recvmsg a packet, SCM_RIGHTS) works with the daemon.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use btls_pool::client::PoolClient;
use btls_pool::packet::{offset, Starttls, *};
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

fn compile() -> PathBuf {
    let out = dir("c").join("v1_client");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c/v1_client.c");
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
    let status = Command::new("cc")
        .args([
            "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, "-o",
        ])
        .arg(&out)
        .arg(src)
        .status()
        .expect("cc runs (the C toolchain is part of the test set-up)");
    assert!(status.success(), "cc failed");
    out
}

#[test]
fn every_size_and_offset_of_the_c_header_matches_the_rust_layout() {
    let bin = compile();
    let out = Command::new(&bin).arg("layout").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let c: HashMap<&str, usize> = text
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k, v.parse().unwrap())
        })
        .collect();
    let rust = [
        ("packet", PACKET_LEN),
        ("align", 4),
        ("reqid", 0),
        ("cbid", 2),
        ("cmd", 4),
        ("data", DATA_OFFSET),
        ("data_len", DATA_LEN),
        ("error_len", 4 + MESSAGE_LEN),
        ("error.message", offset::ERROR_MESSAGE),
        ("ping_len", PING_LEN),
        ("starttls_len", offset::STARTTLS_LEN),
        ("starttls.local", offset::STARTTLS_LOCAL),
        ("starttls.ipproto", offset::STARTTLS_IPPROTO),
        ("starttls.streamid", offset::STARTTLS_STREAMID),
        ("starttls.localid", offset::STARTTLS_LOCALID),
        ("starttls.remoteid", offset::STARTTLS_REMOTEID),
        ("pinentry_len", DATA_LEN),
        ("pinentry.attempt", offset::PIN_ATTEMPT),
        ("pinentry.timeout_us", offset::PIN_TIMEOUT_US),
        ("pinentry.pin", offset::PIN_PIN),
        ("pinentry.prompt", offset::PIN_PROMPT),
        ("pinentry.token_manuf", offset::PIN_TOKEN_MANUF),
        ("pinentry.token_model", offset::PIN_TOKEN_MODEL),
        ("pinentry.token_serial", offset::PIN_TOKEN_SERIAL),
        ("pinentry.token_label", offset::PIN_TOKEN_LABEL),
    ];
    assert_eq!(c.len(), rust.len(), "{text}");
    for (name, value) in rust {
        assert_eq!(c.get(name), Some(&value), "{name}");
    }
}

#[test]
fn a_c_application_pings_the_daemon() {
    let bin = compile();
    let w = World::pair("c-ping");
    let out = Command::new(&bin)
        .arg("ping")
        .arg(w.a.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), IDENTITY_V1);
}

#[test]
fn a_c_application_starts_tls_and_talks_to_a_rust_server_through_two_daemons() {
    let bin = compile();
    let w = World::new(
        "c-starttls",
        SideSpec {
            identities: &["first.example", "client.example"],
            ..SideSpec::default()
        },
        SideSpec {
            identities: &["server.example"],
            ..SideSpec::default()
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let b = w.b.path().to_owned();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut pool = PoolClient::connect(&b).unwrap();
        let (mut plain, info) = pool
            .starttls_server(tcp, &Starttls::tcp("server.example", ""), |_| None)
            .unwrap();
        let mut buf = [0u8; 12];
        plain.read_exact(&mut buf).unwrap();
        plain.write_all(b"hello from Rust, ").unwrap();
        plain.write_all(&buf).unwrap();
        plain.shutdown(std::net::Shutdown::Write).unwrap();
        info.remoteid
    });
    // An empty localid: the C program accepts the first proposal by echoing the callback.
    let out = Command::new(&bin)
        .arg("starttls")
        .arg(w.a.path())
        .arg(port.to_string())
        .arg("")
        .arg("server.example")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("remoteid server.example"), "{stdout}");
    assert!(
        stdout.contains("reply hello from Rust, hello from C"),
        "{stdout}"
    );
    assert_eq!(
        server.join().unwrap(),
        "first.example",
        "the first proposal was accepted"
    );
}
