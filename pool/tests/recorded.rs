//! Two daemons, an application on each side, and the harness's recording proxy between them:
//! the bytes arrive intact (SHA-256), and the bTLS session between the daemons is a capture the
//! harness's bTLS decoder reads frame by frame (and Wireshark with harness/wireshark's dissector).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use btls_pool::client::PoolClient;
use btls_pool::packet::Starttls;
use common::*;
use harness_capture::{read_capture, reassemble, split_frames, write_capture, Format, Recording};
use harness_core::profile::Profile;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[test]
fn the_session_between_two_daemons_is_a_capture_the_btls_decoder_reads() {
    let w = World::pair("recorded");
    // client app ──TCP──▶ proxy ──TCP──▶ server app; each app hands its end to its daemon.
    let proxy_client = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client_tcp = TcpStream::connect(proxy_client.local_addr().unwrap()).unwrap();
    let (proxy_in, _) = proxy_client.accept().unwrap();
    let proxy_out = TcpStream::connect(server_listener.local_addr().unwrap()).unwrap();
    let (server_tcp, _) = server_listener.accept().unwrap();
    let recording = std::sync::Arc::new(Mutex::new(Recording::default()));
    recording.lock().unwrap().open(None);
    let rec = recording.clone();
    let relay = std::thread::spawn(move || {
        harness_core::proxy::relay(
            &btls_profile::BtlsProfile,
            &proxy_in,
            &proxy_out,
            &rec,
            Instant::now() + Duration::from_secs(30),
        )
    });
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let expected = Sha256::digest(&payload);
    let b = w.b.path().to_owned();
    let server = std::thread::spawn(move || {
        let mut pool = PoolClient::connect(&b).unwrap();
        let (mut plain, _) = pool
            .starttls_server(server_tcp, &Starttls::tcp("server.example", ""), |_| None)
            .unwrap();
        let mut got = Vec::new();
        plain.read_to_end(&mut got).unwrap();
        Sha256::digest(&got)
    });
    let mut pool = PoolClient::connect(w.a.path()).unwrap();
    let (mut plain, _) = pool
        .starttls_client(
            client_tcp,
            &Starttls::tcp("client.example", "server.example"),
            |_| None,
        )
        .unwrap();
    plain.write_all(&payload).unwrap();
    plain.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    plain.read_to_end(&mut rest).unwrap();
    assert_eq!(server.join().unwrap(), expected, "SHA-256 of what arrived");
    relay.join().unwrap();

    let mut pcap = Vec::new();
    write_capture(&recording.lock().unwrap(), Format::Pcapng, &mut pcap).unwrap();
    let out = dir("recorded-capture").join("daemons.pcapng");
    std::fs::write(&out, &pcap).unwrap();
    tshark_reads(&out);
    let capture = read_capture(&pcap, "daemons.pcapng").unwrap();
    let streams = reassemble(&capture.segments);
    assert_eq!(streams.len(), 1);
    let profile = btls_profile::BtlsProfile;
    let names = |data: &[u8]| -> Vec<String> {
        split_frames(profile.framing(), data)
            .into_iter()
            .map(|f| profile.frame_name(f))
            .collect()
    };
    let from_client = names(&streams[0].from_client.data);
    let from_server = names(&streams[0].from_server.data);
    assert_eq!(
        from_client.first().map(String::as_str),
        Some("HANDSHAKE CLIENT_HELLO"),
        "{from_client:?}"
    );
    assert_eq!(
        from_server.first().map(String::as_str),
        Some("HANDSHAKE SERVER_HELLO"),
        "{from_server:?}"
    );
    assert_eq!(
        from_client.last().map(String::as_str),
        Some("ALERT CLOSE_NOTIFY")
    );
    let data_frames = from_client.iter().filter(|n| *n == "APPLICATION").count();
    assert!(
        data_frames >= 200_000 / 16_384,
        "{data_frames} protected frames: {from_client:?}"
    );
    let total: usize = streams[0].from_client.data.len();
    assert!(
        total > payload.len(),
        "the payload crossed encrypted ({total} bytes)"
    );
    assert!(
        !streams[0]
            .from_client
            .data
            .windows(64)
            .any(|w| w == &payload[1000..1064]),
        "plaintext on the wire"
    );
}

/// Wireshark (tshark, with the project's bTLS dissector) reads the capture too: every frame
/// decodes, the handshake first and close_notify last, with no expert warning.
fn tshark_reads(file: &std::path::Path) {
    let found = std::process::Command::new("tshark")
        .arg("--version")
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "tshark is not installed: run `bash scripts/install-tshark.sh` (or `bash scripts/test.sh`)"
    );
    let lua = concat!(env!("CARGO_MANIFEST_DIR"), "/../harness/wireshark/btls.lua");
    let out = std::process::Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{lua}"))
        .arg("-r")
        .arg(file)
        .args([
            "-Y",
            "btls",
            "-T",
            "fields",
            "-e",
            "btls.summary",
            "-e",
            "btls.problem",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("CLIENT_HELLO")),
        "{text}"
    );
    assert!(
        text.contains("SERVER_HELLO") && text.contains("CLIENT_READY"),
        "{text}"
    );
    assert!(
        text.lines()
            .all(|l| l.split('\t').nth(1).is_none_or(str::is_empty)),
        "a frame with a problem:\n{text}"
    );
}
