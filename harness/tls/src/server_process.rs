//! A TLS stack's server program as the implementation under test: started with its options,
//! bound to an ephemeral loopback port that it reports on stdout, killed and reaped when dropped.
//! Its output is free text, not contract events: the harness learns the port from a line that
//! matches the stack's pattern and judges everything else from the wire and the exit status.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running server program.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The program is not installed.
    #[error("{program} is not installed ({hint})")]
    Missing {
        /// The program.
        program: String,
        /// How to install it.
        hint: String,
    },
    /// It started but never said where it listens.
    #[error("{program} did not report its port within {ms} ms; its output:\n{output}")]
    NoPort {
        /// The program.
        program: String,
        /// The wait.
        ms: u128,
        /// What it printed.
        output: String,
    },
    /// It could not be started.
    #[error("{program}: {error}")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        error: std::io::Error,
    },
}

fn pump(
    stream: impl Read + Send + 'static,
    tx: mpsc::Sender<String>,
    all: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut a) = all.lock() {
                a.push_str(&line);
                a.push('\n');
            }
            let _ = tx.send(line);
        }
    })
}

impl ServerProcess {
    /// Starts `command` and waits up to `wait` for a line from which `port_of` reads the port
    /// on 127.0.0.1 (OpenSSL: `ACCEPT 127.0.0.1:PORT`).
    pub fn start(
        mut command: Command,
        port_of: fn(&str) -> Option<u16>,
        wait: Duration,
        install_hint: &str,
    ) -> Result<Self, StartError> {
        let program = command.get_program().to_string_lossy().into_owned();
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                StartError::Missing {
                    program: program.clone(),
                    hint: install_hint.to_string(),
                }
            } else {
                StartError::Spawn {
                    program: program.clone(),
                    error,
                }
            }
        })?;
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(pump(out, tx.clone(), output.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(pump(err, tx, output.clone()));
        }
        let mut server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            output,
            readers,
        };
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(port) = port_of(&line) {
                        server.addr = SocketAddr::from(([127, 0, 0, 1], port));
                        return Ok(server);
                    }
                }
                Err(_) => {
                    server.stop();
                    return Err(StartError::NoPort {
                        program,
                        ms: wait.as_millis(),
                        output: server.output(),
                    });
                }
            }
        }
    }

    /// Everything the program has printed so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Kills the program and reaps it (and its output readers).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// OpenSSL's `s_server` port line: `ACCEPT 127.0.0.1:PORT`.
pub fn openssl_port(line: &str) -> Option<u16> {
    line.strip_prefix("ACCEPT ")?
        .rsplit(':')
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    #[test]
    fn the_openssl_port_line_is_read() {
        assert_eq!(openssl_port("ACCEPT 127.0.0.1:40123"), Some(40123));
        assert_eq!(openssl_port("ACCEPT [::1]:4433"), Some(4433));
        assert_eq!(openssl_port("Using default temp DH parameters"), None);
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let err = ServerProcess::start(
            Command::new("no-such-tls-server-here"),
            openssl_port,
            Duration::from_millis(100),
            "run scripts/install-tls-stacks.sh",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.contains("no-such-tls-server-here is not installed"),
            "{err}"
        );
        assert!(err.contains("install-tls-stacks.sh"), "{err}");
    }
}
