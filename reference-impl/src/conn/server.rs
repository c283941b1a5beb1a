//! The server state machine (SPEC §5.2, §12.2).
//!
//! ```text
//!  ExpectClientHello ──CLIENT_HELLO──┬─ resumable: SERVER_HELLO + SERVER_READY ─▶ ExpectClientReady
//!        ▲                           ├─ client key unknown: SEND_KEY ─▶ ExpectClientKey
//!        │                           ├─ key invalid: FAILED_VALIDATION + failed_handshake
//!        │                           └─ key valid: SERVER_HELLO ─▶ ExpectClientVerdict
//!        │  ExpectClientKey ──SENDING_KEY── valid: SUCCESSFUL_VALIDATION + SERVER_HELLO
//!        │                                           ─▶ ExpectClientVerdict
//!        │  ExpectClientVerdict ──SEND_KEY── may send: SENDING_KEY ─▶ ExpectClientVerdictAfterKey
//!        └──────────────────────────────── may not: CANNOT_SEND_KEY
//!           ExpectClientVerdict[AfterKey] ──SUCCESSFUL_VALIDATION── SESSION_DETAILS
//!                                                                   ─▶ ExpectClientReady
//!                                         ──FAILED_VALIDATION──▶ PeerRejectedKey
//!           ExpectClientReady ──CLIENT_READY── SERVER_READY ─▶ Established
//! ```

use super::negotiated::Negotiated;
use super::session::StoredSession;
use super::{Common, ServerConfig, Side};
use crate::crypto::{
    hmac_sha256, hmac_verify, validate_key_share, verify_signature, EphemeralKey, KeySchedule,
    Secret,
};
use crate::error::{Error, IllegalParameter};
use crate::keys::{OwnKey, Resolved};
use crate::msgs::{
    CipherSuite, ClientHello, ClientReady, HandshakeCode, HandshakeMessage, KeyAlgorithm,
    PublishedKey, ServerHello, ServerReady, SessionDetails, PROTOCOL_VERSION, SESSION_ID_LEN,
};
use crate::quirks::Quirk;
use std::sync::Arc;

/// The BT-RES-3 checks a quirk turns off (all on without quirks).
#[derive(Clone, Copy)]
struct Lax {
    /// ResumeWithChangedParameters: the hello's client key and suites are not compared.
    parameters: bool,
    /// IgnoreSessionLifetime: a session of any age resumes.
    lifetime: bool,
}

/// An accepted CLIENT_HELLO and the server's answers to it.
struct Offer {
    hello: ClientHello,
    key: Arc<OwnKey>,
    suite: CipherSuite,
}

/// The client key and the ephemeral secret after SERVER_HELLO.
struct Hello {
    offer: Offer,
    client_key: PublishedKey,
    client_key_learned: bool,
    shared: Secret,
}

enum State {
    ExpectClientHello,
    ExpectClientKey(Offer),
    ExpectClientVerdict(Hello),
    ExpectClientVerdictAfterKey(Hello),
    ExpectClientReady(Box<Negotiated>),
    Established,
    PeerRejectedKey,
    Failed,
}

pub(crate) struct Server {
    config: Arc<ServerConfig>,
    state: State,
    tried: Vec<KeyAlgorithm>,
    /// The quirk EarlyServerReady sent SERVER_READY already.
    sent_ready: bool,
}

impl Server {
    pub(crate) fn new(config: Arc<ServerConfig>) -> Result<Self, Error> {
        if config.keys.is_empty() {
            return Err(Error::Internal("the server configuration has no key"));
        }
        Ok(Self {
            config,
            state: State::ExpectClientHello,
            tried: Vec::new(),
            sent_ready: false,
        })
    }

    pub(crate) fn state_name(&self) -> &'static str {
        match self.state {
            State::ExpectClientHello => "ExpectClientHello",
            State::ExpectClientKey(_) => "ExpectClientKey",
            State::ExpectClientVerdict(_) => "ExpectClientVerdict",
            State::ExpectClientVerdictAfterKey(_) => "ExpectClientVerdictAfterKey",
            State::ExpectClientReady(_) => "ExpectClientReady",
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
            (State::ExpectClientHello, HandshakeMessage::ClientHello(hello)) => {
                self.on_client_hello(common, hello)?
            }
            (State::ExpectClientKey(offer), HandshakeMessage::SendingKey(key)) => {
                let named = (
                    &offer.hello.hello.reg_handle[..],
                    &offer.hello.hello.key_handle[..],
                    offer.hello.hello.key_algorithm,
                );
                let now = common.now_secs();
                self.config
                    .peer_keys
                    .validate_with_quirks(&key, named, now, common.quirks)
                    .map_err(|reason| common.reject_peer_key(reason))?; // BT-HS-7
                if common.quirk(Quirk::CacheBeforeCompletion) {
                    self.config.peer_keys.learn(&key, now); // quirk: breaks BT-CACHE-1
                }
                common.send_handshake(&HandshakeMessage::SuccessfulValidation);
                let hello = self.send_server_hello(common, offer, None, key, true)?;
                State::ExpectClientVerdict(hello)
            }
            (State::ExpectClientVerdict(hello), HandshakeMessage::SendKey) => {
                if self.config.may_send_key {
                    let published = hello.offer.key.published.clone();
                    common.send_handshake(&HandshakeMessage::SendingKey(published));
                    State::ExpectClientVerdictAfterKey(hello)
                } else {
                    common.send_handshake(&HandshakeMessage::CannotSendKey); // BT-HS-9
                    State::ExpectClientHello
                }
            }
            (
                State::ExpectClientVerdict(hello) | State::ExpectClientVerdictAfterKey(hello),
                HandshakeMessage::SuccessfulValidation,
            ) => self.send_session_details(common, hello)?,
            (
                State::ExpectClientVerdict(_) | State::ExpectClientVerdictAfterKey(_),
                HandshakeMessage::FailedValidation(reason),
            ) => {
                common.push_event(super::Event::PeerRejectedKey(reason));
                State::PeerRejectedKey
            }
            (State::ExpectClientReady(neg), HandshakeMessage::ClientReady(ready)) => {
                self.on_client_ready(common, *neg, ready, before)?
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

    fn on_client_hello(&mut self, common: &mut Common, hello: ClientHello) -> Result<State, Error> {
        // BT-HS-28: the order of the checks decides the alert.
        if hello.hello.version != PROTOCOL_VERSION && !common.quirk(Quirk::AcceptAnyVersion) {
            return Err(Error::UnsupportedVersion(hello.hello.version)); // BT-HS-3
        }
        let check_duplicates = !common.quirk(Quirk::AcceptDuplicateSuites);
        for (i, suite) in hello.cipher_suites.iter().enumerate() {
            if check_duplicates
                && hello
                    .cipher_suites
                    .get(..i)
                    .unwrap_or_default()
                    .contains(suite)
            {
                return Err(IllegalParameter::DuplicateCipherSuite.into()); // BT-MSG-3
            }
        }
        let algorithm = hello.hello.key_algorithm;
        if !self.tried.is_empty()
            && (self.tried.contains(&algorithm) || hello.hello.session_id.is_some())
            && !common.quirk(Quirk::IgnoreRetryLimit)
        {
            return Err(IllegalParameter::InvalidRetry.into()); // BT-HS-16
        }
        let key = self
            .config
            .key_for(algorithm)
            .cloned()
            .ok_or(Error::UnsupportedKeyAlgorithm(algorithm))?; // BT-HS-4
        let suite = self
            .config
            .cipher_suites
            .iter()
            .copied()
            .find(|s| s.is_known() && hello.cipher_suites.contains(s))
            .ok_or(Error::NoCommonCipherSuite)?; // BT-HS-5, BT-HS-14
        if !validate_key_share(algorithm, &hello.hello.key_share)
            && !common.quirk(Quirk::SkipKeyShareValidation)
        {
            return Err(IllegalParameter::InvalidKeyShare.into()); // BT-MSG-4
        }
        self.tried.push(algorithm);

        let lax = Lax {
            parameters: common.quirk(Quirk::ResumeWithChangedParameters),
            lifetime: common.quirk(Quirk::IgnoreSessionLifetime),
        };
        if let Some(session) = self.resumable(&hello, common.now_ms, lax) {
            return self.resume(common, hello, session);
        }
        let offer = Offer { hello, key, suite };
        let peer_keys = &self.config.peer_keys;
        let named = (
            &offer.hello.hello.reg_handle[..],
            &offer.hello.hello.key_handle[..],
            algorithm,
        );
        let now = common.now_secs();
        let resolved = peer_keys
            .resolve_with_quirks(named, now, common.quirks)
            .map_err(|reason| common.reject_peer_key(reason))?; // BT-KEY-3, BT-HS-6
        match resolved {
            Resolved::Unknown => {
                common.send_handshake(&HandshakeMessage::SendKey); // BT-HS-6
                Ok(State::ExpectClientKey(offer))
            }
            Resolved::Accepted(client_key, source) => {
                let learned = source.is_learned();
                let hello = self.send_server_hello(common, offer, None, client_key, learned)?;
                Ok(State::ExpectClientVerdict(hello))
            }
        }
    }

    /// BT-RES-3: the stored session this hello may resume, if any; `lax` names the checks a
    /// quirk turns off.
    fn resumable(&self, hello: &ClientHello, now_ms: u64, lax: Lax) -> Option<StoredSession> {
        let id = hello.hello.session_id?;
        if !self.config.resumption {
            return None;
        }
        let session = self.config.sessions.get(&id)?;
        let lifetime = u64::try_from(self.config.session_lifetime.as_millis()).unwrap_or(u64::MAX);
        // The age counts from the full handshake: a resumption does not renew it (bTLS 1.1).
        let fresh = lax.lifetime || now_ms.saturating_sub(session.created_ms) < lifetime;
        let same_client = session.client_key.matches(
            &hello.hello.reg_handle,
            &hello.hello.key_handle,
            hello.hello.key_algorithm,
        );
        let suite_ok = hello.cipher_suites.contains(&session.cipher_suite)
            && self.config.cipher_suites.contains(&session.cipher_suite);
        let key_held = self
            .config
            .keys
            .iter()
            .any(|k| k.published == session.server_key);
        (fresh && ((same_client && suite_ok) || lax.parameters) && key_held).then_some(session)
    }

    fn resume(
        &mut self,
        common: &mut Common,
        hello: ClientHello,
        session: StoredSession,
    ) -> Result<State, Error> {
        if common.quirk(Quirk::RenewSessionOnResumption) {
            self.config.sessions.insert(StoredSession {
                created_ms: common.now_ms,
                ..session.clone()
            });
        }
        let key = self
            .config
            .keys
            .iter()
            .find(|k| k.published == session.server_key)
            .cloned()
            .ok_or(Error::Internal("session key no longer held"))?;
        let ephemeral = EphemeralKey::generate(hello.hello.key_algorithm, common.rng.as_mut())
            .ok_or(Error::Internal("ephemeral key generation failed"))?;
        let lax = common.quirk(Quirk::SkipKeyShareValidation);
        let shared = super::agree(&ephemeral, &hello.hello.key_share, lax)?;
        let server_hello = ServerHello {
            hello: crate::msgs::Hello {
                version: PROTOCOL_VERSION,
                random: common.random::<32>(),
                session_id: Some(session.session_id),
                key_algorithm: hello.hello.key_algorithm,
                reg_handle: session.server_key.reg_handle.clone(),
                key_handle: session.server_key.key_handle.clone(),
                key_share: ephemeral.public_share().to_vec(),
            },
        };
        common.send_handshake(&HandshakeMessage::ServerHello(server_hello));
        let schedule = KeySchedule::new(Some(&session.resumption_secret), &shared); // BT-RES-4
        let h_k = common.transcript.current(); // BT-KS-3
        let verify_data = hmac_sha256(schedule.server_ready_key().as_ref(), &h_k);
        common.send_handshake(&HandshakeMessage::ServerReady(ServerReady { verify_data }));
        common.enable_write(session.cipher_suite, &schedule.server_traffic(&h_k))?;
        Ok(State::ExpectClientReady(Box::new(Negotiated {
            key,
            client_random: hello.hello.random,
            peer_key: session.client_key,
            peer_key_learned: false,
            schedule,
            h_k,
            session_id: session.session_id,
            suite: session.cipher_suite,
            resumed: true,
        })))
    }

    /// BT-HS-8: SERVER_HELLO with the server's key of the client's algorithm.
    fn send_server_hello(
        &mut self,
        common: &mut Common,
        offer: Offer,
        session_id: Option<[u8; SESSION_ID_LEN]>,
        client_key: PublishedKey,
        client_key_learned: bool,
    ) -> Result<Hello, Error> {
        let algorithm = offer.hello.hello.key_algorithm;
        let ephemeral = EphemeralKey::generate(algorithm, common.rng.as_mut())
            .ok_or(Error::Internal("ephemeral key generation failed"))?;
        let lax = common.quirk(Quirk::SkipKeyShareValidation);
        let shared = super::agree(&ephemeral, &offer.hello.hello.key_share, lax)?; // BT-KS-1
        let server_hello = ServerHello {
            hello: crate::msgs::Hello {
                version: PROTOCOL_VERSION,
                random: common.random::<32>(),
                session_id,
                key_algorithm: algorithm,
                reg_handle: offer.key.published.reg_handle.clone(),
                key_handle: offer.key.published.key_handle.clone(),
                key_share: ephemeral.public_share().to_vec(),
            },
        };
        common.send_handshake(&HandshakeMessage::ServerHello(server_hello));
        Ok(Hello {
            offer,
            client_key,
            client_key_learned,
            shared,
        })
    }

    /// BT-HS-12, BT-HS-13, BT-HS-20.
    fn send_session_details(&mut self, common: &mut Common, hello: Hello) -> Result<State, Error> {
        let session_id = common.random::<SESSION_ID_LEN>();
        let suite = hello.offer.suite;
        let before = common.transcript.current();
        let tbs = SessionDetails::to_be_signed(&before, &session_id, suite);
        let signature = hello.offer.key.signing.sign(&tbs);
        common.send_handshake(&HandshakeMessage::SessionDetails(SessionDetails {
            session_id,
            cipher_suite: suite,
            signature,
        }));
        let schedule = KeySchedule::new(None, &hello.shared);
        let h_k = common.transcript.current();
        if common.quirk(Quirk::EarlyServerReady) {
            // quirk: breaks BT-HS-23, SERVER_READY before CLIENT_READY, over what was sent so far
            let verify_data = hmac_sha256(schedule.server_ready_key().as_ref(), &h_k);
            common.send_handshake(&HandshakeMessage::ServerReady(ServerReady { verify_data }));
            self.sent_ready = true;
        }
        let neg = Negotiated {
            key: hello.offer.key,
            client_random: hello.offer.hello.hello.random,
            peer_key: hello.client_key,
            peer_key_learned: hello.client_key_learned,
            schedule,
            h_k,
            session_id,
            suite,
            resumed: false,
        };
        if common.quirk(Quirk::StoreSessionEarly) && self.config.resumption {
            self.config
                .sessions
                .insert(neg.session(common, Side::Server));
        }
        Ok(State::ExpectClientReady(Box::new(neg)))
    }

    fn on_client_ready(
        &mut self,
        common: &mut Common,
        neg: Negotiated,
        ready: ClientReady,
        before: [u8; 32],
    ) -> Result<State, Error> {
        if neg.resumed {
            if !ready.signature.is_empty() {
                return Err(IllegalParameter::SignatureInResumedHandshake.into());
                // BT-RES-6
            }
        } else if common.quirk(Quirk::SkipClientSignature) {
            // quirk: breaks BT-HS-21
        } else if ready.signature.is_empty()
            || !verify_signature(
                neg.peer_key.key_algorithm,
                &neg.peer_key.public_key,
                &ClientReady::to_be_signed(&before),
                &ready.signature,
            )
        {
            return Err(Error::BadClientSignature); // BT-HS-21
        }
        if !common.quirk(Quirk::SkipClientReadyMac)
            && !hmac_verify(
                neg.schedule.client_ready_key().as_ref(),
                &before,
                &ready.verify_data,
            )
        {
            return Err(Error::BadReadyMac(HandshakeCode::CLIENT_READY)); // BT-HS-22
        }
        common.enable_read(neg.suite, &neg.client_traffic())?;
        if !neg.resumed && !self.sent_ready {
            let mac_input = common.transcript.current();
            let verify_data = hmac_sha256(neg.schedule.server_ready_key().as_ref(), &mac_input);
            common.send_handshake(&HandshakeMessage::ServerReady(ServerReady { verify_data }));
            common.enable_write(neg.suite, &neg.server_traffic())?;
        } else if !neg.resumed {
            common.enable_write(neg.suite, &neg.server_traffic())?;
        }
        let config = self.config.clone();
        if let Some(session) = neg.complete(common, Side::Server, &config.peer_keys) {
            if config.resumption {
                config.sessions.insert(session);
            }
        }
        Ok(State::Established)
    }
}
