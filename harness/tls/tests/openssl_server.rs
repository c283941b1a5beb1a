//! The harness's TLS 1.3 client against OpenSSL's `s_server` (Debian's 3.0) on an ephemeral
//! loopback port: every TLS 1.3 suite with X25519 and P-256 and each certificate type, and the
//! alert paths a server reaches from a ClientHello (no shared suite, no shared version, a
//! malformed hello). Each case names the RFC section it checks.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use tls_profile::blocking::Blocking;
use tls_profile::client13::{ClientPeer, Config13, Failure};
use tls_profile::msgs::{
    AlertDescription, CipherSuite, ClientHello, Extension, ExtensionType, NamedGroup,
    ProtocolVersion, SignatureScheme,
};
use tls_profile::server_process::{openssl_port, ServerProcess};

const HINT: &str =
    "the openssl program comes with Debian; scripts/install-tls-stacks.sh installs it";

/// The certificates, made once per build directory by the project's script.
fn certs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tls-certs.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .status()
        .map_err(|e| format!("{}: {e}", script.display()));
    assert!(
        matches!(status, Ok(s) if s.success()),
        "{} {} failed: {status:?}",
        script.display(),
        dir.display()
    );
    dir
}

/// `openssl s_server` for one connection, TLS 1.3 only, echoing lines reversed (`-rev`).
fn s_server(cert: &str, extra: &[&str]) -> ServerProcess {
    let dir = certs();
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-naccept",
        "1",
        "-rev",
        "-tls1_3",
    ])
    .arg("-cert")
    .arg(dir.join(format!("{cert}.pem")))
    .arg("-key")
    .arg(dir.join(format!("{cert}.key")))
    .args(extra);
    match ServerProcess::start(cmd, openssl_port, Duration::from_secs(10), HINT) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn connect(server: &ServerProcess) -> TcpStream {
    match TcpStream::connect(server.addr) {
        Ok(s) => s,
        Err(e) => panic!("connect to {}: {e}", server.addr),
    }
}

/// RFC8446-4.1 (full handshake), RFC8446-4.4.3 (CertificateVerify), RFC8446-4.4.4 (Finished),
/// RFC8446-5.2 (protected records both ways), RFC8446-6.1 (close_notify answered).
#[test]
fn full_handshakes_with_every_suite_group_and_certificate() {
    let suites = [
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    ];
    let groups = [NamedGroup::X25519, NamedGroup::SECP256R1];
    let certs = ["server-ecdsa", "server-rsa", "server-ed25519"];
    let mut failures = Vec::new();
    let mut seed = 1;
    for cert in certs {
        for suite in suites {
            for group in groups {
                seed += 1;
                let case = format!("{cert} {suite} {group}");
                let server = s_server(cert, &[]);
                let config = Config13 {
                    suites: vec![suite],
                    groups: vec![group],
                    seed,
                    ..Config13::default()
                };
                let mut conn = Blocking::new(
                    ClientPeer::new(&config),
                    connect(&server),
                    Duration::from_secs(5),
                );
                let result = conn.handshake().and_then(|()| {
                    conn.send(b"hello\n")?;
                    let echoed = conn.receive(6)?;
                    let e = conn
                        .peer
                        .established()
                        .cloned()
                        .ok_or(Failure::Io("not established".into()))?;
                    Ok((e, echoed, conn.peer.key_log_lines().len()))
                });
                match result {
                    Ok((e, echoed, key_log)) => {
                        if e.suite != suite || e.group != group || echoed != b"olleh\n" {
                            failures.push(format!(
                                "{case}: negotiated {} {}, echoed {:?}",
                                e.suite, e.group, echoed
                            ));
                        }
                        // RFC8446-4.4.3: the scheme goes with the certificate's key.
                        let schemes: &[SignatureScheme] = match cert {
                            "server-ecdsa" => &[SignatureScheme::ECDSA_SECP256R1_SHA256],
                            "server-ed25519" => &[SignatureScheme::ED25519],
                            _ => &[
                                SignatureScheme::RSA_PSS_RSAE_SHA256,
                                SignatureScheme::RSA_PSS_RSAE_SHA384,
                            ],
                        };
                        if !schemes.contains(&e.signature_scheme) {
                            failures.push(format!("{case}: signed with {}", e.signature_scheme));
                        }
                        if key_log != 4 {
                            failures.push(format!("{case}: {key_log} key log lines"));
                        }
                    }
                    Err(f) => failures.push(format!("{case}: {f}\n{}", server.output())),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same seed gives the same ClientHello, byte for byte (the deterministic transcripts rule).
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

/// The handshake of `peer` with `server`.
fn run(peer: ClientPeer, server: &ServerProcess) -> Result<(), Failure> {
    Blocking::new(peer, connect(server), Duration::from_secs(5)).handshake()
}

fn expect_alert(
    server: &ServerProcess,
    result: Result<impl Sized, Failure>,
    want: &[AlertDescription],
    case: &str,
) {
    match result {
        Err(Failure::AlertReceived(a)) if want.contains(&a.description) && a.level == 2 => {}
        Err(other) => panic!(
            "{case}: wanted a fatal {want:?}, got: {other}\n{}",
            server.output()
        ),
        Ok(_) => panic!("{case}: the handshake completed\n{}", server.output()),
    }
}

/// RFC8446-4.1.1: no suite in common → handshake_failure.
#[test]
fn no_shared_cipher_suite_is_a_handshake_failure() {
    let server = s_server("server-ecdsa", &["-ciphersuites", "TLS_AES_256_GCM_SHA384"]);
    let config = Config13 {
        suites: vec![CipherSuite::TLS_AES_128_GCM_SHA256],
        ..Config13::default()
    };
    let result = run(ClientPeer::new(&config), &server);
    expect_alert(
        &server,
        result,
        &[AlertDescription::HANDSHAKE_FAILURE],
        "no shared suite",
    );
}

/// RFC8446-4.2.1: supported_versions offering only an unknown version, with a TLS 1.3-only
/// server → protocol_version.
#[test]
fn no_shared_version_is_protocol_version() {
    let server = s_server("server-ecdsa", &[]);
    let config = Config13 {
        versions: vec![ProtocolVersion(0x0305)],
        ..Config13::default()
    };
    let result = run(ClientPeer::new(&config), &server);
    expect_alert(
        &server,
        result,
        &[AlertDescription::PROTOCOL_VERSION],
        "version 0x0305 only",
    );
}

/// RFC8446-4.1.2 with RFC8446-6.2 (decode_error for a message that cannot be parsed): lengths
/// inside the ClientHello that disagree with its contents.
#[test]
fn malformed_client_hello_lengths_are_decode_errors() {
    type Change = fn(&mut ClientHello);
    let cases: [(&str, Change); 3] = [
        ("cipher_suites length odd", |h| {
            h.cipher_suites_len = Some(3)
        }),
        ("cipher_suites length past the end", |h| {
            h.cipher_suites_len = Some(0xfff0)
        }),
        ("extensions length one short", |h| {
            let block: usize = h.extensions.iter().map(|e| 4 + e.data.len()).sum();
            h.extensions_len = Some(block as u32 - 1);
        }),
    ];
    for (case, change) in cases {
        let server = s_server("server-ecdsa", &[]);
        let mut peer = ClientPeer::new(&Config13::default());
        change(&mut peer.hello);
        let result = run(peer, &server);
        expect_alert(&server, result, &[AlertDescription::DECODE_ERROR], case);
    }
}

/// RFC8446-4.2.8 with RFC8446-4.2.7: a key share for a group not in supported_groups is an
/// illegal_parameter.
#[test]
fn a_key_share_outside_supported_groups_is_illegal_parameter() {
    let server = s_server("server-ecdsa", &[]);
    let mut peer = ClientPeer::new(&Config13::default());
    for e in &mut peer.hello.extensions {
        if e.typ == ExtensionType::SUPPORTED_GROUPS {
            *e = Extension::groups(&[NamedGroup::SECP256R1]);
        }
    }
    let result = run(peer, &server);
    expect_alert(
        &server,
        result,
        &[AlertDescription::ILLEGAL_PARAMETER],
        "X25519 share, only P-256 supported",
    );
}
