//! The generated cases: for each valid path and role, the frames the IUT receives, each mutation
//! of a class, the oracle's answer, and the case as scenario-file text (so a failure's reproducer
//! is the very text that ran).

use super::mutations::Mutation;
use super::oracle::{self, Expected, Received, Turn};
use super::records::RecordChange;
use crate::scenario::{id_segment, load_str, Role, Scenario};
use btls::msgs::HandshakeCode as H;
use std::path::{Path, PathBuf};

/// A class of generated cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Every handshake frame cut at every byte, then end of stream; end of stream without
    /// close_notify after the handshake.
    Truncation,
    /// Every length field set to 0, 1, L-1, L+1, 0x7FFF, 0x8000, 0xFFFF and the maximum plus one.
    Lengths,
    /// Every bit of every handshake frame flipped, plus seeded random byte mutations.
    Bitflips,
    /// Every handshake message skipped (the next one instead), replaced by each later one
    /// (reordered), and duplicated.
    Order,
    /// Every alert description (each defined one and an unknown one) received instead of each
    /// handshake frame.
    Alerts,
    /// Every handshake frame replaced by the same message of another session (same keys and
    /// configuration, other randomness).
    Replay,
    /// Key algorithm and cipher suite selections the receiver did not offer or does not support:
    /// 0, each registered value, the first unassigned value, 0x7FFF and 0xFFFF in every selection
    /// field (a value that leaves the frame as it was is no case).
    Selection,
    /// A peer that stalls before or inside each handshake frame (the IUT must give up with
    /// handshake_timeout), and one that delivers each frame, or the whole handshake, one byte at
    /// a time (the IUT must complete).
    Timing,
    /// Every field of every handshake message re-encoded at the edges of the field-layout
    /// table: a prefixed field with its fewest and most bytes and one past each, a fixed one
    /// with its smallest and largest value and one inside each; prefixes and lengths fixed.
    Boundaries,
    /// The session IDs of the hellos and of SESSION_DETAILS replaced (absent, 1, 31 and 33 bytes,
    /// all zero or 0xFF, an ID the receiver never issued or offered).
    SessionIds,
    /// Every handshake frame sent with each other content type (each defined one and unknown
    /// ones).
    ContentTypes,
    /// Every handshake frame sent with each other handshake code (each defined one and unknown
    /// ones) over its own body.
    Codes,
    /// Bytes after the last field of every handshake message, the frame's length fixed: one
    /// byte, sixteen, the last field again, up to the frame limit.
    Trailing,
    /// After the handshake: protected records dropped, replayed, reordered, and close_notify
    /// written before a record sealed earlier.
    RecordsOrder,
    /// After the handshake: a protected record with each byte of its ciphertext and tag flipped,
    /// its body cut (shorter than the tag, exactly the tag) or extended.
    RecordsTamper,
    /// After (and with) the handshake's last frame: several protected records, and close_notify,
    /// written in one segment (the IUT must deliver them all).
    Coalesce,
}

impl Class {
    /// Every class, in priority order.
    pub const ALL: [Self; 16] = [
        Self::Truncation,
        Self::Lengths,
        Self::Bitflips,
        Self::Order,
        Self::Alerts,
        Self::Replay,
        Self::Selection,
        Self::Timing,
        Self::Boundaries,
        Self::SessionIds,
        Self::ContentTypes,
        Self::Codes,
        Self::Trailing,
        Self::RecordsOrder,
        Self::RecordsTamper,
        Self::Coalesce,
    ];

    /// The class's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Truncation => "truncation",
            Self::Lengths => "lengths",
            Self::Bitflips => "bitflips",
            Self::Order => "order",
            Self::Alerts => "alerts",
            Self::Replay => "replay",
            Self::Selection => "selection",
            Self::Timing => "timing",
            Self::Boundaries => "boundaries",
            Self::SessionIds => "session-ids",
            Self::ContentTypes => "content-types",
            Self::Codes => "codes",
            Self::Trailing => "trailing",
            Self::RecordsOrder => "records-order",
            Self::RecordsTamper => "records-tamper",
            Self::Coalesce => "coalesce",
        }
    }

    /// The valid paths the class mutates.
    pub fn paths(self) -> impl Iterator<Item = &'static ValidPath> {
        PATHS.iter().filter(move |p| match self {
            Self::Selection => true,
            // The record layer is the same after a key request: the full and the abbreviated
            // handshakes derive its keys differently.
            Self::RecordsOrder | Self::RecordsTamper | Self::Coalesce => {
                p.name == "full" || p.name == "resumption"
            }
            _ => p.name != "narrow",
        })
    }

    /// Whether the class changes protected records after the handshake rather than a received
    /// handshake frame.
    pub fn after_handshake(self) -> bool {
        matches!(
            self,
            Self::RecordsOrder | Self::RecordsTamper | Self::Coalesce
        )
    }
}

/// A valid path: the IUT's and the peer's configuration (scenario-file text).
#[derive(Debug, Clone, Copy)]
pub struct ValidPath {
    /// Short name.
    pub name: &'static str,
    /// The `[iut]` table's lines.
    pub iut: &'static str,
    /// The `[peer]` table's lines.
    pub peer: &'static str,
    /// Lines the `[iut]` table adds when the IUT is the client.
    pub client_iut: &'static str,
    /// Steps of the IUT's earlier connections (the changes apply to its last one).
    pub prelude: &'static str,
}

impl ValidPath {
    /// The `[outcome]` lines about the handshakes: whether the last one completed.
    fn outcome(&self, complete: bool) -> String {
        if self.prelude.is_empty() {
            format!("handshake_complete = {complete}\n")
        } else {
            // The first connection completes a full handshake; only the last one resumes.
            format!("handshake_complete = true\nresumed = {complete}\n")
        }
    }
}

/// The valid paths: each side knows the other's key; the IUT knows no key and asks for it; a
/// second connection resumes the first one's session (the abbreviated handshake); the IUT
/// supports one cipher suite only (class selection).
pub const PATHS: [ValidPath; 4] = [
    ValidPath {
        name: "full",
        iut: "",
        peer: "",
        client_iut: "",
        prelude: "",
    },
    ValidPath {
        name: "key-request",
        iut: "known = []\naccept_unsigned = true\n",
        peer: "",
        client_iut: "",
        prelude: "",
    },
    ValidPath {
        name: "resumption",
        iut: "connections = 2\n",
        peer: "",
        client_iut: "expect_server = \"server.example\"\n",
        prelude: "[[step]]\ncomplete = true\n[[step]]\nclose = true\n[[step]]\nexpect_alert = \"close_notify\"\n[[step]]\nnext_connection = true\n",
    },
    ValidPath {
        name: "narrow",
        iut: "cipher_suites = [\"AES_256_GCM\"]\n",
        peer: "",
        client_iut: "",
        prelude: "",
    },
];

/// One generated case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The class.
    pub class: Class,
    /// The IUT's role.
    pub role: Role,
    /// The valid path's name.
    pub path: &'static str,
    /// The received frame mutated (`None`: after the handshake).
    pub frame: Option<(usize, H)>,
    /// The mutation.
    pub mutation: Mutation,
    /// Which family of the class (`cut`, `header-length`, `flip`, `random`, …): failures of one
    /// family on one frame are one finding, shrunk to the smallest.
    pub family: String,
    /// What the oracle answered.
    pub expected: Expected,
    /// The scenario-file text.
    pub text: String,
    /// The scenario.
    pub scenario: Scenario,
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// The scenario text up to the steps; `iut_lines` are added to the `[iut]` table.
fn header(
    role: Role,
    path: &ValidPath,
    iut_lines: &str,
    title: &str,
    requirements: &[&str],
) -> String {
    let reqs: Vec<String> = requirements.iter().map(|r| format!("\"{r}\"")).collect();
    format!(
        "[scenario]\ntitle = \"{}\"\nrequirements = [{}]\niut_role = \"{}\"\n\n[iut]\n{}{}{}\n[peer]\n{}\n{}",
        title.replace('"', "'"),
        reqs.join(", "),
        role.as_str(),
        path.iut,
        if role == Role::Client { path.client_iut } else { "" },
        iut_lines,
        path.peer,
        path.prelude
    )
}

/// The base scenario of a path (for the oracle's configurations).
pub fn base(role: Role, path: &ValidPath) -> Result<Scenario, String> {
    let text = format!(
        "{}\n[[step]]\ncomplete = true\n",
        header(role, path, "", "valid path", &[])
    );
    parse("generated/base", &text)
}

/// Parses generated text as a scenario.
pub fn parse(id: &str, text: &str) -> Result<Scenario, String> {
    let file = PathBuf::from(format!("<generated>/{id}.toml"));
    load_str(&file, id, text)
        .map_err(|e| e.to_string())?
        .pop()
        .ok_or_else(|| format!("{id}: no scenario"))
}

/// The steps that end a completed handshake cleanly: the peer closes, the IUT answers with
/// close_notify.
const CLEAN_CLOSE: &str = "[[step]]\nclose = true\n[[step]]\nexpect_alert = \"close_notify\"\n";

/// The sanity handshake of a path and role: complete, close, expect close_notify.
pub fn sanity(class: Class, role: Role, path: &ValidPath) -> Result<(String, Scenario), String> {
    let id = format!(
        "generated/{}/{}/{}/sanity",
        class.name(),
        role.as_str(),
        path.name
    );
    let text = format!(
        "{}\n[[step]]\ncomplete = true\n{CLEAN_CLOSE}\n[outcome]\n{}",
        header(
            role,
            path,
            "",
            "sanity handshake after the generated cases",
            &["BT-CLOSE-2"]
        ),
        path.outcome(true)
    );
    let scenario = parse(&id, &text)?;
    Ok((text, scenario))
}

/// What became of one generated input.
#[derive(Debug, Clone)]
pub enum Built {
    /// A case to run.
    Case(Box<Case>),
    /// The reference accepts the input: not a negative case.
    Accepted,
    /// Only the peer can tell: not a negative case of the IUT.
    PeerDetects,
}

/// The steps replaying the exchange after the changed input.
fn turn_steps(before: &[Turn]) -> String {
    before
        .iter()
        .map(|t| match t {
            Turn::Iut(code) => format!("[[step]]\nexpect = \"{code}\"\n"),
            Turn::Peer(code) => format!("[[step]]\nsend = \"{code}\"\n"),
            Turn::EndOfStream => "[[step]]\nshutdown = true\n".to_owned(),
        })
        .collect()
}

/// The steps that deliver the changed input (after `advance_to` the frame's code).
fn input_steps(mutation: &Mutation, code: H) -> String {
    match mutation {
        Mutation::Instead(other) => {
            format!("[[step]]\ncomment = \"{other} instead of {code}\"\ninject = \"{other}\"\n")
        }
        Mutation::Raw(bytes) => format!("[[step]]\nsend_raw = \"{}\"\n", hex::encode(bytes)),
        Mutation::Duplicate => format!("[[step]]\nsend = \"{code}\"\n[[step]]\nresend = true\n"),
        Mutation::Stall(0) => String::new(),
        Mutation::Trickle => {
            format!("[[step]]\nsend = \"{code}\"\nfragment = [1]\n")
        }
        _ => format!("[[step]]\nsend = \"{code}\"\nalter = {}\n", mutation.toml()),
    }
}

/// Builds one case: asks the oracle, and says when the input is not a negative case.
#[allow(
    clippy::too_many_arguments,
    reason = "one case is described by all of these"
)]
pub fn build(
    class: Class,
    role: Role,
    path: &ValidPath,
    frame: Option<&Received>,
    mutation: Mutation,
    family: &str,
    label: &str,
    seed: u64,
    dir: &Path,
) -> Result<Built, String> {
    if let Mutation::Records(change) = &mutation {
        return records_case(class, role, path, change, family, label);
    }
    let base = base(role, path)?;
    let (expected, first_complete) = match (&mutation, frame) {
        (Mutation::TrickleAll, _) => (Expected::Completes, false),
        (_, f) => oracle::expect(&base, seed, dir, f.map(|f| f.index), &mutation.change()?)?,
    };
    let (before, alert, requirement) = match &expected {
        Expected::Accepted => return Ok(Built::Accepted),
        Expected::PeerDetects => return Ok(Built::PeerDetects),
        Expected::Completes => (Vec::new(), None, "BT-TIME-2"),
        Expected::Alert {
            before,
            alert,
            requirement,
        } => (before.clone(), Some(*alert), *requirement),
        Expected::Close {
            before,
            requirement,
        } => (before.clone(), None, *requirement),
    };
    let frame_name = frame.map_or_else(
        || match mutation {
            Mutation::TrickleAll => "whole-handshake".to_owned(),
            _ => "after-handshake".to_owned(),
        },
        |f| format!("{}-{}", f.index, id_segment(&f.code.to_string())),
    );
    let id = format!(
        "generated/{}/{}/{}/{}/{}",
        class.name(),
        role.as_str(),
        path.name,
        frame_name,
        label
    );
    let what = match alert {
        Some(a) => format!("alert {a}"),
        None => "a close without alert".into(),
    };
    let title =
        match (&mutation, frame) {
            (Mutation::EndOfStream(data), _) => {
                format!(
            "End of stream without close_notify after the handshake{} is answered with {what}",
            if data.is_some() { " and application data" } else { "" }
        )
            }
            (Mutation::TrickleAll, _) => {
                "The whole handshake delivered one byte at a time completes".to_owned()
            }
            (Mutation::Trickle, Some(f)) => {
                format!(
                    "{} delivered one byte at a time, the handshake completes",
                    f.code
                )
            }
            (_, Some(f)) => format!("{} {} ({label}) is answered with {what}", f.code, family),
            (_, None) => format!("{family} ({label}) is answered with {what}"),
        };
    let mut text = header(role, path, mutation.iut_lines(), &title, &[requirement]);
    text.push('\n');
    if expected == Expected::Completes {
        match frame {
            Some(f) => {
                text.push_str(&format!("[[step]]\nadvance_to = \"{}\"\n", f.code));
                text.push_str(&input_steps(&mutation, f.code));
                text.push_str("[[step]]\ncomplete = true\n");
            }
            None => text.push_str("[[step]]\ncomplete = true\nfragment = [1]\n"),
        }
        text.push_str(CLEAN_CLOSE);
        text.push_str(&format!("\n[outcome]\n{}", path.outcome(true)));
    } else {
        let mut app = String::new();
        match (&mutation, frame) {
            (Mutation::EndOfStream(data), _) => {
                text.push_str("[[step]]\ncomplete = true\n");
                if let Some(d) = data {
                    app = hex::encode(d);
                    text.push_str(&format!("[[step]]\nsend_app = \"{app}\"\n"));
                }
            }
            (_, Some(f)) => {
                text.push_str(&format!("[[step]]\nadvance_to = \"{}\"\n", f.code));
                text.push_str(&input_steps(&mutation, f.code));
            }
            (_, None) => return Err("a mutation needs a frame".into()),
        }
        // An IUT that misses the problem waits: an end of stream makes it show what it does. Not
        // after an alert, which the IUT must answer by closing by itself (BT-ALERT-2), nor in a
        // stall, which it must end by itself (BT-TIME-1).
        let prompted = before
            .iter()
            .any(|t| matches!(t, Turn::Peer(_) | Turn::EndOfStream));
        if !prompted && !matches!(mutation, Mutation::Raw(_) | Mutation::Stall(_)) {
            text.push_str("[[step]]\nshutdown = true\n");
        }
        text.push_str(&turn_steps(&before));
        if let Some(a) = alert {
            text.push_str(&format!("[[step]]\nexpect_alert = \"{a}\"\n"));
        }
        let complete = matches!(mutation, Mutation::EndOfStream(_)) || first_complete;
        text.push_str(&format!(
            "[[step]]\nexpect_close = true\n\n[outcome]\niut_exit = \"failure\"\n{}application_data = \"{app}\"\n",
            path.outcome(complete)
        ));
    }
    let scenario = parse(&id, &text)?;
    Ok(Built::Case(Box::new(Case {
        class,
        role,
        path: path.name,
        frame: frame.map(|f| (f.index, f.code)),
        mutation,
        family: family.to_owned(),
        expected,
        text,
        scenario,
    })))
}

/// A case of a record-layer class: its expectation follows from the record rules (see
/// [`super::records`]), not from an oracle run.
fn records_case(
    class: Class,
    role: Role,
    path: &ValidPath,
    change: &RecordChange,
    family: &str,
    label: &str,
) -> Result<Built, String> {
    let id = format!(
        "generated/{}/{}/{}/after-handshake/{label}",
        class.name(),
        role.as_str(),
        path.name
    );
    let delivered = hex::encode(change.delivered());
    let (title, requirements, expected) = if change.completes() {
        (
            format!("Records written together ({label}): the IUT delivers them all"),
            vec!["BT-FRAME-1", "BT-REC-2"],
            Expected::Completes,
        )
    } else {
        (
            format!("Protected records {family} ({label}): the first that does not open is answered with alert BAD_RECORD_MAC and nothing after it is delivered"),
            vec!["BT-REC-2", "BT-REC-4"],
            Expected::Alert {
                before: Vec::new(),
                alert: btls::msgs::AlertDescription::BAD_RECORD_MAC,
                requirement: "BT-REC-4",
            },
        )
    };
    let mut text = header(role, path, "", &title, &requirements);
    text.push('\n');
    text.push_str(&change.steps());
    if change.completes() {
        if change.closes() {
            text.push_str("[[step]]\nexpect_alert = \"close_notify\"\n");
        } else {
            text.push_str(CLEAN_CLOSE);
        }
        text.push_str(&format!(
            "\n[outcome]\n{}application_data = \"{delivered}\"\n",
            path.outcome(true)
        ));
    } else {
        // An IUT that misses the bad record waits for more: an end of stream makes it show
        // what it does.
        text.push_str(
            "[[step]]\nshutdown = true\n[[step]]\nexpect_alert = \"bad_record_mac\"\n[[step]]\nexpect_close = true\n",
        );
        text.push_str(&format!(
            "\n[outcome]\niut_exit = \"failure\"\n{}application_data = \"{delivered}\"\n",
            path.outcome(true)
        ));
    }
    let scenario = parse(&id, &text)?;
    Ok(Built::Case(Box::new(Case {
        class,
        role,
        path: path.name,
        frame: None,
        mutation: Mutation::Records(change.clone()),
        family: family.to_owned(),
        expected,
        text,
        scenario,
    })))
}
