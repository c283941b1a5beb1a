//! Configuration of each role (what SPEC §4, §5 and §8 leave to the party).

use super::session::{ClientSessionStore, ServerSessionCache};
use crate::keys::{OwnKey, PeerKeys};
use crate::msgs::{CipherSuite, KeyAlgorithm};
use crate::quirks::Quirks;
use std::sync::Arc;
use std::time::Duration;

/// Default handshake timeout (BT-TIME-1).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default record limit (BT-REC-8).
pub const DEFAULT_RECORD_LIMIT: u64 = crate::crypto::RECORD_LIMIT;
/// Default session lifetime (BT-RES-3).
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(86_400);

/// A client's configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Own keys in preference order; the first is named in the first CLIENT_HELLO and the others
    /// are tried after CANNOT_SEND_KEY, one per algorithm (BT-HS-15, BT-HS-16).
    pub keys: Vec<Arc<OwnKey>>,
    /// Offered cipher suites in preference order (BT-MSG-3).
    pub cipher_suites: Vec<CipherSuite>,
    /// How the server's key is found and judged.
    pub peer_keys: PeerKeys,
    /// The server registration the client expects (BT-KEY-11); also names the stored session.
    pub expected_server: Option<Vec<u8>>,
    /// Accept any server registration. Off by default: a client with neither this nor
    /// `expected_server` refuses to start (BT-KEY-16).
    pub accept_any_server: bool,
    /// Whether to offer and store sessions (§8).
    pub resumption: bool,
    /// Where sessions are stored, keyed by the expected server registration.
    pub sessions: Arc<ClientSessionStore>,
    /// BT-TIME-1.
    pub handshake_timeout: Duration,
    /// Frames each direction's key protects (BT-REC-8).
    pub record_limit: u64,
    /// Deliberate bugs for testing the conformance suite; none by default ([`crate::quirks`]).
    pub quirks: Quirks,
}

/// A server's configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Own keys; the first of each algorithm answers a CLIENT_HELLO of that algorithm (BT-HS-8).
    pub keys: Vec<Arc<OwnKey>>,
    /// Supported cipher suites in the server's preference order (BT-HS-14).
    pub cipher_suites: Vec<CipherSuite>,
    /// How the client's key is found and judged.
    pub peer_keys: PeerKeys,
    /// Whether SEND_KEY is answered with SENDING_KEY (true) or CANNOT_SEND_KEY (BT-HS-9).
    pub may_send_key: bool,
    /// Whether sessions are stored and resumed (§8).
    pub resumption: bool,
    /// The session cache, shared between connections.
    pub sessions: Arc<ServerSessionCache>,
    /// How long a session may be resumed (BT-RES-3).
    pub session_lifetime: Duration,
    /// BT-TIME-1.
    pub handshake_timeout: Duration,
    /// Frames each direction's key protects (BT-REC-8).
    pub record_limit: u64,
    /// Deliberate bugs for testing the conformance suite; none by default ([`crate::quirks`]).
    pub quirks: Quirks,
}

impl ClientConfig {
    /// A client with `keys`, both cipher suites, default policy and resumption on. Set
    /// `expected_server` (or, to skip the identity check, `accept_any_server`) before starting a
    /// connection (BT-KEY-16).
    pub fn new(keys: Vec<Arc<OwnKey>>) -> Self {
        Self {
            keys,
            cipher_suites: CipherSuite::ALL.to_vec(),
            peer_keys: PeerKeys::default(),
            expected_server: None,
            accept_any_server: false,
            resumption: true,
            sessions: Arc::new(ClientSessionStore::new(64)),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            record_limit: DEFAULT_RECORD_LIMIT,
            quirks: Quirks::NONE,
        }
    }
}

impl ServerConfig {
    /// A server with `keys`, both cipher suites, default policy, key sending and resumption on.
    pub fn new(keys: Vec<Arc<OwnKey>>) -> Self {
        Self {
            keys,
            cipher_suites: CipherSuite::ALL.to_vec(),
            peer_keys: PeerKeys::default(),
            may_send_key: true,
            resumption: true,
            sessions: Arc::new(ServerSessionCache::new(1024)),
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            record_limit: DEFAULT_RECORD_LIMIT,
            quirks: Quirks::NONE,
        }
    }

    /// The server's key for `algorithm`, if it holds one (BT-HS-4).
    pub fn key_for(&self, algorithm: KeyAlgorithm) -> Option<&Arc<OwnKey>> {
        self.keys
            .iter()
            .find(|k| k.published.key_algorithm == algorithm)
    }
}
