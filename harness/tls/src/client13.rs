//! The harness's TLS 1.3 client (RFC 8446 §4): a full handshake with (EC)DHE over a real TCP
//! connection, the ClientHello open to any change before it is sent, each server message checked
//! as the RFC says, and the session's secrets written in NSS key log format.

use crate::codec::DecodeError;
use crate::keys::{RecordKey13, Secrets13, Suite13};
use crate::msgs::{
    decode_certificate13, decode_certificate_verify, handshake_message, take_handshake_messages,
    Alert, AlertDescription, CipherSuite, ClientHello, ContentType, Extension, HandshakeType,
    NamedGroup, ProtocolVersion, Record, ServerHello, SignatureScheme,
};
use aws_lc_rs::agreement;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rustls_pki_types::CertificateDer;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a handshake did not complete. Each names the RFC section whose rule decided it.
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
    /// The connection failed.
    #[error("i/o: {0}")]
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
            ],
            server_name: Some("localhost".into()),
            seed: 1,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A completed handshake.
#[derive(Debug, Clone)]
pub struct Established {
    /// The suite the server chose.
    pub suite: CipherSuite,
    /// The group of the key exchange.
    pub group: NamedGroup,
    /// The server's certificate chain, leaf first (DER).
    pub certificates: Vec<Vec<u8>>,
    /// The CertificateVerify scheme.
    pub signature_scheme: SignatureScheme,
    /// The NSS key log lines of the session.
    pub key_log: Vec<String>,
    /// The messages received, in order, by name (for transcripts).
    pub messages: Vec<String>,
}

/// A client connection after its handshake: application data both ways, close_notify.
pub struct Connection13 {
    stream: TcpStream,
    tx: RecordKey13,
    rx: RecordKey13,
    pending: Vec<u8>,
    timeout: Duration,
    /// What the handshake settled.
    pub established: Established,
}

/// The client's ephemeral key and the ClientHello it goes with.
pub struct Hello13 {
    /// The ClientHello to send: change any field before [`Hello13::run`].
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
        let mut session_id = vec![0u8; 32];
        rng.fill_bytes(&mut session_id);
        let mut private = None;
        let mut shares = Vec::new();
        if let Some(group) = self.groups.first().copied() {
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
        extensions.push(Extension::client_versions(&self.versions));
        extensions.push(Extension::client_key_shares(&shares));
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
        _ => return None,
    })
}

/// Reads whole records from a stream.
struct RecordReader {
    buf: Vec<u8>,
}

impl RecordReader {
    fn next(
        &mut self,
        stream: &mut TcpStream,
        timeout: Duration,
        waiting_for: &'static str,
    ) -> Result<Record, Failure> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(len) = Record::frame_len(&self.buf) {
                if self.buf.len() >= len {
                    let bytes: Vec<u8> = self.buf.drain(..len).collect();
                    return Record::decode(&bytes).map_err(|e| Failure::Violation {
                        rule: "RFC8446-5.1",
                        detail: e.to_string(),
                        alert: AlertDescription::DECODE_ERROR,
                    });
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Timeout(timeout.as_millis(), waiting_for));
            }
            stream
                .set_read_timeout(Some(left))
                .map_err(|e| Failure::Io(e.to_string()))?;
            let mut chunk = [0u8; 16 * 1024];
            match stream.read(&mut chunk) {
                Ok(0) => return Err(Failure::Closed(waiting_for)),
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(Failure::Timeout(timeout.as_millis(), waiting_for));
                }
                Err(e) => return Err(Failure::Io(e.to_string())),
            }
        }
    }
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

impl Hello13 {
    /// Sends the ClientHello on `stream` and runs the handshake to its end. On a violation the
    /// client sends its alert (in clear before the handshake keys, protected after) and returns
    /// the failure.
    pub fn run(self, mut stream: TcpStream) -> Result<Connection13, Failure> {
        let _ = stream.set_nodelay(true);
        let config = self.config;
        let hello_bytes =
            handshake_message(HandshakeType::CLIENT_HELLO, &self.hello.encode_body(), None);
        let record = Record {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS10,
            fragment: hello_bytes.clone(),
        };
        stream
            .write_all(&record.encode(None))
            .map_err(|e| Failure::Io(e.to_string()))?;
        let mut reader = RecordReader { buf: Vec::new() };
        let mut tx: Option<RecordKey13> = None;
        let result = handshake(
            &mut stream,
            &mut reader,
            &mut tx,
            &self.hello,
            &hello_bytes,
            self.private,
            &config,
        );
        match result {
            Ok((established, tx, rx)) => Ok(Connection13 {
                stream,
                tx,
                rx,
                pending: reader.buf,
                timeout: config.timeout,
                established,
            }),
            Err(failure) => {
                if let Failure::Violation { alert, .. } = &failure {
                    let alert = Alert::fatal(*alert).encode();
                    let rec = match tx.as_mut() {
                        Some(key) => key.seal(ContentType::ALERT, &alert, 0),
                        None => Some(Record {
                            content_type: ContentType::ALERT,
                            version: ProtocolVersion::TLS12,
                            fragment: alert.to_vec(),
                        }),
                    };
                    if let Some(rec) = rec {
                        let _ = stream.write_all(&rec.encode(None));
                    }
                }
                let _ = stream.shutdown(std::net::Shutdown::Both);
                Err(failure)
            }
        }
    }
}

type Handshake13 = (Established, RecordKey13, RecordKey13);

fn handshake(
    stream: &mut TcpStream,
    reader: &mut RecordReader,
    tx: &mut Option<RecordKey13>,
    hello: &ClientHello,
    hello_bytes: &[u8],
    private: Option<(NamedGroup, agreement::PrivateKey)>,
    config: &Config13,
) -> Result<Handshake13, Failure> {
    let timeout = config.timeout;
    let mut messages = Vec::new();
    // ServerHello, in clear (RFC 8446 §5.1: handshake messages may be fragmented).
    let mut clear = Vec::new();
    let (sh_type, sh_bytes) = loop {
        let rec = reader.next(stream, timeout, "for ServerHello")?;
        match rec.content_type {
            ContentType::ALERT => {
                return Err(Failure::AlertReceived(
                    Alert::decode(&rec.fragment).map_err(|e| decode_failure("RFC8446-6", e))?,
                ))
            }
            ContentType::HANDSHAKE => {
                clear.extend_from_slice(&rec.fragment);
                if let Some(first) = take_handshake_messages(&mut clear).into_iter().next() {
                    break first;
                }
            }
            other => {
                return Err(violation(
                    "RFC8446-5",
                    format!("a {other} record before ServerHello"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ))
            }
        }
    };
    if sh_type != HandshakeType::SERVER_HELLO {
        return Err(violation(
            "RFC8446-4",
            format!("{sh_type} where ServerHello was due"),
            AlertDescription::UNEXPECTED_MESSAGE,
        ));
    }
    messages.push("ServerHello".to_string());
    let sh = ServerHello::decode(sh_bytes.get(4..).unwrap_or_default())
        .map_err(|e| decode_failure("RFC8446-4.1.3", e))?;
    if sh.is_retry_request() {
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
        Some(ProtocolVersion::TLS13) => {}
        other => {
            return Err(violation(
                "RFC8446-4.2.1",
                format!("the server selected {other:?}, not TLS 1.3"),
                AlertDescription::PROTOCOL_VERSION,
            ))
        }
    }
    if sh.session_id != hello.session_id {
        return Err(violation(
            "RFC8446-4.1.3",
            "legacy_session_id_echo differs from the ClientHello's session ID",
            AlertDescription::ILLEGAL_PARAMETER,
        ));
    }
    if !hello.cipher_suites.contains(&sh.cipher_suite) {
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
    let (our_group, key) = private.ok_or_else(|| {
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
    transcript.add(hello_bytes);
    transcript.add(&sh_bytes);
    let secrets = Secrets13::new(&suite, &shared, &transcript.current());
    let random = hex::encode(&hello.random);
    let mut key_log = vec![
        format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}",
            hex::encode(&secrets.client_handshake)
        ),
        format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {}",
            hex::encode(&secrets.server_handshake)
        ),
    ];
    let bad_key = || {
        violation(
            "RFC8446-7.3",
            "no record key",
            AlertDescription::INTERNAL_ERROR,
        )
    };
    let mut rx = suite
        .record_key(&secrets.server_handshake)
        .ok_or_else(bad_key)?;
    *tx = Some(
        suite
            .record_key(&secrets.client_handshake)
            .ok_or_else(bad_key)?,
    );
    if !clear.is_empty() {
        return Err(violation(
            "RFC8446-5.1",
            "handshake data after ServerHello in the same clear record (a key change must align with a record boundary)",
            AlertDescription::UNEXPECTED_MESSAGE,
        ));
    }

    // EncryptedExtensions, Certificate, CertificateVerify, Finished, protected.
    let mut buf = Vec::new();
    let mut certificates: Vec<Vec<u8>> = Vec::new();
    let mut scheme = None;
    let expected = [
        HandshakeType::ENCRYPTED_EXTENSIONS,
        HandshakeType::CERTIFICATE,
        HandshakeType::CERTIFICATE_VERIFY,
        HandshakeType::FINISHED,
    ];
    let mut next = 0usize;
    while next < expected.len() {
        let rec = reader.next(stream, timeout, "for the server's protected flight")?;
        match rec.content_type {
            // RFC 8446 §D.4: a change_cipher_spec of one byte 0x01 is ignored.
            ContentType::CHANGE_CIPHER_SPEC if rec.fragment == [1] => continue,
            ContentType::ALERT => {
                return Err(Failure::AlertReceived(
                    Alert::decode(&rec.fragment).map_err(|e| decode_failure("RFC8446-6", e))?,
                ))
            }
            ContentType::APPLICATION_DATA => {}
            other => {
                return Err(violation(
                    "RFC8446-5",
                    format!("a {other} record in clear after ServerHello"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ))
            }
        }
        let (typ, content) = rx.open(&rec).ok_or_else(|| {
            violation(
                "RFC8446-5.2",
                "a record that does not authenticate",
                AlertDescription::BAD_RECORD_MAC,
            )
        })?;
        match typ {
            ContentType::HANDSHAKE => buf.extend_from_slice(&content),
            ContentType::ALERT => {
                return Err(Failure::AlertReceived(
                    Alert::decode(&content).map_err(|e| decode_failure("RFC8446-6", e))?,
                ))
            }
            other => {
                return Err(violation(
                    "RFC8446-5",
                    format!("protected {other} during the handshake"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ))
            }
        }
        for (typ, whole) in take_handshake_messages(&mut buf) {
            let want = expected
                .get(next)
                .copied()
                .unwrap_or(HandshakeType::FINISHED);
            if typ != want || next >= expected.len() {
                return Err(violation(
                    "RFC8446-4",
                    format!("{typ} where {want} was due"),
                    AlertDescription::UNEXPECTED_MESSAGE,
                ));
            }
            messages.push(typ.to_string());
            let body = whole.get(4..).unwrap_or_default();
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
                        config,
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
            transcript.add(&whole);
            next += 1;
        }
    }
    if !buf.is_empty() {
        return Err(violation(
            "RFC8446-5.1",
            "handshake data after the server's Finished in the same record",
            AlertDescription::UNEXPECTED_MESSAGE,
        ));
    }
    let through_server_finished = transcript.current();
    let (client_app, server_app) = secrets.application(&suite, &through_server_finished);
    key_log.push(format!(
        "CLIENT_TRAFFIC_SECRET_0 {random} {}",
        hex::encode(&client_app)
    ));
    key_log.push(format!(
        "SERVER_TRAFFIC_SECRET_0 {random} {}",
        hex::encode(&server_app)
    ));
    let verify = suite.finished(&secrets.client_handshake, &through_server_finished);
    let finished = handshake_message(HandshakeType::FINISHED, &verify, None);
    let key = tx.as_mut().ok_or_else(bad_key)?;
    let rec = key
        .seal(ContentType::HANDSHAKE, &finished, 0)
        .ok_or_else(bad_key)?;
    stream
        .write_all(&rec.encode(None))
        .map_err(|e| Failure::Io(e.to_string()))?;
    let app_tx = suite.record_key(&client_app).ok_or_else(bad_key)?;
    let app_rx = suite.record_key(&server_app).ok_or_else(bad_key)?;
    *tx = None;
    Ok((
        Established {
            suite: sh.cipher_suite,
            group,
            certificates,
            signature_scheme: scheme.unwrap_or(SignatureScheme(0)),
            key_log,
            messages,
        },
        app_tx,
        app_rx,
    ))
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

impl Connection13 {
    /// Sends `data` as application data records of at most 2^14 bytes.
    pub fn send(&mut self, data: &[u8]) -> Result<(), Failure> {
        for chunk in data.chunks(crate::msgs::MAX_FRAGMENT) {
            let rec = self
                .tx
                .seal(ContentType::APPLICATION_DATA, chunk, 0)
                .ok_or(Failure::Io("sequence number exhausted".into()))?;
            self.stream
                .write_all(&rec.encode(None))
                .map_err(|e| Failure::Io(e.to_string()))?;
        }
        Ok(())
    }

    /// Reads until `len` bytes of application data have arrived; NewSessionTickets on the way
    /// are counted in the established messages.
    pub fn receive(&mut self, len: usize) -> Result<Vec<u8>, Failure> {
        let mut reader = RecordReader {
            buf: std::mem::take(&mut self.pending),
        };
        let mut out = Vec::new();
        let mut post = Vec::new();
        let result = loop {
            if out.len() >= len {
                break Ok(());
            }
            let rec = match reader.next(&mut self.stream, self.timeout, "for application data") {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            let Some((typ, content)) = self.rx.open(&rec) else {
                break Err(violation(
                    "RFC8446-5.2",
                    "a record that does not authenticate",
                    AlertDescription::BAD_RECORD_MAC,
                ));
            };
            match typ {
                ContentType::APPLICATION_DATA => out.extend_from_slice(&content),
                ContentType::HANDSHAKE => {
                    post.extend_from_slice(&content);
                    for (typ, _) in take_handshake_messages(&mut post) {
                        self.established.messages.push(typ.to_string());
                    }
                }
                ContentType::ALERT => match Alert::decode(&content) {
                    Ok(a) => break Err(Failure::AlertReceived(a)),
                    Err(e) => break Err(decode_failure("RFC8446-6", e)),
                },
                other => {
                    break Err(violation(
                        "RFC8446-5",
                        format!("protected {other} after the handshake"),
                        AlertDescription::UNEXPECTED_MESSAGE,
                    ))
                }
            }
        };
        self.pending = reader.buf;
        result.map(|()| out)
    }

    /// Sends close_notify (RFC 8446 §6.1) and waits for the server's, or for the end of the
    /// stream: `Ok(true)` if the server answered with close_notify.
    pub fn close(mut self) -> Result<bool, Failure> {
        let alert = Alert {
            level: 1,
            description: AlertDescription::CLOSE_NOTIFY,
        };
        let rec = self
            .tx
            .seal(ContentType::ALERT, &alert.encode(), 0)
            .ok_or(Failure::Io("sequence number exhausted".into()))?;
        self.stream
            .write_all(&rec.encode(None))
            .map_err(|e| Failure::Io(e.to_string()))?;
        match self.receive(usize::MAX) {
            Err(Failure::AlertReceived(a)) => Ok(a.description == AlertDescription::CLOSE_NOTIFY),
            Err(Failure::Closed(_)) => Ok(false),
            Err(e) => Err(e),
            Ok(_) => Ok(false),
        }
    }
}
