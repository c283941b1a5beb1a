//! Applications on two daemons talk bTLS through them: the client library, the callbacks, PIN
//! entry, cancellation and the descriptors left behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use btls_pool::client::{PinEntry, PoolClient};
use btls_pool::errno::*;
use btls_pool::packet::{flags, Starttls, IDENTITY_V1};
use common::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::Duration;
use zeroize::Zeroizing;

#[test]
fn ping_answers_with_the_v1_identity() {
    let w = World::pair("ping");
    let mut pool = PoolClient::connect(w.a.path()).unwrap();
    assert_eq!(pool.ping("20261203test@example.org").unwrap(), IDENTITY_V1);
    assert_eq!(
        pool.ping("").unwrap(),
        IDENTITY_V1,
        "a second PING on the same connection"
    );
}

fn digest(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[test]
fn bytes_cross_two_daemons_intact_in_both_directions() {
    let w = World::pair("bytes");
    let (client, server) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "server.example"),
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    let (mut cp, cinfo) = client.unwrap();
    let (mut sp, sinfo) = server.unwrap();
    assert_eq!(cinfo.remoteid, "server.example");
    assert_eq!(cinfo.localid, "client.example");
    assert_eq!(
        sinfo.remoteid, "client.example",
        "an unset remoteid comes back validated"
    );
    // bTLS has no half-close (BT-CLOSE-2): the side that ends its writing ends the session.
    // So the client sends its request and reads to the end; the server reads the request,
    // answers, and shuts its writing down.
    let up: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let down: Vec<u8> = (0..700_000u32).map(|i| (i * 13 % 241) as u8).collect();
    let (up_len, down2) = (up.len(), down.clone());
    let server = std::thread::spawn(move || {
        let mut got = vec![0u8; up_len];
        sp.read_exact(&mut got).unwrap();
        sp.write_all(&down2).unwrap();
        sp.shutdown(Shutdown::Write).unwrap();
        got
    });
    let mut cw = cp.try_clone().unwrap();
    let up2 = up.clone();
    let writer = std::thread::spawn(move || cw.write_all(&up2).unwrap());
    let mut got_down = Vec::new();
    cp.read_to_end(&mut got_down).unwrap();
    writer.join().unwrap();
    let got_up = server.join().unwrap();
    assert_eq!(digest(&got_up), digest(&up), "client to server");
    assert_eq!(got_down.len(), down.len());
    assert_eq!(digest(&got_down), digest(&down), "server to client");
    assert!(eventually(Duration::from_secs(10), || {
        w.a.stats().sessions == 0 && w.b.stats().sessions == 0
    }));
}

#[test]
fn a_client_naming_another_remote_identity_is_refused() {
    let w = World::pair("remoteid");
    let (client, _server) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "other.example"),
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    assert_eq!(client.unwrap_err().errno(), Some(EACCES));
}

#[test]
fn a_server_naming_another_remote_identity_is_refused() {
    let w = World::pair("server-remoteid");
    let (_client, server) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "server.example"),
        w.b.path(),
        Starttls::tcp("server.example", "someone.example"),
    );
    assert_eq!(server.unwrap_err().errno(), Some(EACCES));
}

#[test]
fn an_unknown_local_identity_is_enoent() {
    let w = World::pair("enoent");
    let (c, _s) = tcp_pair();
    let mut pool = PoolClient::connect(w.a.path()).unwrap();
    let e = pool
        .starttls_client(c, &Starttls::tcp("nobody.example", ""), |_| None)
        .unwrap_err();
    assert_eq!(e.errno(), Some(ENOENT), "{e}");
}

fn two_identities(name: &str, extra: &'static str) -> World {
    World::new(
        name,
        SideSpec {
            identities: &["first.example", "second.example"],
            extra,
            ..SideSpec::default()
        },
        SideSpec {
            identities: &["server.example"],
            ..SideSpec::default()
        },
    )
}

fn client_with_callback(
    w: &World,
    mut answer: impl FnMut(&Starttls) -> Option<String> + Send + 'static,
) -> (Started, Vec<String>) {
    let (c, s) = tcp_pair();
    let b = w.b.path().to_owned();
    let server = std::thread::spawn(move || {
        let mut pool = PoolClient::connect(&b)?;
        pool.starttls_server(s, &Starttls::tcp("server.example", ""), |_| None)
    });
    let mut proposals = Vec::new();
    let mut pool = PoolClient::connect(w.a.path()).unwrap();
    let result = pool.starttls_client(c, &Starttls::tcp("", "server.example"), |p| {
        proposals.push(p.localid.clone());
        answer(p)
    });
    drop(pool);
    let _ = server.join();
    (result, proposals)
}

#[test]
fn an_empty_localid_is_chosen_through_callbacks_refused_then_accepted() {
    let w = two_identities("localid", "");
    let (result, proposals) = client_with_callback(&w, |p| {
        (p.localid == "first.example").then(String::new) // refuse the first
    });
    let (_plain, info) = result.unwrap();
    assert_eq!(proposals, ["first.example", "second.example"]);
    assert_eq!(info.localid, "second.example");
}

#[test]
fn the_application_may_change_the_proposed_localid() {
    let w = two_identities("localid-change", "");
    let (result, proposals) = client_with_callback(&w, |_| Some("second.example".into()));
    assert_eq!(proposals, ["first.example"]);
    assert_eq!(result.unwrap().1.localid, "second.example");
}

#[test]
fn refusing_every_proposed_localid_is_eacces() {
    let w = two_identities("localid-refuse", "");
    let (result, proposals) = client_with_callback(&w, |_| Some(String::new()));
    assert_eq!(proposals.len(), 2);
    assert_eq!(result.unwrap_err().errno(), Some(EACCES));
}

#[test]
fn a_callback_that_never_returns_times_out() {
    let w = two_identities("localid-timeout", "callback_timeout_ms = 300\n");
    let (c, _s) = tcp_pair();
    let mut pool = PoolClient::connect(w.a.path()).unwrap();
    // The raw flow: send the request, read the callback, never answer.
    let raw = std::os::unix::net::UnixStream::connect(w.a.path()).unwrap();
    let req = Starttls::tcp("", "server.example")
        .packet(btls_pool::packet::Command::STARTTLS_CLIENT, 9, 0)
        .unwrap();
    btls_pool::fdpass::send_bytes(&raw, &req.encode(), Some(std::os::fd::AsFd::as_fd(&c))).unwrap();
    let first = read_packet(&raw);
    assert_eq!(first.cmd, btls_pool::packet::Command::STARTTLS_LOCALID);
    assert!((1..=1024).contains(&first.cbid), "cbid {}", first.cbid);
    assert_eq!(first.reqid, 9);
    let second = read_packet(&raw);
    assert_eq!(second.cmd, btls_pool::packet::Command::ERROR);
    let e = btls_pool::packet::ErrorBody::read(&second).unwrap();
    assert_eq!(e.errno, ETIMEDOUT, "{}", e.message);
    assert_eq!(second.reqid, 9);
    assert_eq!(
        pool.ping("").unwrap(),
        IDENTITY_V1,
        "the daemon still serves others"
    );
}

fn read_packet(s: &std::os::unix::net::UnixStream) -> btls_pool::packet::Packet {
    match btls_pool::fdpass::recv_packet(s, Some(Duration::from_secs(10)), Duration::from_secs(1))
        .unwrap()
    {
        btls_pool::fdpass::Received::Packet { bytes, .. } => {
            btls_pool::packet::Packet::decode(bytes.as_slice()).unwrap()
        }
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn protected(name: &str, extra: &'static str) -> World {
    World::new(
        name,
        SideSpec {
            identities: &["client.example"],
            ..SideSpec::default()
        },
        SideSpec {
            identities: &["server.example"],
            password: Some("s3cret"),
            extra,
        },
    )
}

fn handshake_with_pin(w: &World, pins: Vec<&'static str>) -> (Started, Vec<u32>) {
    let mut program = PinEntry::register(w.b.path()).unwrap();
    program.set_timeout(Duration::from_secs(10));
    let n = pins.len();
    let pin_thread = std::thread::spawn(move || {
        let mut attempts = Vec::new();
        for pin in pins.into_iter().take(n) {
            program
                .serve_one(|req| {
                    attempts.push(req.attempt);
                    Some(Zeroizing::new(pin.to_owned()))
                })
                .unwrap();
        }
        (program, attempts)
    });
    // The registration must be in before the handshake asks for a PIN.
    assert!(eventually(Duration::from_secs(5), || w
        .b
        .stats()
        .pin_program));
    let (client, server) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "server.example"),
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    drop(client);
    let (_program, attempts) = pin_thread.join().unwrap();
    (server, attempts)
}

#[test]
fn a_protected_key_is_unlocked_with_the_pin_program_s_answer() {
    let w = protected("pin", "");
    let (server, attempts) = handshake_with_pin(&w, vec!["s3cret"]);
    assert_eq!(server.unwrap().1.remoteid, "client.example");
    assert_eq!(attempts, [1]);
}

#[test]
fn a_wrong_pin_is_asked_again_and_three_wrong_pins_are_eacces() {
    let w = protected("pin-wrong", "");
    let (server, attempts) = handshake_with_pin(&w, vec!["no", "nope", "never"]);
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(server.unwrap_err().errno(), Some(EACCES));
}

#[test]
fn an_empty_pin_refuses_with_ecanceled() {
    let w = protected("pin-empty", "");
    let (server, _) = handshake_with_pin(&w, vec![""]);
    assert_eq!(server.unwrap_err().errno(), Some(ECANCELED));
}

#[test]
fn a_protected_key_without_a_pin_program_is_enokey() {
    let w = protected("pin-none", "");
    let (_c, s) = starttls_both(
        w.a.path(),
        Starttls::tcp("client.example", "server.example"),
        w.b.path(),
        Starttls::tcp("server.example", ""),
    );
    assert_eq!(s.unwrap_err().errno(), Some(ENOKEY));
}

#[test]
fn a_second_pin_program_is_ebusy_until_the_first_stops() {
    let w = protected("pin-busy", "");
    let first = PinEntry::register(w.b.path()).unwrap();
    assert!(eventually(Duration::from_secs(5), || w
        .b
        .stats()
        .pin_program));
    let mut second = PinEntry::register(w.b.path()).unwrap();
    second.set_timeout(Duration::from_secs(5));
    let e = second.serve_one(|_| None).unwrap_err();
    assert_eq!(e.errno(), Some(EBUSY), "{e}");
    first.stop().unwrap();
    assert!(
        !w.b.stats().pin_program,
        "stopped: SUCCESS came after the unregistration"
    );
    let mut third = PinEntry::register(w.b.path()).unwrap();
    third.set_timeout(Duration::from_millis(300));
    // Registered: nothing comes until a PIN is needed (the wait runs out, no EBUSY).
    let e = third.serve_one(|_| None).unwrap_err();
    assert_eq!(e.errno(), None, "{e}");
}

#[test]
fn closing_the_control_connection_cancels_a_pending_handshake() {
    let w = World::pair("cancel");
    let (_c, s) = tcp_pair(); // the peer never speaks
    let raw = std::os::unix::net::UnixStream::connect(w.b.path()).unwrap();
    let req = Starttls::tcp("server.example", "")
        .packet(btls_pool::packet::Command::STARTTLS_SERVER, 1, 0)
        .unwrap();
    btls_pool::fdpass::send_bytes(&raw, &req.encode(), Some(std::os::fd::AsFd::as_fd(&s))).unwrap();
    drop(s);
    assert!(eventually(Duration::from_secs(5), || w.b.stats().sessions == 1));
    drop(raw);
    assert!(
        eventually(Duration::from_secs(5), || w.b.stats().sessions == 0),
        "the handshake was not cancelled: {:?}",
        w.b.stats()
    );
}

#[test]
fn ignore_caches_still_completes_and_resumption_works_without_it() {
    let w = World::pair("caches");
    for flags in [0, flags::IGNORE_CACHES, 0] {
        let mut c = Starttls::tcp("client.example", "server.example");
        c.flags = flags;
        let (client, server) = starttls_both(
            w.a.path(),
            c,
            w.b.path(),
            Starttls::tcp("server.example", ""),
        );
        let (mut cp, info) = client.unwrap();
        assert_eq!(info.flags, flags, "the response echoes the flags");
        let (mut sp, _) = server.unwrap();
        cp.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        sp.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
    }
}

#[test]
fn descriptors_return_to_where_they_were_after_many_sessions() {
    let w = World::pair("fds");
    // One session first, so that lazily opened descriptors (the RNG, …) are counted.
    let run = |n: usize| {
        for _ in 0..n {
            let (client, server) = starttls_both(
                w.a.path(),
                Starttls::tcp("client.example", "server.example"),
                w.b.path(),
                Starttls::tcp("server.example", ""),
            );
            let (mut cp, _) = client.unwrap();
            let (mut sp, _) = server.unwrap();
            cp.write_all(b"x").unwrap();
            cp.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            sp.read_to_end(&mut got).unwrap();
            assert_eq!(got, b"x");
            drop(sp);
            let mut rest = Vec::new();
            let _ = cp.read_to_end(&mut rest);
        }
    };
    run(1);
    assert!(eventually(Duration::from_secs(10), || w.a.stats().sessions
        == 0
        && w.b.stats().sessions == 0
        && w.a.stats().connections == 0
        && w.b.stats().connections == 0));
    let before = open_fds();
    run(20);
    assert!(eventually(Duration::from_secs(10), || w.a.stats().sessions
        == 0
        && w.b.stats().sessions == 0
        && w.a.stats().connections == 0
        && w.b.stats().connections == 0));
    assert!(
        eventually(Duration::from_secs(5), || open_fds() <= before),
        "{} descriptors before, {} after",
        before,
        open_fds()
    );
}
