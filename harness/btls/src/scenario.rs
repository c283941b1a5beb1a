//! Scenario files (`scenarios/**/*.toml`): what the harness's side of a connection does, what the
//! implementation under test (IUT) must answer, and how it must end. The format is described in
//! `scenarios/README.md`; this module turns a file into [`Scenario`]s, reporting every mistake
//! with the file, line and field.

use crate::alter::Alter;
use crate::names::{self, FixtureKey};
use crate::outcome::{PartyCheck, Resumed};
use crate::profile::BtlsProfile;
use btls::msgs::{AlertDescription, CipherSuite, HandshakeCode, KeyAlgorithm, ValidationFailure};
use harness_core::profile::Profile;
use harness_core::scenario_files::{base_id, expand_matrix, read_scenario};
pub use harness_core::scenario_files::{id_segment, ScenarioError};
use harness_core::toml_errors;
pub use harness_core::Role;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Configuration of one party (the IUT or the harness's reference peer). Unset fields take the
/// defaults of the party's role (SPEC-conformant, each side knowing the other's fixture keys).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// Own fixture keys, in preference order.
    #[serde(default, deserialize_with = "names::list::<_, FixtureKey>")]
    pub keys: Option<Vec<String>>,
    /// Fixture keys whose published halves this party knows.
    #[serde(default, deserialize_with = "names::list::<_, FixtureKey>")]
    pub known: Option<Vec<String>>,
    /// Fixture keys published in this party's registry directory.
    #[serde(default, deserialize_with = "names::list::<_, FixtureKey>")]
    pub registry: Option<Vec<String>>,
    /// Fixture keys this party's registry answers *revoked* for (BT-KEY-14).
    #[serde(default, deserialize_with = "names::list::<_, FixtureKey>")]
    pub revoked: Option<Vec<String>>,
    /// Fixture keys whose entry in this party's registry is unreadable, so the registry is
    /// *unavailable* for them (BT-KEY-14).
    #[serde(default, deserialize_with = "names::list::<_, FixtureKey>")]
    pub registry_broken: Option<Vec<String>>,
    /// Whether the fixture registry key is trusted.
    #[serde(default)]
    pub trust_registry: bool,
    /// The scope of the trusted registry key: registration suffixes (BT-KEY-15).
    pub registry_scope: Option<Vec<String>>,
    /// Trust on first use.
    #[serde(default)]
    pub accept_unsigned: bool,
    /// Allowed peer key algorithms.
    #[serde(default, deserialize_with = "names::list::<_, KeyAlgorithm>")]
    pub allow_algorithms: Option<Vec<String>>,
    /// Cipher suites in preference order.
    #[serde(default, deserialize_with = "names::list::<_, CipherSuite>")]
    pub cipher_suites: Option<Vec<String>>,
    /// Server: whether SEND_KEY is answered with the key.
    pub send_key: Option<bool>,
    /// Whether resumption is on.
    pub resumption: Option<bool>,
    /// Client: expected server registration.
    pub expect_server: Option<String>,
    /// IUT only: connections to run.
    pub connections: Option<u32>,
    /// IUT only: application bytes (hex) to send after the handshake.
    pub send: Option<String>,
    /// IUT only: echo application data.
    #[serde(default)]
    pub echo: bool,
    /// IUT only: send close_notify after the handshake.
    #[serde(default)]
    pub close: bool,
    /// Handshake timeout in milliseconds.
    pub handshake_timeout_ms: Option<u64>,
    /// The record limit (BT-REC-8): the contract's optional `--record-limit N`.
    pub record_limit: Option<u64>,
    /// The session lifetime in seconds (BT-RES-3): for the IUT the contract's optional
    /// `--session-lifetime-s N`, for the harness's peer its server's lifetime.
    pub session_lifetime_s: Option<u64>,
    /// IUT only: what the IUT's wall clock reads at start, in Unix seconds (the contract's
    /// optional `--clock UNIX_S`), for key validity and lifetimes across connections.
    pub clock_s: Option<u64>,
    /// Adapter only (interop, bench): the contract's optional `--send-bytes N`.
    pub send_bytes: Option<u64>,
    /// Adapter only (interop, bench): the contract's optional `--sink`.
    #[serde(default)]
    pub sink: bool,
}

/// How the IUT must end.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// `success` (exit 0) or `failure` (exit 1). Default: `failure` when the scenario expects an
    /// alert or a close, `success` otherwise.
    pub iut_exit: Option<ExitClass>,
    /// Whether the IUT reports a completed handshake (default: same as a successful exit).
    pub handshake_complete: Option<bool>,
    /// Whether the completed handshake was resumed.
    pub resumed: Option<bool>,
    /// The negotiated key algorithm.
    #[serde(default, deserialize_with = "names::one::<_, KeyAlgorithm>")]
    pub key_algorithm: Option<String>,
    /// The negotiated cipher suite.
    #[serde(default, deserialize_with = "names::one::<_, CipherSuite>")]
    pub cipher_suite: Option<String>,
    /// The reason of the FAILED_VALIDATION the IUT received, as its `validation_failed` event
    /// with `by` = `peer` reports it.
    #[serde(default, deserialize_with = "names::one::<_, ValidationFailure>")]
    pub peer_validation_failed: Option<String>,
    /// The reason of the FAILED_VALIDATION the IUT sent.
    #[serde(default, deserialize_with = "names::one::<_, ValidationFailure>")]
    pub validation_failed: Option<String>,
    /// The peer registration handle every completed handshake must export (BT-KEY-16).
    pub peer_reg_handle: Option<String>,
    /// The peer key handle every completed handshake must export (BT-KEY-16).
    pub peer_key_handle: Option<String>,
    /// Application data (hex) the IUT must report having received.
    pub application_data: Option<String>,
}

impl Outcome {
    /// The checks of the IUT's exit status and events; `failure` is the exit the scenario's
    /// steps imply when `iut_exit` does not say.
    pub fn check(&self, failure: bool) -> PartyCheck<'_> {
        PartyCheck {
            failure,
            handshake_complete: self.handshake_complete,
            resumed: self.resumed.map_or(Resumed::Any, Resumed::Last),
            key_algorithm: self.key_algorithm.as_deref(),
            cipher_suite: self.cipher_suite.as_deref(),
            validation_failed: self.validation_failed.as_deref(),
            peer_validation_failed: self.peer_validation_failed.as_deref(),
            application_data: self.application_data.as_deref(),
            peer_reg_handle: self.peer_reg_handle.as_deref(),
            peer_key_handle: self.peer_key_handle.as_deref(),
            ..PartyCheck::default()
        }
    }
}

/// Exit status classes of the adapter contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitClass {
    /// Exit status 0.
    Success,
    /// Exit status 1.
    Failure,
}

/// `expect_frame`: a frame from the IUT given by its header, or by a recorded frame it must be
/// like (fields random by nature compared by length). For replaying captures, where the
/// reference peer does not follow the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameShapeSpec {
    content_type: Option<u8>,
    subcode: Option<u8>,
    length: Option<u16>,
    like: Option<String>,
}

/// The frame an `expect_frame` step wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameShape {
    /// A header: content type, subcode and, if given, the length field.
    Header(u8, u8, Option<u16>),
    /// Like this recorded frame.
    Like(Vec<u8>),
}

/// An alert given by its two bytes, sent by the reference peer (protected once it has sent its
/// READY): any level, so that a case can break BT-ALERT-1 on purpose.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlert {
    /// Description (the frame's subcode).
    pub description: u8,
    /// Level (the body byte).
    pub level: u8,
}

/// A frame given field by field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFrame {
    /// Content type byte.
    pub content_type: u8,
    /// Subcode byte.
    pub subcode: u8,
    /// Body bytes (hex).
    #[serde(default)]
    pub body: String,
    /// Length field; default: the body's length.
    pub length: Option<u16>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    send: Option<String>,
    alter: Option<Alter>,
    inject: Option<String>,
    send_raw: Option<String>,
    resend: Option<bool>,
    send_frame: Option<RawFrame>,
    send_alert: Option<RawAlert>,
    expect: Option<OneOrMany>,
    fresh: Option<Vec<String>>,
    expect_frame: Option<FrameShapeSpec>,
    expect_alert: Option<OneOrMany>,
    lenient: Option<bool>,
    expect_close: Option<bool>,
    complete: Option<bool>,
    finish: Option<bool>,
    advance_to: Option<String>,
    send_app: Option<String>,
    expect_app: Option<String>,
    close: Option<bool>,
    shutdown: Option<bool>,
    wait_ms: Option<u64>,
    expect_quiet_ms: Option<u64>,
    next_connection: Option<bool>,
    release: Option<Vec<usize>>,
    hold: Option<bool>,
    pause_ms: Option<u64>,
    within_ms: Option<u64>,
    not_before_ms: Option<u64>,
    fragment: Option<Vec<usize>>,
    timeout_ms: Option<u64>,
    comment: Option<String>,
}

/// What one step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send the reference peer's next frame, which must be this handshake message, altered.
    Send {
        /// The message the peer must have next.
        code: HandshakeCode,
        /// Changes to make.
        alter: Option<Alter>,
    },
    /// Send a valid sample of this handshake message, whatever the state (`inject`).
    Inject(HandshakeCode),
    /// Send raw bytes.
    SendRaw(Vec<u8>),
    /// Send the last frame sent again, byte for byte (a replay).
    Resend,
    /// Send a frame built from fields.
    SendFrame(Vec<u8>),
    /// The reference peer sends this alert through its record layer (`send_alert`).
    SendAlert(RawAlert),
    /// Expect a handshake message: any of these codes.
    Expect(Vec<HandshakeCode>),
    /// Expect a handshake message whose named fields (`random`, `key_share`, `session_id`)
    /// differ from the same field of every message the IUT sent before in the case, on any of
    /// its connections (`expect` with `fresh`: BT-MSG-5, BT-HS-13, BT-HS-17).
    ExpectFresh {
        /// Allowed codes.
        codes: Vec<HandshakeCode>,
        /// Fields that must be new.
        fields: Vec<FreshField>,
    },
    /// Expect this handshake message, and hand it to the reference peer changed by `alter`: a
    /// man in the middle who changed it in transit, while the IUT's transcript keeps what it
    /// sent (`expect` with `alter`).
    ExpectInTransit {
        /// The message the IUT must send.
        code: HandshakeCode,
        /// What the peer reads instead.
        alter: Alter,
    },
    /// Expect a frame with this header, whatever the reference peer makes of it.
    ExpectFrame(FrameShape),
    /// Expect an alert: any of these descriptions. `lenient`: a close without alert passes
    /// with a note.
    ExpectAlert {
        /// Allowed descriptions.
        allowed: Vec<AlertDescription>,
        /// Whether a close without the alert is accepted (graded lenient).
        lenient: bool,
    },
    /// Expect the IUT to close the connection with nothing more sent.
    ExpectClose,
    /// Run the handshake as the reference would until the peer has completed it.
    Complete,
    /// Run the reference peer until the connection ends, however it ends: the handshake runs its
    /// course; a completed one is closed by the reference (close_notify), a failed one ends with
    /// the alerts either side sends. Never fails except when the IUT stalls.
    Finish,
    /// Run the handshake as the reference would until the peer's next frame is this message.
    AdvanceTo(HandshakeCode),
    /// The peer sends application data, its protected frame changed by `alter`.
    SendApp {
        /// The data.
        data: Vec<u8>,
        /// Changes to the sealed frame (a tampered record).
        alter: Option<Alter>,
    },
    /// Write these held frames (see `hold`), by index, in one segment.
    Release(Vec<usize>),
    /// The IUT must send this application data.
    ExpectApp(Vec<u8>),
    /// The peer sends close_notify.
    Close,
    /// The harness shuts its side of the TCP connection (end of stream, no close_notify).
    Shutdown,
    /// Do nothing for a while (a stalling peer).
    Wait(u64),
    /// The IUT must send nothing and keep the connection open for this many milliseconds.
    ExpectQuiet(u64),
    /// Start the IUT's next connection (`iut.connections > 1`).
    NextConnection,
}

/// A field of the IUT's frames: one it must never repeat (`fresh`), or one the harness offers
/// back to it (`alter.reuse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshField {
    /// A hello's `random` (BT-MSG-5), compared with every hello the IUT sent.
    Random,
    /// A hello's `key_share` (BT-HS-17, BT-KS-1: a fresh ephemeral share).
    KeyShare,
    /// SESSION_DETAILS' `session_id` (BT-HS-13).
    SessionId,
}

impl FreshField {
    /// The field named `name` in scenario files (`fresh`, `alter.reuse`).
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "random" => Ok(Self::Random),
            "key_share" => Ok(Self::KeyShare),
            "session_id" => Ok(Self::SessionId),
            other => Err(format!(
                "unknown field {other:?} (random, key_share, session_id)"
            )),
        }
    }

    /// The field's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::KeyShare => "key_share",
            Self::SessionId => "session_id",
        }
    }
}

/// One step and where it came from: a bTLS [`Action`] in the core's step.
pub type Step = harness_core::engine::Step<Action>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    title: String,
    #[serde(default)]
    requirements: Vec<String>,
    iut_role: Role,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Meta,
    #[serde(default)]
    iut: PartyConfig,
    #[serde(default)]
    peer: PartyConfig,
    #[serde(default)]
    outcome: Outcome,
    /// Read before deserializing (see [`load_file`]); declared so that it is not an unknown field.
    #[serde(default, rename = "matrix")]
    _matrix: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "step")]
    steps: Vec<toml::Spanned<StepSpec>>,
}

/// A loaded scenario (one matrix combination).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `area/name` from the path below `scenarios/`, plus `/value` per matrix variable.
    pub id: String,
    /// One line saying what is tested.
    pub title: String,
    /// Longer explanation, if any.
    pub description: Option<String>,
    /// Requirement IDs this scenario checks.
    pub requirements: Vec<String>,
    /// The IUT's role.
    pub iut_role: Role,
    /// IUT configuration.
    pub iut: PartyConfig,
    /// Reference peer configuration.
    pub peer: PartyConfig,
    /// How the IUT must end.
    pub outcome: Outcome,
    /// The steps.
    pub steps: Vec<Step>,
    /// The file.
    pub path: PathBuf,
}

impl Scenario {
    /// What the runner, the reports and the coverage need to know of the case.
    pub fn info(&self) -> harness_core::CaseInfo {
        harness_core::CaseInfo {
            id: self.id.clone(),
            title: self.title.clone(),
            path: self.path.clone(),
            iut_role: self.iut_role,
            requirements: self.requirements.clone(),
        }
    }

    /// Whether the scenario expects the IUT to fail (exit 1).
    pub fn expects_failure(&self) -> bool {
        match self.outcome.iut_exit {
            Some(class) => class == ExitClass::Failure,
            None => self.steps.iter().any(|s| match &s.action {
                Action::ExpectAlert { allowed, .. } => {
                    allowed.iter().any(|a| *a != AlertDescription::CLOSE_NOTIFY)
                }
                Action::ExpectClose => true,
                _ => false,
            }),
        }
    }
}

/// Loads every scenario of one file (several when it has a `[matrix]`). `root` is the
/// `scenarios/` folder; the id is the path below it.
pub fn load_file(root: &Path, path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let text = read_scenario(path)?;
    load_str(path, &base_id(root, path), &text)
}

/// Loads every scenario of one file's text (several when it has a `[matrix]`), giving them the
/// id `base_id`; `path` names the file in errors (scenarios generated in memory use this).
pub fn load_str(path: &Path, base_id: &str, text: &str) -> Result<Vec<Scenario>, ScenarioError> {
    let err = |line, message: String| ScenarioError {
        path: path.to_owned(),
        line,
        message,
    };
    let mut out = Vec::new();
    for (id, body) in expand_matrix(path, base_id, text)? {
        let file: File = toml::from_str(&body).map_err(|e| {
            let (line, message) = toml_errors::locate(&body, &e);
            err(line, message)
        })?;
        out.push(build(path, &body, id, file)?);
    }
    Ok(out)
}

fn build(path: &Path, text: &str, id: String, file: File) -> Result<Scenario, ScenarioError> {
    let err = |line, message: String| ScenarioError {
        path: path.to_owned(),
        line,
        message,
    };
    for (section, party) in [("iut", &file.iut), ("peer", &file.peer)] {
        let field_err = |key: &str, message: String| {
            let line = toml_errors::line_of_field(text, section, key);
            err(line, format!("{section}.{key}: {message}"))
        };
        if let Some(send) = &party.send {
            hex::decode(send).map_err(|e| field_err("send", format!("not hex: {e}")))?;
        }
        if party.session_lifetime_s == Some(0) {
            return Err(field_err(
                "session_lifetime_s",
                "must be at least 1 (BT-RES-3)".into(),
            ));
        }
    }
    if file.peer.clock_s.is_some() {
        return Err(err(
            toml_errors::line_of_field(text, "peer", "clock_s"),
            "peer.clock_s: the harness's peer reads the system clock; only the IUT's clock can \
             be set (iut.clock_s)"
                .into(),
        ));
    }
    let prefix = BtlsProfile.requirement_prefix();
    for req in &file.scenario.requirements {
        if !req.starts_with(prefix) {
            return Err(err(
                0,
                format!("scenario.requirements: {req:?} is not a requirement ID ({prefix}…)"),
            ));
        }
    }
    let mut steps = Vec::new();
    for (index, spanned) in file.steps.into_iter().enumerate() {
        let line = toml_errors::line_of(text, spanned.span().start);
        let spec = spanned.into_inner();
        let step_err = |message: String| err(line, format!("step {}: {message}", index + 1));
        let (pause_ms, within_ms, not_before_ms) =
            (spec.pause_ms, spec.within_ms, spec.not_before_ms);
        let step = Step {
            fragment: spec.fragment.clone(),
            hold: spec.hold == Some(true),
            pause_ms,
            within_ms,
            not_before_ms,
            timeout_ms: spec.timeout_ms,
            comment: spec.comment.clone(),
            action: action(spec).map_err(step_err)?,
            line,
        };
        timing(&step).map_err(step_err)?;
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(err(0, "a scenario needs at least one [[step]]".into()));
    }
    Ok(Scenario {
        id,
        title: file.scenario.title,
        description: file.scenario.description,
        requirements: file.scenario.requirements,
        iut_role: file.scenario.iut_role,
        iut: file.iut,
        peer: file.peer,
        outcome: file.outcome,
        steps,
        path: path.to_owned(),
    })
}

/// `pause_ms` belongs to a step that writes; `within_ms` and `not_before_ms` to one that reads,
/// and make a window that is not empty.
fn timing(step: &Step) -> Result<(), String> {
    let writes = matches!(
        step.action,
        Action::Send { .. }
            | Action::Inject(_)
            | Action::SendRaw(_)
            | Action::SendFrame(_)
            | Action::Resend
            | Action::SendApp { .. }
            | Action::SendAlert(_)
    );
    let reads = matches!(
        step.action,
        Action::Expect(_)
            | Action::ExpectFresh { .. }
            | Action::ExpectInTransit { .. }
            | Action::ExpectFrame(_)
            | Action::ExpectAlert { .. }
            | Action::ExpectClose
    );
    if step.pause_ms.is_some() && !writes {
        return Err("pause_ms: only a step that sends a frame may pause before it".into());
    }
    if (step.within_ms.is_some() || step.not_before_ms.is_some()) && !reads {
        let field = if step.within_ms.is_some() {
            "within_ms"
        } else {
            "not_before_ms"
        };
        return Err(format!(
            "{field}: only an expect, expect_alert, expect_frame or expect_close step has an \
             arrival to bound"
        ));
    }
    if let (Some(a), Some(b)) = (step.not_before_ms, step.within_ms) {
        if a >= b {
            return Err(format!(
                "not_before_ms = {a} must be less than within_ms = {b} (no arrival could pass)"
            ));
        }
    }
    Ok(())
}

fn code(name: &str) -> Result<HandshakeCode, String> {
    HandshakeCode::from_name(name).ok_or_else(|| {
        let all: Vec<String> = HandshakeCode::ALL.iter().map(|c| c.to_string()).collect();
        format!(
            "unknown handshake message {name:?} (one of {})",
            all.join(", ")
        )
    })
}

fn alert(name: &str) -> Result<AlertDescription, String> {
    AlertDescription::from_name(name).ok_or_else(|| format!("unknown alert {name:?}"))
}

fn unhex(field: &str, value: &str) -> Result<Vec<u8>, String> {
    hex::decode(value).map_err(|e| format!("{field}: not hex: {e}"))
}

fn action(spec: StepSpec) -> Result<Action, String> {
    let mut actions = Vec::new();
    if let Some(name) = &spec.send {
        actions.push(Action::Send {
            code: code(name)?,
            alter: spec.alter.clone(),
        });
    }
    if let Some(name) = &spec.inject {
        actions.push(Action::Inject(code(name)?));
    }
    if let Some(raw) = &spec.send_raw {
        actions.push(Action::SendRaw(unhex("send_raw", raw)?));
    }
    if let Some(frame) = &spec.send_frame {
        let body = unhex("send_frame.body", &frame.body)?;
        let len = frame
            .length
            .unwrap_or(u16::try_from(body.len()).map_err(|_| "send_frame.body: too long")?);
        let mut bytes = vec![frame.content_type, frame.subcode];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&body);
        actions.push(Action::SendFrame(bytes));
    }
    if let Some(alert) = spec.send_alert {
        actions.push(Action::SendAlert(alert));
    }
    if let Some(expect) = spec.expect.clone() {
        let codes: Vec<HandshakeCode> = expect
            .into_vec()
            .iter()
            .map(|n| code(n))
            .collect::<Result<_, _>>()?;
        match (&spec.fresh, &spec.alter) {
            (None, Some(alter)) => match codes.as_slice() {
                [code] => actions.push(Action::ExpectInTransit {
                    code: *code,
                    alter: alter.clone(),
                }),
                _ => return Err("`alter` on `expect` names one message".into()),
            },
            (Some(_), Some(_)) => {
                return Err("`fresh` and `alter` do not go together on one `expect`".into())
            }
            (None, None) => actions.push(Action::Expect(codes)),
            (Some(names), None) => {
                let fields = names
                    .iter()
                    .map(|n| FreshField::from_name(n).map_err(|e| format!("fresh: {e}")))
                    .collect::<Result<_, _>>()?;
                actions.push(Action::ExpectFresh { codes, fields });
            }
        }
    } else if spec.fresh.is_some() {
        return Err("`fresh` goes with `expect`".into());
    }
    if let Some(shape) = &spec.expect_frame {
        actions.push(Action::ExpectFrame(match shape {
            FrameShapeSpec { like: Some(hex), content_type: None, subcode: None, length: None } => {
                FrameShape::Like(unhex("expect_frame.like", hex)?)
            }
            FrameShapeSpec { like: None, content_type: Some(ct), subcode: Some(sub), length } => {
                FrameShape::Header(*ct, *sub, *length)
            }
            _ => return Err("expect_frame: give either `like` (hex) or `content_type` and `subcode` (and perhaps `length`)".into()),
        }));
    }
    if let Some(expect) = spec.expect_alert.clone() {
        let allowed = expect
            .into_vec()
            .iter()
            .map(|n| alert(n))
            .collect::<Result<_, _>>()?;
        actions.push(Action::ExpectAlert {
            allowed,
            lenient: spec.lenient.unwrap_or(false),
        });
    }
    if spec.resend == Some(true) {
        actions.push(Action::Resend);
    }
    if spec.expect_close == Some(true) {
        actions.push(Action::ExpectClose);
    }
    if spec.complete == Some(true) {
        actions.push(Action::Complete);
    }
    if spec.finish == Some(true) {
        actions.push(Action::Finish);
    }
    if let Some(name) = &spec.advance_to {
        actions.push(Action::AdvanceTo(code(name)?));
    }
    if let Some(data) = &spec.send_app {
        actions.push(Action::SendApp {
            data: unhex("send_app", data)?,
            alter: spec.alter.clone(),
        });
    }
    if let Some(data) = &spec.expect_app {
        actions.push(Action::ExpectApp(unhex("expect_app", data)?));
    }
    if spec.close == Some(true) {
        actions.push(Action::Close);
    }
    if spec.shutdown == Some(true) {
        actions.push(Action::Shutdown);
    }
    if let Some(ms) = spec.wait_ms {
        actions.push(Action::Wait(ms));
    }
    if let Some(ms) = spec.expect_quiet_ms {
        actions.push(Action::ExpectQuiet(ms));
    }
    if spec.next_connection == Some(true) {
        actions.push(Action::NextConnection);
    }
    if let Some(order) = &spec.release {
        if order.is_empty() {
            return Err("release: name at least one held frame (0 is the first held)".into());
        }
        actions.push(Action::Release(order.clone()));
    }
    if spec.alter.is_some()
        && spec.send.is_none()
        && spec.send_app.is_none()
        && spec.expect.is_none()
    {
        return Err("`alter` goes with `send`, `send_app` or `expect`".into());
    }
    let writes = spec.send.is_some()
        || spec.inject.is_some()
        || spec.send_raw.is_some()
        || spec.resend.is_some()
        || spec.send_frame.is_some()
        || spec.send_alert.is_some()
        || spec.send_app.is_some()
        || spec.close.is_some();
    if spec.hold.is_some() && !writes {
        return Err("`hold` goes with a step that sends (send, inject, send_raw, resend, send_frame, send_alert, send_app, close)".into());
    }
    if spec.lenient.is_some() && spec.expect_alert.is_none() {
        return Err("`lenient` goes with `expect_alert`".into());
    }
    if let (Some(alter), Some(names)) = (&spec.alter, &spec.expect) {
        if alter.reuse.is_some() || alter.replace.is_some() {
            return Err("alter on `expect`: `reuse` and `replace` go with `send`".into());
        }
        if let (Some(set), [name]) = (&alter.set, names.clone().into_vec().as_slice()) {
            crate::alter::check_fields(code(name)?, set)?;
        }
    }
    if let (Some(alter), Some(name)) = (&spec.alter, &spec.send) {
        if let Some(set) = &alter.set {
            crate::alter::check_fields(code(name)?, set)?;
        }
        for field in alter.reuse.iter().flatten() {
            let field = FreshField::from_name(field).map_err(|e| format!("alter.reuse: {e}"))?;
            let code = code(name)?;
            if !btls::msgs::layout::layout(code)
                .iter()
                .any(|f| f.name == field.name())
            {
                return Err(format!("alter.reuse: {code} has no field {}", field.name()));
            }
        }
    }
    if spec.alter.as_ref().is_some_and(|a| a.reuse.is_some()) && spec.send.is_none() {
        return Err("alter.reuse goes with `send` (a handshake message)".into());
    }
    match actions.len() {
        1 => actions.pop().ok_or_else(|| "no action".to_owned()),
        0 => Err("no action: give one of send, inject, send_raw, resend, send_frame, send_alert, expect, expect_frame, expect_alert, expect_close, complete, finish, advance_to, send_app, expect_app, close, shutdown, wait_ms, expect_quiet_ms, next_connection, release".into()),
        _ => Err("more than one action in one step; split it into several [[step]]s".into()),
    }
}

/// Loads every scenario file below `root` (`harness_core::scenario_files::files`); every
/// malformed file is reported.
pub fn load_dir(root: &Path) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    harness_core::scenario_files::load_dir(root, load_file)
}
