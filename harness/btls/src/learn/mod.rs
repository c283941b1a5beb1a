//! Protocol state fuzzing for bTLS: the Mealy machine an IUT really has, learned over an
//! abstract alphabet of handshake messages, application data, alerts and deliberately wrong
//! messages (`harness_core::learn`), compared with the machine of SPEC.md §12, and drawn.
//!
//! - [`alphabet`]: the abstract inputs of each role and how outputs are named;
//! - [`sul`]: the IUT as a system under learning: each query a fresh adapter process and
//!   connection, each input made concrete by the reference implementation as the harness's side
//!   (the candidate configurations that agree with everything sent so far);
//! - [`spec`]: the specification's state tables as machines over the same alphabet;
//! - [`reproduce`]: a difference as a scenario file that shows it;
//! - [`report`]: the run as JSON, Markdown and HTML with the pictures.
#![allow(
    clippy::indexing_slicing,
    reason = "input indices come from the alphabet the learner was given, and machine states from the machines built here"
)]

pub mod alphabet;
pub mod report;
pub mod reproduce;
pub mod spec;
pub mod sul;

pub use alphabet::Input;

use crate::scenario::PartyConfig;
use harness_core::learn::{self, differences, name_states, Difference, Learned, Mealy, Sink};
use harness_core::process::Iut;
use harness_core::Role;
use std::path::PathBuf;
use std::time::Duration;

/// The IUT's configuration while it is learned: both fixture keys of its role, the other role's
/// first-generation keys known, the fixture registry trusted (so a `-second` key, unknown but
/// signed, validates when sent), application data echoed.
pub fn iut_config() -> PartyConfig {
    let mut c = PartyConfig {
        trust_registry: true,
        echo: true,
        ..PartyConfig::default()
    };
    c.handshake_timeout_ms = Some(30_000);
    c
}

/// What to learn.
#[derive(Debug, Clone)]
pub struct Options {
    /// The IUT's role.
    pub role: Role,
    /// Queries run at once (each waits mostly for the quiet period, so more than the cores).
    pub jobs: usize,
    /// How long the IUT must stay silent after an input before its answer counts as complete.
    pub quiet: Duration,
    /// Seed of both sides' randomness and of the random walks.
    pub seed: u64,
    /// Random walks per equivalence test.
    pub random_walks: usize,
    /// The W-method's depth.
    pub depth: usize,
    /// Scratch folder for key files.
    pub work_dir: PathBuf,
    /// A line per round on standard error.
    pub progress: bool,
}

/// One learning run's result.
#[derive(Debug, Clone)]
pub struct Run {
    /// The IUT's name.
    pub iut: String,
    /// Its role.
    pub role: Role,
    /// What the IUT sends as soon as it connects (a client's CLIENT_HELLO), before any input.
    pub initial: String,
    /// The learned machine and the work it took.
    pub learned: Learned,
    /// The specification's machine.
    pub spec: Mealy,
    /// Every difference, shortest words first.
    pub differences: Vec<Difference>,
    /// For each of the first [`MAX_SCENARIOS`] differences, a scenario file that reproduces it.
    pub scenarios: Vec<String>,
}

/// Differences written as scenario files, at most.
pub const MAX_SCENARIOS: usize = 40;

/// The quirks of the reference (`btls::quirks`) that change an answer to an input of the
/// alphabet in the learning configuration, so a learned machine must expose each. The others
/// break a rule about a field's value (a version, a suite list, a key share, a handle, a
/// validity period), a second connection (resumption, the key cache), time, the end of stream,
/// or a path this configuration does not take (the server's retry needs `--no-send-key`), none of
/// which a state machine over whole valid messages can show.
pub const STATE_QUIRKS: &[&str] = &[
    "ignore-unknown-content-type",
    "ignore-unknown-handshake-code",
    "skip-failed-handshake",
    "skip-session-details-signature",
    "skip-client-signature",
    "skip-client-ready-mac",
    "skip-server-ready-mac",
    "early-server-ready",
    "accept-early-application-data",
    "accept-second-send-key",
    "wrong-alert-level",
    "answer-fatal-alert",
    "no-close-notify-reply",
];

/// The roles a quirk's description says it applies to (`client: …`, `server: …`, or both).
pub fn quirk_roles(description: &str) -> Vec<Role> {
    if description.starts_with("client:") {
        vec![Role::Client]
    } else if description.starts_with("server:") {
        vec![Role::Server]
    } else {
        vec![Role::Client, Role::Server]
    }
}

/// The output after which the connection is over.
fn ends_session(output: &str) -> bool {
    output == alphabet::CLOSE || output.ends_with(&format!("+ {}", alphabet::CLOSE))
}

/// Learns `iut` in `options.role` and compares it with the specification.
pub fn run(iut: &Iut, options: &Options) -> Result<Run, String> {
    let sul = sul::BtlsSul::new(iut, options)?;
    let initial = sul.initial_output()?;
    let learn_options = learn::Options {
        jobs: options.jobs,
        sink: Some(Sink {
            ends: ends_session,
            after: alphabet::CLOSED.into(),
        }),
        random_walks: options.random_walks,
        depth: options.depth,
        seed: options.seed,
        progress: options.progress,
        ..learn::Options::default()
    };
    let mut learned = learn::learn(&sul, &learn_options).map_err(|e| match e {
        learn::LearnError::Nondeterministic(c) => format!(
            "{}: the IUT answered the same inputs differently: after {} it sent {:?} once and {:?} once (a longer --quiet-ms may help if it is only slow)",
            iut.name,
            alphabet::show(options.role, &c.word),
            c.first,
            c.second
        ),
        other => format!("{}: {other}", iut.name),
    })?;
    let spec = spec::machine(options.role);
    learned.machine.names = name_states(&learned.machine, &spec);
    let diffs = differences(&spec, &learned.machine);
    let mut scenarios = Vec::new();
    for (n, d) in diffs.iter().take(MAX_SCENARIOS).enumerate() {
        let (_, _, trace) = sul.session(&d.word)?;
        let text = reproduce::scenario(options.role, &iut.name, &spec, d, &trace, sul.configs())?;
        // Every file written must load: a mistake here is the harness's, said at once.
        let name = format!("{}-{}", options.role.as_str(), n + 1);
        crate::scenario::load_str(std::path::Path::new(&format!("{name}.toml")), &name, &text)
            .map_err(|e| format!("the reproducing scenario {name} does not load: {e}"))?;
        scenarios.push(text);
    }
    Ok(Run {
        iut: iut.name.clone(),
        role: options.role,
        initial,
        learned,
        spec,
        differences: diffs,
        scenarios,
    })
}
