//! The client state machine (SPEC §5.3, §12.1).
//!
//! ```text
//!                  send CLIENT_HELLO
//!  Start ─────────────────────────────▶ ExpectServerHello ◀────────────── retry (BT-HS-16)
//!                                        │    │    │                               ▲
//!         SEND_KEY / send SENDING_KEY ◀──┘    │    └─▶ FAILED_VALIDATION ─▶ PeerRejectedKey
//!                   │                         │ SERVER_HELLO                       │
//!                   ▼                         ├─ resumed ─────────────────────┐    │
//!        ExpectClientKeyVerdict               ├─ key unknown: send SEND_KEY ─▶ ExpectServerKey
//!         SUCCESSFUL_VALIDATION ─▶ ExpectServerHello                          │    │ CANNOT_SEND_KEY
//!         FAILED_VALIDATION ─▶ PeerRejectedKey                                │    │ SENDING_KEY:
//!                                             ├─ key valid: send SUCCESSFUL_VALIDATION   validate
//!                                             ▼                               │    ▼
//!                                  ExpectSessionDetails ◀─────────────────────┼────┘
//!                                             │ SESSION_DETAILS: send CLIENT_READY
//!                                             ▼                               ▼
//!                                  ExpectServerReady ── SERVER_READY ──▶ Established
//! ```

use super::negotiated::Negotiated;
use super::session::StoredSession;
use super::{ClientConfig, Common, Side};
use crate::crypto::{
    hmac_sha256, hmac_verify, validate_key_share, verify_signature, EphemeralKey, KeySchedule,
    Secret,
};
use crate::error::{Error, IllegalParameter};
use crate::keys::{OwnKey, Resolved};
use crate::msgs::{
    CipherSuite, ClientHello, ClientReady, HandshakeCode, HandshakeMessage, PublishedKey,
    ServerHello, SessionDetails, ValidationFailure, PROTOCOL_VERSION,
};
use crate::quirks::Quirk;
use std::sync::Arc;

/// One CLIENT_HELLO and what came with it.
struct Attempt {
    key: Arc<OwnKey>,
    ephemeral: EphemeralKey,
    random: [u8; 32],
    session: Option<StoredSession>,
    key_sent: bool,
}

enum State {
    ExpectServerHello(Attempt),
    ExpectClientKeyVerdict(Attempt),
    ExpectServerKey {
        attempt: Attempt,
        hello: ServerHello,
        shared: Secret,
    },
    ExpectSessionDetails {
        attempt: Attempt,
        server_key: PublishedKey,
        learned: bool,
        shared: Secret,
    },
    ExpectServerReady(Box<Negotiated>),
    Established,
    PeerRejectedKey,
    Failed,
}

pub(crate) struct Client {
    config: Arc<ClientConfig>,
    state: State,
    suites: Vec<CipherSuite>,
    tried: Vec<crate::msgs::KeyAlgorithm>,
}

impl Client {
    /// Sends the first CLIENT_HELLO (BT-HS-15, BT-RES-2).
    pub(crate) fn start(config: Arc<ClientConfig>, common: &mut Common) -> Result<Self, Error> {
        let suites: Vec<CipherSuite> = config
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| s.is_known())
            .collect();
        if suites.is_empty() {
            return Err(Error::Internal(
                "the client configuration offers no known cipher suite",
            ));
        }
        let session = match (&config.expected_server, config.resumption) {
            (Some(server), true) => config.sessions.get(server).filter(|s| {
                suites.contains(&s.cipher_suite)
                    && config.keys.iter().any(|k| k.published == s.client_key)
            }),
            _ => None,
        };
        let key = match &session {
            Some(s) => config.keys.iter().find(|k| k.published == s.client_key),
            None => config.keys.first(),
        }
        .cloned()
        .ok_or(Error::Internal("the client configuration has no key"))?;
        let mut client = Self {
            config,
            state: State::Failed,
            suites,
            tried: Vec::new(),
        };
        let attempt = client.send_hello(common, key, session)?;
        client.state = State::ExpectServerHello(attempt);
        Ok(client)
    }

    fn send_hello(
        &mut self,
        common: &mut Common,
        key: Arc<OwnKey>,
        session: Option<StoredSession>,
    ) -> Result<Attempt, Error> {
        let algorithm = key.published.key_algorithm;
        let ephemeral = EphemeralKey::generate(algorithm, common.rng.as_mut())
            .ok_or(Error::Internal("ephemeral key generation failed"))?;
        let random = common.random::<32>();
        self.tried.push(algorithm);
        let hello = ClientHello {
            hello: crate::msgs::Hello {
                version: PROTOCOL_VERSION,
                random,
                session_id: session.as_ref().map(|s| s.session_id),
                key_algorithm: algorithm,
                reg_handle: key.published.reg_handle.clone(),
                key_handle: key.published.key_handle.clone(),
                key_share: ephemeral.public_share().to_vec(),
            },
            cipher_suites: self.suites.clone(),
        };
        common.send_handshake(&HandshakeMessage::ClientHello(hello));
        Ok(Attempt {
            key,
            ephemeral,
            random,
            session,
            key_sent: false,
        })
    }

    pub(crate) fn state_name(&self) -> &'static str {
        match self.state {
            State::ExpectServerHello(_) => "ExpectServerHello",
            State::ExpectClientKeyVerdict(_) => "ExpectClientKeyVerdict",
            State::ExpectServerKey { .. } => "ExpectServerKey",
            State::ExpectSessionDetails { .. } => "ExpectSessionDetails",
            State::ExpectServerReady(_) => "ExpectServerReady",
            State::Established => "Established",
            State::PeerRejectedKey => "PeerRejectedKey",
            State::Failed => "Failed",
        }
    }

    pub(crate) fn awaiting_failure_alert(&self) -> bool {
        matches!(self.state, State::PeerRejectedKey)
    }

    pub(crate) fn handle(
        &mut self,
        common: &mut Common,
        msg: HandshakeMessage,
        before: [u8; 32],
    ) -> Result<(), Error> {
        let state_name = self.state_name();
        let state = std::mem::replace(&mut self.state, State::Failed);
        self.state = match (state, msg) {
            // The quirk AcceptSecondSendKey breaks BT-TIME-4.
            (State::ExpectServerHello(mut attempt), HandshakeMessage::SendKey)
                if !attempt.key_sent || common.quirk(Quirk::AcceptSecondSendKey) =>
            {
                common.send_handshake(&HandshakeMessage::SendingKey(attempt.key.published.clone()));
                attempt.key_sent = true;
                State::ExpectClientKeyVerdict(attempt)
            }
            (
                State::ExpectServerHello(_) | State::ExpectClientKeyVerdict(_),
                HandshakeMessage::FailedValidation(reason),
            ) => {
                common.push_event(super::Event::PeerRejectedKey(reason));
                State::PeerRejectedKey
            }
            (State::ExpectClientKeyVerdict(attempt), HandshakeMessage::SuccessfulValidation) => {
                State::ExpectServerHello(attempt)
            }
            (State::ExpectServerHello(attempt), HandshakeMessage::ServerHello(hello)) => {
                self.on_server_hello(common, attempt, hello)?
            }
            (
                State::ExpectServerKey {
                    attempt,
                    hello,
                    shared,
                },
                HandshakeMessage::SendingKey(key),
            ) => {
                let named = (
                    &hello.hello.reg_handle[..],
                    &hello.hello.key_handle[..],
                    hello.hello.key_algorithm,
                );
                common_validate(common, &self.config, &key, named)?;
                if common.quirk(Quirk::CacheBeforeCompletion) {
                    let now = common.now_secs();
                    self.config.peer_keys.learn(&key, now); // quirk: breaks BT-CACHE-1
                }
                common.send_handshake(&HandshakeMessage::SuccessfulValidation);
                State::ExpectSessionDetails {
                    attempt,
                    server_key: key,
                    learned: true,
                    shared,
                }
            }
            (State::ExpectServerKey { attempt, .. }, HandshakeMessage::CannotSendKey) => {
                self.retry(common, attempt)?
            }
            (
                State::ExpectSessionDetails {
                    attempt,
                    server_key,
                    learned,
                    shared,
                },
                HandshakeMessage::SessionDetails(details),
            ) => self.on_session_details(
                common, attempt, server_key, learned, shared, details, before,
            )?,
            (State::ExpectServerReady(neg), HandshakeMessage::ServerReady(ready)) => {
                self.on_server_ready(common, *neg, &ready.verify_data, before)?
            }
            (_, msg) => {
                return Err(Error::UnexpectedMessage {
                    state: state_name,
                    got: msg.code().to_string(),
                })
            }
        };
        Ok(())
    }

    fn on_server_hello(
        &mut self,
        common: &mut Common,
        attempt: Attempt,
        hello: ServerHello,
    ) -> Result<State, Error> {
        // BT-HS-29: the order of the checks decides the alert.
        if hello.hello.version != PROTOCOL_VERSION {
            return Err(Error::UnsupportedVersion(hello.hello.version));
        }
        let algorithm = attempt.key.published.key_algorithm;
        if hello.hello.key_algorithm != algorithm && !common.quirk(Quirk::AcceptAlgorithmMismatch) {
            return Err(IllegalParameter::KeyAlgorithmMismatch.into()); // BT-MSG-6
        }
        let offered = attempt.session.as_ref().map(|s| s.session_id);
        let resumed = match (hello.hello.session_id, offered) {
            (None, _) => false,
            (Some(id), Some(offered)) if id == offered => true,
            (Some(_), _) if common.quirk(Quirk::AcceptUnofferedSessionId) => false, // quirk
            (Some(_), _) => return Err(IllegalParameter::SessionIdNotEchoed.into()), // BT-MSG-7
        };
        let lax = common.quirk(Quirk::SkipKeyShareValidation);
        if !lax && !validate_key_share(algorithm, &hello.hello.key_share) {
            return Err(IllegalParameter::InvalidKeyShare.into()); // BT-MSG-4
        }
        let shared = super::agree(&attempt.ephemeral, &hello.hello.key_share, lax)?; // BT-KS-1
        if let (true, Some(session)) = (resumed, attempt.session.as_ref()) {
            let key = &session.server_key;
            if !key.matches(
                &hello.hello.reg_handle,
                &hello.hello.key_handle,
                hello.hello.key_algorithm,
            ) {
                return Err(IllegalParameter::ResumedWithAnotherKey.into()); // BT-RES-5
            }
            let schedule = KeySchedule::new(Some(&session.resumption_secret), &shared);
            return Ok(State::ExpectServerReady(Box::new(Negotiated {
                key: attempt.key.clone(),
                client_random: attempt.random,
                peer_key: session.server_key.clone(),
                peer_key_learned: false,
                schedule,
                h_k: common.transcript.current(), // BT-KS-3: through SERVER_HELLO
                session_id: session.session_id,
                suite: session.cipher_suite,
                resumed: true,
            })));
        }
        if let (Some(server), Some(_), true) = (
            &self.config.expected_server,
            &attempt.session,
            common.quirk(Quirk::DiscardSessionOnDecline),
        ) {
            self.config.sessions.remove(server); // quirk: breaks BT-RES-5
        }
        // BT-RES-5: a declined session is kept until the full handshake completes and
        // replaces it; this SERVER_HELLO is not yet authenticated.
        if let Some(expected) = &self.config.expected_server {
            if *expected != hello.hello.reg_handle && !common.quirk(Quirk::SkipExpectedServer) {
                return Err(common.reject_peer_key(ValidationFailure::UNEXPECTED_IDENTITY));
                // BT-KEY-11
            }
        }
        let named = (
            &hello.hello.reg_handle[..],
            &hello.hello.key_handle[..],
            hello.hello.key_algorithm,
        );
        let now = common.now_secs();
        let resolved = self
            .config
            .peer_keys
            .resolve_with_quirks(named, now, common.quirks)
            .map_err(|reason| common.reject_peer_key(reason))?; // BT-KEY-3, BT-HS-15
        match resolved {
            Resolved::Accepted(key, source) => {
                common.send_handshake(&HandshakeMessage::SuccessfulValidation); // BT-HS-15
                Ok(State::ExpectSessionDetails {
                    attempt,
                    server_key: key,
                    learned: source.is_learned(),
                    shared,
                })
            }
            Resolved::Unknown => {
                common.send_handshake(&HandshakeMessage::SendKey);
                Ok(State::ExpectServerKey {
                    attempt,
                    hello,
                    shared,
                })
            }
        }
    }

    /// BT-HS-16: a new CLIENT_HELLO with a key of an untried algorithm, or `failed_handshake`.
    fn retry(&mut self, common: &mut Common, _previous: Attempt) -> Result<State, Error> {
        let next = self
            .config
            .keys
            .iter()
            .find(|k| !self.tried.contains(&k.published.key_algorithm))
            .cloned()
            .ok_or(Error::NoUntriedKeyAlgorithm)?;
        let attempt = self.send_hello(common, next, None)?;
        Ok(State::ExpectServerHello(attempt))
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one state, consumed together"
    )]
    fn on_session_details(
        &mut self,
        common: &mut Common,
        attempt: Attempt,
        server_key: PublishedKey,
        learned: bool,
        shared: Secret,
        details: SessionDetails,
        before: [u8; 32],
    ) -> Result<State, Error> {
        if !self.suites.contains(&details.cipher_suite)
            && !common.quirk(Quirk::AcceptUnofferedSuite)
        {
            return Err(IllegalParameter::UnofferedCipherSuite.into()); // BT-MSG-9
        }
        let tbs = SessionDetails::to_be_signed(&before, &details.session_id, details.cipher_suite);
        if !common.quirk(Quirk::SkipSessionDetailsSignature)
            && !verify_signature(
                server_key.key_algorithm,
                &server_key.public_key,
                &tbs,
                &details.signature,
            )
        {
            return Err(Error::BadSessionDetailsSignature); // BT-HS-20
        }
        let schedule = KeySchedule::new(None, &shared);
        let h_k = common.transcript.current(); // BT-KS-3: through SESSION_DETAILS
        let signature = attempt.key.signing.sign(&ClientReady::to_be_signed(&h_k)); // BT-HS-21
        let verify_data = hmac_sha256(schedule.client_ready_key().as_ref(), &h_k); // BT-HS-22
        common.send_handshake(&HandshakeMessage::ClientReady(ClientReady {
            signature,
            verify_data,
        }));
        common.enable_write(details.cipher_suite, &schedule.client_traffic(&h_k))?; // BT-REC-1
        let neg = Negotiated {
            key: attempt.key,
            client_random: attempt.random,
            peer_key: server_key,
            peer_key_learned: learned,
            schedule,
            h_k,
            session_id: details.session_id,
            suite: details.cipher_suite,
            resumed: false,
        };
        if common.quirk(Quirk::StoreSessionEarly) {
            if let (true, Some(server)) = (self.config.resumption, &self.config.expected_server) {
                self.config
                    .sessions
                    .insert(server, neg.session(common, Side::Client));
            }
        }
        Ok(State::ExpectServerReady(Box::new(neg)))
    }

    fn on_server_ready(
        &mut self,
        common: &mut Common,
        neg: Negotiated,
        verify_data: &[u8],
        before: [u8; 32],
    ) -> Result<State, Error> {
        if !common.quirk(Quirk::SkipServerReadyMac)
            && !hmac_verify(
                neg.schedule.server_ready_key().as_ref(),
                &before,
                verify_data,
            )
        {
            return Err(Error::BadReadyMac(HandshakeCode::SERVER_READY)); // BT-HS-23
        }
        if neg.resumed {
            // §8: the client's READY comes last, with no signature (BT-RES-6).
            let mac_input = common.transcript.current();
            let verify_data = hmac_sha256(neg.schedule.client_ready_key().as_ref(), &mac_input);
            common.send_handshake(&HandshakeMessage::ClientReady(ClientReady {
                signature: Vec::new(),
                verify_data,
            }));
            common.enable_write(neg.suite, &neg.client_traffic())?;
        }
        common.enable_read(neg.suite, &neg.server_traffic())?;
        let config = self.config.clone();
        if let Some(session) = neg.complete(common, Side::Client, &config.peer_keys) {
            if let (true, Some(server)) = (config.resumption, &config.expected_server) {
                config.sessions.insert(server, session);
            }
        }
        Ok(State::Established)
    }
}

/// Validates a server key, sending FAILED_VALIDATION on failure (BT-HS-10, BT-HS-15).
fn common_validate(
    common: &mut Common,
    config: &ClientConfig,
    key: &PublishedKey,
    named: (&[u8], &[u8], crate::msgs::KeyAlgorithm),
) -> Result<(), Error> {
    let now = common.now_secs();
    let quirks = common.quirks;
    config
        .peer_keys
        .validate_with_quirks(key, named, now, quirks)
        .map_err(|reason| common.reject_peer_key(reason))
}
