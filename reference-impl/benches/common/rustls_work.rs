//! The rustls baseline: TLS 1.3 with aws-lc-rs, an Ed25519 certificate signed by an Ed25519 CA,
//! X25519, AES-256-GCM-SHA384; in memory and over loopback TCP.

use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, HandshakeKind, RootCertStore, ServerConfig,
    ServerConnection, StreamOwned,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

const CA: &[u8] = include_bytes!("../fixtures/rustls-ca.der");
const SERVER_CERT: &[u8] = include_bytes!("../fixtures/rustls-server.der");
const SERVER_KEY: &[u8] = include_bytes!("../fixtures/rustls-server.key.der");
const CLIENT_CERT: &[u8] = include_bytes!("../fixtures/rustls-client.der");
const CLIENT_KEY: &[u8] = include_bytes!("../fixtures/rustls-client.key.der");

/// Who proves possession of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The server only: what a user of rustls usually deploys (the baseline).
    Server,
    /// Both, like every bTLS handshake.
    Mutual,
}

/// aws-lc-rs restricted to X25519 and TLS13_AES_256_GCM_SHA384.
fn provider() -> Arc<CryptoProvider> {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites = vec![aws_lc_rs::cipher_suite::TLS13_AES_256_GCM_SHA384];
    provider.kx_groups = vec![aws_lc_rs::kx_group::X25519];
    Arc::new(provider)
}

fn key(der: &[u8]) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()))
}

fn cert(der: &[u8]) -> Vec<CertificateDer<'static>> {
    vec![CertificateDer::from(der.to_vec())]
}

fn roots() -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(CA.to_vec())).unwrap();
    Arc::new(roots)
}

/// Shared client and server configurations.
pub(crate) struct Handshakes {
    /// The client's configuration.
    pub client: Arc<ClientConfig>,
    /// The server's configuration.
    pub server: Arc<ServerConfig>,
    /// Whether each handshake resumes (TLS 1.3 PSK with (EC)DHE, a ticket from the last one).
    pub resumed: bool,
}

fn configs(auth: Auth, resumption: bool) -> (ClientConfig, ServerConfig) {
    let versions = [&rustls::version::TLS13];
    let client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .unwrap()
        .with_root_certificates(roots());
    let mut client = match auth {
        Auth::Server => client.with_no_client_auth(),
        Auth::Mutual => client
            .with_client_auth_cert(cert(CLIENT_CERT), key(CLIENT_KEY))
            .unwrap(),
    };
    let server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .unwrap();
    let server = match auth {
        Auth::Server => server.with_no_client_auth(),
        Auth::Mutual => server.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots(), provider())
                .build()
                .unwrap(),
        ),
    };
    let mut server = server
        .with_single_cert(cert(SERVER_CERT), key(SERVER_KEY))
        .unwrap();
    if !resumption {
        client.resumption = rustls::client::Resumption::disabled();
        server.send_tls13_tickets = 0;
    }
    (client, server)
}

fn server_name() -> ServerName<'static> {
    ServerName::try_from("server.example").unwrap()
}

impl Handshakes {
    /// Full handshakes: no tickets, no resumption.
    pub(crate) fn full(auth: Auth) -> Self {
        let (client, server) = configs(auth, false);
        Self {
            client: Arc::new(client),
            server: Arc::new(server),
            resumed: false,
        }
    }

    /// Resumed handshakes with rustls's defaults (stateful server cache, two tickets per
    /// handshake, in-memory client store); one full handshake first provides the tickets.
    pub(crate) fn resumed() -> Self {
        let (client, server) = configs(Auth::Server, true);
        let first = Self {
            client: Arc::new(client),
            server: Arc::new(server),
            resumed: false,
        };
        first.pair();
        Self {
            resumed: true,
            ..first
        }
    }

    /// One handshake pair in memory; the client also receives the server's tickets.
    pub(crate) fn pair(&self) -> (ClientConnection, ServerConnection) {
        let mut client = ClientConnection::new(self.client.clone(), server_name()).unwrap();
        let mut server = ServerConnection::new(self.server.clone()).unwrap();
        let mut buf = Vec::with_capacity(4096);
        while client.is_handshaking() || server.is_handshaking() {
            transfer(&mut client, &mut server, &mut buf);
            transfer(&mut server, &mut client, &mut buf);
        }
        transfer(&mut server, &mut client, &mut buf); // NewSessionTicket
        let expected = if self.resumed {
            HandshakeKind::Resumed
        } else {
            HandshakeKind::Full
        };
        assert_eq!(client.handshake_kind(), Some(expected));
        (client, server)
    }
}

/// Moves everything `from` has to write into `to` and processes it; returns the bytes moved.
pub(crate) fn transfer<A, B>(
    from: &mut ConnectionCommon<A>,
    to: &mut ConnectionCommon<B>,
    buf: &mut Vec<u8>,
) -> usize {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
    buf.len()
}

/// An established in-memory pair for bulk transfer, client to server.
pub(crate) struct Bulk {
    client: ClientConnection,
    server: ServerConnection,
    wire: Vec<u8>,
    buf: Vec<u8>,
}

impl Bulk {
    /// A pair that negotiated TLS13_AES_256_GCM_SHA384.
    pub(crate) fn new() -> Self {
        let (client, server) = Handshakes::full(Auth::Server).pair();
        Self {
            client,
            server,
            wire: Vec::with_capacity(64 * 1024),
            buf: vec![0; 64 * 1024],
        }
    }

    /// The client sends `data`, the server receives it and the application reads it out.
    pub(crate) fn send_receive(&mut self, data: &[u8]) -> usize {
        self.client.writer().write_all(data).unwrap();
        transfer(&mut self.client, &mut self.server, &mut self.wire);
        let mut read = 0;
        while read < data.len() {
            let n = self.server.reader().read(&mut self.buf).unwrap();
            assert!(n > 0);
            read += n;
        }
        read
    }
}

/// A rustls server on a loopback port: accepts, completes each handshake, answers close_notify.
pub(crate) struct LoopbackServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    handshakes: Handshakes,
}

impl LoopbackServer {
    /// Starts the server thread for `handshakes`.
    pub(crate) fn start(handshakes: Handshakes) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let config = handshakes.server.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let conn = ServerConnection::new(config.clone()).unwrap();
                let mut tls = StreamOwned::new(conn, stream);
                let mut sink = [0u8; 64];
                // Handshake, then read until the client's close_notify; answer it.
                while matches!(tls.read(&mut sink), Ok(n) if n > 0) {}
                tls.conn.send_close_notify();
                let _ = tls.conn.complete_io(&mut tls.sock);
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
            handshakes,
        }
    }

    /// One connection: TCP connect, handshake, close_notify both ways.
    pub(crate) fn connection(&self) {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let conn = ClientConnection::new(self.handshakes.client.clone(), server_name()).unwrap();
        let mut tls = StreamOwned::new(conn, stream);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).unwrap();
        }
        tls.conn.send_close_notify();
        tls.conn.complete_io(&mut tls.sock).unwrap();
        // Wait for the server's close_notify (and, when resuming, its tickets before it).
        let mut sink = [0u8; 64];
        while matches!(tls.read(&mut sink), Ok(n) if n > 0) {}
        let expected = if self.handshakes.resumed {
            HandshakeKind::Resumed
        } else {
            HandshakeKind::Full
        };
        assert_eq!(tls.conn.handshake_kind(), Some(expected));
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(stream) = TcpStream::connect(self.addr) {
            drop(stream);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
