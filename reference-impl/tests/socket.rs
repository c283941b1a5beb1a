//! SecureSocket over real loopback TCP (ephemeral ports).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::socket::{SecureListener, SecureSocket};
use btls::testing::fixture_configs;
use std::io::{ErrorKind, Read, Write};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Runs `server` on an accepted socket in a thread; returns the address and the thread's result.
fn serve<T: Send + 'static>(
    server: impl FnOnce(SecureSocket) -> T + Send + 'static,
) -> (std::net::SocketAddr, mpsc::Receiver<T>) {
    let (_, s) = fixture_configs();
    let listener = SecureListener::bind("127.0.0.1:0", Arc::new(s)).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let socket = listener.accept().unwrap();
        let _ = tx.send(server(socket));
    });
    (addr, rx)
}

#[test]
fn client_and_server_exchange_data_and_close_cleanly() {
    let (addr, done) = serve(|mut s| {
        let mut got = vec![0u8; 200_000];
        s.read_exact(&mut got).unwrap();
        s.write_all(&got.iter().map(|b| b.wrapping_add(1)).collect::<Vec<_>>())
            .unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap(); // ends cleanly at the client's close_notify
        rest.len()
    });
    let (c, _) = fixture_configs();
    let mut socket = SecureSocket::connect(addr, Arc::new(c)).unwrap();
    assert!(socket.summary().is_some());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    socket.write_all(&data).unwrap();
    let mut back = vec![0u8; data.len()];
    socket.read_exact(&mut back).unwrap();
    assert!(back.iter().zip(&data).all(|(b, d)| *b == d.wrapping_add(1)));
    socket.close().unwrap();
    assert_eq!(done.recv_timeout(Duration::from_secs(10)).unwrap(), 0);
}

#[test]
fn a_peer_that_drops_the_stream_without_close_notify_is_a_truncation_error() {
    let (addr, done) = serve(|mut s| {
        s.write_all(b"partial answer").unwrap();
        drop(s); // no close_notify
    });
    let (c, _) = fixture_configs();
    let mut socket = SecureSocket::connect(addr, Arc::new(c)).unwrap();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut got = Vec::new();
    let err = socket.read_to_end(&mut got).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "BT-CLOSE-3");
    assert_eq!(got, b"partial answer");
}

#[test]
fn a_rejected_key_surfaces_as_a_protocol_error_on_both_ends() {
    let (_, mut s) = fixture_configs();
    s.peer_keys.known.clear();
    let listener = SecureListener::bind("127.0.0.1:0", Arc::new(s)).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept().map(|_| ()).map_err(|e| e.to_string()));
    });
    let (c, _) = fixture_configs();
    let err = SecureSocket::connect(addr, Arc::new(c)).unwrap_err();
    assert!(err.to_string().contains("FAILED_HANDSHAKE"), "{err}");
    let server = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap_err();
    assert!(server.contains("UNTRUSTED_KEY"), "{server}");
}

#[test]
fn a_silent_server_times_the_handshake_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink); // never answers
        sink
    });
    let (mut c, _) = fixture_configs();
    c.handshake_timeout = Duration::from_millis(200);
    let err = SecureSocket::connect(addr, Arc::new(c)).unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    let received = holder.join().unwrap();
    // The silent peer got the CLIENT_HELLO and then the handshake_timeout alert (BT-TIME-1).
    assert_eq!(
        &received[received.len() - 5..],
        &[0x02, 130, 0x00, 0x01, 0x02]
    );
}
