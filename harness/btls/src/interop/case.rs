//! Interop test cases (`scenarios/interop/*.toml`, format in `harness/INTEROP.md`): the
//! configuration of both parties, given only through the adapter contract's flags, and what each
//! must report.

use crate::names;
use crate::outcome::{PartyCheck, Resumed};
use crate::scenario::{ExitClass, PartyConfig};
use crate::Error;
use btls::msgs::{AlertDescription, CipherSuite, HandshakeCode, KeyAlgorithm, ValidationFailure};
use harness_core::scenario_files::base_id;
use harness_core::toml_errors;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What one party must report through the adapter contract.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `success` (exit 0, the default) or `failure` (exit 1).
    pub exit: Option<ExitClass>,
    /// Whether a `handshake_complete` event is reported (default: when the exit is a success).
    pub handshake_complete: Option<bool>,
    /// `resumed` of each `handshake_complete` event, in order (one per connection).
    pub resumed: Option<Vec<bool>>,
    /// The key algorithm of every completed handshake.
    #[serde(default, deserialize_with = "names::one::<_, KeyAlgorithm>")]
    pub key_algorithm: Option<String>,
    /// The cipher suite of every completed handshake.
    #[serde(default, deserialize_with = "names::one::<_, CipherSuite>")]
    pub cipher_suite: Option<String>,
    /// The reason of a `validation_failed` event with `by = "local"`.
    #[serde(default, deserialize_with = "names::one::<_, ValidationFailure>")]
    pub validation_failed: Option<String>,
    /// The reason of a `validation_failed` event with `by = "peer"`.
    #[serde(default, deserialize_with = "names::one::<_, ValidationFailure>")]
    pub peer_validation_failed: Option<String>,
    /// The description of an `alert_sent` event.
    #[serde(default, deserialize_with = "names::one::<_, AlertDescription>")]
    pub alert_sent: Option<String>,
    /// The description of an `alert_received` event.
    #[serde(default, deserialize_with = "names::one::<_, AlertDescription>")]
    pub alert_received: Option<String>,
    /// With `true`, a `closed` event for every connection; with `false`, none.
    pub closed: Option<bool>,
    /// Hex of all `application_data` the party reports.
    pub application_data: Option<String>,
    /// Bytes the party's `data_received` event (`--sink`) reports; its `sha256` must equal the
    /// peer's `data_sent` one.
    pub data_received: Option<u64>,
    /// The handshake messages the party puts on the wire, in order, over all connections, as
    /// the proxy recorded them (`["CLIENT_HELLO", "SEND_KEY", …]`): the flow the case is about
    /// really happened, whatever the adapter reports.
    #[serde(default, deserialize_with = "names::list::<_, HandshakeCode>")]
    pub handshake: Option<Vec<String>>,
}

impl Expect {
    /// Whether the party must exit with a failure.
    pub fn wants_failure(&self) -> bool {
        self.exit == Some(ExitClass::Failure)
    }

    /// The checks of the party's exit status and events.
    pub fn check(&self) -> PartyCheck<'_> {
        PartyCheck {
            failure: self.wants_failure(),
            handshake_complete: self.handshake_complete,
            resumed: self.resumed.as_deref().map_or(Resumed::Any, Resumed::Each),
            key_algorithm: self.key_algorithm.as_deref(),
            cipher_suite: self.cipher_suite.as_deref(),
            validation_failed: self.validation_failed.as_deref(),
            peer_validation_failed: self.peer_validation_failed.as_deref(),
            alert_sent: self.alert_sent.as_deref(),
            alert_received: self.alert_received.as_deref(),
            closed: self.closed,
            application_data: self.application_data.as_deref(),
            data_received: self.data_received,
            ..PartyCheck::default()
        }
    }
}

/// `[case]` of a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    code: String,
    title: String,
    description: Option<String>,
    #[serde(default)]
    requirements: Vec<String>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations {
    #[serde(default)]
    client: Expect,
    #[serde(default)]
    server: Expect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Meta,
    #[serde(default)]
    client: PartyConfig,
    #[serde(default)]
    server: PartyConfig,
    #[serde(default)]
    expect: Expectations,
}

/// One interop test case.
#[derive(Debug, Clone)]
pub struct InteropCase {
    /// The file's path below the cases folder, without `.toml` (`handshake/ed25519-aes`).
    pub id: String,
    /// The short code shown in the matrix (`H1`).
    pub code: String,
    /// One line saying what the case checks.
    pub title: String,
    /// A longer description.
    pub description: Option<String>,
    /// SPEC.md requirements the case exercises.
    pub requirements: Vec<String>,
    /// The client adapter's configuration.
    pub client: PartyConfig,
    /// The server adapter's configuration.
    pub server: PartyConfig,
    /// What the client must report.
    pub expect_client: Expect,
    /// What the server must report.
    pub expect_server: Expect,
    /// The cell's time limit in milliseconds, if not the run's.
    pub timeout_ms: Option<u64>,
    /// The file.
    pub path: PathBuf,
}

impl InteropCase {
    /// Connections each party handles (`connections`, default 1).
    pub fn connections(&self) -> u32 {
        self.client
            .connections
            .unwrap_or(1)
            .max(self.server.connections.unwrap_or(1))
    }
}

/// Loads one case file; `root` is the cases folder (the id is the path below it).
pub fn load_case(root: &Path, path: &Path) -> Result<InteropCase, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
    let file: CaseFile = toml_errors::parse(path, &text)?;
    if file.case.code.is_empty() || file.case.code.len() > 4 {
        return Err(Error::InteropCase {
            path: path.to_owned(),
            message: format!("[case] code: 1 to 4 characters, got {:?}", file.case.code),
        });
    }
    let id = base_id(root, path);
    Ok(InteropCase {
        id,
        code: file.case.code,
        title: file.case.title,
        description: file.case.description,
        requirements: file.case.requirements,
        client: file.client,
        server: file.server,
        expect_client: file.expect.client,
        expect_server: file.expect.server,
        timeout_ms: file.case.timeout_ms,
        path: path.to_owned(),
    })
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            toml_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads every `*.toml` below `root`, sorted by id; every malformed file is reported, and two
/// cases may not share a code.
pub fn load_cases(root: &Path) -> Result<Vec<InteropCase>, Vec<Error>> {
    let mut files = Vec::new();
    toml_files(root, &mut files).map_err(|e| vec![Error::read(root)(e)])?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        match load_case(root, &path) {
            Ok(c) => cases.push(c),
            Err(e) => errors.push(e),
        }
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    for pair in cases.windows(2) {
        if let [a, b] = pair {
            if a.id == b.id {
                errors.push(Error::InteropCase {
                    path: b.path.clone(),
                    message: format!("duplicate id {}", b.id),
                });
            }
        }
    }
    let mut codes: Vec<(&str, &str, &Path)> = cases
        .iter()
        .map(|c| (c.code.as_str(), c.id.as_str(), c.path.as_path()))
        .collect();
    codes.sort_unstable();
    for pair in codes.windows(2) {
        if let [(a, ida, _), (b, idb, path)] = pair {
            if a == b {
                errors.push(Error::InteropCase {
                    path: path.to_path_buf(),
                    message: format!("cases {ida} and {idb} share the code {a}"),
                });
            }
        }
    }
    if cases.is_empty() && errors.is_empty() {
        errors.push(Error::InteropCase {
            path: root.to_owned(),
            message: "no interop case files (*.toml)".into(),
        });
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}
