//! A model of the handshake's outcome, written from SPEC.md (§4, §5, §8, §9, §12) apart from the
//! reference state machines: from the two peers' configurations it predicts every handshake
//! message and alert each side sends, and how each side ends.
//!
//! It is a second reading of the specification, used as a test oracle: [`predict`] is a plain
//! function from a [`ModelConfig`] to a [`Prediction`]; [`generate`] generates arbitrary
//! configurations (proptest); [`check`] runs them against the reference in memory or against
//! any IUT through the adapter contract and compares what went over the wire with the model.
//!
//! Only configuration the adapter contract can express is modelled (own keys, known keys, a
//! registry, the validation policy, cipher suites, `--no-send-key`, `--no-resumption`,
//! `--expect-server`, and a second connection for resumption), so every generated
//! configuration runs against any IUT, in either role.

pub mod check;
pub mod generate;

use btls::conn::Side;
use std::collections::BTreeMap;
use std::fmt;

/// A key algorithm (SPEC §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alg {
    /// ED25519_X25519.
    Ed25519,
    /// ECDSA_P256_ECDH_P256.
    P256,
}

impl Alg {
    /// The specification's name.
    pub fn spec_name(self) -> &'static str {
        match self {
            Self::Ed25519 => "ED25519_X25519",
            Self::P256 => "ECDSA_P256_ECDH_P256",
        }
    }

    /// The short name of the fixture keys (`client-ed25519`).
    pub fn fixture_name(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::P256 => "p256",
        }
    }

    /// The algorithm of a wire value.
    pub fn from_wire(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Ed25519),
            2 => Some(Self::P256),
            _ => None,
        }
    }
}

/// A cipher suite (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suite {
    /// AES_256_GCM.
    Aes256Gcm,
    /// CHACHA20_POLY1305.
    Chacha20Poly1305,
}

impl Suite {
    /// The specification's name.
    pub fn spec_name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "AES_256_GCM",
            Self::Chacha20Poly1305 => "CHACHA20_POLY1305",
        }
    }
}

/// Which published form of a party's key is meant (the fixture variants of
/// `harness/src/fixtures.rs`; every variant of a key has the same handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// Valid, unsigned.
    Plain,
    /// `not_after` in the past (BT-KEY-8).
    Expired,
    /// Signed by the fixture registry (BT-KEY-9 (c)).
    Signed,
    /// A registry signature that does not verify (BT-KEY-10).
    BadSig,
    /// The same handles naming another key pair: validates, but no signature of the real
    /// holder verifies under it (BT-HS-20, BT-HS-21). Only as a known or registry entry.
    Impostor,
}

impl Variant {
    /// The fixture name's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Plain => "",
            Self::Expired => "-expired",
            Self::Signed => "-signed",
            Self::BadSig => "-badsig",
            Self::Impostor => "-impostor",
        }
    }
}

/// The fixture key name of `role`'s key of `alg` in form `variant`.
pub fn fixture(role: Side, alg: Alg, variant: Variant) -> String {
    let role = match role {
        Side::Client => "client",
        Side::Server => "server",
    };
    format!("{role}-{}{}", alg.fixture_name(), variant.suffix())
}

/// Which server registration a client expects (BT-KEY-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// None (a client then never offers a session, BT-RES-2).
    Unset,
    /// The fixture server's registration, `server.example`.
    Right,
    /// Another registration.
    Wrong,
}

/// The registration the fixture server has.
pub const SERVER_REG: &str = "server.example";
/// A registration no fixture server has.
pub const WRONG_REG: &str = "other.example";

/// One party's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyModel {
    /// Own keys in preference order, one per algorithm (never [`Variant::Impostor`]).
    pub keys: Vec<(Alg, Variant)>,
    /// The peer's keys this party knows (configured known keys), one per algorithm.
    pub known: Vec<(Alg, Variant)>,
    /// The peer's keys in this party's registry, one per algorithm.
    pub registry: Vec<(Alg, Variant)>,
    /// Trust the fixture registry's signatures.
    pub trust_registry: bool,
    /// Trust on first use.
    pub accept_unsigned: bool,
    /// Allowed peer key algorithms (not empty).
    pub allow: Vec<Alg>,
    /// Offered (client) or supported (server) suites in preference order (not empty).
    pub suites: Vec<Suite>,
    /// Resumption on.
    pub resumption: bool,
}

impl PartyModel {
    fn own(&self, alg: Alg) -> Option<Variant> {
        self.keys.iter().find(|(a, _)| *a == alg).map(|(_, v)| *v)
    }
}

/// Both peers' configurations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// The client.
    pub client: PartyModel,
    /// The server.
    pub server: PartyModel,
    /// The server answers SEND_KEY with SENDING_KEY (else CANNOT_SEND_KEY, BT-HS-9).
    pub send_key: bool,
    /// The client's expected server registration.
    pub expect_server: Expect,
    /// After a completed first handshake, connect again with the same configurations
    /// (sessions and key caches carry over).
    pub reconnect: bool,
}

/// A validation failure reason (SPEC §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// UNTRUSTED_KEY.
    UntrustedKey,
    /// EXPIRED_KEY.
    ExpiredKey,
    /// ALGORITHM_NOT_ALLOWED.
    AlgorithmNotAllowed,
    /// BAD_REGISTRY_SIGNATURE.
    BadRegistrySignature,
    /// UNEXPECTED_IDENTITY.
    UnexpectedIdentity,
    /// Any other value.
    Other(u8),
}

impl Reason {
    /// The reason of a wire value.
    pub fn from_wire(v: u8) -> Self {
        match v {
            1 => Self::UntrustedKey,
            2 => Self::ExpiredKey,
            3 => Self::AlgorithmNotAllowed,
            5 => Self::BadRegistrySignature,
            7 => Self::UnexpectedIdentity,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UntrustedKey => f.write_str("UNTRUSTED_KEY"),
            Self::ExpiredKey => f.write_str("EXPIRED_KEY"),
            Self::AlgorithmNotAllowed => f.write_str("ALGORITHM_NOT_ALLOWED"),
            Self::BadRegistrySignature => f.write_str("BAD_REGISTRY_SIGNATURE"),
            Self::UnexpectedIdentity => f.write_str("UNEXPECTED_IDENTITY"),
            Self::Other(v) => write!(f, "reason {v}"),
        }
    }
}

/// An alert description (SPEC §9) as far as the model tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alert {
    /// close_notify.
    CloseNotify,
    /// failed_handshake.
    FailedHandshake,
    /// decrypt_error.
    DecryptError,
    /// Any other description.
    Other(u8),
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CloseNotify => f.write_str("close_notify"),
            Self::FailedHandshake => f.write_str("failed_handshake"),
            Self::DecryptError => f.write_str("decrypt_error"),
            Self::Other(v) => write!(f, "alert {v}"),
        }
    }
}

/// One frame on the wire, as the model tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// CLIENT_HELLO naming a key of `alg`, offering a session or not.
    ClientHello {
        /// The named key's algorithm.
        alg: Option<Alg>,
        /// A non-empty `session_id`.
        session: bool,
    },
    /// SERVER_HELLO; `session` when it echoes a session (resumption).
    ServerHello {
        /// The named key's algorithm.
        alg: Option<Alg>,
        /// A non-empty `session_id`.
        session: bool,
    },
    /// SEND_KEY.
    SendKey,
    /// SENDING_KEY.
    SendingKey,
    /// CANNOT_SEND_KEY.
    CannotSendKey,
    /// SUCCESSFUL_VALIDATION.
    SuccessfulValidation,
    /// FAILED_VALIDATION with its reason.
    FailedValidation(Reason),
    /// SESSION_DETAILS.
    SessionDetails,
    /// CLIENT_READY.
    ClientReady,
    /// SERVER_READY.
    ServerReady,
    /// An alert (plaintext or protected: the description is the frame's subcode).
    Alert(Alert),
    /// Anything else (described).
    Other(String),
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = |a: &Option<Alg>| a.map_or("?", Alg::spec_name);
        match self {
            Self::ClientHello { alg: a, session } => write!(
                f,
                "CLIENT_HELLO({}{})",
                alg(a),
                if *session { ", session" } else { "" }
            ),
            Self::ServerHello { alg: a, session } => write!(
                f,
                "SERVER_HELLO({}{})",
                alg(a),
                if *session { ", session" } else { "" }
            ),
            Self::SendKey => f.write_str("SEND_KEY"),
            Self::SendingKey => f.write_str("SENDING_KEY"),
            Self::CannotSendKey => f.write_str("CANNOT_SEND_KEY"),
            Self::SuccessfulValidation => f.write_str("SUCCESSFUL_VALIDATION"),
            Self::FailedValidation(r) => write!(f, "FAILED_VALIDATION({r})"),
            Self::SessionDetails => f.write_str("SESSION_DETAILS"),
            Self::ClientReady => f.write_str("CLIENT_READY"),
            Self::ServerReady => f.write_str("SERVER_READY"),
            Self::Alert(a) => write!(f, "alert {a}"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// How a connection ends: the alert path it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    /// The server holds no key of the hello's algorithm: `failed_handshake` (BT-HS-4).
    ServerNoKeyForAlgorithm,
    /// No offered suite is supported: `failed_handshake` (BT-HS-5).
    ServerNoCommonSuite,
    /// The server rejects the client's key: FAILED_VALIDATION, `failed_handshake` (BT-HS-6,
    /// BT-HS-7, BT-HS-10).
    ServerRejectsKey(Reason),
    /// The client rejects the server's key or identity: FAILED_VALIDATION, `failed_handshake`
    /// (BT-HS-15, BT-KEY-11, BT-HS-10).
    ClientRejectsKey(Reason),
    /// CANNOT_SEND_KEY and no key of an untried algorithm: `failed_handshake` (BT-HS-16).
    ClientNoUntriedAlgorithm,
    /// The client's view of the server key is not the server's: SESSION_DETAILS's signature
    /// fails, `decrypt_error` (BT-HS-20).
    ClientBadSignature,
    /// The server's view of the client key is not the client's: CLIENT_READY's signature
    /// fails, `decrypt_error` (BT-HS-21).
    ServerBadSignature,
    /// A full handshake completes with the first hello.
    Complete,
    /// A full handshake completes after CANNOT_SEND_KEY and a retried hello (BT-HS-16).
    CompleteAfterRetry,
    /// A session is offered and resumed (§8).
    Resumed,
    /// A session is offered, the server runs a full handshake instead, which completes
    /// (BT-RES-3, BT-RES-5).
    ResumptionDeclined,
}

impl Path {
    /// Every path the generator must reach.
    pub fn all() -> Vec<Path> {
        let mut v = vec![Self::ServerNoKeyForAlgorithm, Self::ServerNoCommonSuite];
        for r in [
            Reason::UntrustedKey,
            Reason::ExpiredKey,
            Reason::AlgorithmNotAllowed,
            Reason::BadRegistrySignature,
        ] {
            v.push(Self::ServerRejectsKey(r));
        }
        for r in [
            Reason::UntrustedKey,
            Reason::ExpiredKey,
            Reason::AlgorithmNotAllowed,
            Reason::BadRegistrySignature,
            Reason::UnexpectedIdentity,
        ] {
            v.push(Self::ClientRejectsKey(r));
        }
        v.extend([
            Self::ClientNoUntriedAlgorithm,
            Self::ClientBadSignature,
            Self::ServerBadSignature,
            Self::Complete,
            Self::CompleteAfterRetry,
            Self::Resumed,
            Self::ResumptionDeclined,
        ]);
        v
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerNoKeyForAlgorithm => {
                f.write_str("server failed_handshake: no key of the algorithm")
            }
            Self::ServerNoCommonSuite => f.write_str("server failed_handshake: no common suite"),
            Self::ServerRejectsKey(r) => write!(f, "server FAILED_VALIDATION({r})"),
            Self::ClientRejectsKey(r) => write!(f, "client FAILED_VALIDATION({r})"),
            Self::ClientNoUntriedAlgorithm => {
                f.write_str("client failed_handshake: CANNOT_SEND_KEY, no untried algorithm")
            }
            Self::ClientBadSignature => f.write_str("client decrypt_error: SESSION_DETAILS"),
            Self::ServerBadSignature => f.write_str("server decrypt_error: CLIENT_READY"),
            Self::Complete => f.write_str("complete"),
            Self::CompleteAfterRetry => f.write_str("complete after a retry"),
            Self::Resumed => f.write_str("resumed"),
            Self::ResumptionDeclined => f.write_str("complete, resumption declined"),
        }
    }
}

/// What a completed handshake negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The key algorithm.
    pub alg: Alg,
    /// The cipher suite.
    pub suite: Suite,
    /// Whether it was resumed.
    pub resumed: bool,
}

/// The model's prediction for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnPrediction {
    /// Every frame, who sends it, in an order consistent with the protocol.
    pub trace: Vec<(Side, Msg)>,
    /// The alert path.
    pub path: Path,
    /// Both sides complete the handshake with this, or (`None`) both fail.
    pub negotiated: Option<Negotiated>,
}

/// The model's prediction for a configuration pair: one entry per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// The connections, in order.
    pub connections: Vec<ConnPrediction>,
}

/// Where a party found a peer key (BT-KEY-3), or that the peer sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Cache,
    Known,
    Registry,
    Sent,
}

/// What one party keeps between connections.
#[derive(Debug, Clone, Default)]
struct Memory {
    /// Learned peer keys (BT-CACHE-1), by algorithm (each algorithm has one handle pair).
    cache: BTreeMap<Alg, Variant>,
    /// The stored session: its key algorithm and suite (BT-RES-1).
    session: Option<(Alg, Suite)>,
}

/// BT-KEY-3: cache, known keys, registry.
fn resolve(party: &PartyModel, memory: &Memory, alg: Alg) -> Option<(Variant, Source)> {
    if let Some(v) = memory.cache.get(&alg) {
        return Some((*v, Source::Cache));
    }
    let find = |list: &[(Alg, Variant)]| list.iter().find(|(a, _)| *a == alg).map(|(_, v)| *v);
    find(&party.known)
        .map(|v| (v, Source::Known))
        .or_else(|| find(&party.registry).map(|v| (v, Source::Registry)))
}

/// BT-KEY-4..10, in order (5 and 6 cannot fail for fixture keys).
fn validate(party: &PartyModel, alg: Alg, variant: Variant, source: Source) -> Result<(), Reason> {
    if !party.allow.contains(&alg) {
        return Err(Reason::AlgorithmNotAllowed); // BT-KEY-7
    }
    if variant == Variant::Expired {
        return Err(Reason::ExpiredKey); // BT-KEY-8
    }
    if matches!(source, Source::Cache | Source::Known) {
        return Ok(()); // BT-KEY-9 (b)
    }
    match variant {
        Variant::Signed if party.trust_registry => Ok(()), // (c)
        Variant::Signed | Variant::BadSig => Err(Reason::BadRegistrySignature), // (c), BT-KEY-10
        _ if party.accept_unsigned => Ok(()),              // (d)
        _ => Err(Reason::UntrustedKey),
    }
}

/// Predicts every connection of `config`: the first, and a second one when `reconnect` is set
/// and the first completes.
pub fn predict(config: &ModelConfig) -> Prediction {
    let mut client = Memory::default();
    let mut server = Memory::default();
    let first = predict_connection(config, &mut client, &mut server);
    let again = config.reconnect && first.negotiated.is_some();
    let mut connections = vec![first];
    if again {
        connections.push(predict_connection(config, &mut client, &mut server));
    }
    Prediction { connections }
}

fn fail_with(trace: Vec<(Side, Msg)>, path: Path) -> ConnPrediction {
    ConnPrediction {
        trace,
        path,
        negotiated: None,
    }
}

/// One connection, updating what each side keeps.
fn predict_connection(
    config: &ModelConfig,
    client_memory: &mut Memory,
    server_memory: &mut Memory,
) -> ConnPrediction {
    use Side::{Client as C, Server as S};
    let (client, server) = (&config.client, &config.server);
    let mut trace = Vec::new();
    // BT-RES-2: a session is offered only to an expected server, naming the session's key.
    let offer = client_memory
        .session
        .filter(|_| client.resumption && config.expect_server == Expect::Right);
    let Some(mut alg) = offer
        .map(|(a, _)| a)
        .or_else(|| client.keys.first().map(|(a, _)| *a))
    else {
        return fail_with(trace, Path::ClientNoUntriedAlgorithm);
    };
    let mut session = offer.is_some();
    let mut tried = Vec::new();
    loop {
        trace.push((
            C,
            Msg::ClientHello {
                alg: Some(alg),
                session,
            },
        ));
        tried.push(alg);
        // BT-HS-28: BT-HS-4 (algorithm), then BT-HS-5 (suites).
        if server.own(alg).is_none() {
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerNoKeyForAlgorithm);
        }
        // BT-HS-14: the server's first suite the client offered.
        let Some(suite) = server
            .suites
            .iter()
            .copied()
            .find(|s| client.suites.contains(s))
        else {
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerNoCommonSuite);
        };
        // BT-RES-3: resume when the server holds the session and resumption is on.
        if let (true, true, Some((s_alg, s_suite))) =
            (session, server.resumption, server_memory.session)
        {
            if s_alg == alg && client.suites.contains(&s_suite) {
                trace.push((
                    S,
                    Msg::ServerHello {
                        alg: Some(alg),
                        session: true,
                    },
                ));
                trace.push((S, Msg::ServerReady));
                trace.push((C, Msg::ClientReady));
                trace.push((C, Msg::Alert(Alert::CloseNotify)));
                trace.push((S, Msg::Alert(Alert::CloseNotify)));
                return ConnPrediction {
                    trace,
                    path: Path::Resumed,
                    negotiated: Some(Negotiated {
                        alg,
                        suite: s_suite,
                        resumed: true,
                    }),
                };
            }
        }
        // BT-HS-6, BT-HS-7: the server resolves and validates the client key.
        let own_client = client.own(alg).unwrap_or(Variant::Plain);
        let (client_key_at_server, client_source) = match resolve(server, server_memory, alg) {
            Some(found) => found,
            None => {
                trace.push((S, Msg::SendKey));
                trace.push((C, Msg::SendingKey));
                (own_client, Source::Sent)
            }
        };
        if let Err(reason) = validate(server, alg, client_key_at_server, client_source) {
            trace.push((S, Msg::FailedValidation(reason)));
            trace.push((S, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ServerRejectsKey(reason));
        }
        if client_source == Source::Sent {
            trace.push((S, Msg::SuccessfulValidation));
        }
        trace.push((
            S,
            Msg::ServerHello {
                alg: Some(alg),
                session: false,
            },
        ));
        // BT-HS-29: identity (BT-KEY-11) before the key is resolved (BT-HS-15).
        if config.expect_server == Expect::Wrong {
            trace.push((C, Msg::FailedValidation(Reason::UnexpectedIdentity)));
            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ClientRejectsKey(Reason::UnexpectedIdentity));
        }
        let own_server = server.own(alg).unwrap_or(Variant::Plain);
        let (server_key_at_client, server_source) = match resolve(client, client_memory, alg) {
            Some(found) => found,
            None => {
                trace.push((C, Msg::SendKey));
                if !config.send_key {
                    // BT-HS-9, BT-HS-16: retry with a key of an untried algorithm.
                    trace.push((S, Msg::CannotSendKey));
                    match client.keys.iter().find(|(a, _)| !tried.contains(a)) {
                        Some((next, _)) => {
                            alg = *next;
                            session = false;
                            continue;
                        }
                        None => {
                            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
                            return fail_with(trace, Path::ClientNoUntriedAlgorithm);
                        }
                    }
                }
                trace.push((S, Msg::SendingKey));
                (own_server, Source::Sent)
            }
        };
        if let Err(reason) = validate(client, alg, server_key_at_client, server_source) {
            trace.push((C, Msg::FailedValidation(reason)));
            trace.push((C, Msg::Alert(Alert::FailedHandshake)));
            return fail_with(trace, Path::ClientRejectsKey(reason));
        }
        trace.push((C, Msg::SuccessfulValidation));
        // BT-HS-12, BT-HS-18, BT-HS-20: SESSION_DETAILS is signed with the server's key.
        trace.push((S, Msg::SessionDetails));
        if server_key_at_client == Variant::Impostor {
            trace.push((C, Msg::Alert(Alert::DecryptError)));
            return fail_with(trace, Path::ClientBadSignature);
        }
        // BT-HS-21: CLIENT_READY is signed with the client's key.
        trace.push((C, Msg::ClientReady));
        if client_key_at_server == Variant::Impostor {
            trace.push((S, Msg::Alert(Alert::DecryptError)));
            return fail_with(trace, Path::ServerBadSignature);
        }
        trace.push((S, Msg::ServerReady));
        trace.push((C, Msg::Alert(Alert::CloseNotify)));
        trace.push((S, Msg::Alert(Alert::CloseNotify)));
        // BT-CACHE-1: keys obtained by SENDING_KEY or a registry are cached on completion.
        if matches!(client_source, Source::Sent | Source::Registry) {
            server_memory.cache.insert(alg, client_key_at_server);
        }
        if matches!(server_source, Source::Sent | Source::Registry) {
            client_memory.cache.insert(alg, server_key_at_client);
        }
        // BT-RES-1: sessions are stored after a full handshake with resumption on.
        if server.resumption {
            server_memory.session = Some((alg, suite));
        }
        if client.resumption && config.expect_server == Expect::Right {
            client_memory.session = Some((alg, suite));
        }
        let path = if session {
            Path::ResumptionDeclined
        } else if tried.len() > 1 {
            Path::CompleteAfterRetry
        } else {
            Path::Complete
        };
        return ConnPrediction {
            trace,
            path,
            negotiated: Some(Negotiated {
                alg,
                suite,
                resumed: false,
            }),
        };
    }
}

/// The frames of `trace` that `from` sends, in order.
pub fn sent_by(trace: &[(Side, Msg)], from: Side) -> Vec<Msg> {
    trace
        .iter()
        .filter(|(s, _)| *s == from)
        .map(|(_, m)| m.clone())
        .collect()
}

/// One line per frame: `client → CLIENT_HELLO(…)`.
pub fn show_trace(trace: &[(Side, Msg)]) -> String {
    trace
        .iter()
        .map(|(s, m)| {
            let who = match s {
                Side::Client => "client →",
                Side::Server => "        ← server",
            };
            format!("  {who} {m}\n")
        })
        .collect()
}

/// The model's reading of one frame (header and, for hellos and FAILED_VALIDATION, the fields
/// it tells apart); `None` for APPLICATION frames, which it does not model.
pub fn classify(frame: &[u8]) -> Option<Msg> {
    let (&ct, &sub) = (frame.first()?, frame.get(1)?);
    let body = frame
        .get(btls::msgs::FRAME_HEADER_LEN..)
        .unwrap_or_default();
    let hello = |client: bool| {
        // version(2) random(32) session_id<0..32> key_algorithm(2)
        let sid = body.get(34).copied();
        let session = sid.is_some_and(|n| n > 0);
        let at = 35 + usize::from(sid.unwrap_or(0));
        let alg = body
            .get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .and_then(|b| Alg::from_wire(u16::from_be_bytes(b)));
        if client {
            Msg::ClientHello { alg, session }
        } else {
            Msg::ServerHello { alg, session }
        }
    };
    Some(match (ct, sub) {
        (1, 0x01) => hello(true),
        (1, 0x02) => hello(false),
        (1, 0x03) => Msg::SendKey,
        (1, 0x04) => Msg::SendingKey,
        (1, 0x05) => Msg::CannotSendKey,
        (1, 0x06) => Msg::SuccessfulValidation,
        (1, 0x07) => Msg::FailedValidation(Reason::from_wire(body.first().copied().unwrap_or(0))),
        (1, 0x08) => Msg::SessionDetails,
        (1, 0x09) => Msg::ClientReady,
        (1, 0x0A) => Msg::ServerReady,
        (2, 0) => Msg::Alert(Alert::CloseNotify),
        (2, 40) => Msg::Alert(Alert::FailedHandshake),
        (2, 51) => Msg::Alert(Alert::DecryptError),
        (2, d) => Msg::Alert(Alert::Other(d)),
        (3, _) => return None,
        _ => Msg::Other(crate::wire::describe(frame)),
    })
}
