//! The sans-IO bTLS connection: bytes and time in, bytes and events out (SPEC §5–§12).
//!
//! A [`Connection`] owns no socket, reads no clock and draws randomness only from the
//! [`RandomSource`] it was given, so a seeded connection is byte-for-byte reproducible and a client
//! and a server can be driven against each other in memory.
//!
//! ```text
//!  application ──send()/close()──▶ ┌────────────┐ ──take_output()──▶ transport
//!  application ◀─take_application_data()/poll_event()── Connection ◀──receive()/receive_eof()── transport
//!                                  └────────────┘ ◀──handle_timeout(now)── driver's clock
//! ```
//!
//! The client and server state diagrams are in the modules `client` and `server`; every frame not listed
//! for a state is answered with `unexpected_message` (BT-HS-24).

mod client;
mod config;
mod negotiated;
mod server;
mod session;

pub use config::{
    ClientConfig, ServerConfig, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_RECORD_LIMIT,
    DEFAULT_SESSION_LIFETIME,
};
pub use session::{ClientSessionStore, ServerSessionCache, StoredSession};

use crate::crypto::{RandomSource, RecordKey, Secret, Transcript};
use crate::error::Error;
use crate::msgs::{
    Alert, AlertDescription, AlertLevel, CipherSuite, ContentType, FrameHeader, HandshakeCode,
    HandshakeMessage, KeyAlgorithm, PublishedKey, ValidationFailure, FRAME_HEADER_LEN,
    MAX_FRAME_BODY, MAX_PLAINTEXT, SESSION_ID_LEN,
};
use crate::quirks::{Quirk, Quirks};
use std::collections::VecDeque;
use std::sync::Arc;

/// Something the application or a test harness may want to know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A HANDSHAKE frame was sent.
    HandshakeSent(HandshakeCode),
    /// A HANDSHAKE frame was received and accepted.
    HandshakeReceived(HandshakeCode),
    /// This party rejected the peer's key with FAILED_VALIDATION (BT-HS-10).
    RejectedPeerKey(ValidationFailure),
    /// The peer rejected this party's key with FAILED_VALIDATION (BT-HS-11).
    PeerRejectedKey(ValidationFailure),
    /// The handshake completed.
    HandshakeComplete(Box<HandshakeSummary>),
    /// An alert was sent.
    AlertSent(Alert),
    /// An alert was received.
    AlertReceived(Alert),
    /// Both close_notify alerts have been exchanged, or the peer's arrived (BT-CLOSE-2).
    Closed,
}

/// What a completed handshake established (BT-HS-27).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeSummary {
    /// The session ID.
    pub session_id: [u8; SESSION_ID_LEN],
    /// The key algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The symmetric protocol.
    pub cipher_suite: CipherSuite,
    /// Whether this was an abbreviated handshake (§8).
    pub resumed: bool,
    /// This party's published key.
    pub local_key: PublishedKey,
    /// The peer's published key.
    pub peer_key: PublishedKey,
    /// Transcript hash through both READY messages.
    pub transcript_hash: [u8; 32],
}

/// The secrets of an established connection, for key logs (decrypting captures offline).
#[derive(Clone)]
pub struct TrafficSecrets {
    /// The CLIENT_HELLO random of the hello that succeeded: names the session in a key log.
    pub client_random: [u8; 32],
    /// `master` (BT-KS-2).
    pub master: Secret,
    /// `c_traffic` (BT-KS-5).
    pub client_traffic: Secret,
    /// `s_traffic` (BT-KS-5).
    pub server_traffic: Secret,
}

impl std::fmt::Debug for TrafficSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrafficSecrets")
            .field("client_random", &hex::encode(self.client_random))
            .finish_non_exhaustive()
    }
}

/// Which side of the connection this party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sends CLIENT_HELLO.
    Client,
    /// Answers it.
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshaking,
    Established,
    Closed,
}

/// State shared by both roles: buffers, transcript, record keys, events.
pub(crate) struct Common {
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) transcript: Transcript,
    pub(crate) now_ms: u64,
    /// Deliberate bugs for testing the conformance suite ([`crate::quirks`]); none by default.
    pub(crate) quirks: Quirks,
    input: Vec<u8>,
    output: Vec<u8>,
    plaintext: Vec<u8>,
    events: VecDeque<Event>,
    read_key: Option<RecordKey>,
    write_key: Option<RecordKey>,
    deadline_ms: u64,
    timeout_ms: u64,
    record_limit: u64,
    phase: Phase,
    sent_close_notify: bool,
    failure: Option<Error>,
    summary: Option<HandshakeSummary>,
    secrets: Option<TrafficSecrets>,
}

impl Common {
    fn new(
        rng: Box<dyn RandomSource>,
        now_ms: u64,
        timeout: std::time::Duration,
        record_limit: u64,
        quirks: Quirks,
    ) -> Self {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let record_limit = if quirks.has(Quirk::IgnoreRecordLimit) {
            u64::MAX // quirk: breaks BT-REC-8
        } else {
            record_limit
        };
        Self {
            rng,
            transcript: Transcript::default(),
            now_ms,
            quirks,
            input: Vec::new(),
            output: Vec::new(),
            plaintext: Vec::new(),
            events: VecDeque::new(),
            read_key: None,
            write_key: None,
            deadline_ms: now_ms.saturating_add(timeout_ms),
            timeout_ms,
            record_limit,
            phase: Phase::Handshaking,
            sent_close_notify: false,
            failure: None,
            summary: None,
            secrets: None,
        }
    }

    /// Current time in Unix seconds, for key validity (BT-KEY-8).
    pub(crate) fn now_secs(&self) -> u64 {
        self.now_ms / 1000
    }

    /// Fresh random bytes.
    pub(crate) fn random<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng.fill(&mut out);
        out
    }

    /// Sends a HANDSHAKE frame and adds it to the transcript (BT-HS-1). Handshake frames are
    /// never protected (BT-REC-1).
    pub(crate) fn send_handshake(&mut self, msg: &HandshakeMessage) {
        let frame = msg.to_frame();
        self.transcript.add(&frame);
        self.output.extend_from_slice(&frame);
        self.events.push_back(Event::HandshakeSent(msg.code()));
    }

    /// Sends FAILED_VALIDATION; the caller then fails with [`Error::PeerKeyRejected`], which
    /// sends `failed_handshake` (BT-HS-10).
    pub(crate) fn reject_peer_key(&mut self, reason: ValidationFailure) -> Error {
        self.send_handshake(&HandshakeMessage::FailedValidation(reason));
        self.events.push_back(Event::RejectedPeerKey(reason));
        Error::PeerKeyRejected(reason)
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push_back(event);
    }

    /// Starts protecting sent frames (BT-REC-1).
    pub(crate) fn enable_write(
        &mut self,
        suite: CipherSuite,
        traffic: &Secret,
    ) -> Result<(), Error> {
        let mut key =
            RecordKey::from_traffic(suite, traffic).ok_or(Error::Internal("unsupported suite"))?;
        key.set_limit(self.record_limit); // BT-REC-8
        self.write_key = Some(key);
        Ok(())
    }

    /// Starts opening received frames (BT-REC-4).
    pub(crate) fn enable_read(
        &mut self,
        suite: CipherSuite,
        traffic: &Secret,
    ) -> Result<(), Error> {
        let mut key =
            RecordKey::from_traffic(suite, traffic).ok_or(Error::Internal("unsupported suite"))?;
        key.set_limit(self.record_limit); // BT-REC-8
        self.read_key = Some(key);
        Ok(())
    }

    /// Marks the handshake complete.
    pub(crate) fn complete(&mut self, summary: HandshakeSummary, secrets: TrafficSecrets) {
        self.phase = Phase::Established;
        self.events
            .push_back(Event::HandshakeComplete(Box::new(summary.clone())));
        self.summary = Some(summary);
        self.secrets = Some(secrets);
    }

    /// Whether `quirk` is on.
    #[inline]
    pub(crate) fn quirk(&self, quirk: Quirk) -> bool {
        self.quirks.has(quirk)
    }

    fn send_alert(&mut self, description: AlertDescription) {
        let mut alert = Alert::new(description);
        if self.quirk(Quirk::WrongAlertLevel) {
            alert.level = AlertLevel::WARNING; // quirk: breaks BT-ALERT-1
        }
        self.send_alert_frame(alert);
    }

    fn send_alert_frame(&mut self, alert: Alert) {
        let description = alert.description;
        let frame = match self.write_key.as_mut() {
            Some(key) => key.seal(ContentType::ALERT, description.0, &alert.body()),
            None => Some(FrameHeader::frame(
                ContentType::ALERT,
                description.0,
                &alert.body(),
            )),
        };
        if let Some(frame) = frame {
            self.output.extend_from_slice(&frame);
            self.events.push_back(Event::AlertSent(alert));
        }
    }
}

/// The ephemeral agreement (BT-KS-1). `lax` is the quirk SkipKeyShareValidation: a share that
/// does not agree (an all-zero X25519 result) yields an all-zero secret instead of an error.
pub(crate) fn agree(
    ephemeral: &crate::crypto::EphemeralKey,
    share: &[u8],
    lax: bool,
) -> Result<Secret, Error> {
    match ephemeral.agree(share) {
        Some(shared) => Ok(shared),
        None if lax => Ok(zeroize::Zeroizing::new([0u8; 32])),
        None => Err(crate::error::IllegalParameter::InvalidKeyShare.into()),
    }
}

/// The role-specific half of a connection.
enum Role {
    Client(Box<client::Client>),
    Server(Box<server::Server>),
}

impl Role {
    fn handle(
        &mut self,
        common: &mut Common,
        msg: HandshakeMessage,
        before: [u8; 32],
    ) -> Result<(), Error> {
        match self {
            Self::Client(c) => c.handle(common, msg, before),
            Self::Server(s) => s.handle(common, msg, before),
        }
    }

    fn state_name(&self) -> &'static str {
        match self {
            Self::Client(c) => c.state_name(),
            Self::Server(s) => s.state_name(),
        }
    }

    /// BT-HS-11: after FAILED_VALIDATION only the alert and the close are expected.
    fn awaiting_failure_alert(&self) -> bool {
        match self {
            Self::Client(c) => c.awaiting_failure_alert(),
            Self::Server(s) => s.awaiting_failure_alert(),
        }
    }
}

/// One bTLS connection, client or server, with no I/O of its own.
pub struct Connection {
    common: Common,
    role: Role,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side())
            .field("state", &self.role.state_name())
            .field("phase", &self.common.phase)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A client connection; its CLIENT_HELLO is ready in [`Connection::take_output`] at once.
    /// `now_ms` is the driver's clock in milliseconds since the Unix epoch.
    pub fn client(
        config: Arc<ClientConfig>,
        rng: Box<dyn RandomSource>,
        now_ms: u64,
    ) -> Result<Self, Error> {
        if config.expected_server.is_none() && !config.accept_any_server {
            return Err(Error::NoExpectedServer); // BT-KEY-16
        }
        let mut common = Common::new(
            rng,
            now_ms,
            config.handshake_timeout,
            config.record_limit,
            config.quirks,
        );
        let client = client::Client::start(config, &mut common)?;
        Ok(Self {
            common,
            role: Role::Client(Box::new(client)),
        })
    }

    /// A server connection, waiting for CLIENT_HELLO.
    pub fn server(
        config: Arc<ServerConfig>,
        rng: Box<dyn RandomSource>,
        now_ms: u64,
    ) -> Result<Self, Error> {
        let common = Common::new(
            rng,
            now_ms,
            config.handshake_timeout,
            config.record_limit,
            config.quirks,
        );
        let server = server::Server::new(config)?;
        Ok(Self {
            common,
            role: Role::Server(Box::new(server)),
        })
    }

    /// Which side this is.
    pub fn side(&self) -> Side {
        match self.role {
            Role::Client(_) => Side::Client,
            Role::Server(_) => Side::Server,
        }
    }

    /// Feeds bytes from the transport. Complete frames are processed at once; a partial frame
    /// waits for more bytes (BT-FRAME-4). On error the alert to send is already queued in the
    /// output and the connection is closed.
    pub fn receive(&mut self, data: &[u8], now_ms: u64) -> Result<(), Error> {
        if let Some(err) = &self.common.failure {
            return Err(err.clone());
        }
        if self.common.phase == Phase::Closed {
            return Ok(());
        }
        self.common.now_ms = now_ms;
        if self.common.quirk(Quirk::TimerRestartsOnMessage) {
            // quirk: breaks BT-TIME-1 (the timer runs from the connection's creation)
            self.common.deadline_ms = now_ms.saturating_add(self.common.timeout_ms);
        }
        // The buffered bytes are taken out while frames are processed, so that protected frames
        // open in place where they arrived, with no copy per frame.
        let mut input = std::mem::take(&mut self.common.input);
        input.extend_from_slice(data);
        let mut consumed = 0;
        let result = self.process(&mut input, &mut consumed);
        input.drain(..consumed.min(input.len()));
        self.common.input = input;
        result.map_err(|e| self.fail(e))
    }

    fn process(&mut self, input: &mut [u8], consumed: &mut usize) -> Result<(), Error> {
        loop {
            if self.common.phase == Phase::Closed {
                *consumed = input.len();
                return Ok(());
            }
            let rest = input.get_mut(*consumed..).unwrap_or_default();
            let Some(header) = rest.get(..FRAME_HEADER_LEN) else {
                return Ok(());
            };
            let mut header_bytes = [0u8; FRAME_HEADER_LEN];
            header_bytes.copy_from_slice(header);
            let header = FrameHeader::parse(header_bytes);
            let len = usize::from(header.length);
            if len > MAX_FRAME_BODY && !self.common.quirk(Quirk::AcceptOversizeFrame) {
                return Err(Error::FrameTooLarge {
                    length: header.length,
                }); // BT-FRAME-2
            }
            let Some(frame) = rest.get_mut(..FRAME_HEADER_LEN + len) else {
                return Ok(());
            };
            *consumed += frame.len();
            self.process_frame(header, frame)?;
        }
    }

    fn process_frame(&mut self, header: FrameHeader, frame: &mut [u8]) -> Result<(), Error> {
        if self.role.awaiting_failure_alert() && header.content_type != ContentType::ALERT {
            return Ok(()); // BT-HS-11
        }
        match header.content_type {
            ContentType::HANDSHAKE => self.process_handshake(header, frame),
            ContentType::ALERT => {
                let body = frame.get_mut(FRAME_HEADER_LEN..).unwrap_or_default();
                // quirk: AcceptPlaintextAlert breaks BT-REC-4 (a copy, since a failed open may
                // leave the body garbled).
                let copy = self
                    .common
                    .quirk(Quirk::AcceptPlaintextAlert)
                    .then(|| body.to_vec());
                let plain: Vec<u8> = match (self.common.read_key.as_mut(), copy) {
                    (Some(key), copy) => match key.open(header, body) {
                        Some(plain) => plain.to_vec(),
                        None => copy.ok_or(Error::BadRecordMac)?,
                    },
                    (None, _) => body.to_vec(),
                };
                let alert = match Alert::from_body(header.subcode, &plain) {
                    Ok(alert) => alert,
                    // quirk: breaks BT-ALERT-5
                    Err(_) if self.common.quirk(Quirk::AcceptLongAlert) && plain.len() > 1 => {
                        Alert {
                            level: AlertLevel(plain.first().copied().unwrap_or(2)),
                            description: AlertDescription(header.subcode),
                        }
                    }
                    Err(error) => {
                        return Err(Error::MalformedBody {
                            frame: "ALERT".into(),
                            error,
                        })
                    }
                };
                if self.common.quirk(Quirk::IgnoreUnknownAlert) && !alert.description.is_known() {
                    return Ok(()); // quirk: breaks BT-ALERT-2
                }
                self.common.events.push_back(Event::AlertReceived(alert));
                if alert.description == AlertDescription::CLOSE_NOTIFY
                    && self.common.phase == Phase::Established
                {
                    // BT-CLOSE-2 (the quirk NoCloseNotifyReply breaks it)
                    if !self.common.sent_close_notify
                        && !self.common.quirk(Quirk::NoCloseNotifyReply)
                    {
                        self.common.sent_close_notify = true;
                        self.common.send_alert(AlertDescription::CLOSE_NOTIFY);
                    }
                    if self.common.quirk(Quirk::ReadPastCloseNotify) {
                        return Ok(()); // quirk: breaks BT-CLOSE-2 (reads on after close_notify)
                    }
                    // BT-CLOSE-2: nothing after close_notify is read, even in the same segment.
                    self.common.phase = Phase::Closed;
                    self.common.events.push_back(Event::Closed);
                    return Ok(());
                }
                Err(Error::AlertReceived(alert)) // BT-ALERT-2, BT-CLOSE-5
            }
            ContentType::APPLICATION => {
                if header.subcode != 0 && !self.common.quirk(Quirk::IgnoreApplicationSubcode) {
                    return Err(Error::ApplicationSubcodeNotZero(header.subcode));
                    // BT-FRAME-6
                }
                if self.common.phase != Phase::Established {
                    if self.common.quirk(Quirk::AcceptEarlyApplicationData)
                        && self.common.read_key.is_none()
                    {
                        // quirk: breaks BT-HS-25, delivers the body as plaintext
                        let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
                        self.common.plaintext.extend_from_slice(body);
                        return Ok(());
                    }
                    return Err(Error::ApplicationDataBeforeHandshakeComplete); // BT-HS-25
                }
                let key = self
                    .common
                    .read_key
                    .as_mut()
                    .ok_or(Error::ApplicationDataBeforeHandshakeComplete)?;
                let body = frame.get_mut(FRAME_HEADER_LEN..).unwrap_or_default();
                if self.common.quirks.has(Quirk::AcceptReplayedRecord) {
                    // quirk: breaks BT-REC-2, a frame may repeat the previous sequence number
                    let copy = body.to_vec();
                    if let Some(plain) = key.open(header, body) {
                        self.common.plaintext.extend_from_slice(plain);
                        return Ok(());
                    }
                    let seq = key.sequence();
                    let mut again = copy;
                    key.set_sequence(seq.saturating_sub(1));
                    let opened = key.open(header, &mut again).map(|p| p.to_vec());
                    key.set_sequence(seq);
                    let plain = opened.ok_or(Error::BadRecordMac)?;
                    self.common.plaintext.extend_from_slice(&plain);
                    return Ok(());
                }
                let plain = key.open(header, body).ok_or(Error::BadRecordMac)?; // BT-REC-4
                self.common.plaintext.extend_from_slice(plain);
                Ok(())
            }
            _ if self.common.quirk(Quirk::IgnoreUnknownContentType) => Ok(()), // quirk
            other => Err(Error::UnknownContentType(other)),                    // BT-FRAME-3
        }
    }

    fn process_handshake(&mut self, header: FrameHeader, frame: &[u8]) -> Result<(), Error> {
        let code = HandshakeCode(header.subcode);
        if !code.is_known() {
            if self.common.quirk(Quirk::IgnoreUnknownHandshakeCode) {
                return Ok(()); // quirk: breaks BT-FRAME-5
            }
            return Err(Error::UnknownHandshakeCode(code)); // BT-FRAME-5
        }
        if self.common.read_key.is_some() || self.common.phase != Phase::Handshaking {
            // BT-HS-26: no HANDSHAKE frame after the peer's READY.
            return Err(Error::UnexpectedMessage {
                state: self.role.state_name(),
                got: code.to_string(),
            });
        }
        let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
        let decoded = match HandshakeMessage::decode(code, body) {
            Err(crate::codec::DecodeError::TrailingBytes { count, .. })
                if self.common.quirk(Quirk::IgnoreTrailingBytes) =>
            {
                // quirk: breaks BT-FRAME-7, decodes the body without its last `count` bytes
                let end = body.len().saturating_sub(count);
                HandshakeMessage::decode(code, body.get(..end).unwrap_or_default())
            }
            other => other,
        };
        let msg = decoded
            .map_err(|error| Error::MalformedBody {
                frame: code.to_string(),
                error,
            })?
            .ok_or(Error::UnknownHandshakeCode(code))?;
        let before = self.common.transcript.current();
        self.common.transcript.add(frame);
        self.common.events.push_back(Event::HandshakeReceived(code));
        self.role.handle(&mut self.common, msg, before)
    }

    /// Records a failure: queues its alert (BT-ALERT-3, never in answer to an alert, BT-ALERT-4)
    /// and closes the connection.
    fn fail(&mut self, err: Error) -> Error {
        if self.common.failure.is_none() {
            let q = self.common.quirks;
            let description = match &err {
                // quirk: breaks BT-HS-10
                Error::PeerKeyRejected(_) if q.has(Quirk::SkipFailedHandshake) => None,
                // quirk: breaks BT-ALERT-4
                Error::AlertReceived(_) if q.has(Quirk::AnswerFatalAlert) => {
                    Some(AlertDescription::CLOSE_NOTIFY)
                }
                // quirk: breaks BT-REC-4
                Error::BadRecordMac if q.has(Quirk::BadRecordMacAsDecodeError) => {
                    Some(AlertDescription::DECODE_ERROR)
                }
                // quirk: breaks BT-ALERT-3 (the error table)
                _ if q.has(Quirk::DecodeErrorAsIllegalParameter)
                    && err.alert() == Some(AlertDescription::DECODE_ERROR) =>
                {
                    Some(AlertDescription::ILLEGAL_PARAMETER)
                }
                _ => err.alert(),
            };
            if let Some(description) = description {
                self.common.send_alert(description);
            }
            self.common.phase = Phase::Closed;
            self.common.failure = Some(err.clone());
            self.common.input.clear();
        }
        err
    }

    /// Tells the connection that the transport reached end of stream.
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        if let Some(err) = &self.common.failure {
            return Err(err.clone());
        }
        match self.common.phase {
            Phase::Closed => Ok(()),
            Phase::Established if self.common.quirk(Quirk::TruncationAsClose) => {
                // quirk: breaks BT-CLOSE-3
                self.common.phase = Phase::Closed;
                self.common.events.push_back(Event::Closed);
                Ok(())
            }
            Phase::Established => Err(self.fail(Error::Truncated)), // BT-CLOSE-3
            Phase::Handshaking => Err(self.fail(Error::PeerClosedDuringHandshake)), // BT-CLOSE-4
        }
    }

    /// The instant (ms since the Unix epoch) at which [`Connection::handle_timeout`] must be
    /// called, while the handshake is in progress.
    pub fn timeout(&self) -> Option<u64> {
        // The quirk NoHandshakeTimeout breaks BT-TIME-1.
        (self.common.phase == Phase::Handshaking && !self.common.quirk(Quirk::NoHandshakeTimeout))
            .then_some(self.common.deadline_ms)
    }

    /// Aborts the handshake with `handshake_timeout` if its deadline has passed (BT-TIME-1).
    pub fn handle_timeout(&mut self, now_ms: u64) -> Result<(), Error> {
        if let Some(err) = &self.common.failure {
            return Err(err.clone());
        }
        if self.common.phase == Phase::Handshaking
            && now_ms >= self.common.deadline_ms
            && !self.common.quirk(Quirk::NoHandshakeTimeout)
        {
            return Err(self.fail(Error::HandshakeTimeout));
        }
        Ok(())
    }

    /// Whether [`Connection::send`] would queue application data now: the handshake is complete
    /// (BT-HS-25) and this party has not closed.
    pub fn can_send(&self) -> bool {
        if self.common.failure.is_some() || self.common.sent_close_notify {
            return false;
        }
        match self.common.phase {
            Phase::Established => true,
            // quirk: breaks BT-HS-25 (false start: a full handshake's client sends once its
            // CLIENT_READY is out, before it has verified SERVER_READY)
            Phase::Handshaking => {
                self.common.quirk(Quirk::FalseStart)
                    && self.side() == Side::Client
                    && self.common.write_key.is_some()
            }
            Phase::Closed => false,
        }
    }

    /// Queues application data, split into frames of at most 16384 bytes (BT-REC-7).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.common.failure.is_some()
            || self.common.sent_close_notify
            || self.common.phase == Phase::Closed
        {
            return Err(Error::ConnectionClosed);
        }
        if !self.can_send() {
            return Err(Error::HandshakeNotComplete); // BT-HS-25
        }
        for chunk in data.chunks(MAX_PLAINTEXT) {
            let key = self
                .common
                .write_key
                .as_mut()
                .ok_or(Error::HandshakeNotComplete)?;
            if key.sequence().saturating_add(1) >= key.limit() {
                // BT-REC-8: the last frame the key may protect is the close_notify.
                self.close();
                return Err(Error::RecordLimitReached);
            }
            key.seal_into(ContentType::APPLICATION, 0, chunk, &mut self.common.output)
                .ok_or(Error::Internal("sequence number exhausted"))?; // BT-REC-5
        }
        Ok(())
    }

    /// Sends close_notify (BT-CLOSE-1). During the handshake this abandons it (BT-CLOSE-5).
    pub fn close(&mut self) {
        if self.common.failure.is_some() || self.common.sent_close_notify {
            return;
        }
        if self.common.phase == Phase::Closed {
            return;
        }
        self.common.sent_close_notify = true;
        self.common.send_alert(AlertDescription::CLOSE_NOTIFY);
        if self.common.phase == Phase::Handshaking {
            self.common.phase = Phase::Closed;
        }
    }

    /// Sends an alert with any description and level, protected once this party has sent its
    /// READY (BT-REC-1). For test harnesses: it lets a peer break BT-ALERT-1 on purpose, to
    /// check how the other side reads the alert (BT-ALERT-2). A close_notify counts as sent
    /// (BT-CLOSE-1); nothing else about the connection changes.
    #[doc(hidden)]
    pub fn send_alert_with_level(&mut self, description: AlertDescription, level: AlertLevel) {
        if self.common.failure.is_some() || self.common.sent_close_notify {
            return;
        }
        if description == AlertDescription::CLOSE_NOTIFY {
            self.common.sent_close_notify = true;
        }
        self.common.send_alert_frame(Alert { level, description });
    }

    /// Seals application data as one APPLICATION frame whatever the connection's state once it
    /// has a write key: after its own close_notify, after a fatal alert, past the record limit.
    /// For test harnesses: it lets a peer break BT-CLOSE-1 on purpose, to check that the other
    /// side delivers nothing after a closing alert (BT-CLOSE-2, BT-ALERT-2).
    #[doc(hidden)]
    pub fn seal_data_regardless(&mut self, data: &[u8]) -> Result<(), Error> {
        let key = self
            .common
            .write_key
            .as_mut()
            .ok_or(Error::HandshakeNotComplete)?;
        key.seal_into(ContentType::APPLICATION, 0, data, &mut self.common.output)
            .ok_or(Error::Internal("sequence number exhausted"))
    }

    /// Takes the bytes to write to the transport.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.common.output)
    }

    /// Whether there are bytes to write.
    pub fn has_output(&self) -> bool {
        !self.common.output.is_empty()
    }

    /// Takes the application data received so far.
    pub fn take_application_data(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.common.plaintext)
    }

    /// Moves up to `buf.len()` bytes of received application data into `buf`.
    pub fn read_application_data(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.common.plaintext.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), self.common.plaintext.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.common.plaintext.drain(..n);
        n
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.common.events.pop_front()
    }

    /// Whether the handshake is still in progress.
    pub fn is_handshaking(&self) -> bool {
        self.common.phase == Phase::Handshaking
    }

    /// Whether the handshake completed and the connection is open.
    pub fn is_established(&self) -> bool {
        self.common.phase == Phase::Established
    }

    /// Whether the connection is closed (cleanly or by an error).
    pub fn is_closed(&self) -> bool {
        self.common.phase == Phase::Closed
    }

    /// Whether this party has sent close_notify.
    pub fn close_notify_sent(&self) -> bool {
        self.common.sent_close_notify
    }

    /// The error that closed the connection, if any.
    pub fn failure(&self) -> Option<&Error> {
        self.common.failure.as_ref()
    }

    /// What the handshake established, once complete.
    pub fn summary(&self) -> Option<&HandshakeSummary> {
        self.common.summary.as_ref()
    }

    /// The traffic secrets, once the handshake is complete (for key logs).
    pub fn traffic_secrets(&self) -> Option<&TrafficSecrets> {
        self.common.secrets.as_ref()
    }

    /// The name of the current handshake state, as in the state tables (SPEC §12).
    pub fn state_name(&self) -> &'static str {
        self.role.state_name()
    }
}
