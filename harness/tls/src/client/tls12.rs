//! The TLS 1.2 full handshake of the harness's client (RFC 5246 §7.3) with an ECDHE key
//! exchange (RFC 8422), AEAD records (RFC 5288, RFC 7905) and the extended master secret
//! (RFC 7627) when the server agrees to it.

use super::{
    agreement_alg, decode_failure, ephemeral, no_key, violation, webpki_alg, ClientPeer,
    Established, Failure, Hold, SpoilFinished, State,
};
use crate::codec::{put_vec, Reader};
use crate::keys::{RecordKey, RecordKey12, Suite12};
use crate::msgs::{
    decode_certificate12, handshake_message, AlertDescription as A, ContentType, ExtensionType,
    HandshakeType, NamedGroup, ProtocolVersion, Record, ServerHello, SignatureScheme,
};
use aws_lc_rs::agreement;
use rustls_pki_types::CertificateDer;

/// The server's first flight, as far as it has come.
pub(super) struct Flight12 {
    pub(super) suite: Suite12,
    session_id: Vec<u8>,
    ticket_expected: bool,
    server_random: [u8; 32],
    extended: bool,
    next: HandshakeType,
    certificates: Vec<Vec<u8>>,
    server_share: Option<(NamedGroup, Vec<u8>)>,
    scheme: Option<SignatureScheme>,
}

impl Flight12 {
    pub(super) fn state_name(&self) -> &'static str {
        match self.next {
            HandshakeType::CERTIFICATE => "WAIT_CERTIFICATE",
            HandshakeType::SERVER_KEY_EXCHANGE => "WAIT_SERVER_KEY_EXCHANGE",
            _ => "WAIT_SERVER_HELLO_DONE",
        }
    }
}

/// After the client's Finished: what checking the server's takes.
pub(super) struct Finish12 {
    /// Whether the server's change_cipher_spec has come.
    pub(super) ccs: bool,
    pub(super) suite: Suite12,
    pub(super) master: Vec<u8>,
    pub(super) server_key: Option<RecordKey12>,
    /// The client's own keys, when its change_cipher_spec and Finished follow the server's
    /// (the abbreviated handshake, RFC 5246 §7.3 figure 2).
    pub(super) client_key: Option<RecordKey12>,
    pub(super) established: Established,
    /// The session the handshake makes or resumes (RFC 5246 §7.4.1.3, RFC 5077).
    pub(super) session_id: Vec<u8>,
    pub(super) extended: bool,
    /// Whether the ServerHello acknowledged the session_ticket extension (RFC 5077 §3.2).
    pub(super) ticket_expected: bool,
    pub(super) ticket: Option<Vec<u8>>,
}

/// RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3 server's random when it negotiates TLS 1.2.
const DOWNGRADE_TO_12: [u8; 8] = *b"DOWNGRD\x01";

impl ClientPeer {
    pub(super) fn on_server_hello12(
        &mut self,
        sh: ServerHello,
        whole: &[u8],
    ) -> Result<(), Failure> {
        if self.config.versions.contains(&ProtocolVersion::TLS13)
            && sh.random.get(24..) == Some(DOWNGRADE_TO_12.as_slice())
        {
            return Err(violation(
                "RFC8446-4.1.3",
                "a TLS 1.2 ServerHello whose random ends in DOWNGRD\\x01, to a client that offered TLS 1.3",
                A::ILLEGAL_PARAMETER,
            ));
        }
        if !self.hello.cipher_suites.contains(&sh.cipher_suite) {
            return Err(violation(
                "RFC5246-7.4.1.3",
                format!(
                    "the server chose {}, which was not offered",
                    sh.cipher_suite
                ),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let suite = Suite12::new(sh.cipher_suite).ok_or_else(|| {
            violation(
                "RFC5246-7.4.1.3",
                format!(
                    "{} is not a TLS 1.2 AEAD suite of the harness's",
                    sh.cipher_suite
                ),
                A::ILLEGAL_PARAMETER,
            )
        })?;
        if sh.compression_method != 0 {
            return Err(violation(
                "RFC5246-7.4.1.3",
                format!(
                    "compression method {} was not offered",
                    sh.compression_method
                ),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let mut transcript = suite.transcript();
        transcript.add(&self.hello_bytes);
        transcript.add(whole);
        self.transcript = Some(transcript);
        if self.resumes(&sh) {
            return self.abbreviated12(suite, &sh);
        }
        self.state = State::Flight12(Box::new(Flight12 {
            suite,
            session_id: sh.session_id.clone(),
            ticket_expected: sh.extension(ExtensionType::SESSION_TICKET).is_some(),
            server_random: sh.random,
            extended: sh
                .extension(ExtensionType::EXTENDED_MASTER_SECRET)
                .is_some(),
            next: HandshakeType::CERTIFICATE,
            certificates: Vec::new(),
            server_share: None,
            scheme: None,
        }));
        Ok(())
    }

    pub(super) fn on_flight12(
        &mut self,
        mut f: Flight12,
        typ: HandshakeType,
        whole: &[u8],
    ) -> Result<(), Failure> {
        let body = whole.get(4..).unwrap_or_default();
        if typ == HandshakeType::CERTIFICATE_REQUEST && f.next == HandshakeType::SERVER_HELLO_DONE {
            return Err(violation(
                "RFC5246-7.4.4",
                "a CertificateRequest: the harness's client does not authenticate yet",
                A::HANDSHAKE_FAILURE,
            ));
        }
        if typ != f.next {
            return Err(violation(
                "RFC5246-7.3",
                format!("{typ} where {} was due", f.next),
                A::UNEXPECTED_MESSAGE,
            ));
        }
        if let Some(t) = self.transcript.as_mut() {
            t.add(whole);
        }
        match typ {
            HandshakeType::CERTIFICATE => {
                f.certificates =
                    decode_certificate12(body).map_err(|e| decode_failure("RFC5246-7.4.2", e))?;
                if f.certificates.is_empty() {
                    return Err(violation(
                        "RFC5246-7.4.2",
                        "an empty certificate list",
                        A::DECODE_ERROR,
                    ));
                }
                // RFC 5246 §7.4.3: no ServerKeyExchange with the RSA key exchange.
                f.next = if f.suite.rsa_kx {
                    HandshakeType::SERVER_HELLO_DONE
                } else {
                    HandshakeType::SERVER_KEY_EXCHANGE
                };
            }
            HandshakeType::SERVER_KEY_EXCHANGE => {
                let (group, point, scheme) = self.server_key_exchange(&f, body)?;
                f.server_share = Some((group, point));
                f.scheme = Some(scheme);
                f.next = HandshakeType::SERVER_HELLO_DONE;
            }
            _ => {
                if !body.is_empty() {
                    return Err(violation(
                        "RFC5246-7.4.5",
                        format!("a ServerHelloDone with {} bytes of body", body.len()),
                        A::DECODE_ERROR,
                    ));
                }
                return self.client_flight12(f);
            }
        }
        self.state = State::Flight12(Box::new(f));
        Ok(())
    }

    /// RFC 8422 §5.4: ECDHE parameters (named curve, point) and their signature over both
    /// randoms and the parameters, by the certificate's key.
    fn server_key_exchange(
        &self,
        f: &Flight12,
        body: &[u8],
    ) -> Result<(NamedGroup, Vec<u8>, SignatureScheme), Failure> {
        let bad = |e| decode_failure("RFC8422-5.4", e);
        let mut r = Reader::new(body);
        let curve_type = r.u8("ServerECDHParams.curve_type").map_err(bad)?;
        if curve_type != 3 {
            return Err(violation(
                "RFC8422-5.4",
                format!("curve_type {curve_type}, not named_curve (3)"),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let group = NamedGroup(r.u16("ServerECDHParams.namedcurve").map_err(bad)?);
        let point = r.vec(1, "ServerECDHParams.point").map_err(bad)?.to_vec();
        let params = body.get(..4 + point.len()).unwrap_or_default();
        let scheme = SignatureScheme(r.u16("ServerKeyExchange.algorithm").map_err(bad)?);
        let signature = r.vec(2, "ServerKeyExchange.signature").map_err(bad)?;
        r.finish("ServerKeyExchange").map_err(bad)?;
        let offered: Vec<NamedGroup> = self.config.groups.clone();
        if !offered.contains(&group) {
            return Err(violation(
                "RFC8422-5.4",
                format!("the server chose {group}, which was not offered"),
                A::ILLEGAL_PARAMETER,
            ));
        }
        if !self.config.signature_schemes.contains(&scheme) {
            return Err(violation(
                "RFC5246-7.4.1.4.1",
                format!("the server signed with {scheme}, which was not offered"),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let alg = webpki_alg(scheme).ok_or_else(|| {
            violation(
                "RFC5246-7.4.3",
                format!("{scheme} cannot be checked"),
                A::ILLEGAL_PARAMETER,
            )
        })?;
        let leaf = f
            .certificates
            .first()
            .map(|c| CertificateDer::from(c.as_slice()));
        let cert = leaf
            .as_ref()
            .and_then(|d| webpki::EndEntityCert::try_from(d).ok())
            .ok_or_else(|| {
                violation(
                    "RFC5246-7.4.2",
                    "the leaf certificate does not parse",
                    A::BAD_CERTIFICATE,
                )
            })?;
        let signed = [self.hello.random.as_slice(), &f.server_random, params].concat();
        cert.verify_signature(alg, &signed, signature)
            .map_err(|e| {
                violation(
                    "RFC5246-7.4.3",
                    format!("the ServerKeyExchange signature does not verify: {e}"),
                    A::DECRYPT_ERROR,
                )
            })?;
        Ok((group, point, scheme))
    }

    /// The ECDHE half of the key exchange: the group, the premaster, the ClientKeyExchange body.
    fn ecdhe_exchange(&mut self, f: &Flight12) -> Result<(NamedGroup, Vec<u8>, Vec<u8>), Failure> {
        let (group, share) = f.server_share.clone().ok_or_else(no_key)?;
        let alg = agreement_alg(group).ok_or_else(no_key)?;
        let key = ephemeral(group, &mut self.rng).ok_or_else(no_key)?;
        let public = key.compute_public_key().map_err(|_| no_key())?;
        let pre_master = agreement::agree(
            &key,
            agreement::UnparsedPublicKey::new(alg, &share),
            (),
            |m| Ok(m.to_vec()),
        )
        .map_err(|()| {
            violation(
                "RFC8422-5.4",
                "the server's ECDHE point is not a valid point",
                A::ILLEGAL_PARAMETER,
            )
        })?;
        let mut body = Vec::new();
        put_vec(&mut body, 1, public.as_ref(), None);
        Ok((group, pre_master, body))
    }

    /// ClientKeyExchange, change_cipher_spec, Finished (RFC 5246 §7.3).
    fn client_flight12(&mut self, f: Flight12) -> Result<(), Failure> {
        if self.hold == Some(Hold::ClientKeyExchange) {
            self.held_version = ProtocolVersion::TLS12;
            self.state = State::Held(Hold::ClientKeyExchange);
            return Ok(());
        }
        let (group, pre_master, body) = if f.suite.rsa_kx {
            let leaf = f.certificates.first().ok_or_else(no_key)?;
            let (pre_master, encrypted) =
                super::rsa12::encrypted_premaster(leaf, self.bad_premaster, &mut self.rng)
                    .ok_or_else(|| {
                        violation(
                            "RFC5246-7.4.7.1",
                            "the server's certificate has no RSA key to encrypt the premaster to",
                            A::UNSUPPORTED_CERTIFICATE,
                        )
                    })?;
            let mut body = Vec::new();
            put_vec(&mut body, 2, &encrypted, None);
            (NamedGroup(0), pre_master, body)
        } else {
            self.ecdhe_exchange(&f)?
        };
        let cke = handshake_message(HandshakeType::CLIENT_KEY_EXCHANGE, &body, None);
        self.seal(ContentType::HANDSHAKE, &cke)?;
        let transcript = self.transcript.as_mut().ok_or_else(no_key)?;
        transcript.add(&cke);
        let master = f.suite.master_secret(
            &pre_master,
            f.extended,
            &transcript.current(),
            &self.hello.random,
            &f.server_random,
        );
        let verify = f
            .suite
            .finished(&master, "client finished", &transcript.current());
        self.key_log.push(format!(
            "CLIENT_RANDOM {} {}",
            hex::encode(&self.hello.random),
            hex::encode(&master)
        ));
        let (client_key, server_key) = f
            .suite
            .record_keys(&master, &self.hello.random, &f.server_random)
            .ok_or_else(no_key)?;
        if self.hold == Some(Hold::ChangeCipherSpec) {
            self.held_version = ProtocolVersion::TLS12;
            self.state = State::Held(Hold::ChangeCipherSpec);
            return Ok(());
        }
        let ccs = Record {
            content_type: ContentType::CHANGE_CIPHER_SPEC,
            version: ProtocolVersion::TLS12,
            fragment: vec![1],
        };
        self.output.extend_from_slice(&ccs.encode(None));
        self.tx = Some(RecordKey::V12(client_key));
        if self.hold == Some(Hold::Finished) {
            self.held_version = ProtocolVersion::TLS12;
            self.state = State::Held(Hold::Finished);
            return Ok(());
        }
        let finished = self.send_finished(verify)?;
        if let Some(t) = self.transcript.as_mut() {
            t.add(&finished);
        }
        self.state = State::WaitFinished12(Box::new(Finish12 {
            ccs: false,
            suite: f.suite,
            master,
            server_key: Some(server_key),
            client_key: None,
            established: Established {
                version: ProtocolVersion::TLS12,
                suite: f.suite.suite,
                group,
                certificates: f.certificates,
                signature_scheme: f.scheme.unwrap_or(SignatureScheme(0)),
                resumed: false,
            },
            session_id: f.session_id,
            extended: f.extended,
            ticket_expected: f.ticket_expected,
            ticket: None,
        }));
        Ok(())
    }

    /// Seals a Finished with `verify` as its verify_data, spoiled as the case asks; the message
    /// as the transcript counts it.
    pub(super) fn send_finished(&mut self, mut verify: Vec<u8>) -> Result<Vec<u8>, Failure> {
        if self.spoil_finished == Some(SpoilFinished::VerifyData) {
            if let Some(b) = verify.first_mut() {
                *b ^= 0x01;
            }
        }
        let finished = handshake_message(HandshakeType::FINISHED, &verify, None);
        let start = self.output.len();
        self.seal(ContentType::HANDSHAKE, &finished)?;
        if let Some(SpoilFinished::Flip(at)) = self.spoil_finished {
            self.flip_in_record(start, at);
        }
        Ok(finished)
    }

    /// A change_cipher_spec record: TLS 1.2's switch to the server's keys (RFC 5246 §7.1), or
    /// TLS 1.3's compatibility record, dropped (RFC 8446 D.4).
    pub(super) fn change_cipher_spec(&mut self, fragment: &[u8]) -> Result<(), Failure> {
        match &mut self.state {
            State::WaitFinished12(f) if !f.ccs => {
                if fragment != [1] {
                    return Err(violation(
                        "RFC5246-7.1",
                        format!("a change_cipher_spec of {fragment:02x?}, not [01]"),
                        A::DECODE_ERROR,
                    ));
                }
                f.ccs = true;
                self.rx = f.server_key.take().map(RecordKey::V12);
                Ok(())
            }
            State::WaitServerHello | State::WaitFlight { .. } if fragment == [1] => Ok(()),
            _ => Err(violation(
                "RFC5246-7.1",
                format!("change_cipher_spec in state {}", self.state_name()),
                A::UNEXPECTED_MESSAGE,
            )),
        }
    }

    pub(super) fn on_finished12(&mut self, finish: Finish12, whole: &[u8]) -> Result<(), Failure> {
        let body = whole.get(4..).unwrap_or_default();
        let transcript = self.transcript.as_mut().ok_or_else(no_key)?;
        let want = finish
            .suite
            .finished(&finish.master, "server finished", &transcript.current());
        if body != want.as_slice() {
            return Err(violation(
                "RFC5246-7.4.9",
                "the server's Finished does not verify",
                A::DECRYPT_ERROR,
            ));
        }
        transcript.add(whole);
        if !self.protected.is_empty() {
            return Err(violation(
                "RFC5246-7.4",
                "handshake data after the server's Finished",
                A::UNEXPECTED_MESSAGE,
            ));
        }
        if finish.client_key.is_some() {
            return self.finish_abbreviated12(finish);
        }
        self.keep_session12(&finish);
        self.state = State::Established(finish.established);
        Ok(())
    }
}
