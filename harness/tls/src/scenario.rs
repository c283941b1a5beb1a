//! TLS scenario files: `scenarios/tls/**/*.toml`, one case each (or one per `[matrix]` value),
//! in the bTLS format's vocabulary (`send`, `alter`, `expect`, `expect_alert` with allowed sets
//! and `lenient`, `expect_close`, `complete`, `send_app`, `close`). A mistake names the file,
//! the line and the field.
//!
//! ```toml
//! [scenario]
//! title = "No cipher suite in common is a handshake_failure"
//! requirements = ["RFC8446-4.1.1"]
//! iut_role = "server"
//!
//! [iut]
//! suites = ["TLS_AES_256_GCM_SHA384"]
//!
//! [peer]
//! suites = ["TLS_AES_128_GCM_SHA256"]
//!
//! [[step]]
//! send = "CLIENT_HELLO"
//! [[step]]
//! expect_alert = "handshake_failure"
//! ```

use crate::client::{BadPremaster, Hold, SpoilFinished};
use crate::msgs::{
    AlertDescription, CipherSuite, ContentType, Extension, ExtensionType, HandshakeType,
    NamedGroup, ProtocolVersion, SignatureScheme,
};
use harness_core::engine::Step;
use harness_core::scenario_files::{self, ScenarioError};
use harness_core::toml_errors;
use harness_core::Role;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// How the IUT is started (the TLS adapter contract's flags, `harness/TLS.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IutSpec {
    /// The certificate and key: `ecdsa`, `rsa`, `ed25519` (from `scripts/tls-certs.sh`), or
    /// `expired`, `untrusted`.
    #[serde(default = "default_cert")]
    pub cert: String,
    /// The suites the IUT may choose (IANA names); its defaults if absent.
    pub suites: Option<Vec<String>>,
    /// The groups the IUT may use; its defaults if absent.
    pub groups: Option<Vec<String>>,
    /// The protocol versions the IUT may use (`TLS12`, `TLS13`); default TLS 1.3 only.
    pub versions: Option<Vec<String>>,
    /// Connections the IUT serves before it exits.
    #[serde(default = "one")]
    pub connections: u32,
    /// `false`: the server keeps no session cache (`--session-cache off`), so only a ticket
    /// can resume.
    #[serde(default = "yes")]
    pub session_cache: bool,
    /// `false`: the server issues and takes no RFC 5077 tickets (`--tickets off`).
    #[serde(default = "yes")]
    pub tickets: bool,
}

fn yes() -> bool {
    true
}

fn default_cert() -> String {
    "ecdsa".into()
}

fn one() -> u32 {
    1
}

impl Default for IutSpec {
    fn default() -> Self {
        Self {
            cert: default_cert(),
            suites: None,
            groups: None,
            versions: None,
            connections: 1,
            session_cache: true,
            tickets: true,
        }
    }
}

/// The harness's client: what its ClientHello offers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// Suites offered, in order.
    pub suites: Option<Vec<String>>,
    /// Groups offered; a key share is sent for the first.
    pub groups: Option<Vec<String>>,
    /// Versions in `supported_versions` (names, or numbers such as `0x0305`).
    pub versions: Option<Vec<String>>,
    /// `signature_algorithms`.
    pub signature_schemes: Option<Vec<String>>,
    /// `server_name`; `""` leaves the extension out.
    pub server_name: Option<String>,
    /// Ask for tickets: an empty session_ticket extension in a TLS 1.2 offer (RFC 5077),
    /// psk_key_exchange_modes in a TLS 1.3 one (implied by a TLS 1.3 `resume`).
    #[serde(default)]
    pub session_ticket: bool,
    /// On every connection after the first, offer what an earlier one saved: the TLS 1.2
    /// session the last full handshake made, by `session_id`, `ticket` (with a fresh session
    /// ID, RFC 5077 §3.4) or `forged_ticket` (its ticket with one byte flipped); or the last
    /// TLS 1.3 ticket as a PSK: `psk`, `psk_forged_identity` (the ticket flipped, the binder
    /// right for the PSK) or `psk_wrong_binder`.
    pub resume: Option<String>,
}

/// How a later connection offers what an earlier one saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// A TLS 1.2 session, by session ID or ticket.
    V12(crate::client::Offer),
    /// A TLS 1.3 ticket as a PSK, spoiled or not.
    V13(Option<crate::client::Spoil13>),
}

impl PeerSpec {
    /// How a saved session is offered; the name was checked when the file loaded.
    pub fn offer(&self) -> Option<Resume> {
        use crate::client::{Offer, Spoil13};
        match self.resume.as_deref()? {
            "session_id" => Some(Resume::V12(Offer::SessionId)),
            "ticket" => Some(Resume::V12(Offer::Ticket)),
            "forged_ticket" => Some(Resume::V12(Offer::ForgedTicket)),
            "psk" => Some(Resume::V13(None)),
            "psk_forged_identity" => Some(Resume::V13(Some(Spoil13::Identity))),
            "psk_wrong_binder" => Some(Resume::V13(Some(Spoil13::Binder))),
            _ => None,
        }
    }
}

impl PeerSpec {
    /// The client's configuration; the names were checked when the file loaded.
    pub fn config(&self, seed: u64) -> crate::client::Config13 {
        let mut c = crate::client::Config13 {
            seed,
            ..crate::client::Config13::default()
        };
        if let Some(v) = &self.suites {
            c.suites = all(v, suite).unwrap_or_default();
        }
        if let Some(v) = &self.groups {
            c.groups = all(v, group).unwrap_or_default();
        }
        if let Some(v) = &self.versions {
            c.versions = all(v, version).unwrap_or_default();
        }
        if let Some(v) = &self.signature_schemes {
            c.signature_schemes = all(v, scheme).unwrap_or_default();
        }
        if let Some(n) = &self.server_name {
            c.server_name = (!n.is_empty()).then(|| n.clone());
        }
        c.session_ticket = self.session_ticket || matches!(self.offer(), Some(Resume::V13(_)));
        c.timeout = std::time::Duration::from_secs(3);
        c
    }
}

/// Changes to the ClientHello before it is sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloAlter {
    /// `legacy_version` (`0x0301`…).
    pub version: Option<String>,
    /// The random, as hex (any length).
    pub random: Option<String>,
    /// The session ID, as hex (any length, up to 255 bytes fit its prefix).
    pub session_id: Option<String>,
    /// The suites offered, in place of the peer's (IANA names or numbers).
    pub cipher_suites: Option<Vec<String>>,
    /// The cipher-suite list's length prefix.
    pub cipher_suites_len: Option<u32>,
    /// The extensions block's length prefix.
    pub extensions_len: Option<u32>,
    /// The compression methods, as hex bytes (`"00"`, `"01"`, `""`).
    pub compression_methods: Option<String>,
    /// Extensions left out, by name.
    #[serde(default)]
    pub drop_extensions: Vec<String>,
    /// Extensions added at the end: `{ type = "0xfafa" or a name, data = "hex" }`.
    #[serde(default)]
    pub add_extensions: Vec<RawExtension>,
    /// Add to extensions' own lengths, by name: `[["KEY_SHARE", 1]]`.
    #[serde(default)]
    pub extension_len_delta: Vec<(String, i32)>,
    /// Extensions whose length claims one byte more than their body.
    #[serde(default)]
    pub extension_longer: Vec<String>,
    /// Extensions whose length claims one byte less than their body.
    #[serde(default)]
    pub extension_shorter: Vec<String>,
    /// Add to any length prefix of the encoded hello by its field's name
    /// (`[["KEY_SHARE.key_exchange", -1]]`, names from [`crate::fields`]; `handshake` is the
    /// handshake header's length).
    #[serde(default)]
    pub length: Vec<(String, i64)>,
    /// End the hello's body where this field starts (the handshake header's length follows
    /// the cut, so the message is whole and its inside is short).
    pub truncate_at: Option<String>,
}

impl HelloAlter {
    /// Every length change, by extension name.
    fn deltas(&self) -> Vec<(String, i32)> {
        let mut out = self.extension_len_delta.clone();
        out.extend(self.extension_longer.iter().map(|n| (n.clone(), 1)));
        out.extend(self.extension_shorter.iter().map(|n| (n.clone(), -1)));
        out
    }
}

impl HelloAlter {
    /// The hello message to send: `body` with the byte-level changes (`length`, `truncate_at`)
    /// made, in its handshake header.
    pub fn message(&self, mut body: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut header_delta = 0i64;
        for (name, delta) in &self.length {
            if name == "handshake" {
                header_delta += delta;
            } else {
                crate::fields::change_length(&mut body, name, *delta)?;
            }
        }
        if let Some(name) = &self.truncate_at {
            let at = crate::fields::find(&body, name)?.at;
            body.truncate(at);
        }
        let len = i64::try_from(body.len()).unwrap_or_default() + header_delta;
        let len = u32::try_from(len.rem_euclid(1 << 24)).unwrap_or_default();
        Ok(crate::msgs::handshake_message(
            HandshakeType::CLIENT_HELLO,
            &body,
            (header_delta != 0).then_some(len),
        ))
    }
}

/// An extension given as type and bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtension {
    /// A name (`SUPPORTED_VERSIONS`) or a number (`0xfafa`).
    #[serde(rename = "type")]
    pub typ: String,
    /// The body, as hex.
    #[serde(default)]
    pub data: String,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send the ClientHello, changed as `alter` says.
    SendHello(Box<HelloAlter>),
    /// Read until the peer has received this handshake message; the next one the peer got
    /// must be this one.
    Expect(HandshakeType),
    /// Run the handshake to its end (sending the ClientHello first if not yet sent); the
    /// client's Finished spoiled as `finished` says (`wrong_verify_data`, `bad_record_mac`);
    /// the version negotiated must be `version` when given.
    Complete {
        /// How the client's Finished is spoiled.
        spoil: Option<SpoilFinished>,
        /// The version the handshake must settle on.
        version: Option<ProtocolVersion>,
        /// Where the client stops its own flight (`hold = "FINISHED"`): the step ends there,
        /// with the keys in place for the message it stops before.
        hold: Option<Hold>,
        /// Whether the handshake must (`true`) or must not (`false`) resume the session
        /// offered.
        resumed: Option<bool>,
        /// Alerts that, in place of a completed handshake, settle the case as passed (a
        /// server may abort where the RFC lets it: `or_alert = ["illegal_parameter"]`).
        or_alert: Vec<AlertDescription>,
        /// TLS 1.2 RSA key exchange: the premaster made wrong (`premaster = "block_type"`);
        /// the step ends once the client's Finished is out.
        premaster: Option<BadPremaster>,
    },
    /// End this connection; the IUT's next one starts (the server must serve
    /// `[iut] connections`).
    NewConnection,
    /// Send a handshake message of this type under the client's current key (in clear before
    /// there is one), outside the state machine: `inject = "CERTIFICATE"`, with `body` as hex
    /// or, without it, a well-formed body of that type ([`crate::msgs::plausible_body`]).
    Inject {
        /// The message's type.
        typ: HandshakeType,
        /// Its body, if not the plausible one.
        body: Option<Vec<u8>>,
    },
    /// Write one record as given, in clear: the record layer's checks.
    SendRecord(RawRecord),
    /// Send application data; with `flip`, in one record with that byte of its fragment
    /// flipped (from the end when negative).
    SendApp(Vec<u8>, Option<i64>),
    /// Read the IUT's echo of what the last `send_app` steps sent: as it was, or each line
    /// reversed (OpenSSL's `-rev` server).
    ExpectEcho,
    /// The IUT's next record is a fatal alert of one of these descriptions; `lenient`: a
    /// close without any alert passes under the lenient grade (the RFC's SHOULD).
    ExpectAlert {
        /// The descriptions allowed.
        allowed: Vec<AlertDescription>,
        /// Whether a close without alert passes leniently.
        lenient: bool,
        /// Whether a HelloRetryRequest instead passes leniently (a check the RFC makes a MAY,
        /// which a server may meet by asking for another share).
        or_retry: bool,
    },
    /// The IUT closes the connection (after at most a close_notify or the alert already read).
    ExpectClose,
    /// Send close_notify.
    Close,
    /// Send a fatal alert.
    SendAlert(AlertDescription),
}

/// A record the harness writes as it stands (`send_record = { type = "HANDSHAKE", fill = 16385 }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    /// The content type: a name (`APPLICATION_DATA`) or a number (`0x63`).
    #[serde(rename = "type")]
    pub typ: String,
    /// The record version (default `0x0303`).
    pub version: Option<String>,
    /// The fragment, as hex.
    #[serde(default)]
    pub data: String,
    /// Or this many zero bytes after `data`.
    #[serde(default)]
    pub fill: usize,
    /// The header's length field, if not the fragment's length.
    pub length: Option<u16>,
}

impl RawRecord {
    /// The record's bytes; the names and hex were checked when the file loaded.
    pub fn encode(&self) -> Vec<u8> {
        let typ = ContentType::from_name(&self.typ.to_ascii_uppercase())
            .or_else(|| {
                number(&self.typ)
                    .and_then(|n| u8::try_from(n).ok())
                    .map(ContentType)
            })
            .unwrap_or(ContentType(0));
        let version = self
            .version
            .as_deref()
            .and_then(version)
            .unwrap_or(ProtocolVersion::TLS12);
        let mut fragment = hex::decode(&self.data).unwrap_or_default();
        fragment.resize(fragment.len() + self.fill, 0);
        crate::msgs::Record {
            content_type: typ,
            version,
            fragment,
        }
        .encode(self.length)
    }

    fn check(&self) -> Result<(), String> {
        ContentType::from_name(&self.typ.to_ascii_uppercase())
            .or_else(|| {
                number(&self.typ)
                    .and_then(|n| u8::try_from(n).ok())
                    .map(ContentType)
            })
            .ok_or(format!(
                "send_record.type: {:?} is not a content type",
                self.typ
            ))?;
        if let Some(v) = &self.version {
            version(v).ok_or(format!("send_record.version: {v:?} is not a version"))?;
        }
        hex::decode(&self.data).map_err(|e| format!("send_record.data: {e}"))?;
        if hex::decode(&self.data).map_or(0, |d| d.len()) + self.fill > 0xffff {
            return Err("send_record: a record holds at most 65535 bytes".into());
        }
        Ok(())
    }
}

/// What is checked after the last step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// `success`, `failure` or `any` (default): the IUT's exit status.
    pub iut_exit: Option<String>,
}

/// One case.
#[derive(Debug, Clone)]
pub struct TlsScenario {
    /// `server/handshake/...`.
    pub id: String,
    /// One line.
    pub title: String,
    /// What the case checks and why.
    pub description: Option<String>,
    /// RFC section IDs (`RFC8446-4.1.1`).
    pub requirements: Vec<String>,
    /// The IUT's role.
    pub iut_role: Role,
    /// How the IUT is started.
    pub iut: IutSpec,
    /// What the harness's side offers.
    pub peer: PeerSpec,
    /// The steps.
    pub steps: Vec<Step<Action>>,
    /// End checks.
    pub outcome: Outcome,
    /// The file.
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    title: String,
    description: Option<String>,
    requirements: Vec<String>,
    iut_role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    scenario: Header,
    #[serde(default)]
    iut: IutSpec,
    #[serde(default)]
    peer: PeerSpec,
    #[serde(rename = "step", default)]
    steps: Vec<toml::Spanned<StepSpec>>,
    #[serde(default)]
    outcome: Outcome,
    #[allow(dead_code, reason = "expanded before parsing")]
    matrix: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    send: Option<String>,
    alter: Option<HelloAlter>,
    expect: Option<String>,
    complete: Option<bool>,
    finished: Option<String>,
    version: Option<String>,
    hold: Option<String>,
    resumed: Option<bool>,
    or_alert: Option<Vec<String>>,
    premaster: Option<String>,
    new_connection: Option<bool>,
    inject: Option<String>,
    body: Option<String>,
    send_record: Option<RawRecord>,
    send_app: Option<String>,
    flip: Option<i64>,
    expect_echo: Option<bool>,
    expect_alert: Option<OneOrMany>,
    lenient: Option<bool>,
    or_retry: Option<bool>,
    expect_close: Option<bool>,
    close: Option<bool>,
    send_alert: Option<String>,
    fragment: Option<Vec<usize>>,
    timeout_ms: Option<u64>,
    comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A handshake type by name, in any case (`server_hello`, `SERVER_HELLO`), or number (`0x63`).
pub fn handshake_type(name: &str) -> Option<HandshakeType> {
    HandshakeType::from_name(&name.to_ascii_uppercase()).or_else(|| {
        number(name)
            .and_then(|n| u8::try_from(n).ok())
            .map(HandshakeType)
    })
}

/// An alert description by name, in any case.
pub fn alert(name: &str) -> Option<AlertDescription> {
    AlertDescription::from_name(&name.to_ascii_uppercase())
}

fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A suite by IANA name or number.
pub fn suite(name: &str) -> Option<CipherSuite> {
    CipherSuite::from_name(name).or_else(|| {
        number(name)
            .and_then(|n| u16::try_from(n).ok())
            .map(CipherSuite)
    })
}

/// A group by name (`X25519`, `SECP256R1`, `P-256`) or number.
pub fn group(name: &str) -> Option<NamedGroup> {
    match name.to_ascii_uppercase().as_str() {
        "P-256" | "P256" => Some(NamedGroup::SECP256R1),
        "P-384" | "P384" => Some(NamedGroup::SECP384R1),
        n => NamedGroup::from_name(n),
    }
    .or_else(|| {
        number(name)
            .and_then(|n| u16::try_from(n).ok())
            .map(NamedGroup)
    })
}

/// A version by name (`TLS13`) or number (`0x0304`).
pub fn version(name: &str) -> Option<ProtocolVersion> {
    ProtocolVersion::from_name(&name.to_ascii_uppercase()).or_else(|| {
        number(name)
            .and_then(|n| u16::try_from(n).ok())
            .map(ProtocolVersion)
    })
}

/// A signature scheme by name or number.
pub fn scheme(name: &str) -> Option<SignatureScheme> {
    SignatureScheme::from_name(&name.to_ascii_uppercase()).or_else(|| {
        number(name)
            .and_then(|n| u16::try_from(n).ok())
            .map(SignatureScheme)
    })
}

/// An extension type by name or number.
pub fn extension_type(name: &str) -> Option<ExtensionType> {
    ExtensionType::from_name(&name.to_ascii_uppercase()).or_else(|| {
        number(name)
            .and_then(|n| u16::try_from(n).ok())
            .map(ExtensionType)
    })
}

/// Every name in `names` parsed by `parse`, or the first that is not known.
pub fn all<T>(names: &[String], parse: fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    names
        .iter()
        .map(|n| parse(n).ok_or_else(|| format!("unknown name {n:?}")))
        .collect()
}

impl HelloAlter {
    /// Checks every name and hex string, so that a mistake is found when the file loads.
    fn check(&self) -> Result<(), String> {
        if let Some(v) = &self.version {
            version(v).ok_or(format!("alter.version: {v:?} is not a version"))?;
        }
        for (field, value) in [
            ("random", &self.random),
            ("session_id", &self.session_id),
            ("compression_methods", &self.compression_methods),
        ] {
            if let Some(h) = value {
                hex::decode(h).map_err(|e| format!("alter.{field}: {e}"))?;
            }
        }
        if let Some(v) = &self.cipher_suites {
            all(v, suite).map_err(|e| format!("alter.cipher_suites: {e}"))?;
        }
        all(&self.drop_extensions, extension_type)
            .map_err(|e| format!("alter.drop_extensions: {e}"))?;
        for e in &self.add_extensions {
            extension_type(&e.typ)
                .ok_or(format!("alter.add_extensions: unknown type {:?}", e.typ))?;
            hex::decode(&e.data).map_err(|x| format!("alter.add_extensions.data: {x}"))?;
        }
        for (name, _) in &self.deltas() {
            extension_type(name).ok_or(format!("alter: unknown extension type {name:?}"))?;
        }
        Ok(())
    }

    /// Applies the changes to `hello`; returns the extra length deltas to apply at encoding.
    pub fn apply(&self, hello: &mut crate::msgs::ClientHello) {
        if let Some(v) = self.version.as_deref().and_then(version) {
            hello.version = v;
        }
        if let Some(r) = self.random.as_deref().and_then(|h| hex::decode(h).ok()) {
            hello.random = r;
        }
        if let Some(s) = self.session_id.as_deref().and_then(|h| hex::decode(h).ok()) {
            hello.session_id = s;
        }
        if let Some(c) = self
            .compression_methods
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
        {
            hello.compression_methods = c;
        }
        if let Some(v) = &self.cipher_suites {
            hello.cipher_suites = all(v, suite).unwrap_or_default();
        }
        if self.cipher_suites_len.is_some() {
            hello.cipher_suites_len = self.cipher_suites_len;
        }
        if self.extensions_len.is_some() {
            hello.extensions_len = self.extensions_len;
        }
        let dropped: Vec<ExtensionType> = self
            .drop_extensions
            .iter()
            .filter_map(|n| extension_type(n))
            .collect();
        hello.extensions.retain(|e| !dropped.contains(&e.typ));
        for e in &self.add_extensions {
            if let (Some(typ), Ok(data)) = (extension_type(&e.typ), hex::decode(&e.data)) {
                hello.extensions.push(Extension { typ, data });
            }
        }
        for (name, delta) in &self.deltas() {
            if let Some(typ) = extension_type(name) {
                hello.extension_len_delta.push((typ, *delta));
            }
        }
    }
}

fn action(spec: &StepSpec) -> Result<Action, String> {
    let mut actions = Vec::new();
    if let Some(s) = &spec.send {
        if handshake_type(s) != Some(HandshakeType::CLIENT_HELLO) {
            return Err(format!(
                "send: the harness's client sends CLIENT_HELLO itself; {s:?} is not one it can send"
            ));
        }
        let alter = spec.alter.clone().unwrap_or_default();
        alter.check()?;
        actions.push(Action::SendHello(Box::new(alter)));
    } else if spec.alter.is_some() {
        return Err("alter goes with send".into());
    }
    if let Some(e) = &spec.expect {
        actions.push(Action::Expect(
            handshake_type(e).ok_or(format!("expect: {e:?} is not a handshake message"))?,
        ));
    }
    if spec.complete == Some(true) {
        let spoil = match spec.finished.as_deref() {
            None => None,
            Some("wrong_verify_data") => Some(SpoilFinished::VerifyData),
            Some("bad_record_mac") => Some(SpoilFinished::Flip(-1)),
            Some(other) => match other.strip_prefix("flip:").and_then(|n| n.parse().ok()) {
                Some(at) => Some(SpoilFinished::Flip(at)),
                None => {
                    return Err(format!(
                        "finished: {other:?} is not wrong_verify_data, bad_record_mac or flip:N (a byte of the record, from its end when negative)"
                    ))
                }
            },
        };
        let version = match spec.version.as_deref() {
            None => None,
            Some(v) => Some(version(v).ok_or(format!("version: {v:?} is not a version"))?),
        };
        let hold = match spec.hold.as_deref() {
            None => None,
            Some(h) => Some(Hold::from_name(h).ok_or(format!(
                "hold: {h:?} is not CLIENT_KEY_EXCHANGE, CHANGE_CIPHER_SPEC or FINISHED"
            ))?),
        };
        let or_alert = spec
            .or_alert
            .iter()
            .flatten()
            .map(|n| alert(n).ok_or(format!("or_alert: {n:?} is not an alert")))
            .collect::<Result<Vec<_>, _>>()?;
        actions.push(Action::Complete {
            spoil,
            version,
            hold,
            resumed: spec.resumed,
            or_alert,
            premaster: match spec.premaster.as_deref() {
                None => None,
                Some(p) => Some(BadPremaster::from_name(p).ok_or(format!(
                    "premaster: {p:?} is not version_rollback, version_ssl3, first_byte, block_type, no_separator, short_padding, short, long or mismatch"
                ))?),
            },
        });
    } else if spec.finished.is_some()
        || spec.version.is_some()
        || spec.hold.is_some()
        || spec.resumed.is_some()
        || spec.or_alert.is_some()
        || spec.premaster.is_some()
    {
        return Err(
            "finished, version, hold, resumed, or_alert and premaster go with complete".into(),
        );
    }
    if spec.new_connection == Some(true) {
        actions.push(Action::NewConnection);
    }
    if let Some(t) = &spec.inject {
        let typ = handshake_type(t).ok_or(format!("inject: {t:?} is not a handshake type"))?;
        let body = match &spec.body {
            None => None,
            Some(h) => Some(hex::decode(h).map_err(|e| format!("body: {e}"))?),
        };
        actions.push(Action::Inject { typ, body });
    } else if spec.body.is_some() {
        return Err("body goes with inject".into());
    }
    if let Some(r) = &spec.send_record {
        r.check()?;
        actions.push(Action::SendRecord(r.clone()));
    }
    if let Some(d) = &spec.send_app {
        actions.push(Action::SendApp(
            hex::decode(d).map_err(|e| format!("send_app: {e}"))?,
            spec.flip,
        ));
    } else if spec.flip.is_some() {
        return Err("flip goes with send_app (for the Finished: finished = \"flip:N\")".into());
    }
    if spec.expect_echo == Some(true) {
        actions.push(Action::ExpectEcho);
    }
    if let Some(a) = &spec.expect_alert {
        let names = match a {
            OneOrMany::One(n) => vec![n.clone()],
            OneOrMany::Many(v) => v.clone(),
        };
        let allowed = names
            .iter()
            .map(|n| alert(n).ok_or(format!("expect_alert: {n:?} is not an alert")))
            .collect::<Result<Vec<_>, _>>()?;
        actions.push(Action::ExpectAlert {
            allowed,
            lenient: spec.lenient == Some(true),
            or_retry: spec.or_retry == Some(true),
        });
    } else if spec.lenient.is_some() || spec.or_retry.is_some() {
        return Err("lenient and or_retry go with expect_alert".into());
    }
    if spec.expect_close == Some(true) {
        actions.push(Action::ExpectClose);
    }
    if spec.close == Some(true) {
        actions.push(Action::Close);
    }
    if let Some(a) = &spec.send_alert {
        actions.push(Action::SendAlert(
            alert(a).ok_or(format!("send_alert: {a:?} is not an alert"))?,
        ));
    }
    match actions.len() {
        1 => Ok(actions.remove(0)),
        0 => Err("no action (send, expect, complete, new_connection, inject, send_record, send_app, expect_echo, expect_alert, expect_close, close, send_alert)".into()),
        _ => Err("more than one action in one step; split it into several [[step]]s".into()),
    }
}

/// Parses one case's text.
pub fn parse(path: &Path, id: String, text: &str) -> Result<TlsScenario, ScenarioError> {
    let err = |line, message: String| ScenarioError {
        path: path.to_owned(),
        line,
        message,
    };
    let file: FileSpec = toml::from_str(text).map_err(|e| {
        let (line, message) = toml_errors::locate(text, &e);
        err(line, message)
    })?;
    for req in &file.scenario.requirements {
        if !req.starts_with("RFC") || !req.contains('-') {
            return Err(err(
                0,
                format!("scenario.requirements: {req:?} is not an RFC section ID (RFC8446-4.1.2)"),
            ));
        }
    }
    if file.scenario.iut_role != Role::Server {
        return Err(err(
            toml_errors::line_of_field(text, "scenario", "iut_role"),
            "scenario.iut_role: only server IUTs are run so far (the harness's TLS side is a client)".into(),
        ));
    }
    let field = |table: &str, key: &str, e: String| {
        err(
            toml_errors::line_of_field(text, table, key),
            format!("{table}.{key}: {e}"),
        )
    };
    if let Some(v) = &file.iut.suites {
        all(v, suite).map_err(|e| field("iut", "suites", e))?;
    }
    if let Some(v) = &file.iut.groups {
        all(v, group).map_err(|e| field("iut", "groups", e))?;
    }
    if let Some(v) = &file.iut.versions {
        all(v, version).map_err(|e| field("iut", "versions", e))?;
    }
    if !["ecdsa", "rsa", "ed25519", "expired", "untrusted"].contains(&file.iut.cert.as_str()) {
        return Err(field(
            "iut",
            "cert",
            format!(
                "{:?}: one of ecdsa, rsa, ed25519, expired, untrusted",
                file.iut.cert
            ),
        ));
    }
    if let Some(v) = &file.peer.suites {
        all(v, suite).map_err(|e| field("peer", "suites", e))?;
    }
    if let Some(v) = &file.peer.groups {
        all(v, group).map_err(|e| field("peer", "groups", e))?;
    }
    if let Some(v) = &file.peer.versions {
        all(v, version).map_err(|e| field("peer", "versions", e))?;
    }
    if let Some(v) = &file.peer.signature_schemes {
        all(v, scheme).map_err(|e| field("peer", "signature_schemes", e))?;
    }
    if let Some(r) = &file.peer.resume {
        if file.peer.offer().is_none() {
            return Err(field(
                "peer",
                "resume",
                format!("{r:?}: session_id, ticket, forged_ticket (TLS 1.2), psk, psk_forged_identity or psk_wrong_binder (TLS 1.3)"),
            ));
        }
    }
    if let Some(e) = &file.outcome.iut_exit {
        if !["success", "failure", "any"].contains(&e.as_str()) {
            return Err(field(
                "outcome",
                "iut_exit",
                format!("{e:?}: success, failure or any"),
            ));
        }
    }
    let mut steps = Vec::new();
    for (index, spanned) in file.steps.into_iter().enumerate() {
        let line = toml_errors::line_of(text, spanned.span().start);
        let spec = spanned.into_inner();
        let a = action(&spec).map_err(|m| err(line, format!("step {}: {m}", index + 1)))?;
        if let Action::SendHello(alter) = &a {
            // Field names depend on what the hello holds: check them against this case's.
            let mut hello = file.peer.config(0).hello().hello;
            alter.apply(&mut hello);
            alter
                .message(hello.encode_body())
                .map_err(|m| err(line, format!("step {}: alter: {m}", index + 1)))?;
        }
        let mut step = Step::new(a, line);
        step.fragment = spec.fragment.clone();
        step.timeout_ms = spec.timeout_ms;
        step.comment = spec.comment.clone();
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(err(0, "a scenario needs at least one [[step]]".into()));
    }
    Ok(TlsScenario {
        id,
        title: file.scenario.title,
        description: file.scenario.description,
        requirements: file.scenario.requirements,
        iut_role: file.scenario.iut_role,
        iut: file.iut,
        peer: file.peer,
        steps,
        outcome: file.outcome,
        path: path.to_owned(),
    })
}

/// The cases of one file.
pub fn load_file(root: &Path, path: &Path) -> Result<Vec<TlsScenario>, ScenarioError> {
    let text = scenario_files::read_scenario(path)?;
    let base = scenario_files::base_id(root, path);
    scenario_files::expand_matrix(path, &base, &text)?
        .into_iter()
        .map(|(id, t)| parse(path, id, &t))
        .collect()
}

/// Every case below `root`; every malformed file is reported.
pub fn load_all(root: &Path) -> Result<Vec<TlsScenario>, Vec<ScenarioError>> {
    scenario_files::load_dir(root, load_file)
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

    const OK: &str = r#"
[scenario]
title = "t"
requirements = ["RFC8446-4.1.1"]
iut_role = "server"

[iut]
suites = ["TLS_AES_256_GCM_SHA384"]

[[step]]
send = "client_hello"
alter = { cipher_suites_len = 3, drop_extensions = ["SERVER_NAME"] }
[[step]]
expect_alert = ["handshake_failure", "decode_error"]
lenient = true
"#;

    #[test]
    fn a_scenario_parses_with_its_steps_and_lines() {
        let s = parse(Path::new("a.toml"), "a".into(), OK).unwrap();
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[1].line, 13, "the line of its [[step]]");
        assert!(matches!(
            &s.steps[1].action,
            Action::ExpectAlert { allowed, lenient: true, .. } if allowed.len() == 2
        ));
    }

    #[test]
    fn mistakes_name_the_line_and_field() {
        let bad = OK.replace("\"decode_error\"", "\"decode_eror\"");
        let e = parse(Path::new("a.toml"), "a".into(), &bad).unwrap_err();
        assert_eq!(e.line, 13);
        assert!(e.message.contains("decode_eror"), "{}", e.message);
        let bad = OK.replace("TLS_AES_256_GCM_SHA384", "TLS_AES_512");
        let e = parse(Path::new("a.toml"), "a".into(), &bad).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.starts_with("iut.suites"), "{}", e.message);
        let bad = OK.replace("cipher_suites_len", "cipher_suite_len");
        let e = parse(Path::new("a.toml"), "a".into(), &bad).unwrap_err();
        assert!(e.message.contains("cipher_suite_len"), "{}", e.message);
    }

    #[test]
    fn byte_level_changes_keep_the_message_whole_and_bad_field_names_fail_at_load() {
        let body = PeerSpec::default().config(0).hello().hello.encode_body();
        let cut = HelloAlter {
            truncate_at: Some("cipher_suites".into()),
            ..HelloAlter::default()
        };
        let m = cut.message(body.clone()).unwrap();
        assert_eq!(m.len(), 4 + 67, "version, random, session ID length and ID");
        assert_eq!(&m[1..4], &[0, 0, 67], "the header follows the cut");
        let short = HelloAlter {
            length: vec![("handshake".into(), -1)],
            ..HelloAlter::default()
        };
        let m = short.message(body.clone()).unwrap();
        assert_eq!(m.len(), 4 + body.len(), "the body is whole");
        assert_eq!(
            usize::from(m[2]) * 256 + usize::from(m[3]),
            body.len() - 1,
            "the header claims one byte less"
        );
        let bad = OK.replace(
            "alter = { cipher_suites_len = 3, drop_extensions = [\"SERVER_NAME\"] }",
            "alter = { truncate_at = \"KEY_SHARE.no_such_field\" }",
        );
        let e = parse(Path::new("a.toml"), "a".into(), &bad).unwrap_err();
        assert_eq!(e.line, 10, "{}", e.message);
        assert!(e.message.contains("no_such_field"), "{}", e.message);
    }
}
