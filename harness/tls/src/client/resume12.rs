//! TLS 1.2 session resumption in the harness's client: the abbreviated handshake by session ID
//! (RFC 5246 §7.3, figure 2; §7.4.1.2–3) and by RFC 5077 session ticket, with the checks the
//! RFCs ask of a client (the resumed session keeps its suite, RFC 5246 §7.4.1.3; the extended
//! master secret stays as it was, RFC 7627 §5.3).

use super::tls12::Finish12;
use super::{no_key, violation, ClientPeer, Established, Failure, State};
use crate::codec::Reader;
use crate::keys::{RecordKey, Suite12};
use crate::msgs::{
    AlertDescription as A, CipherSuite, ContentType, Extension, ExtensionType, ProtocolVersion,
    Record, ServerHello, SignatureScheme,
};
use rand_core::RngCore;

/// A TLS 1.2 session the client keeps after a full handshake, to offer on a later connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved12 {
    /// The session ID the server gave (empty when it keeps no cache).
    pub session_id: Vec<u8>,
    /// The RFC 5077 ticket the server sent, if any.
    pub ticket: Option<Vec<u8>>,
    /// The master secret.
    pub master: Vec<u8>,
    /// The suite the session was made with.
    pub suite: CipherSuite,
    /// Whether the session used the extended master secret (RFC 7627).
    pub extended: bool,
}

/// How a saved session is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Its session ID alone.
    SessionId,
    /// Its ticket, with a fresh session ID of the client's (RFC 5077 §3.4).
    Ticket,
    /// Its ticket with one byte flipped, which no server can open.
    ForgedTicket,
}

impl ClientPeer {
    /// Offers `saved` in the ClientHello, which must not be sent yet.
    pub fn offer_session(&mut self, saved: &Saved12, how: Offer) {
        match how {
            Offer::SessionId => {
                self.hello.session_id = saved.session_id.clone();
                self.hello
                    .extensions
                    .retain(|e| e.typ != ExtensionType::SESSION_TICKET);
            }
            Offer::Ticket | Offer::ForgedTicket => {
                let mut ticket = saved.ticket.clone().unwrap_or_default();
                if how == Offer::ForgedTicket {
                    let middle = ticket.len() / 2;
                    if let Some(b) = ticket.get_mut(middle) {
                        *b ^= 0x01;
                    }
                }
                // RFC 5077 §3.4: a session ID of the client's own, echoed if the ticket is taken.
                let mut id = vec![0u8; 32];
                self.rng.fill_bytes(&mut id);
                self.hello.session_id = id;
                self.hello
                    .extensions
                    .retain(|e| e.typ != ExtensionType::SESSION_TICKET);
                self.hello.extensions.push(Extension {
                    typ: ExtensionType::SESSION_TICKET,
                    data: ticket,
                });
            }
        }
        self.resume = Some(saved.clone());
    }

    /// The session this connection's full TLS 1.2 handshake made, once complete.
    pub fn saved_session(&self) -> Option<&Saved12> {
        self.saved.as_ref()
    }

    /// Whether this ServerHello resumes the offered session: it echoes the session ID the
    /// client sent for it (RFC 5246 §7.4.1.3, RFC 5077 §3.4).
    pub(super) fn resumes(&self, sh: &ServerHello) -> bool {
        self.resume.is_some() && !sh.session_id.is_empty() && sh.session_id == self.hello.session_id
    }

    /// The server resumed: keys from the saved master secret and the new randoms; the server's
    /// change_cipher_spec and Finished come first.
    pub(super) fn abbreviated12(
        &mut self,
        suite: Suite12,
        sh: &ServerHello,
    ) -> Result<(), Failure> {
        let saved = self.resume.clone().ok_or_else(no_key)?;
        if sh.cipher_suite != saved.suite {
            return Err(violation(
                "RFC5246-7.4.1.3",
                format!(
                    "the session was made with {}, the resuming ServerHello chose {}",
                    saved.suite, sh.cipher_suite
                ),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let extended = sh
            .extension(ExtensionType::EXTENDED_MASTER_SECRET)
            .is_some();
        if extended != saved.extended {
            return Err(violation(
                "RFC7627-5.3",
                if saved.extended {
                    "the session used the extended master secret; the resuming ServerHello does not"
                } else {
                    "the session had no extended master secret; the resuming ServerHello has it"
                },
                A::HANDSHAKE_FAILURE,
            ));
        }
        let (client_key, server_key) = suite
            .record_keys(&saved.master, &self.hello.random, &sh.random)
            .ok_or_else(no_key)?;
        self.key_log.push(format!(
            "CLIENT_RANDOM {} {}",
            hex::encode(&self.hello.random),
            hex::encode(&saved.master)
        ));
        self.state = State::WaitFinished12(Box::new(Finish12 {
            ccs: false,
            suite,
            master: saved.master.clone(),
            server_key: Some(server_key),
            client_key: Some(client_key),
            established: Established {
                version: ProtocolVersion::TLS12,
                suite: saved.suite,
                group: crate::msgs::NamedGroup(0),
                certificates: Vec::new(),
                signature_scheme: SignatureScheme(0),
                resumed: true,
            },
            session_id: sh.session_id.clone(),
            extended,
            ticket_expected: sh.extension(ExtensionType::SESSION_TICKET).is_some(),
            ticket: None,
        }));
        Ok(())
    }

    /// RFC 5077 §3.3: NewSessionTicket (lifetime hint, ticket), part of the transcript.
    pub(super) fn on_ticket12(
        &mut self,
        mut finish: Finish12,
        whole: &[u8],
    ) -> Result<(), Failure> {
        let body = whole.get(4..).unwrap_or_default();
        let mut r = Reader::new(body);
        let bad = |e| super::decode_failure("RFC5077-3.3", e);
        r.u16("NewSessionTicket.ticket_lifetime_hint (high)")
            .and_then(|_| r.u16("NewSessionTicket.ticket_lifetime_hint (low)"))
            .map_err(bad)?;
        let ticket = r.vec(2, "NewSessionTicket.ticket").map_err(bad)?.to_vec();
        r.finish("NewSessionTicket").map_err(bad)?;
        if let Some(t) = self.transcript.as_mut() {
            t.add(whole);
        }
        finish.ticket = Some(ticket);
        self.state = State::WaitFinished12(Box::new(finish));
        Ok(())
    }

    /// The abbreviated handshake's end: the client's change_cipher_spec and Finished.
    pub(super) fn finish_abbreviated12(&mut self, mut finish: Finish12) -> Result<(), Failure> {
        let transcript = self.transcript.as_ref().ok_or_else(no_key)?;
        let verify =
            finish
                .suite
                .finished(&finish.master, "client finished", &transcript.current());
        let ccs = Record {
            content_type: ContentType::CHANGE_CIPHER_SPEC,
            version: ProtocolVersion::TLS12,
            fragment: vec![1],
        };
        self.output.extend_from_slice(&ccs.encode(None));
        self.tx = finish.client_key.take().map(RecordKey::V12);
        let finished = self.send_finished(verify)?;
        if let Some(t) = self.transcript.as_mut() {
            t.add(&finished);
        }
        self.keep_session12(&finish);
        self.state = State::Established(finish.established);
        Ok(())
    }

    /// Keeps the session a handshake made (or renewed with a new ticket) for later connections.
    pub(super) fn keep_session12(&mut self, finish: &Finish12) {
        let old_ticket = self.resume.as_ref().and_then(|r| r.ticket.clone());
        self.saved = Some(Saved12 {
            session_id: finish.session_id.clone(),
            ticket: finish.ticket.clone().or(old_ticket),
            master: finish.master.clone(),
            suite: finish.established.suite,
            extended: finish.extended,
        });
    }
}
