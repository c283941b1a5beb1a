//! The harness's TLS 1.3 client (RFC 8446 §4), sans I/O: the engine moves its output to the
//! server and the server's records to it. The ClientHello is open to
//! any change before it is sent; each server message is checked as the RFC says, and the
//! client answers a violation with the alert the RFC names; the session's secrets are kept as
//! NSS key log lines.

use crate::codec::DecodeError;
use crate::keys::{RecordKey, Secrets13, Suite13, Transcript};
use crate::msgs::{
    decode_certificate13, decode_certificate_verify, handshake_message, take_handshake_messages,
    Alert, AlertDescription, CipherSuite, ClientHello, ContentType, Extension, ExtensionType,
    HandshakeType, NamedGroup, ProtocolVersion, Record, ServerHello, SignatureScheme, MAX_FRAGMENT,
};
use aws_lc_rs::agreement;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rustls_pki_types::CertificateDer;
use std::collections::VecDeque;
use std::time::Duration;
use thiserror::Error;

mod resume12;
mod resume13;
mod rsa12;
mod tls12;

pub use resume12::{Offer, Saved12};
pub use resume13::{Saved13, Spoil13};
pub use rsa12::BadPremaster;

/// Why the client stopped. Each violation names the RFC section whose rule decided it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Failure {
    /// The server sent an alert.
    #[error("the server sent the alert {0}")]
    AlertReceived(Alert),
    /// The server closed the connection.
    #[error("the server closed the connection {0}")]
    Closed(&'static str),
    /// Nothing arrived in time.
    #[error("no answer within {0} ms {1}")]
    Timeout(u128, &'static str),
    /// The server broke a rule of the RFC; the client answered with `alert`.
    #[error("{rule}: {detail} (answered with {alert})")]
    Violation {
        /// The RFC section.
        rule: &'static str,
        /// What was wrong.
        detail: String,
        /// The alert the client sent.
        alert: AlertDescription,
    },
    /// The connection failed, or the client was used out of order.
    #[error("{0}")]
    Io(String),
}

/// The client's choices; [`Config13::hello`] turns them into a ClientHello that a case may then
/// change field by field.
#[derive(Debug, Clone)]
pub struct Config13 {
    /// Suites offered, in order.
    pub suites: Vec<CipherSuite>,
    /// Groups offered in `supported_groups`; a share is sent for the first.
    pub groups: Vec<NamedGroup>,
    /// Versions offered in `supported_versions`.
    pub versions: Vec<ProtocolVersion>,
    /// `signature_algorithms`.
    pub signature_schemes: Vec<SignatureScheme>,
    /// `server_name`, if any.
    pub server_name: Option<String>,
    /// Whether the client asks for tickets: a TLS 1.2 offer carries an empty session_ticket
    /// extension (RFC 5077), a TLS 1.3 offer psk_key_exchange_modes with psk_dhe_ke (a server
    /// SHOULD NOT send tickets for modes not advertised, RFC 8446 §4.2.9).
    pub session_ticket: bool,
    /// Seed of the client's randomness (random, session ID, key share).
    pub seed: u64,
    /// How long to wait for each read.
    pub timeout: Duration,
}

impl Default for Config13 {
    fn default() -> Self {
        Self {
            suites: vec![
                CipherSuite::TLS_AES_128_GCM_SHA256,
                CipherSuite::TLS_AES_256_GCM_SHA384,
                CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
            ],
            groups: vec![NamedGroup::X25519, NamedGroup::SECP256R1],
            versions: vec![ProtocolVersion::TLS13],
            signature_schemes: vec![
                SignatureScheme::ECDSA_SECP256R1_SHA256,
                SignatureScheme::ED25519,
                SignatureScheme::RSA_PSS_RSAE_SHA256,
                SignatureScheme::RSA_PSS_RSAE_SHA384,
                SignatureScheme::RSA_PKCS1_SHA256,
            ],
            server_name: Some("localhost".into()),
            session_ticket: false,
            seed: 1,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A ClientHello and the ephemeral key it goes with.
pub struct Hello13 {
    /// The ClientHello.
    pub hello: ClientHello,
    private: Option<(NamedGroup, agreement::PrivateKey)>,
    config: Config13,
}

impl Config13 {
    /// A ClientHello for these choices, with a key share for the first group.
    pub fn hello(&self) -> Hello13 {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        let mut random = vec![0u8; 32];
        rng.fill_bytes(&mut random);
        let offers13 = self.versions.contains(&ProtocolVersion::TLS13);
        let offers12 = self.versions.contains(&ProtocolVersion::TLS12);
        let mut session_id = vec![0u8; 32];
        rng.fill_bytes(&mut session_id);
        if !offers13 {
            // A TLS 1.2 client offers no session to resume.
            session_id.clear();
        }
        let mut private = None;
        let mut shares = Vec::new();
        if let Some(group) = self.groups.first().copied().filter(|_| offers13) {
            if let Some(key) = ephemeral(group, &mut rng) {
                if let Ok(public) = key.compute_public_key() {
                    shares.push((group, public.as_ref().to_vec()));
                    private = Some((group, key));
                }
            }
        }
        let mut extensions = Vec::new();
        if let Some(name) = &self.server_name {
            extensions.push(Extension::server_name(name));
        }
        extensions.push(Extension::groups(&self.groups));
        extensions.push(Extension::signature_algorithms(&self.signature_schemes));
        if offers12 {
            // RFC 8422 §5.1.2 (uncompressed points), RFC 7627 (extended master secret),
            // RFC 5746 (secure renegotiation, empty on the first handshake).
            extensions.push(Extension {
                typ: ExtensionType::EC_POINT_FORMATS,
                data: vec![1, 0],
            });
            extensions.push(Extension {
                typ: ExtensionType::EXTENDED_MASTER_SECRET,
                data: Vec::new(),
            });
            extensions.push(Extension {
                typ: ExtensionType::RENEGOTIATION_INFO,
                data: vec![0],
            });
            if self.session_ticket {
                extensions.push(Extension {
                    typ: ExtensionType::SESSION_TICKET,
                    data: Vec::new(),
                });
            }
        }
        if offers13 && self.session_ticket {
            extensions.push(Extension {
                typ: ExtensionType::PSK_KEY_EXCHANGE_MODES,
                data: vec![1, 1],
            });
        }
        if offers13 || self.versions.iter().any(|v| v.0 > 0x0304) {
            extensions.push(Extension::client_versions(&self.versions));
            extensions.push(Extension::client_key_shares(&shares));
        }
        Hello13 {
            hello: ClientHello {
                version: ProtocolVersion::TLS12,
                random,
                session_id,
                cipher_suites: self.suites.clone(),
                compression_methods: vec![0],
                extensions,
                cipher_suites_len: None,
                extensions_len: None,
                extension_len_delta: Vec::new(),
            },
            private,
            config: self.clone(),
        }
    }
}

fn agreement_alg(group: NamedGroup) -> Option<&'static agreement::Algorithm> {
    match group {
        NamedGroup::X25519 => Some(&agreement::X25519),
        NamedGroup::SECP256R1 => Some(&agreement::ECDH_P256),
        NamedGroup::SECP384R1 => Some(&agreement::ECDH_P384),
        _ => None,
    }
}

/// A private key of `group` from the seeded generator (a fixed seed gives the same share).
fn ephemeral(group: NamedGroup, rng: &mut ChaCha20Rng) -> Option<agreement::PrivateKey> {
    let alg = agreement_alg(group)?;
    let len = if group == NamedGroup::SECP384R1 {
        48
    } else {
        32
    };
    for _ in 0..64 {
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        if let Ok(key) = agreement::PrivateKey::from_private_key(alg, &bytes) {
            return Some(key);
        }
    }
    None
}

fn webpki_alg(
    scheme: SignatureScheme,
) -> Option<&'static dyn rustls_pki_types::SignatureVerificationAlgorithm> {
    use webpki::aws_lc_rs as algs;
    Some(match scheme {
        SignatureScheme::ECDSA_SECP256R1_SHA256 => algs::ECDSA_P256_SHA256,
        SignatureScheme::ECDSA_SECP384R1_SHA384 => algs::ECDSA_P384_SHA384,
        SignatureScheme::ED25519 => algs::ED25519,
        SignatureScheme::RSA_PSS_RSAE_SHA256 => algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        SignatureScheme::RSA_PSS_RSAE_SHA384 => algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        // TLS 1.2 only (RFC 8446 §4.2.3 keeps PKCS#1 v1.5 out of TLS 1.3 handshakes).
        SignatureScheme::RSA_PKCS1_SHA256 => algs::RSA_PKCS1_2048_8192_SHA256,
        SignatureScheme::RSA_PKCS1_SHA384 => algs::RSA_PKCS1_2048_8192_SHA384,
        _ => return None,
    })
}

fn violation(rule: &'static str, detail: impl Into<String>, alert: AlertDescription) -> Failure {
    Failure::Violation {
        rule,
        detail: detail.into(),
        alert,
    }
}

fn decode_failure(rule: &'static str, e: DecodeError) -> Failure {
    violation(rule, e.to_string(), AlertDescription::DECODE_ERROR)
}

/// What the handshake settled.
#[derive(Debug, Clone)]
pub struct Established {
    /// The protocol version.
    pub version: ProtocolVersion,
    /// The suite the server chose.
    pub suite: CipherSuite,
    /// The group of the key exchange.
    pub group: NamedGroup,
    /// The server's certificate chain, leaf first (DER).
    pub certificates: Vec<Vec<u8>>,
    /// The CertificateVerify scheme.
    pub signature_scheme: SignatureScheme,
    /// Whether the handshake resumed a session (TLS 1.2's abbreviated handshake).
    pub resumed: bool,
}

/// Where the handshake stands.
enum State {
    /// The ClientHello is built but not sent.
    Start,
    /// Sent; waiting for ServerHello.
    WaitServerHello,
    /// ServerHello processed; the server's protected flight, `next` of
    /// EncryptedExtensions, Certificate, CertificateVerify, Finished.
    WaitFlight {
        suite: Suite13,
        group: NamedGroup,
        secrets: Secrets13,
        next: usize,
        certificates: Vec<Vec<u8>>,
        scheme: Option<SignatureScheme>,
        /// Whether the ServerHello selected the offered PSK: no Certificate, no
        /// CertificateVerify.
        resumed: bool,
    },
    /// TLS 1.2: the server's first flight in clear (RFC 5246 §7.3).
    Flight12(Box<tls12::Flight12>),
    /// TLS 1.2: the client's Finished is out; the server's change_cipher_spec, then its
    /// Finished (`ccs` once the change_cipher_spec has come).
    WaitFinished12(Box<tls12::Finish12>),
    /// Both Finished exchanged.
    Established(Established),
    /// Stopped before its own next flight, as the case asked ([`ClientPeer::hold`]): the keys
    /// stand as they would for that flight; every server message but an alert is unexpected.
    Held(Hold),
    /// An alert ended it, either way, or close_notify.
    Ended,
}

const FLIGHT: [HandshakeType; 4] = [
    HandshakeType::ENCRYPTED_EXTENSIONS,
    HandshakeType::CERTIFICATE,
    HandshakeType::CERTIFICATE_VERIFY,
    HandshakeType::FINISHED,
];

/// The harness's TLS client (1.3, or 1.2 when offered and chosen) for one connection.
pub struct ClientPeer {
    /// The ClientHello to send: change any field before [`ClientPeer::send_hello`].
    pub hello: ClientHello,
    config: Config13,
    private: Option<(NamedGroup, agreement::PrivateKey)>,
    state: State,
    transcript: Option<Transcript>,
    hello_bytes: Vec<u8>,
    tx: Option<RecordKey>,
    rx: Option<RecordKey>,
    /// The client's randomness after the ClientHello (TLS 1.2's ephemeral key).
    rng: ChaCha20Rng,
    clear: Vec<u8>,
    protected: Vec<u8>,
    output: Vec<u8>,
    messages: VecDeque<String>,
    app_data: Vec<u8>,
    key_log: Vec<String>,
    alert_received: Option<Alert>,
    alert_sent: Option<Alert>,
    failure: Option<Failure>,
    retry_requested: bool,
    opened: Vec<String>,
    held_version: ProtocolVersion,
    /// The TLS 1.2 session offered for resumption, if any.
    resume: Option<Saved12>,
    /// The TLS 1.2 session this connection's full handshake made, once complete.
    saved: Option<Saved12>,
    /// The TLS 1.3 ticket offered, and how it is spoiled.
    resume13: Option<(Saved13, Option<Spoil13>)>,
    /// The last TLS 1.3 ticket this connection got.
    saved13: Option<Saved13>,
    /// The suite and resumption_master_secret of the TLS 1.3 handshake, once complete.
    resumption_master: Option<(CipherSuite, Vec<u8>)>,
    /// How the client's Finished is to be spoiled, for cases that check the server notices.
    pub spoil_finished: Option<SpoilFinished>,
    /// Where the client stops its own flight, for cases that send another message in its place.
    pub hold: Option<Hold>,
    /// TLS 1.2 RSA key exchange: how the encrypted premaster is made wrong, if it is.
    pub bad_premaster: Option<BadPremaster>,
}

/// A point in the client's own flight where it stops, so that a case can put an unexpected
/// message where the server waits for the next one (RFC 8446 §4, RFC 5246 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// TLS 1.2: before the ClientKeyExchange (the server waits for it).
    ClientKeyExchange,
    /// TLS 1.2: after the ClientKeyExchange, before the change_cipher_spec.
    ChangeCipherSpec,
    /// Before the client's Finished, with the keys it would be sealed under in place
    /// (TLS 1.3: the client's handshake key; TLS 1.2: after the change_cipher_spec).
    Finished,
}

impl Hold {
    /// The hold point by the name of the message it stops before.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "CLIENT_KEY_EXCHANGE" => Some(Self::ClientKeyExchange),
            "CHANGE_CIPHER_SPEC" => Some(Self::ChangeCipherSpec),
            "FINISHED" => Some(Self::Finished),
            _ => None,
        }
    }
}

/// A deliberately wrong client Finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoilFinished {
    /// verify_data with its first byte flipped: the record opens, the MAC is wrong
    /// (RFC 8446 §4.4.4: decrypt_error).
    VerifyData,
    /// One byte of the protected record's fragment flipped: at this offset, or counted from
    /// the end when negative (`-1`: the AEAD tag's last byte); RFC 8446 §5.2, RFC 5246
    /// §6.2.3.3: bad_record_mac.
    Flip(i64),
}

impl ClientPeer {
    /// A client with `config`'s ClientHello, not sent yet.
    pub fn new(config: &Config13) -> Self {
        let seed = config.seed;
        let Hello13 {
            hello,
            private,
            config,
        } = config.hello();
        Self {
            hello,
            config,
            private,
            state: State::Start,
            transcript: None,
            hello_bytes: Vec::new(),
            tx: None,
            rx: None,
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x1_2000_0000),
            clear: Vec::new(),
            protected: Vec::new(),
            output: Vec::new(),
            messages: VecDeque::new(),
            app_data: Vec::new(),
            key_log: Vec::new(),
            alert_received: None,
            alert_sent: None,
            failure: None,
            retry_requested: false,
            opened: Vec::new(),
            held_version: ProtocolVersion::TLS13,
            resume: None,
            saved: None,
            resume13: None,
            saved13: None,
            resumption_master: None,
            spoil_finished: None,
            hold: None,
            bad_premaster: None,
        }
    }

    /// The ClientHello as a handshake message (header included), as [`ClientPeer::send_hello`]
    /// would send it now.
    pub fn hello_message(&self) -> Vec<u8> {
        handshake_message(HandshakeType::CLIENT_HELLO, &self.hello.encode_body(), None)
    }

    /// Queues `message` as the ClientHello in one handshake record (RFC 8446 §5.1: record
    /// version 0x0301 for the first ClientHello); the transcript starts with it as sent.
    pub fn send_hello_message(&mut self, mut message: Vec<u8>) {
        self.bind(&mut message);
        let record = Record {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS10,
            fragment: message.clone(),
        };
        self.output.extend_from_slice(&record.encode(None));
        self.hello_bytes = message;
        self.state = State::WaitServerHello;
    }

    /// Queues the ClientHello as it stands.
    pub fn send_hello(&mut self) {
        let m = self.hello_message();
        self.send_hello_message(m);
    }

    /// Whether the ClientHello has gone out.
    pub fn hello_sent(&self) -> bool {
        !matches!(self.state, State::Start)
    }

    /// Bytes to write to the server.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The next server message received and not yet taken, by name (`ServerHello`,
    /// `ENCRYPTED_EXTENSIONS`, ...).
    pub fn next_message(&mut self) -> Option<String> {
        self.messages.pop_front()
    }

    /// Application data received and not yet taken.
    pub fn take_application_data(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.app_data)
    }

    /// What the handshake settled, once complete.
    pub fn established(&self) -> Option<&Established> {
        match &self.state {
            State::Established(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the client's Finished has gone out (TLS 1.3: the handshake is complete on the
    /// client's side; TLS 1.2: the server's change_cipher_spec and Finished are still to come).
    pub fn finished_sent(&self) -> bool {
        matches!(self.state, State::Established(_) | State::WaitFinished12(_))
    }

    /// Whether the handshake is complete and the connection open.
    pub fn is_established(&self) -> bool {
        self.established().is_some()
    }

    /// Whether the client's records are protected now (a write key is in place).
    pub fn sealing(&self) -> bool {
        self.tx.is_some()
    }

    /// Whether the client has stopped at its [`ClientPeer::hold`] point.
    pub fn is_held(&self) -> bool {
        matches!(self.state, State::Held(_))
    }

    /// The negotiated version, once the ServerHello has chosen it.
    pub fn version(&self) -> Option<ProtocolVersion> {
        match &self.state {
            State::Start | State::WaitServerHello | State::Ended => None,
            State::WaitFlight { .. } => Some(ProtocolVersion::TLS13),
            State::Flight12(_) | State::WaitFinished12(_) => Some(ProtocolVersion::TLS12),
            State::Established(e) => Some(e.version),
            State::Held(_) => Some(self.held_version),
        }
    }

    /// Queues a handshake message of `typ` with `body` under the client's current write key
    /// (in clear before there is one), outside the state machine: the case's injected message.
    pub fn send_handshake(&mut self, typ: HandshakeType, body: &[u8]) -> Result<(), Failure> {
        let message = handshake_message(typ, body, None);
        self.seal(ContentType::HANDSHAKE, &message)
    }

    /// The alert the server sent, if any.
    pub fn alert_received(&self) -> Option<Alert> {
        self.alert_received
    }

    /// The alert this client sent, if any.
    pub fn alert_sent(&self) -> Option<Alert> {
        self.alert_sent
    }

    /// What the protected records read since the last call held, one line each
    /// (`HANDSHAKE: NEW_SESSION_TICKET`, `ALERT: fatal DECRYPT_ERROR`, `APPLICATION_DATA: 11
    /// bytes`), for transcripts.
    pub fn take_opened(&mut self) -> Vec<String> {
        std::mem::take(&mut self.opened)
    }

    /// Whether the server answered with a HelloRetryRequest (RFC 8446 §4.1.4).
    pub fn retry_requested(&self) -> bool {
        self.retry_requested
    }

    /// Why the client stopped, if it did.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The NSS key log lines so far.
    pub fn key_log_lines(&self) -> &[String] {
        &self.key_log
    }

    /// The name of the state, for messages.
    pub fn state_name(&self) -> &'static str {
        match &self.state {
            State::Start => "START",
            State::WaitServerHello => "WAIT_SH",
            State::WaitFlight { next, .. } => match next {
                0 => "WAIT_EE",
                1 => "WAIT_CERT",
                2 => "WAIT_CV",
                _ => "WAIT_FINISHED",
            },
            State::Flight12(f) => f.state_name(),
            State::WaitFinished12(f) => {
                if f.ccs {
                    "WAIT_FINISHED"
                } else {
                    "WAIT_CHANGE_CIPHER_SPEC"
                }
            }
            State::Established(_) => "CONNECTED",
            State::Held(Hold::ClientKeyExchange) => "HELD_BEFORE_CLIENT_KEY_EXCHANGE",
            State::Held(Hold::ChangeCipherSpec) => "HELD_BEFORE_CHANGE_CIPHER_SPEC",
            State::Held(Hold::Finished) => "HELD_BEFORE_FINISHED",
            State::Ended => "CLOSED",
        }
    }

    /// Queues application data (RFC 8446 §5.2), in records of at most 2^14 bytes.
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), Failure> {
        if !self.is_established() {
            return Err(Failure::Io(
                "application data before the handshake completed".into(),
            ));
        }
        for chunk in data.chunks(MAX_FRAGMENT) {
            self.seal(ContentType::APPLICATION_DATA, chunk)?;
        }
        Ok(())
    }

    /// Queues an alert, protected once keys are in place, in clear before.
    pub fn send_alert(&mut self, alert: Alert) -> Result<(), Failure> {
        self.seal(ContentType::ALERT, &alert.encode())?;
        self.alert_sent = Some(alert);
        Ok(())
    }

    /// Queues close_notify (RFC 8446 §6.1).
    pub fn close(&mut self) -> Result<(), Failure> {
        self.send_alert(Alert {
            level: 1,
            description: AlertDescription::CLOSE_NOTIFY,
        })
    }

    /// Flips one byte of the fragment of the record queued last that starts at `start` of
    /// the output (`at` from the fragment's start, or from its end when negative).
    pub fn flip_in_record(&mut self, start: usize, at: i64) {
        let fragment = self.output.len().saturating_sub(start + 5);
        let offset = if at < 0 {
            usize::try_from(i64::try_from(fragment).unwrap_or_default() + at).ok()
        } else {
            usize::try_from(at).ok().filter(|a| *a < fragment)
        };
        if let Some(b) = offset.and_then(|o| self.output.get_mut(start + 5 + o)) {
            *b ^= 0x01;
        }
    }

    /// Queues application data in one record, then flips one of its bytes
    /// ([`ClientPeer::flip_in_record`]): a record that must not authenticate.
    pub fn send_flipped_application_data(&mut self, data: &[u8], at: i64) -> Result<(), Failure> {
        if !self.is_established() {
            return Err(Failure::Io(
                "application data before the handshake completed".into(),
            ));
        }
        let start = self.output.len();
        self.seal(ContentType::APPLICATION_DATA, data)?;
        self.flip_in_record(start, at);
        Ok(())
    }

    fn seal(&mut self, typ: ContentType, content: &[u8]) -> Result<(), Failure> {
        let record = match self.tx.as_mut() {
            Some(key) => key
                .seal(typ, content)
                .ok_or(Failure::Io("sequence number exhausted".into()))?,
            None => Record {
                content_type: typ,
                version: ProtocolVersion::TLS12,
                fragment: content.to_vec(),
            },
        };
        self.output.extend_from_slice(&record.encode(None));
        Ok(())
    }

    /// Hands the client one whole record from the server. On a violation the client queues
    /// its alert and ends.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        match self.process(bytes) {
            Ok(()) => Ok(()),
            Err(f) => {
                if let Failure::Violation { alert, .. } = &f {
                    let _ = self.send_alert(Alert::fatal(*alert));
                }
                self.state = State::Ended;
                self.failure = Some(f.clone());
                Err(f)
            }
        }
    }

    fn process(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let record = Record::decode(bytes).map_err(|e| decode_failure("RFC8446-5.1", e))?;
        if record.fragment.len() > MAX_FRAGMENT + 256 {
            return Err(violation(
                "RFC8446-5.2",
                format!("a record of {} bytes", record.fragment.len()),
                AlertDescription::RECORD_OVERFLOW,
            ));
        }
        if record.content_type == ContentType::CHANGE_CIPHER_SPEC {
            return self.change_cipher_spec(&record.fragment);
        }
        let (typ, content) = match (&mut self.rx, record.content_type) {
            (Some(rx), outer) if rx.protects(outer) => rx.open(&record).ok_or_else(|| {
                violation(
                    "RFC8446-5.2",
                    "a record that does not authenticate",
                    AlertDescription::BAD_RECORD_MAC,
                )
            })?,
            (Some(_), other) if other != ContentType::ALERT => {
                return Err(violation(
                    "RFC8446-5",
                    format!("a {other} record in clear once records are protected"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ))
            }
            (_, other) => (other, record.fragment),
        };
        if self
            .rx
            .as_ref()
            .is_some_and(|rx| rx.protects(record.content_type))
        {
            self.opened.push(describe_inner(typ, &content));
        }
        match typ {
            ContentType::ALERT => {
                let alert = Alert::decode(&content).map_err(|e| decode_failure("RFC8446-6", e))?;
                self.alert_received = Some(alert);
                self.state = State::Ended;
                Err(Failure::AlertReceived(alert))
            }
            ContentType::HANDSHAKE => self.handshake_data(&content),
            ContentType::APPLICATION_DATA if self.is_established() => {
                self.app_data.extend_from_slice(&content);
                Ok(())
            }
            other => Err(violation(
                "RFC8446-5",
                format!("{other} in state {}", self.state_name()),
                AlertDescription::UNEXPECTED_MESSAGE,
            )),
        }
    }

    fn handshake_data(&mut self, content: &[u8]) -> Result<(), Failure> {
        let protected = self.rx.is_some();
        let buf = if protected {
            &mut self.protected
        } else {
            &mut self.clear
        };
        buf.extend_from_slice(content);
        let messages = take_handshake_messages(buf);
        let rest = !buf.is_empty();
        let count = messages.len();
        for (i, (typ, whole)) in messages.into_iter().enumerate() {
            self.handshake_message(typ, &whole)?;
            let more = rest || i + 1 < count;
            if !protected && self.rx.is_some() && more {
                // RFC 8446 §5.1: a key change must fall on a record boundary.
                return Err(violation(
                    "RFC8446-5.1",
                    "handshake data after ServerHello in the same record",
                    AlertDescription::UNEXPECTED_MESSAGE,
                ));
            }
        }
        Ok(())
    }

    fn handshake_message(&mut self, typ: HandshakeType, whole: &[u8]) -> Result<(), Failure> {
        let body = whole.get(4..).unwrap_or_default();
        match std::mem::replace(&mut self.state, State::Ended) {
            State::WaitServerHello if typ == HandshakeType::SERVER_HELLO => {
                self.messages.push_back(typ.to_string());
                self.on_server_hello(whole, body)
            }
            State::WaitFlight {
                suite,
                group,
                secrets,
                next,
                mut certificates,
                mut scheme,
                resumed,
            } if FLIGHT.get(next) == Some(&typ) => {
                self.messages.push_back(typ.to_string());
                let transcript = self
                    .transcript
                    .as_mut()
                    .ok_or(Failure::Io("no transcript".into()))?;
                match typ {
                    HandshakeType::CERTIFICATE => {
                        certificates = decode_certificate13(body)
                            .map_err(|e| decode_failure("RFC8446-4.4.2", e))?;
                        if certificates.is_empty() {
                            return Err(violation(
                                "RFC8446-4.4.2.4",
                                "an empty certificate list",
                                AlertDescription::DECODE_ERROR,
                            ));
                        }
                    }
                    HandshakeType::CERTIFICATE_VERIFY => {
                        let (s, signature) = decode_certificate_verify(body)
                            .map_err(|e| decode_failure("RFC8446-4.4.3", e))?;
                        verify_certificate_verify(
                            &certificates,
                            s,
                            &signature,
                            &transcript.current(),
                            &self.config,
                        )?;
                        scheme = Some(s);
                    }
                    HandshakeType::FINISHED => {
                        let want = suite.finished(&secrets.server_handshake, &transcript.current());
                        if body != want.as_slice() {
                            return Err(violation(
                                "RFC8446-4.4.4",
                                "the server's Finished does not verify",
                                AlertDescription::DECRYPT_ERROR,
                            ));
                        }
                    }
                    _ => {}
                }
                transcript.add(whole);
                if typ != HandshakeType::FINISHED {
                    // RFC 8446 §2.2: a PSK handshake has no Certificate or CertificateVerify.
                    let skip = if resumed && next == 0 { 3 } else { 1 };
                    self.state = State::WaitFlight {
                        suite,
                        group,
                        secrets,
                        next: next + skip,
                        certificates,
                        scheme,
                        resumed,
                    };
                    return Ok(());
                }
                self.finish(suite, group, &secrets, certificates, scheme, resumed)
            }
            State::Flight12(flight) => {
                self.messages.push_back(typ.to_string());
                self.on_flight12(*flight, typ, whole)
            }
            State::WaitFinished12(finish) if finish.ccs && typ == HandshakeType::FINISHED => {
                self.messages.push_back(typ.to_string());
                self.on_finished12(*finish, whole)
            }
            // RFC 5077 §3.3: the ticket comes before the server's change_cipher_spec, when the
            // ServerHello acknowledged the extension.
            State::WaitFinished12(finish)
                if !finish.ccs
                    && finish.ticket_expected
                    && typ == HandshakeType::NEW_SESSION_TICKET =>
            {
                self.messages.push_back(typ.to_string());
                self.on_ticket12(*finish, whole)
            }
            // RFC 8446 §4.6.1: tickets after the handshake; kept by name only.
            State::Established(e) if typ == HandshakeType::NEW_SESSION_TICKET => {
                self.messages.push_back(typ.to_string());
                let tls13 = e.version == ProtocolVersion::TLS13;
                self.state = State::Established(e);
                if tls13 {
                    self.on_ticket13(body)?;
                }
                Ok(())
            }
            // RFC 8446 §4.6.1: a server that asked for no client certificate MAY send its
            // tickets right after its own Finished, before the client's.
            State::Held(Hold::Finished)
                if typ == HandshakeType::NEW_SESSION_TICKET
                    && self.held_version == ProtocolVersion::TLS13 =>
            {
                self.messages.push_back(typ.to_string());
                self.state = State::Held(Hold::Finished);
                Ok(())
            }
            state => {
                self.state = state;
                let name = self.state_name();
                Err(violation(
                    "RFC8446-4",
                    format!("{typ} in state {name}"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ))
            }
        }
    }

    fn on_server_hello(&mut self, whole: &[u8], body: &[u8]) -> Result<(), Failure> {
        let sh = ServerHello::decode(body).map_err(|e| decode_failure("RFC8446-4.1.3", e))?;
        if sh.is_retry_request() {
            self.retry_requested = true;
            return Err(violation(
                "RFC8446-4.1.4",
                "a HelloRetryRequest, which this client does not answer yet",
                AlertDescription::HANDSHAKE_FAILURE,
            ));
        }
        match sh
            .selected_version()
            .map_err(|e| decode_failure("RFC8446-4.2.1", e))?
        {
            Some(ProtocolVersion::TLS13)
                if self.config.versions.contains(&ProtocolVersion::TLS13) => {}
            None if sh.version == ProtocolVersion::TLS12
                && self.config.versions.contains(&ProtocolVersion::TLS12) =>
            {
                return self.on_server_hello12(sh, whole);
            }
            other => {
                return Err(violation(
                    "RFC8446-4.2.1",
                    format!(
                        "the server selected {} (legacy_version {}), which was not offered",
                        other.map_or("no version".into(), |v| v.to_string()),
                        sh.version
                    ),
                    AlertDescription::PROTOCOL_VERSION,
                ))
            }
        }
        if sh.session_id != self.hello.session_id {
            return Err(violation(
                "RFC8446-4.1.3",
                "legacy_session_id_echo differs from the ClientHello's session ID",
                AlertDescription::ILLEGAL_PARAMETER,
            ));
        }
        if !self.hello.cipher_suites.contains(&sh.cipher_suite) {
            return Err(violation(
                "RFC8446-4.1.3",
                format!(
                    "the server chose {}, which was not offered",
                    sh.cipher_suite
                ),
                AlertDescription::ILLEGAL_PARAMETER,
            ));
        }
        let suite = Suite13::new(sh.cipher_suite).ok_or_else(|| {
            violation(
                "RFC8446-4.1.3",
                format!("{} is not a TLS 1.3 suite", sh.cipher_suite),
                AlertDescription::ILLEGAL_PARAMETER,
            )
        })?;
        let (group, share) = sh
            .key_share()
            .map_err(|e| decode_failure("RFC8446-4.2.8", e))?
            .ok_or_else(|| {
                violation(
                    "RFC8446-4.2.8",
                    "no key_share in ServerHello",
                    AlertDescription::MISSING_EXTENSION,
                )
            })?;
        let (our_group, key) = self.private.take().ok_or_else(|| {
            violation(
                "RFC8446-4.2.8",
                "the client sent no key share",
                AlertDescription::ILLEGAL_PARAMETER,
            )
        })?;
        if group != our_group {
            return Err(violation(
                "RFC8446-4.2.8",
                format!("the server's share is for {group}, the client's for {our_group}"),
                AlertDescription::ILLEGAL_PARAMETER,
            ));
        }
        let alg = agreement_alg(group).ok_or_else(|| {
            violation(
                "RFC8446-4.2.8",
                format!("group {group}"),
                AlertDescription::ILLEGAL_PARAMETER,
            )
        })?;
        let shared = agreement::agree(
            &key,
            agreement::UnparsedPublicKey::new(alg, &share),
            (),
            |m| Ok(m.to_vec()),
        )
        .map_err(|()| {
            violation(
                "RFC8446-4.2.8.2",
                "the server's key share is not a valid point",
                AlertDescription::ILLEGAL_PARAMETER,
            )
        })?;
        let mut transcript = suite.transcript();
        transcript.add(&self.hello_bytes);
        transcript.add(whole);
        let psk = self.selected_psk(&sh)?;
        let resumed = psk.is_some();
        let secrets = Secrets13::with_psk(&suite, psk.as_deref(), &shared, &transcript.current());
        let random = hex::encode(&self.hello.random);
        self.key_log.push(format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}",
            hex::encode(&secrets.client_handshake)
        ));
        self.key_log.push(format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {}",
            hex::encode(&secrets.server_handshake)
        ));
        self.rx = Some(RecordKey::V13(
            suite
                .record_key(&secrets.server_handshake)
                .ok_or_else(no_key)?,
        ));
        self.tx = Some(RecordKey::V13(
            suite
                .record_key(&secrets.client_handshake)
                .ok_or_else(no_key)?,
        ));
        self.transcript = Some(transcript);
        self.state = State::WaitFlight {
            suite,
            group,
            secrets,
            next: 0,
            certificates: Vec::new(),
            scheme: None,
            resumed,
        };
        Ok(())
    }

    /// After the server's Finished: the application secrets, the client's Finished under the
    /// handshake key, then the application keys.
    fn finish(
        &mut self,
        suite: Suite13,
        group: NamedGroup,
        secrets: &Secrets13,
        certificates: Vec<Vec<u8>>,
        scheme: Option<SignatureScheme>,
        resumed: bool,
    ) -> Result<(), Failure> {
        if !self.protected.is_empty() {
            return Err(violation(
                "RFC8446-5.1",
                "handshake data after the server's Finished in the same record",
                AlertDescription::UNEXPECTED_MESSAGE,
            ));
        }
        let hash = self
            .transcript
            .as_ref()
            .ok_or(Failure::Io("no transcript".into()))?
            .current();
        let (client_app, server_app) = secrets.application(&suite, &hash);
        let random = hex::encode(&self.hello.random);
        self.key_log.push(format!(
            "CLIENT_TRAFFIC_SECRET_0 {random} {}",
            hex::encode(&client_app)
        ));
        self.key_log.push(format!(
            "SERVER_TRAFFIC_SECRET_0 {random} {}",
            hex::encode(&server_app)
        ));
        if self.hold.is_some() {
            // The server has switched to its application key; the client's stays the
            // handshake key its Finished would be sealed under.
            self.rx = Some(RecordKey::V13(
                suite.record_key(&server_app).ok_or_else(no_key)?,
            ));
            self.held_version = ProtocolVersion::TLS13;
            self.state = State::Held(Hold::Finished);
            return Ok(());
        }
        let verify = suite.finished(&secrets.client_handshake, &hash);
        let finished = self.send_finished(verify)?;
        if let Some(t) = self.transcript.as_mut() {
            t.add(&finished);
            let through_finished = t.current();
            self.resumption_master = Some((
                suite.suite,
                secrets.resumption_master(&suite, &through_finished),
            ));
        }
        self.tx = Some(RecordKey::V13(
            suite.record_key(&client_app).ok_or_else(no_key)?,
        ));
        self.rx = Some(RecordKey::V13(
            suite.record_key(&server_app).ok_or_else(no_key)?,
        ));
        self.state = State::Established(Established {
            version: ProtocolVersion::TLS13,
            suite: suite.suite,
            group,
            certificates,
            signature_scheme: scheme.unwrap_or(SignatureScheme(0)),
            resumed,
        });
        Ok(())
    }
}

/// One line for a protected record's plaintext.
fn describe_inner(typ: ContentType, content: &[u8]) -> String {
    match typ {
        ContentType::HANDSHAKE => {
            let mut names = Vec::new();
            let mut rest = content;
            while let [t, a, b, c, tail @ ..] = rest {
                names.push(HandshakeType(*t).to_string());
                let len = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
                rest = tail.get(len..).unwrap_or_default();
            }
            format!("HANDSHAKE: {}", names.join(" "))
        }
        ContentType::ALERT => match Alert::decode(content) {
            Ok(a) => format!("ALERT: {a}"),
            Err(_) => format!("ALERT: {} bytes", content.len()),
        },
        other => format!("{other}: {} bytes", content.len()),
    }
}

fn no_key() -> Failure {
    violation(
        "RFC8446-7.3",
        "no record key",
        AlertDescription::INTERNAL_ERROR,
    )
}

/// RFC 8446 §4.4.3: the signature over 64 spaces, the context string, a zero byte and the
/// transcript hash through Certificate, with the leaf certificate's key and an offered scheme.
fn verify_certificate_verify(
    certificates: &[Vec<u8>],
    scheme: SignatureScheme,
    signature: &[u8],
    hash: &[u8],
    config: &Config13,
) -> Result<(), Failure> {
    if !config.signature_schemes.contains(&scheme) {
        return Err(violation(
            "RFC8446-4.4.3",
            format!("the server signed with {scheme}, which was not offered"),
            AlertDescription::ILLEGAL_PARAMETER,
        ));
    }
    let alg = webpki_alg(scheme).ok_or_else(|| {
        violation(
            "RFC8446-4.4.3",
            format!("{scheme} cannot be checked"),
            AlertDescription::ILLEGAL_PARAMETER,
        )
    })?;
    let leaf = certificates.first().ok_or_else(|| {
        violation(
            "RFC8446-4.4.2",
            "CertificateVerify without a certificate",
            AlertDescription::UNEXPECTED_MESSAGE,
        )
    })?;
    let der = CertificateDer::from(leaf.as_slice());
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|e| {
        violation(
            "RFC8446-4.4.2",
            format!("the leaf certificate does not parse: {e}"),
            AlertDescription::BAD_CERTIFICATE,
        )
    })?;
    let mut message = vec![0x20u8; 64];
    message.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
    message.extend_from_slice(hash);
    cert.verify_signature(alg, &message, signature)
        .map_err(|e| {
            violation(
                "RFC8446-4.4.3",
                format!("the server's CertificateVerify does not verify: {e}"),
                AlertDescription::DECRYPT_ERROR,
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    /// The same seed gives the same ClientHello, byte for byte (deterministic transcripts).
    #[test]
    fn a_fixed_seed_gives_the_same_client_hello() {
        let a = ClientPeer::new(&Config13::default()).hello_message();
        let b = ClientPeer::new(&Config13::default()).hello_message();
        let c = ClientPeer::new(&Config13 {
            seed: 2,
            ..Config13::default()
        })
        .hello_message();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// A ServerHello that breaks a rule is answered with the RFC's alert, queued in clear.
    #[test]
    fn a_server_hello_for_a_suite_not_offered_is_illegal_parameter() {
        let mut peer = ClientPeer::new(&Config13 {
            suites: vec![CipherSuite::TLS_AES_128_GCM_SHA256],
            ..Config13::default()
        });
        peer.send_hello();
        let _ = peer.take_output();
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(32);
        body.extend(&peer.hello.session_id);
        body.extend([0x13, 0x02, 0]);
        body.extend([0, 6, 0, 43, 0, 2, 3, 4]);
        let record = Record {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS12,
            fragment: handshake_message(HandshakeType::SERVER_HELLO, &body, None),
        };
        let err = peer.receive(&record.encode(None)).unwrap_err();
        assert!(
            matches!(
                err,
                Failure::Violation {
                    alert: AlertDescription::ILLEGAL_PARAMETER,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(peer.take_output(), [21, 3, 3, 0, 2, 2, 47]);
        assert!(
            peer.receive(&record.encode(None)).is_err(),
            "it stays failed"
        );
    }
}
