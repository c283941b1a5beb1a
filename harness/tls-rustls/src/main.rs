//! The TLS adapter contract (`harness/TLS.md`) over rustls, server role: it listens on an
//! ephemeral loopback port and says so (`listening on 127.0.0.1:P`), serves `--connections N`
//! connections one after another, echoes what it reads, answers close_notify, and exits 0 if
//! every connection ended cleanly, 1 otherwise. Suites, groups and versions are IANA names; the
//! session secrets go to the file `SSLKEYLOGFILE` names (rustls' `KeyLogFile`).

use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned, SupportedProtocolVersion};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The contract's "option not supported" status.
const UNSUPPORTED: u8 = 89;

struct Args {
    cert: String,
    key: String,
    connections: u32,
    suites: Option<Vec<u16>>,
    groups: Option<Vec<u16>>,
    versions: Vec<&'static SupportedProtocolVersion>,
    /// The server's session cache (resumption by session ID, TLS 1.3 stateful tickets).
    session_cache: bool,
    /// RFC 5077 tickets (and TLS 1.3 stateless ones).
    tickets: bool,
}

fn on_off(flag: &str, value: &str) -> Result<bool, (u8, String)> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err((2, format!("{flag}: {other:?} is not on or off"))),
    }
}

fn suite_number(name: &str) -> Option<u16> {
    Some(match name {
        "TLS_AES_128_GCM_SHA256" => 0x1301,
        "TLS_AES_256_GCM_SHA384" => 0x1302,
        "TLS_CHACHA20_POLY1305_SHA256" => 0x1303,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => 0xc02b,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => 0xc02c,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => 0xc02f,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => 0xc030,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => 0xcca8,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => 0xcca9,
        _ => return None,
    })
}

fn group_number(name: &str) -> Option<u16> {
    Some(match name {
        "SECP256R1" => 0x0017,
        "SECP384R1" => 0x0018,
        "X25519" => 0x001d,
        _ => return None,
    })
}

/// The arguments, or the exit status and message for a bad or unsupported one.
fn parse() -> Result<Args, (u8, String)> {
    let mut args = Args {
        cert: String::new(),
        key: String::new(),
        connections: 1,
        suites: None,
        groups: None,
        versions: vec![&rustls::version::TLS13],
        session_cache: true,
        tickets: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or((2, format!("{flag} needs a value")));
        match flag.as_str() {
            "--role" => {
                let role = value()?;
                if role != "server" {
                    return Err((UNSUPPORTED, format!("role {role} is not supported yet")));
                }
            }
            "--cert" => args.cert = value()?,
            "--key" => args.key = value()?,
            "--connections" => {
                args.connections = value()?
                    .parse()
                    .map_err(|e| (2, format!("--connections: {e}")))?;
            }
            "--suites" => {
                let list = value()?;
                args.suites = Some(
                    list.split(',')
                        .map(|s| suite_number(s).ok_or((UNSUPPORTED, format!("suite {s}"))))
                        .collect::<Result<_, _>>()?,
                );
            }
            "--groups" => {
                let list = value()?;
                args.groups = Some(
                    list.split(',')
                        .map(|g| group_number(g).ok_or((UNSUPPORTED, format!("group {g}"))))
                        .collect::<Result<_, _>>()?,
                );
            }
            "--versions" => {
                args.versions = value()?
                    .split(',')
                    .map(|v| match v {
                        "TLS13" => Ok(&rustls::version::TLS13),
                        "TLS12" => Ok(&rustls::version::TLS12),
                        other => Err((UNSUPPORTED, format!("version {other}"))),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--session-cache" => args.session_cache = on_off(&flag, &value()?)?,
            "--tickets" => args.tickets = on_off(&flag, &value()?)?,
            other => return Err((UNSUPPORTED, format!("unsupported option {other}"))),
        }
    }
    Ok(args)
}

fn config(args: &Args) -> Result<ServerConfig, String> {
    let certs = CertificateDer::pem_file_iter(&args.cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", args.cert))?;
    let key = PrivateKeyDer::from_pem_file(&args.key).map_err(|e| format!("{}: {e}", args.key))?;
    let mut provider = aws_lc_rs::default_provider();
    if let Some(suites) = &args.suites {
        provider
            .cipher_suites
            .retain(|s| suites.contains(&u16::from(s.suite())));
    }
    if let Some(groups) = &args.groups {
        provider
            .kx_groups
            .retain(|g| groups.contains(&u16::from(g.name())));
    }
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&args.versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    config.key_log = Arc::new(rustls::KeyLogFile::new());
    if !args.session_cache {
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    }
    if args.tickets {
        config.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| e.to_string())?;
    }
    Ok(config)
}

/// One connection: handshake, echo until close_notify, answer it. `Err` says why it did not end
/// cleanly.
fn serve(config: &Arc<ServerConfig>, listener: &TcpListener) -> Result<(), String> {
    let (sock, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let conn = ServerConnection::new(config.clone()).map_err(|e| e.to_string())?;
    let mut tls = StreamOwned::new(conn, sock);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match tls.read(&mut buf) {
            // The peer's close_notify: answer it.
            Ok(0) => break,
            Ok(n) => tls
                .write_all(buf.get(..n).unwrap_or_default())
                .map_err(|e| format!("write: {e}"))?,
            Err(e) => {
                // rustls has queued its alert, if the error calls for one: send it, then close
                // (dropping the stream closes the socket).
                while tls.conn.wants_write() {
                    if tls.conn.write_tls(&mut tls.sock).is_err() {
                        break;
                    }
                }
                return Err(e.to_string());
            }
        }
    }
    tls.conn.send_close_notify();
    tls.conn
        .complete_io(&mut tls.sock)
        .map(|_| ())
        .map_err(|e| format!("close_notify: {e}"))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err((code, message)) => {
            eprintln!("rustls adapter: {message}");
            return ExitCode::from(code);
        }
    };
    let config = match config(&args) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("rustls adapter: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((addr, l)) => {
            println!("listening on {addr}");
            let _ = std::io::stdout().flush();
            l
        }
        Err(e) => {
            eprintln!("rustls adapter: cannot listen: {e}");
            return ExitCode::from(2);
        }
    };
    let mut clean = true;
    for i in 0..args.connections {
        match serve(&config, &listener) {
            Ok(()) => println!("connection {i}: closed cleanly"),
            Err(e) => {
                println!("connection {i}: {e}");
                clean = false;
            }
        }
    }
    let _ = std::io::stdout().flush();
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
