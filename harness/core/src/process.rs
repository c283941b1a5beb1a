//! Starting an implementation under test through the adapter contract (`harness/IUT-ADAPTER.md`),
//! collecting its events and reaping it: every wait bounded, every process reaped (its whole
//! process group when it outlives its time), every pipe closed. Protocol-neutral: a profile
//! builds the flags.

use crate::Error;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// The adapter contract version this harness speaks.
pub const CONTRACT_VERSION: u64 = 1;
/// The exit status of an adapter that does not support an option.
pub const EXIT_UNSUPPORTED: i32 = 89;

/// An implementation under test.
#[derive(Debug, Clone)]
pub struct Iut {
    /// Short name used in case names (`reference`).
    pub name: String,
    /// The adapter program.
    pub program: PathBuf,
    /// Arguments put before the contract's flags (for example a script for an interpreter).
    pub prefix_args: Vec<String>,
}

/// How an adapter process ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its exit code; `None` if it was killed (timeout) or died by a signal.
    pub code: Option<i32>,
    /// Whether the harness had to kill it.
    pub killed: bool,
    /// Its JSON events, in order; lines that are not JSON are kept as `{"unparsed": line}`.
    pub events: Vec<serde_json::Value>,
    /// Its standard error.
    pub stderr: String,
}

/// A running adapter.
pub struct Running {
    child: Child,
    stdout: Option<Receiver<Vec<serde_json::Value>>>,
    stderr: Option<Receiver<String>>,
    /// Each stdout line as it arrives, for [`Running::listening_address`].
    lines: Option<Receiver<String>>,
}

/// How long the adapter's output may stay open after it exited (a process it left behind holding
/// its pipes) before the harness kills its process group.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// Reads a pipe to its end on a thread; the result arrives on the receiver.
fn read_on_thread<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read());
    });
    rx
}

impl Iut {
    /// Starts the adapter with `args`.
    pub fn start(&self, args: &[String]) -> Result<Running, Error> {
        let mut command = Command::new(&self.program);
        // Its own process group, so that a timeout kills whatever the adapter started too.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .args(&self.prefix_args)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::CannotStartAdapter {
                program: self.program.clone(),
                source,
            })?;
        let (line_tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().map(|out| {
            read_on_thread(move || {
                BufReader::new(out)
                    .lines()
                    .map_while(Result::ok)
                    .map(|line| {
                        let _ = line_tx.send(line.clone());
                        serde_json::from_str(&line)
                            .unwrap_or_else(|_| serde_json::json!({ "unparsed": line }))
                    })
                    .collect()
            })
        });
        let stderr = child.stderr.take().map(|mut err| {
            read_on_thread(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            })
        });
        Ok(Running {
            child,
            stdout,
            stderr,
            lines: Some(lines),
        })
    }
}

/// The loopback address a listening IUT reports on one line of its stdout (contract: the
/// `listening` event `{"event":"listening","port":P}`, or `listening on 127.0.0.1:P`; OpenSSL's
/// `s_server` line `ACCEPT 127.0.0.1:P` is taken as it stands, so that its adapter can `exec` it).
pub fn listening_address(line: &str) -> Option<SocketAddr> {
    let line = line.trim();
    let port = if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        if v.get("event")?.as_str()? != "listening" {
            return None;
        }
        u16::try_from(v.get("port")?.as_u64()?).ok()?
    } else {
        let rest = line
            .strip_prefix("ACCEPT ")
            .or_else(|| line.strip_prefix("listening on "))?;
        let (host, port) = rest.rsplit_once(':')?;
        // Only loopback: the harness never sends traffic anywhere else.
        if host != "127.0.0.1" && host != "localhost" {
            return None;
        }
        port.trim().parse().ok()?
    };
    (port != 0).then(|| SocketAddr::from(([127, 0, 0, 1], port)))
}

impl Running {
    /// Waits at most `timeout` for a listening IUT to say where it listens
    /// ([`listening_address`]); the error says what it printed instead, or that it exited.
    pub fn listening(&mut self, timeout: Duration) -> Result<SocketAddr, String> {
        let deadline = Instant::now() + timeout;
        let Some(lines) = self.lines.as_ref() else {
            return Err("its output is gone".into());
        };
        let mut seen = Vec::new();
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        return Ok(addr);
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "it did not say where it listens within {} ms (a line `listening on 127.0.0.1:PORT`){}",
                        timeout.as_millis(),
                        printed(&seen)
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "it closed its output before saying where it listens{}",
                        printed(&seen)
                    ))
                }
            }
        }
    }

    /// Waits at most `timeout` for the adapter to exit, killing it after that, and collects its
    /// output. The process is always reaped.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let (status, killed) = match self.child.wait_timeout(timeout) {
            Ok(Some(status)) => (Some(status), false),
            _ => {
                self.kill_group();
                (self.child.wait().ok(), true)
            }
        };
        // The pipes close when every process holding them has ended: processes the adapter
        // left running get OUTPUT_GRACE, then its process group is killed and the pipes get
        // OUTPUT_GRACE once more (at most twice OUTPUT_GRACE in all).
        let deadline = Instant::now() + OUTPUT_GRACE;
        let mut events = received_by(self.stdout.as_ref(), deadline);
        let mut stderr = received_by(self.stderr.as_ref(), deadline);
        let mut note = None;
        if events.is_err() || stderr.is_err() {
            self.kill_group_only();
            let deadline = Instant::now() + OUTPUT_GRACE;
            events = events.or_else(|StillOpen| received_by(self.stdout.as_ref(), deadline));
            stderr = stderr.or_else(|StillOpen| received_by(self.stderr.as_ref(), deadline));
            note = Some(if events.is_err() || stderr.is_err() {
                "its process group was killed, and the output is still held open by a process \
                 outside the group: what is missing of it is lost"
            } else {
                "its process group was killed"
            });
        }
        let mut stderr = stderr.unwrap_or_default().unwrap_or_default();
        if let Some(note) = note {
            stderr.push_str(&format!(
                "\n[harness] the adapter's output was still open {} s after it exited (a process it started holds it); {note}\n",
                OUTPUT_GRACE.as_secs()
            ));
        }
        Finished {
            code: status.as_ref().and_then(ExitStatus::code),
            killed,
            events: events.unwrap_or_default().unwrap_or_default(),
            stderr,
        }
    }
}

fn printed(lines: &[String]) -> String {
    match lines.iter().rev().find(|l| !l.trim().is_empty()) {
        Some(l) => format!("; its last line: {}", l.trim()),
        None => String::new(),
    }
}

/// A pipe still held open at the deadline.
struct StillOpen;

/// What a pipe's reader got by `deadline` (`None`: no pipe, or no reader any more).
fn received_by<T>(rx: Option<&Receiver<T>>, deadline: Instant) -> Result<Option<T>, StillOpen> {
    let Some(rx) = rx else { return Ok(None) };
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(value) => Ok(Some(value)),
        Err(RecvTimeoutError::Timeout) => Err(StillOpen),
        Err(RecvTimeoutError::Disconnected) => Ok(None),
    }
}

impl Running {
    /// Kills the adapter and every process of its group.
    fn kill_group(&mut self) {
        self.kill_group_only();
        let _ = self.child.kill();
    }

    /// Kills every process of the adapter's group (the adapter's own id names the group, even
    /// after the adapter itself has exited).
    fn kill_group_only(&self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave a process behind, whatever path the harness took.
        if let Ok(None) = self.child.try_wait() {
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn listening_lines_name_loopback_only() {
        let at = |p| Some(SocketAddr::from(([127, 0, 0, 1], p)));
        assert_eq!(listening_address("ACCEPT 127.0.0.1:4433"), at(4433));
        assert_eq!(listening_address("listening on 127.0.0.1:9"), at(9));
        assert_eq!(
            listening_address(r#"{"event":"listening","port":7}"#),
            at(7)
        );
        assert_eq!(listening_address("ACCEPT 0.0.0.0:4433"), None);
        assert_eq!(listening_address("ACCEPT [::]:4433"), None);
        assert_eq!(listening_address("listening on 127.0.0.1:0"), None);
        assert_eq!(
            listening_address(r#"{"event":"alert_sent","port":7}"#),
            None
        );
        assert_eq!(listening_address("Using default temp DH parameters"), None);
    }
}
