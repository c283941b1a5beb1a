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
mod predict;

pub use predict::{classify, predict, sent_by, show_trace};

use btls::conn::Side;
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
