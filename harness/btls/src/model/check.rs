//! The model's property: an implementation produces exactly the model's frames. Against the
//! reference in memory ([`check_in_process`]), and against any IUT through the adapter contract
//! with the reference as its peer ([`check_iut`]); the CLI's `btls-harness model` drives it.

use super::{
    classify, fixture, predict, sent_by, show_trace, Alg, Expect, ModelConfig, Msg, PartyModel,
    Path, Prediction, Variant, SERVER_REG, WRONG_REG,
};
use crate::engine::{run_case, RunOptions};
use crate::fixtures::Fixtures;
use crate::scenario::{Action, ExitClass, Outcome, PartyConfig, Role, Scenario, Step};
use btls::conn::{ClientSessionStore, ServerSessionCache, Side};
use btls::keys::{KeyCache, KeyRegistry, PeerKeys, RegistryAnswer};
use btls::msgs::{CipherSuite, KeyAlgorithm, PublishedKey};
use btls::testing::{split_frames, Pair};
use btls::{ClientConfig, ServerConfig};
use harness_core::pool::parallel_map;
use harness_core::process::Iut;
use harness_core::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The frames each side sent on one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The client's frames, in order.
    pub client: Vec<Msg>,
    /// The server's frames, in order.
    pub server: Vec<Msg>,
}

fn observe(frames: impl IntoIterator<Item = (Side, Vec<u8>)>) -> Observed {
    let mut o = Observed::default();
    for (side, frame) in frames {
        if let Some(m) = classify(&frame) {
            match side {
                Side::Client => o.client.push(m),
                Side::Server => o.server.push(m),
            }
        }
    }
    o
}

/// Compares the observed connections with the prediction, direction by direction (the order
/// between the two directions is the transport's, not the protocol's).
pub fn compare(prediction: &Prediction, observed: &[Observed]) -> Result<(), String> {
    let mut problems = String::new();
    if prediction.connections.len() != observed.len() {
        let _ = writeln!(
            problems,
            "expected {} connection(s), saw {}",
            prediction.connections.len(),
            observed.len()
        );
    }
    for (i, (p, o)) in prediction.connections.iter().zip(observed).enumerate() {
        for (side, got) in [(Side::Client, &o.client), (Side::Server, &o.server)] {
            let want = sent_by(&p.trace, side);
            if &want != got {
                let show = |v: &[Msg]| {
                    v.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    problems,
                    "connection {i}: {side:?} sent [{}], the model says [{}]",
                    show(got),
                    show(&want)
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A full report of a mismatch: the configuration, the expected trace and what was seen.
pub fn explain(config: &ModelConfig, prediction: &Prediction, problems: &str) -> String {
    let mut s = format!("configuration: {config:#?}\n");
    for (i, c) in prediction.connections.iter().enumerate() {
        let _ = write!(
            s,
            "expected, connection {i} ({}):\n{}",
            c.path,
            show_trace(&c.trace)
        );
    }
    s.push_str("mismatch:\n");
    s.push_str(problems);
    s
}

struct MemoryRegistry(Vec<PublishedKey>);

impl KeyRegistry for MemoryRegistry {
    fn lookup(&self, reg_handle: &[u8], key_handle: &[u8]) -> RegistryAnswer {
        self.0
            .iter()
            .find(|k| k.reg_handle == reg_handle && k.key_handle == key_handle)
            .cloned()
            .map_or(RegistryAnswer::NotFound, RegistryAnswer::Found)
    }
}

fn published(role: Side, list: &[(Alg, Variant)]) -> Result<Vec<PublishedKey>, String> {
    list.iter()
        .map(|(a, v)| {
            let name = fixture(role, *a, *v);
            Fixtures::get()
                .key(&name)
                .map(|k| k.published.clone())
                .ok_or_else(|| format!("no fixture key {name}"))
        })
        .collect()
}

/// Own keys, peer keys and suites of one reference party.
type ReferenceParty = (Vec<Arc<btls::keys::OwnKey>>, PeerKeys, Vec<CipherSuite>);

fn reference_party(party: &PartyModel, role: Side) -> Result<ReferenceParty, String> {
    let peer_role = match role {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    };
    let own = party
        .keys
        .iter()
        .map(|(a, v)| {
            let name = fixture(role, *a, *v);
            Fixtures::get()
                .key(&name)
                .ok_or_else(|| format!("no fixture key {name}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = PeerKeys {
        cache: Arc::new(KeyCache::new(64)),
        ..PeerKeys::default()
    };
    for k in published(peer_role, &party.known)? {
        keys.add_known(k);
    }
    if !party.registry.is_empty() {
        keys.registry = Some(Arc::new(MemoryRegistry(published(
            peer_role,
            &party.registry,
        )?)));
    }
    if party.trust_registry {
        if let Some(r) = Fixtures::get().key("registry") {
            keys.policy
                .trusted_registries
                .push(r.published.public_key.clone().into());
        }
    }
    keys.policy.accept_unsigned = party.accept_unsigned;
    keys.policy.allowed_algorithms = party
        .allow
        .iter()
        .filter_map(|a| KeyAlgorithm::from_name(a.spec_name()))
        .collect();
    let suites = party
        .suites
        .iter()
        .filter_map(|s| CipherSuite::from_name(s.spec_name()))
        .collect();
    Ok((own, keys, suites))
}

/// The reference client and server configurations of `config`.
pub fn reference_configs(config: &ModelConfig) -> Result<(ClientConfig, ServerConfig), String> {
    let (own, keys, suites) = reference_party(&config.client, Side::Client)?;
    let mut client = ClientConfig::new(own);
    client.peer_keys = keys;
    client.cipher_suites = suites;
    client.resumption = config.client.resumption;
    client.sessions = Arc::new(ClientSessionStore::new(8));
    client.expected_server = match config.expect_server {
        Expect::Unset => None,
        Expect::Right => Some(SERVER_REG.as_bytes().to_vec()),
        Expect::Wrong => Some(WRONG_REG.as_bytes().to_vec()),
    };
    client.accept_any_server = client.expected_server.is_none(); // BT-KEY-16: explicitly
    let (own, keys, suites) = reference_party(&config.server, Side::Server)?;
    let mut server = ServerConfig::new(own);
    server.peer_keys = keys;
    server.cipher_suites = suites;
    server.resumption = config.server.resumption;
    server.may_send_key = config.send_key;
    server.sessions = Arc::new(ServerSessionCache::new(8));
    Ok((client, server))
}

/// Runs `config` with the reference client and server in memory and compares the frames with
/// the model's prediction (and the negotiated parameters with the model's).
pub fn check_in_process(config: &ModelConfig, seed: u64) -> Result<Prediction, String> {
    let prediction = predict(config);
    let (client, server) = reference_configs(config)?;
    let (client, server) = (Arc::new(client), Arc::new(server));
    let mut observed = Vec::new();
    let mut problems = String::new();
    for i in 0..2u64 {
        let mut pair = Pair::from_shared(client.clone(), server.clone(), seed.wrapping_add(i * 2))
            .map_err(|e| e.to_string())?;
        pair.run();
        let established = pair.client.is_established() && pair.server.is_established();
        if established {
            pair.client.close();
            pair.run();
        }
        let frames = pair
            .wire
            .writes
            .iter()
            .flat_map(|(side, bytes)| split_frames(bytes).into_iter().map(|f| (*side, f)));
        observed.push(observe(frames));
        let want = prediction
            .connections
            .get(observed.len() - 1)
            .and_then(|c| c.negotiated);
        let got = pair.client.summary().map(|s| {
            (
                s.key_algorithm.name().unwrap_or("?").to_owned(),
                s.cipher_suite.name().unwrap_or("?").to_owned(),
                s.resumed,
            )
        });
        let want = want.map(|n| {
            (
                n.alg.spec_name().to_owned(),
                n.suite.spec_name().to_owned(),
                n.resumed,
            )
        });
        if want.is_some() && (got != want || !established) {
            let _ = writeln!(
                problems,
                "connection {i}: negotiated {got:?}, the model says {want:?}"
            );
        }
        if !(established && config.reconnect) {
            break;
        }
    }
    let mut result = compare(&prediction, &observed);
    if !problems.is_empty() {
        result = Err(format!("{}{problems}", result.err().unwrap_or_default()));
    }
    result
        .map(|()| prediction.clone())
        .map_err(|p| explain(config, &prediction, &p))
}

/// The model's configuration for an IUT in `role` with the reference as its peer: the reference
/// client always expects the fixture server (`expect_server` unset becomes the right one).
pub fn for_role(config: &ModelConfig, role: Role) -> ModelConfig {
    let mut c = config.clone();
    if role == Role::Server && c.expect_server == Expect::Unset {
        c.expect_server = Expect::Right;
    }
    c
}

fn party_config(config: &ModelConfig, role: Side) -> PartyConfig {
    let (party, peer_role) = match role {
        Side::Client => (&config.client, Side::Server),
        Side::Server => (&config.server, Side::Client),
    };
    let names = |r: Side, list: &[(Alg, Variant)]| -> Vec<String> {
        list.iter().map(|(a, v)| fixture(r, *a, *v)).collect()
    };
    PartyConfig {
        keys: Some(names(role, &party.keys)),
        known: Some(names(peer_role, &party.known)),
        registry: (!party.registry.is_empty()).then(|| names(peer_role, &party.registry)),
        trust_registry: party.trust_registry,
        accept_unsigned: party.accept_unsigned,
        allow_algorithms: Some(
            party
                .allow
                .iter()
                .map(|a| a.spec_name().to_owned())
                .collect(),
        ),
        cipher_suites: Some(
            party
                .suites
                .iter()
                .map(|s| s.spec_name().to_owned())
                .collect(),
        ),
        send_key: (role == Side::Server).then_some(config.send_key),
        resumption: Some(party.resumption),
        expect_server: match (role, config.expect_server) {
            (Side::Client, Expect::Right) => Some(SERVER_REG.to_owned()),
            (Side::Client, Expect::Wrong) => Some(WRONG_REG.to_owned()),
            _ => None,
        },
        ..PartyConfig::default()
    }
}

fn step(action: Action) -> Step {
    Step::new(action, 0)
}

/// The scenario that runs `config` with the IUT in `role`: the handshake runs its course on
/// each predicted connection; the outcome is the model's.
pub fn scenario(config: &ModelConfig, role: Role, id: &str) -> Scenario {
    let prediction = predict(config);
    let (iut_side, peer_side) = match role {
        Role::Client => (Side::Client, Side::Server),
        Role::Server => (Side::Server, Side::Client),
    };
    let mut iut = party_config(config, iut_side);
    let n = prediction.connections.len();
    if n > 1 {
        iut.connections = u32::try_from(n).ok();
    }
    let mut steps = Vec::new();
    for i in 0..n {
        if i > 0 {
            steps.push(step(Action::NextConnection));
        }
        steps.push(step(Action::Finish));
    }
    let last = prediction.connections.last().and_then(|c| c.negotiated);
    // The reason of a FAILED_VALIDATION the IUT sends, checked from its events as well.
    let rejected = prediction
        .connections
        .iter()
        .flat_map(|c| c.trace.iter())
        .find_map(|(side, m)| match m {
            Msg::FailedValidation(r) if *side == iut_side => Some(r.to_string()),
            _ => None,
        });
    let all_complete = prediction
        .connections
        .iter()
        .all(|c| c.negotiated.is_some());
    Scenario {
        id: id.to_owned(),
        title: format!(
            "model: {}",
            prediction
                .connections
                .iter()
                .map(|c| c.path.to_string())
                .collect::<Vec<_>>()
                .join(", then ")
        ),
        description: None,
        requirements: Vec::new(),
        iut_role: role,
        iut,
        peer: party_config(config, peer_side),
        outcome: Outcome {
            iut_exit: Some(if all_complete {
                ExitClass::Success
            } else {
                ExitClass::Failure
            }),
            handshake_complete: Some(
                prediction
                    .connections
                    .iter()
                    .any(|c| c.negotiated.is_some()),
            ),
            resumed: last.map(|n| n.resumed),
            key_algorithm: last.map(|n| n.alg.spec_name().to_owned()),
            cipher_suite: last.map(|n| n.suite.spec_name().to_owned()),
            validation_failed: rejected,
            ..Outcome::default()
        },
        steps,
        path: PathBuf::from(format!("{id}.toml")),
    }
}

/// The scenario as a file that `btls-harness run` can load (`finish` steps).
pub fn scenario_file(scenario: &Scenario, notes: &str) -> String {
    let mut s = String::new();
    for line in notes.lines() {
        let _ = writeln!(s, "# {line}");
    }
    let _ = writeln!(
        s,
        "[scenario]\ntitle = {}\niut_role = \"{}\"\n",
        toml::Value::String(scenario.title.clone()),
        scenario.iut_role.as_str()
    );
    for (name, party) in [("iut", &scenario.iut), ("peer", &scenario.peer)] {
        let _ = writeln!(
            s,
            "[{name}]\n{}",
            toml::to_string(party).unwrap_or_default()
        );
    }
    for st in &scenario.steps {
        match st.action {
            Action::NextConnection => s.push_str("[[step]]\nnext_connection = true\n\n"),
            _ => s.push_str("[[step]]\nfinish = true\n\n"),
        }
    }
    let _ = writeln!(
        s,
        "[outcome]\n{}",
        toml::to_string(&scenario.outcome).unwrap_or_default()
    );
    s
}

/// The result of one IUT case.
#[derive(Debug)]
pub struct IutCase {
    /// The configuration as run (after [`for_role`]).
    pub config: ModelConfig,
    /// The model's prediction.
    pub prediction: Prediction,
    /// `Ok`, or the mismatch explained.
    pub result: Result<(), String>,
    /// The adapter exited 89 for an option.
    pub unsupported: Option<String>,
    /// The reproducing scenario file.
    pub scenario_file: String,
    /// The case's transcript.
    pub transcript: String,
}

/// Runs `config` against `iut` in `role` and compares the wire with the model.
pub fn check_iut(
    config: &ModelConfig,
    role: Role,
    iut: &Iut,
    options: &RunOptions,
    id: &str,
) -> IutCase {
    let config = for_role(config, role);
    let prediction = predict(&config);
    let scenario = scenario(&config, role, id);
    let result = run_case(&scenario, iut, options);
    let _ = std::fs::remove_dir_all(options.work_dir.join(id.replace('/', "__")));
    let observed: Vec<Observed> = result
        .capture
        .connections
        .iter()
        .map(|c| {
            let mut bytes: BTreeMap<bool, Vec<u8>> = BTreeMap::new();
            for e in c.events() {
                if let harness_capture::TcpEvent::Data { from, bytes: b, .. } = e {
                    let from_iut = *from == harness_capture::Direction::FromConnector;
                    bytes.entry(from_iut).or_default().extend_from_slice(b);
                }
            }
            let side = |from_iut: bool| match (from_iut, role) {
                (true, Role::Client) | (false, Role::Server) => Side::Client,
                _ => Side::Server,
            };
            observe(bytes.into_iter().flat_map(|(from_iut, b)| {
                split_frames(&b)
                    .into_iter()
                    .map(move |f| (side(from_iut), f))
            }))
        })
        .collect();
    let mut unsupported = None;
    let mut check = compare(&prediction, &observed);
    match &result.verdict {
        Verdict::Pass | Verdict::PassLenient(_) => {}
        Verdict::Unsupported(r) => unsupported = Some(r.clone()),
        Verdict::Fail(f) => {
            let msg = format!(
                "case verdict: fail at step {}: expected {}; got {}\n",
                f.step, f.expected, f.actual
            );
            check = Err(format!("{}{msg}", check.err().unwrap_or_default()));
        }
    }
    let result_text = check
        .as_ref()
        .err()
        .map(|p| explain(&config, &prediction, p));
    IutCase {
        scenario_file: scenario_file(
            &scenario,
            &result_text
                .clone()
                .unwrap_or_else(|| explain(&config, &prediction, "none")),
        ),
        config,
        prediction,
        result: match result_text {
            Some(t) => Err(t),
            None => Ok(()),
        },
        unsupported,
        transcript: result.transcript,
    }
}

/// The totals of a run of the property.
#[derive(Debug, Default)]
pub struct Summary {
    /// Connections that reached each path, per IUT role.
    pub paths: BTreeMap<Path, [usize; 2]>,
    /// Cases run.
    pub cases: usize,
    /// Mismatching cases.
    pub failures: Vec<IutCase>,
    /// Unsupported cases.
    pub unsupported: usize,
}

impl Summary {
    /// Paths of [`Path::all`] no case reached.
    pub fn unreached(&self) -> Vec<Path> {
        Path::all()
            .into_iter()
            .filter(|p| {
                self.paths
                    .get(p)
                    .is_none_or(|c| c.iter().sum::<usize>() == 0)
            })
            .collect()
    }
}

/// Runs `configs` against `iut` in `roles`, `jobs` at a time.
pub fn run_property(
    configs: &[ModelConfig],
    roles: &[Role],
    iut: &Iut,
    seed: u64,
    jobs: usize,
    work_dir: &std::path::Path,
) -> Summary {
    let work: Vec<(usize, Role)> = (0..configs.len())
        .flat_map(|i| roles.iter().map(move |r| (i, *r)))
        .collect();
    let work: Vec<(usize, usize, Role)> = work
        .into_iter()
        .enumerate()
        .map(|(k, (i, role))| (k, i, role))
        .collect();
    let cases = parallel_map(&work, jobs, |_, &(k, i, role)| {
        let config = configs.get(i)?;
        let options = RunOptions {
            exit_timeout: Duration::from_secs(5),
            ..RunOptions::new(seed.wrapping_add(k as u64), work_dir.to_owned())
        };
        let id = format!("model/{}/{i}", role.as_str());
        Some((role, check_iut(config, role, iut, &options, &id)))
    });
    let mut summary = Summary::default();
    for (role, case) in cases.into_iter().flatten().flatten() {
        {
            let s = &mut summary;
            s.cases += 1;
            let col = usize::from(role == Role::Server);
            if case.unsupported.is_some() {
                s.unsupported += 1;
            } else {
                for c in &case.prediction.connections {
                    if let Some(slot) = s.paths.entry(c.path).or_default().get_mut(col) {
                        *slot += 1;
                    }
                }
            }
            if case.result.is_err() && case.unsupported.is_none() {
                s.failures.push(case);
            }
        }
    }
    summary
}
