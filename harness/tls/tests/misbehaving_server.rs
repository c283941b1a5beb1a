//! The harness's TLS 1.3 client against a scripted server that breaks one rule at a time: each
//! check the client makes of a server (the flight's order, record protection, the key change on
//! a record boundary, CertificateVerify's signature and scheme, Finished) must fire, with the
//! RFC's alert. A correct flight from the same script completes, so each failure is the rule's.
//! The certificate and key come from `scripts/tls-certs.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use aws_lc_rs::{agreement, rand, signature};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::process::Command;
use tls_profile::client::{ClientPeer, Config13, Failure};
use tls_profile::codec::{put_uint, put_vec, Reader};
use tls_profile::keys::{RecordKey13, Secrets13, Suite13, Transcript};
use tls_profile::msgs::{
    handshake_message, AlertDescription, CipherSuite, ContentType, ExtensionType, HandshakeType,
    NamedGroup, ProtocolVersion, Record, SignatureScheme,
};

/// The ECDSA P-256 server certificate (DER) and its PKCS#8 key, made once for all the tests.
fn server_identity() -> (Vec<u8>, Vec<u8>) {
    static IDENTITY: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(make_identity).clone()
}

fn make_identity() -> (Vec<u8>, Vec<u8>) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tls-certs.sh");
    let ok = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(ok.success(), "{} failed", script.display());
    let cert = CertificateDer::pem_file_iter(dir.join("server-ecdsa.pem"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server-ecdsa.key")).unwrap();
    (cert.as_ref().to_vec(), key.secret_der().to_vec())
}

/// A TLS 1.3 server (TLS_AES_128_GCM_SHA256, X25519) scripted message by message.
struct Server {
    suite: Suite13,
    transcript: Transcript,
    secrets: Secrets13,
    key: RecordKey13,
    server_hello: Vec<u8>,
}

impl Server {
    /// The server's answer to the ClientHello `peer` sent.
    fn answer(peer: &ClientPeer) -> Self {
        let hello = peer.hello_message();
        let share = peer
            .hello
            .extension(ExtensionType::KEY_SHARE)
            .map(|e| {
                let mut r = Reader::new(&e.data);
                let mut list = Reader::new(r.vec(2, "list").unwrap());
                assert_eq!(list.u16("group").unwrap(), NamedGroup::X25519.0);
                list.vec(2, "share").unwrap().to_vec()
            })
            .unwrap();
        let private =
            agreement::PrivateKey::from_private_key(&agreement::X25519, &[9u8; 32]).unwrap();
        let public = private.compute_public_key().unwrap().as_ref().to_vec();
        let shared = agreement::agree(
            &private,
            agreement::UnparsedPublicKey::new(&agreement::X25519, &share),
            (),
            |m| Ok::<_, ()>(m.to_vec()),
        )
        .unwrap();
        let mut body = Vec::new();
        put_uint(&mut body, 2, 0x0303);
        body.extend([0x5a; 32]);
        put_vec(&mut body, 1, &peer.hello.session_id, None);
        put_uint(
            &mut body,
            2,
            u32::from(CipherSuite::TLS_AES_128_GCM_SHA256.0),
        );
        body.push(0);
        let mut ext = Vec::new();
        put_uint(&mut ext, 2, u32::from(ExtensionType::SUPPORTED_VERSIONS.0));
        put_vec(&mut ext, 2, &[3, 4], None);
        put_uint(&mut ext, 2, u32::from(ExtensionType::KEY_SHARE.0));
        let mut entry = Vec::new();
        put_uint(&mut entry, 2, u32::from(NamedGroup::X25519.0));
        put_vec(&mut entry, 2, &public, None);
        put_vec(&mut ext, 2, &entry, None);
        put_vec(&mut body, 2, &ext, None);
        let server_hello = handshake_message(HandshakeType::SERVER_HELLO, &body, None);
        let suite = Suite13::new(CipherSuite::TLS_AES_128_GCM_SHA256).unwrap();
        let mut transcript = suite.transcript();
        transcript.add(&hello);
        transcript.add(&server_hello);
        let secrets = Secrets13::new(&suite, &shared, &transcript.current());
        let key = suite.record_key(&secrets.server_handshake).unwrap();
        Self {
            suite,
            transcript,
            secrets,
            key,
            server_hello,
        }
    }

    fn clear(message: &[u8]) -> Vec<u8> {
        Record {
            content_type: ContentType::HANDSHAKE,
            version: ProtocolVersion::TLS12,
            fragment: message.to_vec(),
        }
        .encode(None)
    }

    /// `message` protected, and counted in the server's transcript.
    fn protect(&mut self, message: &[u8]) -> Vec<u8> {
        self.transcript.add(message);
        self.key
            .seal(ContentType::HANDSHAKE, message, 0)
            .unwrap()
            .encode(None)
    }

    fn encrypted_extensions() -> Vec<u8> {
        handshake_message(HandshakeType::ENCRYPTED_EXTENSIONS, &[0, 0], None)
    }

    fn certificate(cert: &[u8]) -> Vec<u8> {
        let mut entry = Vec::new();
        put_vec(&mut entry, 3, cert, None);
        put_vec(&mut entry, 2, &[], None);
        let mut body = vec![0];
        put_vec(&mut body, 3, &entry, None);
        handshake_message(HandshakeType::CERTIFICATE, &body, None)
    }

    /// CertificateVerify over `hash` (RFC 8446 §4.4.3) with `scheme` on the wire.
    fn certificate_verify(key: &[u8], hash: &[u8], scheme: SignatureScheme) -> Vec<u8> {
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, key)
                .unwrap();
        let mut content = vec![0x20u8; 64];
        content.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
        content.extend_from_slice(hash);
        let sig = pair.sign(&rand::SystemRandom::new(), &content).unwrap();
        let mut body = Vec::new();
        put_uint(&mut body, 2, u32::from(scheme.0));
        put_vec(&mut body, 2, sig.as_ref(), None);
        handshake_message(HandshakeType::CERTIFICATE_VERIFY, &body, None)
    }

    fn finished(&self, right: bool) -> Vec<u8> {
        let mut verify = self
            .suite
            .finished(&self.secrets.server_handshake, &self.transcript.current());
        if !right {
            verify[0] ^= 1;
        }
        handshake_message(HandshakeType::FINISHED, &verify, None)
    }
}

/// A client offering TLS_AES_128_GCM_SHA256 over X25519, its ClientHello sent.
fn client(schemes: Option<Vec<SignatureScheme>>) -> ClientPeer {
    let mut config = Config13 {
        suites: vec![CipherSuite::TLS_AES_128_GCM_SHA256],
        groups: vec![NamedGroup::X25519],
        ..Config13::default()
    };
    if let Some(s) = schemes {
        config.signature_schemes = s;
    }
    let mut peer = ClientPeer::new(&config);
    peer.send_hello();
    let _ = peer.take_output();
    peer
}

fn alert(result: Result<(), Failure>) -> AlertDescription {
    match result {
        Err(Failure::Violation { alert, .. }) => alert,
        other => panic!("expected a violation, got {other:?}"),
    }
}

/// Runs the server's flight up to CertificateVerify (right, or as `cv` makes it).
fn through_certificate_verify(
    peer: &mut ClientPeer,
    cv: impl FnOnce(&[u8], &[u8]) -> Vec<u8>,
) -> Result<Server, Failure> {
    let (cert, key) = server_identity();
    let mut server = Server::answer(peer);
    peer.receive(&Server::clear(&server.server_hello))?;
    let ee = server.protect(&Server::encrypted_extensions());
    peer.receive(&ee)?;
    let certificate = server.protect(&Server::certificate(&cert));
    peer.receive(&certificate)?;
    let hash = server.transcript.current();
    let message = cv(&key, &hash);
    let record = server.protect(&message);
    peer.receive(&record)?;
    Ok(server)
}

fn right_cv(key: &[u8], hash: &[u8]) -> Vec<u8> {
    Server::certificate_verify(key, hash, SignatureScheme::ECDSA_SECP256R1_SHA256)
}

#[test]
fn the_scripted_server_completes_a_handshake_when_it_keeps_every_rule() {
    let mut peer = client(None);
    let server = through_certificate_verify(&mut peer, right_cv).unwrap();
    let mut server = server;
    let finished = server.finished(true);
    let record = server.protect(&finished);
    peer.receive(&record).unwrap();
    assert!(peer.is_established());
    assert_eq!(peer.key_log_lines().len(), 4);
}

#[test]
fn a_server_finished_that_does_not_verify_is_decrypt_error() {
    let mut peer = client(None);
    let mut server = through_certificate_verify(&mut peer, right_cv).unwrap();
    let finished = server.finished(false);
    let record = server.protect(&finished);
    assert_eq!(
        alert(peer.receive(&record)),
        AlertDescription::DECRYPT_ERROR
    );
    assert!(!peer.is_established());
}

#[test]
fn a_certificate_verify_over_another_transcript_is_decrypt_error() {
    let mut peer = client(None);
    let result = through_certificate_verify(&mut peer, |key, _| right_cv(key, &[0u8; 32]));
    assert_eq!(alert(result.map(|_| ())), AlertDescription::DECRYPT_ERROR);
}

#[test]
fn a_certificate_verify_with_a_scheme_not_offered_is_illegal_parameter() {
    let mut peer = client(Some(vec![SignatureScheme::ED25519]));
    let result = through_certificate_verify(&mut peer, right_cv);
    assert_eq!(
        alert(result.map(|_| ())),
        AlertDescription::ILLEGAL_PARAMETER
    );
}

#[test]
fn a_finished_where_encrypted_extensions_is_due_is_unexpected_message() {
    let mut peer = client(None);
    let mut server = Server::answer(&peer);
    peer.receive(&Server::clear(&server.server_hello)).unwrap();
    let finished = server.finished(true);
    let record = server.protect(&finished);
    assert_eq!(
        alert(peer.receive(&record)),
        AlertDescription::UNEXPECTED_MESSAGE
    );
    // The alert is protected: the client's handshake key is in place.
    assert_eq!(
        peer.take_output().first(),
        Some(&ContentType::APPLICATION_DATA.0)
    );
}

#[test]
fn a_protected_record_that_does_not_open_is_bad_record_mac() {
    let mut peer = client(None);
    let mut server = Server::answer(&peer);
    peer.receive(&Server::clear(&server.server_hello)).unwrap();
    let mut record = server.protect(&Server::encrypted_extensions());
    let last = record.len() - 1;
    record[last] ^= 1;
    assert_eq!(
        alert(peer.receive(&record)),
        AlertDescription::BAD_RECORD_MAC
    );
}

#[test]
fn handshake_data_after_the_server_hello_in_its_record_is_unexpected_message() {
    let mut peer = client(None);
    let server = Server::answer(&peer);
    let mut both = server.server_hello.clone();
    both.extend(Server::encrypted_extensions());
    assert_eq!(
        alert(peer.receive(&Server::clear(&both))),
        AlertDescription::UNEXPECTED_MESSAGE
    );
}
