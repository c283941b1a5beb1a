//! bTLS work: in-memory handshake pairs, bulk transfer, and the same over loopback TCP.

use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls::socket::{SecureListener, SecureSocket};
use btls::testing::{fixture_configs, Pair, TEST_NOW_MS};
use btls::{ClientConfig, SeededRandom, ServerConfig};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A client and a server configuration of one key algorithm, shared by every pair, as a real
/// client and server share theirs between connections.
pub(crate) struct Handshakes {
    /// The client's configuration.
    pub client: Arc<ClientConfig>,
    /// The server's configuration.
    pub server: Arc<ServerConfig>,
    /// Whether each handshake resumes the session of a first, untimed one.
    pub resumed: bool,
}

fn configs(alg: KeyAlgorithm, resumption: bool) -> (ClientConfig, ServerConfig) {
    let (mut client, mut server) = fixture_configs();
    client.keys.retain(|k| k.published.key_algorithm == alg);
    client.resumption = resumption;
    server.resumption = resumption;
    (client, server)
}

impl Handshakes {
    /// Full handshakes with `alg`: resumption off on both sides.
    pub(crate) fn full(alg: KeyAlgorithm) -> Self {
        let (client, server) = configs(alg, false);
        Self {
            client: Arc::new(client),
            server: Arc::new(server),
            resumed: false,
        }
    }

    /// Resumed handshakes with `alg`: one full handshake first stores the session.
    pub(crate) fn resumed(alg: KeyAlgorithm) -> Self {
        let (client, server) = configs(alg, true);
        let first = Self {
            client: Arc::new(client),
            server: Arc::new(server),
            resumed: false,
        };
        first.pair(0);
        Self {
            resumed: true,
            ..first
        }
    }

    /// One handshake pair in memory, checked to have completed as intended.
    pub(crate) fn pair(&self, seed: u64) -> Pair {
        let mut pair = Pair::from_shared(self.client.clone(), self.server.clone(), seed).unwrap();
        let outcome = pair.run();
        outcome.client.unwrap();
        outcome.server.unwrap();
        assert_eq!(pair.client.summary().unwrap().resumed, self.resumed);
        pair
    }
}

/// An established in-memory pair for bulk transfer, client to server.
pub(crate) struct Bulk {
    pair: Pair,
    buf: Vec<u8>,
}

impl Bulk {
    /// A pair that negotiated `suite`.
    pub(crate) fn new(suite: CipherSuite) -> Self {
        let (mut client, server) = fixture_configs();
        client.cipher_suites = vec![suite];
        let mut pair = Pair::new(client, server, 1).unwrap();
        pair.run().client.unwrap();
        assert_eq!(pair.client.summary().unwrap().cipher_suite, suite);
        Self {
            pair,
            buf: vec![0; 64 * 1024],
        }
    }

    /// The client sends `data`, the server receives it and the application reads it out.
    pub(crate) fn send_receive(&mut self, data: &[u8]) -> usize {
        self.pair.client.send(data).unwrap();
        let wire = self.pair.client.take_output();
        self.pair.server.receive(&wire, TEST_NOW_MS).unwrap();
        let mut read = 0;
        loop {
            let n = self.pair.server.read_application_data(&mut self.buf);
            if n == 0 {
                break;
            }
            read += n;
        }
        assert_eq!(read, data.len());
        read
    }
}

/// A bTLS server on a loopback port that accepts connections, completes each handshake and
/// answers the client's close_notify, until dropped.
pub(crate) struct LoopbackServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    handshakes: Handshakes,
}

impl LoopbackServer {
    /// Starts the server thread for `handshakes` (full or resumed).
    pub(crate) fn start(handshakes: Handshakes) -> Self {
        let listener = SecureListener::bind("127.0.0.1:0", handshakes.server.clone()).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok(mut socket) = listener.accept() else {
                    continue;
                };
                // Reads until the client's close_notify, which the socket answers.
                let mut sink = [0u8; 64];
                while matches!(socket.read(&mut sink), Ok(n) if n > 0) {}
            }
        });
        // A resumed `Handshakes` already stored its session in both shared configurations.
        Self {
            addr,
            stop,
            thread: Some(thread),
            handshakes,
        }
    }

    /// One connection: TCP connect, handshake, close_notify both ways.
    pub(crate) fn connection(&self, seed: u64) {
        let stream = TcpStream::connect(self.addr).unwrap();
        let socket = SecureSocket::client_over(
            stream,
            self.handshakes.client.clone(),
            Box::new(SeededRandom::new(seed)),
        )
        .unwrap();
        assert_eq!(socket.summary().unwrap().resumed, self.handshakes.resumed);
        socket.close().unwrap();
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop; a refused or failed handshake is fine here.
        if let Ok(stream) = TcpStream::connect(self.addr) {
            drop(stream);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
