//! Pool scenario files: `scenarios/pool/**/*.toml`, one case each. `harness/POOL.md`
//! documents the format; a mistake names the file, the line and the field.
//!
//! ```toml
//! title = "STARTTLS without a descriptor is EPROTO"
//! requirements = ["POOL-FD-1"]
//!
//! [[step]]
//! send = "STARTTLS_SERVER"
//! reqid = 5
//! localid = "pool.example"
//!
//! [[step]]
//! expect = "ERROR"
//! reqid = 5
//! errno = "EPROTO"
//! ```

use btls_pool::errno;
use btls_pool::packet::{flags, Command};
use harness_core::scenario_files::ScenarioError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The daemon a case starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSpec {
    /// Local identities, in the order the daemon proposes them.
    #[serde(default = "default_identities")]
    pub identities: Vec<String>,
    /// Identities whose keys are password-protected (the PIN is [`DaemonSpec::pin`]).
    #[serde(default)]
    pub protected: Vec<String>,
    /// The PIN of protected keys.
    #[serde(default = "default_pin")]
    pub pin: String,
    /// Extra top-level configuration lines (`callback_timeout_ms = 300`).
    #[serde(default)]
    pub config: String,
}

fn default_identities() -> Vec<String> {
    vec!["pool.example".into()]
}

fn default_pin() -> String {
    "pool-pin-0000".into()
}

impl Default for DaemonSpec {
    fn default() -> Self {
        Self {
            identities: default_identities(),
            protected: Vec::new(),
            pin: default_pin(),
            config: String::new(),
        }
    }
}

/// Checks after the last step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndSpec {
    /// Strings the daemon's standard error must not contain (a PIN, say).
    #[serde(default)]
    pub stderr_excludes: Vec<String>,
    /// Strings its standard error must contain.
    #[serde(default)]
    pub stderr_includes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    title: String,
    requirements: Vec<String>,
    #[serde(default)]
    daemon: DaemonSpec,
    #[serde(default)]
    step: Vec<StepSpec>,
    #[serde(default)]
    end: EndSpec,
}

/// A step as written: one action key and the fields it takes.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    conn: Option<usize>,
    send: Option<String>,
    expect: Option<String>,
    expect_close: Option<bool>,
    expect_nothing_ms: Option<u64>,
    close: Option<bool>,
    plain_send: Option<String>,
    plain_shutdown: Option<bool>,
    expect_plain: Option<String>,
    expect_plain_end: Option<bool>,
    peer_send: Option<String>,
    expect_peer: Option<String>,
    expect_peer_end: Option<bool>,
    expect_peer_eof: Option<bool>,
    peer_close: Option<bool>,
    // Packet fields.
    reqid: Option<u16>,
    cbid: Option<toml::Value>,
    cmd: Option<u32>,
    flags: Option<Vec<String>>,
    local: Option<u32>,
    ipproto: Option<u8>,
    streamid: Option<u16>,
    localid: Option<String>,
    remoteid: Option<String>,
    identity: Option<String>,
    pin: Option<String>,
    prompt: Option<String>,
    attempt: Option<u32>,
    errno: Option<String>,
    message: Option<String>,
    // Sending.
    unterminated: Option<String>,
    length: Option<usize>,
    fd: Option<toml::Value>,
    fds: Option<usize>,
    peer: Option<String>,
    // Every step.
    timeout_ms: Option<u64>,
    comment: Option<String>,
}

/// What a STARTTLS descriptor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// A TCP connection whose other end the harness's bTLS peer holds.
    Tcp,
    /// One end of a UNIX socketpair.
    Unix,
    /// A regular file.
    File,
}

/// How the harness's bTLS peer behaves on a TCP descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMode {
    /// The reference implementation, with keys the daemon knows.
    Reference,
    /// The reference with keys the daemon does not know.
    Stranger,
    /// Never sends anything.
    Silent,
    /// Closes at once.
    Closes,
}

/// A packet field to set or check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `reqid`.
    Reqid(u16),
    /// `cbid` (a number).
    Cbid(u16),
    /// `cbid = "last"`: the last cbid received on the connection.
    CbidLast,
    /// `cbid = "open"`: expect 1..=1024 (a callback).
    CbidOpen,
    /// `flags`.
    Flags(u32),
    /// `local`.
    Local(u32),
    /// `ipproto`.
    Ipproto(u8),
    /// `streamid`.
    Streamid(u16),
    /// `localid`.
    Localid(String),
    /// `remoteid`.
    Remoteid(String),
    /// PING's identity.
    Identity(String),
    /// PINENTRY's PIN.
    Pin(String),
    /// PINENTRY's prompt.
    Prompt(String),
    /// PINENTRY's attempt.
    Attempt(u32),
    /// ERROR's errno.
    Errno(i32),
    /// ERROR's message (contains, when expecting).
    Message(String),
}

/// A step's action.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send a packet on `conn`.
    Send {
        /// The control connection.
        conn: usize,
        /// The command.
        cmd: Command,
        /// Fields to set.
        fields: Vec<Field>,
        /// A string field to fill to its end, without NUL.
        unterminated: Option<String>,
        /// Send only this many bytes (or pad to this many).
        length: Option<usize>,
        /// A descriptor to pass.
        fd: Option<FdKind>,
        /// How many copies of it (more than one breaks POOL-FD-3).
        fds: usize,
        /// The harness's peer on a TCP descriptor.
        peer: PeerMode,
    },
    /// Expect a packet on `conn`.
    Expect {
        /// The control connection.
        conn: usize,
        /// The command.
        cmd: Command,
        /// Fields to check.
        fields: Vec<Field>,
        /// Whether a descriptor must (true) or must not (false) come with it.
        fd: Option<bool>,
    },
    /// Expect the daemon to close `conn`.
    ExpectClose(usize),
    /// Expect nothing on `conn` for this long.
    ExpectNothing(usize, u64),
    /// Close `conn`.
    Close(usize),
    /// Write on the plaintext descriptor `conn` received.
    PlainSend(usize, String),
    /// Shut down writing on it.
    PlainShutdown(usize),
    /// Expect these bytes on it.
    ExpectPlain(usize, String),
    /// Expect its end of data.
    ExpectPlainEnd(usize),
    /// The harness's bTLS peer sends application data.
    PeerSend(String),
    /// The peer expects these bytes.
    ExpectPeer(String),
    /// The peer expects close_notify.
    ExpectPeerEnd,
    /// The daemon closes the TCP connection of the last silent peer (no handshake went on).
    ExpectPeerEof,
    /// The peer sends close_notify.
    PeerClose,
}

/// One step with where it is.
#[derive(Debug, Clone)]
pub struct Step {
    /// What to do.
    pub action: Action,
    /// How long to wait for the daemon.
    pub timeout_ms: u64,
    /// Its line in the file.
    pub line: usize,
    /// A note for the transcript.
    pub comment: Option<String>,
}

/// One case.
#[derive(Debug, Clone)]
pub struct PoolScenario {
    /// `pool/<area>/<file stem>`.
    pub id: String,
    /// The file.
    pub path: PathBuf,
    /// One line for people.
    pub title: String,
    /// Requirement IDs it checks.
    pub requirements: Vec<String>,
    /// The daemon it starts.
    pub daemon: DaemonSpec,
    /// The steps.
    pub steps: Vec<Step>,
    /// The end checks.
    pub end: EndSpec,
}

/// Default wait of a step.
pub const STEP_TIMEOUT_MS: u64 = 5_000;

/// Reads one scenario file; `root` is `scenarios/pool`.
pub fn load(root: &Path, path: &Path) -> Result<PoolScenario, ScenarioError> {
    let text = harness_core::scenario_files::read_scenario(path)?;
    let err = |line: usize, message: String| ScenarioError {
        path: path.to_owned(),
        line,
        message,
    };
    let file: FileSpec = toml::from_str(&text).map_err(|e| {
        let (line, message) = harness_core::toml_errors::locate(&text, &e);
        err(line, message)
    })?;
    let step_lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[step]]")
        .map(|(i, _)| i + 1)
        .collect();
    if file.requirements.is_empty() {
        return Err(err(
            1,
            "requirements: name at least one POOL- requirement".into(),
        ));
    }
    let mut steps = Vec::new();
    for (i, spec) in file.step.iter().enumerate() {
        let line = step_lines.get(i).copied().unwrap_or(0);
        let action = action(spec).map_err(|m| err(line, format!("step {}: {m}", i + 1)))?;
        steps.push(Step {
            action,
            timeout_ms: spec.timeout_ms.unwrap_or(STEP_TIMEOUT_MS),
            line,
            comment: spec.comment.clone(),
        });
    }
    let id = format!("pool/{}", harness_core::scenario_files::base_id(root, path));
    Ok(PoolScenario {
        id,
        path: path.to_owned(),
        title: file.title,
        requirements: file.requirements,
        daemon: file.daemon,
        steps,
        end: file.end,
    })
}

/// Every scenario below `root`, sorted by path; every malformed file is reported.
pub fn load_all(root: &Path) -> Result<Vec<PoolScenario>, Vec<ScenarioError>> {
    harness_core::scenario_files::load_dir(root, |root, path| load(root, path).map(|s| vec![s]))
}

fn command(name: &str) -> Result<Command, String> {
    Command::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Command::ALL.iter().map(|(_, n)| *n).collect();
        format!("unknown command {name:?}; one of {}", known.join(", "))
    })
}

fn fields(s: &StepSpec, expecting: bool) -> Result<Vec<Field>, String> {
    let mut f = Vec::new();
    if let Some(v) = s.reqid {
        f.push(Field::Reqid(v));
    }
    match &s.cbid {
        None => {}
        Some(toml::Value::Integer(n)) => f.push(Field::Cbid(
            u16::try_from(*n).map_err(|_| format!("cbid: {n} is not a u16"))?,
        )),
        Some(toml::Value::String(s)) if s == "last" && !expecting => f.push(Field::CbidLast),
        Some(toml::Value::String(s)) if s == "open" && expecting => f.push(Field::CbidOpen),
        Some(other) => {
            return Err(format!(
                "cbid: {other} is neither a number nor {}",
                if expecting { "\"open\"" } else { "\"last\"" }
            ))
        }
    }
    if let Some(names) = &s.flags {
        let mut bits = 0;
        for n in names {
            bits |= flags::from_name(n).ok_or_else(|| format!("flags: unknown flag {n:?}"))?;
        }
        f.push(Field::Flags(bits));
    }
    if let Some(v) = s.local {
        f.push(Field::Local(v));
    }
    if let Some(v) = s.ipproto {
        f.push(Field::Ipproto(v));
    }
    if let Some(v) = s.streamid {
        f.push(Field::Streamid(v));
    }
    for (value, make) in [
        (&s.localid, Field::Localid as fn(String) -> Field),
        (&s.remoteid, Field::Remoteid),
        (&s.identity, Field::Identity),
        (&s.pin, Field::Pin),
        (&s.prompt, Field::Prompt),
        (&s.message, Field::Message),
    ] {
        if let Some(v) = value {
            f.push(make(v.clone()));
        }
    }
    if let Some(v) = s.attempt {
        f.push(Field::Attempt(v));
    }
    if let Some(name) = &s.errno {
        f.push(Field::Errno(
            errno::from_name(name).ok_or_else(|| format!("errno: unknown name {name:?}"))?,
        ));
    }
    Ok(f)
}

fn action(s: &StepSpec) -> Result<Action, String> {
    let conn = s.conn.unwrap_or(0);
    let actions = [
        s.send.is_some(),
        s.expect.is_some(),
        s.expect_close.is_some(),
        s.expect_nothing_ms.is_some(),
        s.close.is_some(),
        s.plain_send.is_some(),
        s.plain_shutdown.is_some(),
        s.expect_plain.is_some(),
        s.expect_plain_end.is_some(),
        s.peer_send.is_some(),
        s.expect_peer.is_some(),
        s.expect_peer_end.is_some(),
        s.expect_peer_eof.is_some(),
        s.peer_close.is_some(),
    ];
    if actions.iter().filter(|a| **a).count() != 1 {
        return Err(
            "a step has exactly one action (send, expect, expect_close, \
                    expect_nothing_ms, close, plain_send, plain_shutdown, expect_plain, \
                    expect_plain_end, peer_send, expect_peer, expect_peer_end, expect_peer_eof, \
                    peer_close)"
                .into(),
        );
    }
    if let Some(name) = &s.send {
        let cmd = match (name.as_str(), s.cmd) {
            ("RAW", Some(raw)) => Command(raw),
            ("RAW", None) => return Err("send = \"RAW\" needs cmd = <number>".into()),
            (_, Some(_)) => return Err("cmd is only for send = \"RAW\"".into()),
            (n, None) => command(n)?,
        };
        let fd = match &s.fd {
            None => None,
            Some(toml::Value::String(k)) => match k.as_str() {
                "none" => None,
                "tcp" => Some(FdKind::Tcp),
                "unix" => Some(FdKind::Unix),
                "file" => Some(FdKind::File),
                other => return Err(format!("fd: {other:?} is none, tcp, unix or file")),
            },
            Some(other) => return Err(format!("fd: {other} is none, tcp, unix or file")),
        };
        let peer = match s.peer.as_deref() {
            None | Some("reference") => PeerMode::Reference,
            Some("stranger") => PeerMode::Stranger,
            Some("silent") => PeerMode::Silent,
            Some("closes") => PeerMode::Closes,
            Some(other) => {
                return Err(format!(
                    "peer: {other:?} is reference, stranger, silent or closes"
                ))
            }
        };
        if s.peer.is_some() && fd != Some(FdKind::Tcp) {
            return Err("peer needs fd = \"tcp\"".into());
        }
        return Ok(Action::Send {
            conn,
            cmd,
            fields: fields(s, false)?,
            unterminated: s.unterminated.clone(),
            length: s.length,
            fd,
            fds: s.fds.unwrap_or(1).max(1),
            peer,
        });
    }
    if let Some(name) = &s.expect {
        let fd = match &s.fd {
            None => None,
            Some(toml::Value::Boolean(b)) => Some(*b),
            Some(other) => return Err(format!("fd: {other} is true or false when expecting")),
        };
        return Ok(Action::Expect {
            conn,
            cmd: command(name)?,
            fields: fields(s, true)?,
            fd,
        });
    }
    Ok(if s.expect_close.is_some() {
        Action::ExpectClose(conn)
    } else if let Some(ms) = s.expect_nothing_ms {
        Action::ExpectNothing(conn, ms)
    } else if s.close.is_some() {
        Action::Close(conn)
    } else if let Some(d) = &s.plain_send {
        Action::PlainSend(conn, d.clone())
    } else if s.plain_shutdown.is_some() {
        Action::PlainShutdown(conn)
    } else if let Some(d) = &s.expect_plain {
        Action::ExpectPlain(conn, d.clone())
    } else if s.expect_plain_end.is_some() {
        Action::ExpectPlainEnd(conn)
    } else if let Some(d) = &s.peer_send {
        Action::PeerSend(d.clone())
    } else if let Some(d) = &s.expect_peer {
        Action::ExpectPeer(d.clone())
    } else if s.expect_peer_end.is_some() {
        Action::ExpectPeerEnd
    } else if s.expect_peer_eof.is_some() {
        Action::ExpectPeerEof
    } else {
        Action::PeerClose
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<PoolScenario, ScenarioError> {
        let dir = std::env::temp_dir().join(format!("pool-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("t{}.toml", text.len()));
        std::fs::write(&path, text).unwrap();
        load(&dir, &path)
    }

    #[test]
    fn a_mistake_names_its_line_and_field() {
        let e = load_text(
            "title = \"t\"\nrequirements = [\"POOL-PING-1\"]\n\n[[step]]\nsend = \"PING\"\n\n[[step]]\nexpect = \"ERROR\"\nerrno = \"EWHAT\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.contains("errno: unknown name \"EWHAT\""), "{e}");
        let e = load_text(
            "title = \"t\"\nrequirements = [\"X\"]\n[[step]]\nsend = \"PING\"\nreqd = 1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("reqd"), "{e}");
        assert_eq!(e.line, 5);
    }

    #[test]
    fn a_step_has_one_action() {
        let e = load_text(
            "title = \"t\"\nrequirements = [\"X\"]\n[[step]]\nsend = \"PING\"\nexpect = \"PING\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("exactly one action"), "{e}");
    }
}
