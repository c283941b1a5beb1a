//! The harness's side of a case: the reference implementation configured from the scenario's
//! `[peer]` table, shared by the case's connections (so sessions carry over to resumption).

use crate::adapter::default_keys;
use crate::fixtures::Fixtures;
use crate::scenario::{PartyConfig, Scenario};
use btls::conn::{ClientSessionStore, ServerSessionCache};
use btls::keys::{KeyCache, PeerKeys, TrustedRegistry};
use btls::msgs::{CipherSuite, KeyAlgorithm};
use btls::{ClientConfig, Connection, SeededRandom, ServerConfig};
use harness_core::clock::now_ms;
use harness_core::Role;
use std::sync::Arc;
use std::time::Duration;

/// The public keys of the keys the harness's side holds in `scenario` (hex): what a
/// `handshake_complete`'s `peer_public_key` may name (BT-KEY-16).
pub fn own_public_keys(scenario: &Scenario) -> Vec<String> {
    let (default_own, _) = default_keys(scenario.iut_role.peer());
    scenario
        .peer
        .keys
        .as_ref()
        .unwrap_or(&default_own)
        .iter()
        .filter_map(|n| Fixtures::get().key(n))
        .map(|k| hex::encode(&k.published.public_key))
        .collect()
}

/// Builds the reference peer's configuration.
fn peer_keys(
    config: &PartyConfig,
    role: Role,
    dir: &std::path::Path,
) -> Result<(Vec<Arc<btls::keys::OwnKey>>, PeerKeys), String> {
    let fixtures = Fixtures::get();
    let (default_own, default_known) = default_keys(role);
    let own = config
        .keys
        .as_ref()
        .unwrap_or(&default_own)
        .iter()
        .map(|n| {
            fixtures
                .key(n)
                .ok_or_else(|| format!("unknown fixture key {n}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut peer = PeerKeys {
        cache: Arc::new(KeyCache::new(64)),
        ..PeerKeys::default()
    };
    for n in config.known.as_ref().unwrap_or(&default_known) {
        peer.add_known(
            fixtures
                .key(n)
                .ok_or_else(|| format!("unknown fixture key {n}"))?
                .published
                .clone(),
        );
    }
    if let Some(registry) = crate::adapter::write_registry(config, &dir.join("peer-registry"))? {
        peer.registry = Some(Arc::new(registry));
    }
    if config.trust_registry {
        if let Some(r) = fixtures.key("registry") {
            peer.policy.trusted_registries.push(TrustedRegistry {
                public_key: r.published.public_key.clone(),
                scope: config
                    .registry_scope
                    .iter()
                    .flatten()
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
            });
        }
    }
    peer.policy.accept_unsigned = config.accept_unsigned;
    if let Some(algs) = &config.allow_algorithms {
        peer.policy.allowed_algorithms = algs
            .iter()
            .filter_map(|a| KeyAlgorithm::from_name(a))
            .collect();
    }
    Ok((own, peer))
}

/// The reference peer's configuration, shared by its connections (so sessions carry over).
pub enum PeerConfig {
    /// The peer is the client.
    Client(Arc<ClientConfig>),
    /// The peer is the server.
    Server(Arc<ServerConfig>),
}

impl PeerConfig {
    /// The `[peer]` table of `scenario`, with the key files and registry it needs in `dir`.
    pub fn new(scenario: &Scenario, dir: &std::path::Path) -> Result<Self, String> {
        Self::of_party(scenario.iut_role.peer(), &scenario.peer, dir)
    }

    /// The reference peer in `role` configured as `config` says, with the key files and
    /// registry it needs in `dir`.
    pub fn of_party(
        role: Role,
        config: &PartyConfig,
        dir: &std::path::Path,
    ) -> Result<Self, String> {
        let (own, peer_keys) = peer_keys(config, role, dir)?;
        let suites: Option<Vec<CipherSuite>> = config
            .cipher_suites
            .as_ref()
            .map(|v| v.iter().filter_map(|s| CipherSuite::from_name(s)).collect());
        let timeout = Duration::from_millis(config.handshake_timeout_ms.unwrap_or(10_000));
        Ok(match role {
            Role::Client => {
                let mut c = ClientConfig::new(own);
                c.peer_keys = peer_keys;
                if let Some(s) = suites {
                    c.cipher_suites = s;
                }
                c.resumption = config.resumption.unwrap_or(true);
                c.sessions = Arc::new(ClientSessionStore::new(8));
                c.expected_server = Some(
                    config
                        .expect_server
                        .clone()
                        .unwrap_or_else(|| "server.example".into())
                        .into_bytes(),
                );
                c.handshake_timeout = timeout;
                if let Some(n) = config.record_limit {
                    c.record_limit = n;
                }
                Self::Client(Arc::new(c))
            }
            Role::Server => {
                let mut s = ServerConfig::new(own);
                s.peer_keys = peer_keys;
                if let Some(suites) = suites {
                    s.cipher_suites = suites;
                }
                s.resumption = config.resumption.unwrap_or(true);
                s.may_send_key = config.send_key.unwrap_or(true);
                s.sessions = Arc::new(ServerSessionCache::new(8));
                s.handshake_timeout = timeout;
                if let Some(n) = config.record_limit {
                    s.record_limit = n;
                }
                if let Some(secs) = config.session_lifetime_s {
                    s.session_lifetime = Duration::from_secs(secs);
                }
                Self::Server(Arc::new(s))
            }
        })
    }

    /// A new connection of the peer, seeded with `seed`.
    pub fn connect(&self, seed: u64) -> Result<Connection, String> {
        let rng = Box::new(SeededRandom::new(seed));
        match self {
            Self::Client(c) => Connection::client(c.clone(), rng, now_ms()),
            Self::Server(s) => Connection::server(s.clone(), rng, now_ms()),
        }
        .map_err(|e| format!("reference peer: {e}"))
    }
}
