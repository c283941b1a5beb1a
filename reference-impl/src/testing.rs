//! Deterministic keys and an in-memory client/server pair, for tests, vectors and benchmarks.
//!
//! Nothing here is for production: keys come from fixed seeds.

use crate::conn::{ClientConfig, Connection, ServerConfig, Side};
use crate::crypto::{SeededRandom, SigningKey};
use crate::error::Error;
use crate::keys::OwnKey;
use crate::msgs::{KeyAlgorithm, PublishedKey, FRAME_HEADER_LEN};
use std::collections::VecDeque;
use std::sync::Arc;

/// The fixed clock of tests: 2027-01-15T08:00:00Z in milliseconds.
pub const TEST_NOW_MS: u64 = 1_800_000_000_000;
/// `not_after` of fixture keys: 2100-01-01.
pub const FIXTURE_NOT_AFTER: u64 = 4_102_444_800;

/// A key of `algorithm` named `reg/key`, derived from `seed`, valid from 1970 to 2100.
pub fn own_key(algorithm: KeyAlgorithm, reg: &str, key: &str, seed: u64) -> Arc<OwnKey> {
    let mut rng = SeededRandom::new(seed ^ u64::from(algorithm.0) << 48);
    let signing = SigningKey::generate(algorithm, &mut rng)
        .unwrap_or_else(|| unreachable!("both algorithms generate from any seed"));
    let published = PublishedKey {
        reg_handle: reg.as_bytes().to_vec(),
        key_handle: key.as_bytes().to_vec(),
        key_algorithm: algorithm,
        public_key: signing.public_key().to_vec(),
        not_before: 0,
        not_after: FIXTURE_NOT_AFTER,
        registry_signature: Vec::new(),
    };
    match OwnKey::new(signing, published) {
        Some(key) => Arc::new(key),
        None => unreachable!("the published key is built from the signing key"),
    }
}

/// The standard fixture: client `client.example` and server `server.example`, one key of each
/// algorithm each, Ed25519 first.
pub fn fixture_keys(side: Side) -> Vec<Arc<OwnKey>> {
    let reg = match side {
        Side::Client => "client.example",
        Side::Server => "server.example",
    };
    let seed = match side {
        Side::Client => 1,
        Side::Server => 2,
    };
    vec![
        own_key(KeyAlgorithm::ED25519_X25519, reg, "ed25519-1", seed),
        own_key(KeyAlgorithm::ECDSA_P256_ECDH_P256, reg, "p256-1", seed),
    ]
}

/// A client and a server that know each other's fixture keys.
pub fn fixture_configs() -> (ClientConfig, ServerConfig) {
    let client_keys = fixture_keys(Side::Client);
    let server_keys = fixture_keys(Side::Server);
    let mut client = ClientConfig::new(client_keys.clone());
    let mut server = ServerConfig::new(server_keys.clone());
    for k in &server_keys {
        client.peer_keys.add_known(k.published.clone());
    }
    for k in &client_keys {
        server.peer_keys.add_known(k.published.clone());
    }
    client.expected_server = Some(b"server.example".to_vec());
    (client, server)
}

/// Bytes that crossed the in-memory wire, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireLog {
    /// Each write: who wrote it and the bytes.
    pub writes: Vec<(Side, Vec<u8>)>,
}

/// A client and a server connected in memory.
#[derive(Debug)]
pub struct Pair {
    /// The client.
    pub client: Connection,
    /// The server.
    pub server: Connection,
    /// The clock both are driven with.
    pub now_ms: u64,
    /// Everything either side wrote.
    pub wire: WireLog,
    /// Frames written and not yet delivered: `[to client, to server]`.
    pending: [VecDeque<Vec<u8>>; 2],
}

/// How each side ended after [`Pair::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The client's first error, if any.
    pub client: Result<(), Error>,
    /// The server's first error, if any.
    pub server: Result<(), Error>,
}

impl Pair {
    /// Builds both connections with randomness from `seed` (client `seed`, server `seed + 1`).
    pub fn new(client: ClientConfig, server: ServerConfig, seed: u64) -> Result<Self, Error> {
        Self::from_shared(Arc::new(client), Arc::new(server), seed)
    }

    /// Like [`Pair::new`], with configurations shared between pairs, as a client or a server
    /// shares one configuration between its connections (the benchmarks use this).
    pub fn from_shared(
        client: Arc<ClientConfig>,
        server: Arc<ServerConfig>,
        seed: u64,
    ) -> Result<Self, Error> {
        let now_ms = TEST_NOW_MS;
        Ok(Self {
            client: Connection::client(client, Box::new(SeededRandom::new(seed)), now_ms)?,
            server: Connection::server(
                server,
                Box::new(SeededRandom::new(seed.wrapping_add(1))),
                now_ms,
            )?,
            now_ms,
            wire: WireLog::default(),
            pending: [VecDeque::new(), VecDeque::new()],
        })
    }

    /// A pair of connections built elsewhere (the harness's oracle builds them from a
    /// scenario), driven at `now_ms`.
    pub fn from_connections(client: Connection, server: Connection, now_ms: u64) -> Self {
        Self {
            client,
            server,
            now_ms,
            wire: WireLog::default(),
            pending: [VecDeque::new(), VecDeque::new()],
        }
    }

    /// The connection of `side`.
    pub fn conn(&mut self, side: Side) -> &mut Connection {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// The frames written to `to` and not yet delivered, for tests that alter them in flight.
    pub fn queue(&mut self, to: Side) -> &mut VecDeque<Vec<u8>> {
        let [to_client, to_server] = &mut self.pending;
        match to {
            Side::Client => to_client,
            Side::Server => to_server,
        }
    }

    /// Moves frames both ways until neither side has anything to deliver; a side stops at its
    /// first error (its alert is still delivered to the peer).
    pub fn run(&mut self) -> Outcome {
        let mut outcome = Outcome {
            client: Ok(()),
            server: Ok(()),
        };
        loop {
            self.pump();
            let mut progressed = false;
            for to in [Side::Server, Side::Client] {
                while let Some(result) = self.deliver_one(to) {
                    progressed = true;
                    if let Err(e) = result {
                        let slot = match to {
                            Side::Client => &mut outcome.client,
                            Side::Server => &mut outcome.server,
                        };
                        if slot.is_ok() {
                            *slot = Err(e);
                        }
                    }
                }
            }
            if !progressed {
                return outcome;
            }
        }
    }

    /// Moves both sides' output into the per-direction queues, frame by frame.
    pub fn pump(&mut self) {
        for from in [Side::Client, Side::Server] {
            let out = self.conn(from).take_output();
            if out.is_empty() {
                continue;
            }
            self.wire.writes.push((from, out.clone()));
            let to = other(from);
            self.queue(to).extend(split_frames(&out));
        }
    }

    /// Delivers the next queued frame to `to`; `None` if nothing is queued.
    pub fn deliver_one(&mut self, to: Side) -> Option<Result<(), Error>> {
        let frame = self.queue(to).pop_front()?;
        let now = self.now_ms;
        Some(self.conn(to).receive(&frame, now))
    }

    /// Drives the pair frame by frame until the next frame queued for `to` satisfies `pred`;
    /// returns whether it ever did.
    pub fn drive_until_next(&mut self, to: Side, pred: impl Fn(&[u8]) -> bool) -> bool {
        loop {
            self.pump();
            if self.queue(to).front().is_some_and(|f| pred(f)) {
                return true;
            }
            let progressed = match self.deliver_one(other(to)) {
                Some(_) => true,
                None => self.deliver_one(to).is_some(),
            };
            if !progressed {
                return false;
            }
        }
    }

    /// Drives the pair frame by frame until `pred` holds for `side`'s connection, without
    /// delivering anything more to `side` once it does. Returns whether it ever held.
    pub fn drive_until(&mut self, side: Side, pred: impl Fn(&Connection) -> bool) -> bool {
        loop {
            if pred(self.conn(side)) {
                return true;
            }
            self.pump();
            let progressed = match self.deliver_one(other(side)) {
                Some(_) => true,
                None => self.deliver_one(side).is_some(),
            };
            if !progressed {
                return pred(self.conn(side));
            }
        }
    }
}

/// The other side.
pub fn other(side: Side) -> Side {
    match side {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

/// Splits well-formed output into whole frames (a trailing partial frame is returned as is).
pub fn split_frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let len = match bytes.get(..FRAME_HEADER_LEN) {
            Some(&[a, b, c, d]) => crate::msgs::frame_len([a, b, c, d]),
            _ => bytes.len(),
        };
        let end = len.min(bytes.len());
        let (frame, rest) = bytes.split_at(end);
        frames.push(frame.to_vec());
        bytes = rest;
    }
    frames
}
