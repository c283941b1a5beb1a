//! Identities configured for TLS 1.3 (`protocol = "tls13"`): the daemon speaks TLS through
//! rustls, so applications behind it talk to ordinary TLS peers — here `openssl s_client` and
//! `openssl s_server` — without knowing it. Certificates come from `openssl` too: a CA and a
//! leaf per name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::Started;

use btls_pool::client::PoolClient;
use btls_pool::config::Config;
use btls_pool::daemon::{Daemon, DaemonHandle};
use btls_pool::errno::EACCES;
use btls_pool::packet::Starttls;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a leaf for `name` signed by it: (ca.pem, NAME.pem, NAME.key).
fn certs(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    if !dir.join("ca.pem").exists() {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=pool test CA",
                "-days",
                "2",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
    }
    std::fs::write(
        dir.join(format!("{name}.ext")),
        format!("subjectAltName=DNS:{name}\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

fn tls_daemon(dir: &Path, name: &str) -> DaemonHandle {
    let (_, cert, key) = certs(dir, name);
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "socket = \"{name}.sock\"\nsocket_mode = \"0600\"\n\n[[local]]\nidentity = \"{name}\"\nprotocol = \"tls13\"\n\
             certificate = {:?}\nprivate_key = {:?}\n\n[remote]\ntls_roots = [\"ca.pem\"]\n",
            cert.file_name().unwrap().to_string_lossy(),
            key.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    Daemon::bind(Config::load(&path).unwrap())
        .unwrap()
        .spawn()
        .unwrap()
}

#[test]
fn an_application_behind_the_pool_serves_openssl_s_client_over_tls13() {
    let dir = common::dir("tls-server");
    let pool = tls_daemon(&dir, "tls.example");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let socket = pool.path().to_owned();
    let app = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut pool = PoolClient::connect(&socket).unwrap();
        let (plain, info) = pool
            .starttls_server(tcp, &Starttls::tcp("tls.example", ""), |_| None)
            .unwrap();
        let mut line = String::new();
        BufReader::new(&plain).read_line(&mut line).unwrap();
        let mut w = &plain;
        w.write_all(format!("the pool's application heard {:?}\n", line.trim_end()).as_bytes())
            .unwrap();
        plain.shutdown(std::net::Shutdown::Write).unwrap();
        info.localid
    });
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-quiet",
            "-verify_return_error",
            "-servername",
            "tls.example",
            "-CAfile",
        ])
        .arg(dir.join("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello from openssl\n")
        .unwrap();
    let mut out = String::new();
    client
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = client.wait().unwrap();
    assert_eq!(app.join().unwrap(), "tls.example");
    assert!(
        out.contains("the pool's application heard \"hello from openssl\""),
        "{out}"
    );
    assert!(status.success(), "s_client exited {status}");
}

/// `openssl s_server -rev` on an ephemeral port: (the process, the port).
fn s_server(dir: &Path, name: &str) -> (std::process::Child, u16) {
    let mut server = Command::new("openssl")
        .current_dir(dir)
        .args([
            "s_server",
            "-accept",
            "127.0.0.1:0",
            "-naccept",
            "1",
            "-tls1_3",
            "-rev",
            "-cert",
            &format!("{name}.pem"),
            "-key",
            &format!("{name}.key"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                let _ = tx.send(addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()));
            }
        }
    });
    let port = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    (server, port)
}

/// An application behind a pool (identity `app.example`, TLS 1.3) starts TLS with
/// `openssl s_server` (certificate for `tls.example`), naming `remoteid`; `check` gets the
/// result while the server runs.
fn with_s_server(name: &str, remoteid: &str, check: impl FnOnce(Started)) {
    let dir = common::dir(name);
    let pool = tls_daemon(&dir, "app.example");
    certs(&dir, "tls.example");
    let (mut server, port) = s_server(&dir, "tls.example");
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut client = PoolClient::connect(pool.path()).unwrap();
    check(client.starttls_client(tcp, &Starttls::tcp("app.example", remoteid), |_| None));
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn an_application_behind_the_pool_talks_to_openssl_s_server_over_tls13() {
    with_s_server("tls-client", "tls.example", |started| {
        let (mut plain, info) = started.unwrap();
        assert_eq!(info.remoteid, "tls.example", "the certificate's name");
        plain.write_all(b"hello s_server\n").unwrap();
        plain
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut line = String::new();
        BufReader::new(&plain).read_line(&mut line).unwrap();
        assert_eq!(
            line.trim_end(),
            "revres_s olleh",
            "s_server -rev answers each line reversed"
        );
        plain.shutdown(std::net::Shutdown::Write).unwrap();
    });
}

#[test]
fn a_certificate_for_another_name_is_eacces() {
    with_s_server("tls-mismatch", "other.example", |started| {
        let e = started.unwrap_err();
        assert_eq!(e.errno(), Some(EACCES), "{e}");
    });
}
