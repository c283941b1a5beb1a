//! Generated negative cases against any IUT (`btls-harness generate`): truncations, length
//! fields, bit flips (with seeded random mutations), skipped, reordered and duplicated messages,
//! every alert description, the same message of another session, unoffered or unsupported
//! selections, stalls and one-byte delivery, in place of every handshake frame the IUT receives
//! on each valid path (full, key request, resumption; for selections also an IUT with one
//! cipher suite), in both roles, run by the engine as
//! in-memory scenarios. The expected answer of each case comes from the reference implementation
//! run in process in the IUT's role ([`oracle`]); a failure is shrunk and written out as a
//! scenario file that reproduces it.

pub mod cases;
pub mod mutations;
pub mod oracle;
pub mod records;

use crate::alter::Patch;
use crate::engine::{run_case, RunOptions};
use crate::scenario::{Role, Scenario};
pub use cases::Class;
use cases::{Built, Case, Rng, PATHS};
use harness_core::pool::parallel_map;
use harness_core::process::Iut;
use harness_core::Verdict;
use mutations::Mutation;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// The classes.
    pub classes: Vec<Class>,
    /// The IUT's roles.
    pub roles: Vec<Role>,
    /// At most this many cases per class.
    pub budget: Option<usize>,
    /// The seed.
    pub seed: u64,
    /// Random mutations per received frame.
    pub random: usize,
    /// Scratch directory.
    pub work_dir: PathBuf,
}

/// The cases of one class, and the sanity handshakes run after them.
#[derive(Debug, Clone)]
pub struct ClassPlan {
    /// The class.
    pub class: Class,
    /// The cases.
    pub cases: Vec<Case>,
    /// Inputs the reference accepts (not negative cases), per role.
    pub not_negative: BTreeMap<&'static str, usize>,
    /// Inputs only the peer can tell from valid ones (not negative cases of the IUT), per role.
    pub peer_detects: BTreeMap<&'static str, usize>,
    /// One sanity handshake per role and path.
    pub sanity: Vec<(String, Scenario)>,
}

fn sample<T>(items: Vec<T>, n: usize, rng: &mut Rng) -> Vec<T> {
    if items.len() <= n {
        return items;
    }
    let mut keyed: Vec<(u64, usize, T)> = items
        .into_iter()
        .enumerate()
        .map(|(i, t)| (rng.next_u64(), i, t))
        .collect();
    keyed.sort_by_key(|k| k.0);
    keyed.truncate(n);
    keyed.sort_by_key(|k| k.1);
    keyed.into_iter().map(|k| k.2).collect()
}

/// The seed of the other session whose frames class replay sends.
const OTHER_SESSION: u64 = 0x0DD5_E551_0000_0001;

/// Generates the cases of `config`, asking the oracle for each.
pub fn plan(config: &Config) -> Result<Vec<ClassPlan>, String> {
    let _ = std::fs::create_dir_all(&config.work_dir);
    let mut out = Vec::new();
    for &class in &config.classes {
        let mut rng = Rng::new(config.seed ^ (class as u64) << 32);
        let mut all = Vec::new();
        let mut sanity = Vec::new();
        let mut not_negative = BTreeMap::new();
        let mut peer_detects = BTreeMap::new();
        let paths: Vec<_> = class.paths().collect();
        for &role in &config.roles {
            for path in &paths {
                let base = cases::base(role, path)?;
                let received = |seed| {
                    oracle::received_frames(&base, seed, &config.work_dir)
                        .map_err(|e| format!("{} {} path: {e}", role.as_str(), path.name))
                };
                let frames = received(config.seed)?;
                let others = if class == Class::Replay {
                    received(config.seed ^ OTHER_SESSION)?
                } else {
                    Vec::new()
                };
                let mut candidates = Vec::new();
                if class == Class::Truncation && path.name == "full" {
                    candidates.push((
                        None,
                        "end-of-stream".to_owned(),
                        "no-data".to_owned(),
                        Mutation::EndOfStream(None),
                    ));
                    candidates.push((
                        None,
                        "end-of-stream".to_owned(),
                        "after-data".to_owned(),
                        Mutation::EndOfStream(Some(b"hi".to_vec())),
                    ));
                }
                if class.after_handshake() {
                    for (family, label, m) in records::candidates(class, role, path) {
                        candidates.push((None, family, label, m));
                    }
                }
                if class == Class::Timing {
                    candidates.push((
                        None,
                        "trickle".to_owned(),
                        "one-byte-at-a-time".to_owned(),
                        Mutation::TrickleAll,
                    ));
                }
                for (i, frame) in frames.iter().enumerate() {
                    let later: Vec<_> = frames.iter().skip(i + 1).map(|f| f.code).collect();
                    let other = others.get(i);
                    for (family, label, m) in
                        mutations::mutations(class, frame, &later, other, &mut rng, config.random)
                    {
                        candidates.push((Some(frame), family, label, m));
                    }
                }
                if let Some(n) = config.budget {
                    // Each role and path gets its share of the budget.
                    let share = n.div_ceil(config.roles.len() * paths.len()).max(1);
                    candidates = sample(candidates, share, &mut rng);
                }
                for (frame, family, label, m) in candidates {
                    let built = cases::build(
                        class,
                        role,
                        path,
                        frame,
                        m,
                        &family,
                        &label,
                        config.seed,
                        &config.work_dir,
                    )?;
                    match built {
                        Built::Case(case) => all.push(*case),
                        Built::Accepted => *not_negative.entry(role.as_str()).or_insert(0) += 1,
                        Built::PeerDetects => *peer_detects.entry(role.as_str()).or_insert(0) += 1,
                    }
                }
                sanity.push(cases::sanity(class, role, path)?);
            }
        }
        out.push(ClassPlan {
            class,
            cases: all,
            not_negative,
            peer_detects,
            sanity,
        });
    }
    Ok(out)
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Whether it passed.
    pub passed: bool,
    /// Unsupported by the IUT.
    pub unsupported: bool,
    /// Expected and actual, when it failed.
    pub failure: Option<(String, String)>,
}

fn outcome(verdict: &Verdict) -> Outcome {
    match verdict {
        Verdict::Pass => Outcome {
            passed: true,
            unsupported: false,
            failure: None,
        },
        Verdict::PassLenient(n) => Outcome {
            passed: false,
            unsupported: false,
            failure: Some(("no lenient grade".into(), n.clone())),
        },
        Verdict::Unsupported(r) => Outcome {
            passed: false,
            unsupported: true,
            failure: Some(("support".into(), r.clone())),
        },
        Verdict::Fail(f) => Outcome {
            passed: false,
            unsupported: false,
            failure: Some((format!("step {}: {}", f.step, f.expected), f.actual.clone())),
        },
    }
}

/// Runs one scenario and removes its scratch files.
pub fn run_one(scenario: &Scenario, iut: &Iut, options: &RunOptions) -> Outcome {
    let result = run_case(scenario, iut, options);
    let _ = std::fs::remove_dir_all(options.work_dir.join(scenario.id.replace('/', "__")));
    outcome(&result.verdict)
}

/// Runs `scenarios` on `jobs` threads, printing progress to stderr.
pub fn run_all(
    scenarios: &[&Scenario],
    iut: &Iut,
    options: &RunOptions,
    jobs: usize,
    label: &str,
) -> Vec<Outcome> {
    let done = AtomicUsize::new(0);
    let total = scenarios.len();
    parallel_map(scenarios, jobs, |_, scenario| {
        let o = run_one(scenario, iut, options);
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if !o.passed || n % 100 == 0 || n == total {
            eprintln!(
                "[{label} {n}/{total}] {} {}",
                if o.passed { "pass" } else { "FAIL" },
                scenario.id
            );
            if let (false, Some((expected, actual))) = (o.passed, &o.failure) {
                eprintln!("      expected: {expected}\n      actual:   {actual}");
            }
        }
        o
    })
    .into_iter()
    .map(|o| {
        o.unwrap_or(Outcome {
            passed: false,
            unsupported: false,
            failure: Some(("a result".into(), "none".into())),
        })
    })
    .collect()
}

/// Counts of one class and role.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    /// Cases run.
    pub ran: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// The IUT does not support an option a case needs.
    pub unsupported: usize,
    /// Generated inputs the reference accepts, so not run as negative cases.
    pub not_negative: usize,
    /// Generated inputs only the peer can tell from valid ones, so not run.
    pub peer_detects: usize,
    /// Sanity handshakes passed / run.
    pub sanity_passed: usize,
    /// Sanity handshakes run.
    pub sanity_ran: usize,
}

impl Counts {
    /// The counts as the summaries show them, column by column: (terminal label, Markdown
    /// heading, value).
    /// The summary columns: label, Markdown header, value.
    pub fn columns(&self) -> [(&'static str, &'static str, String); 7] {
        [
            ("ran", "ran", self.ran.to_string()),
            ("passed", "passed", self.passed.to_string()),
            ("failed", "failed", self.failed.to_string()),
            ("unsupported", "unsupported", self.unsupported.to_string()),
            (
                "not negative",
                "not negative (reference accepts)",
                self.not_negative.to_string(),
            ),
            (
                "peer's",
                "for the peer to detect",
                self.peer_detects.to_string(),
            ),
            (
                "sanity",
                "sanity",
                format!("{}/{}", self.sanity_passed, self.sanity_ran),
            ),
        ]
    }
}

/// One finding: a shrunk failing case and how many failures it stands for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// The class.
    pub class: Class,
    /// The IUT's role.
    pub role: String,
    /// The case id.
    pub id: String,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// Failing cases of the same family, frame and symptom.
    pub like: usize,
    /// The reproducing scenario file, relative to the report directory.
    pub scenario_file: String,
    /// Its text.
    #[serde(skip)]
    pub text: String,
}

/// A whole generated run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The IUT.
    pub iut: String,
    /// The seed.
    pub seed: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Per class, per role.
    pub classes: BTreeMap<Class, BTreeMap<String, Counts>>,
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        !self.findings.is_empty()
            || self
                .classes
                .values()
                .flat_map(BTreeMap::values)
                .any(|c| c.failed > 0 || c.sanity_passed < c.sanity_ran)
    }
}

fn symptom(actual: &str) -> String {
    actual
        .split(['(', ':'])
        .next()
        .unwrap_or(actual)
        .chars()
        .take(48)
        .collect()
}

/// Shrinks a failing random mutation: drops patches while the smaller mutation is still a
/// negative case that fails.
/// Returns the smallest failing case found and its outcome (`None`: the case itself).
fn shrink(
    case: &Case,
    iut: &Iut,
    options: &RunOptions,
    config: &Config,
) -> (Case, Option<Outcome>) {
    let unchanged = || (case.clone(), None);
    let Mutation::Patch(patches) = &case.mutation else {
        return unchanged();
    };
    let Some(path) = PATHS.iter().find(|p| p.name == case.path) else {
        return unchanged();
    };
    let Ok(base) = cases::base(case.role, path) else {
        return unchanged();
    };
    let Ok(frames) = oracle::received_frames(&base, config.seed, &config.work_dir) else {
        return unchanged();
    };
    let frame = case
        .frame
        .and_then(|(i, _)| frames.iter().find(|f| f.index == i));
    let mut best = (case.clone(), None);
    let mut current: Vec<Patch> = patches.clone();
    // Named after the case it shrinks, so that two shrunk cases never share a name.
    let original = case.scenario.id.rsplit('/').next().unwrap_or("random");
    let mut i = 0;
    while current.len() > 1 && i < current.len() {
        let mut smaller = current.clone();
        smaller.remove(i);
        let label = format!("{original}-shrunk-{}", smaller.len());
        let built = cases::build(
            case.class,
            case.role,
            path,
            frame,
            Mutation::Patch(smaller.clone()),
            &case.family,
            &label,
            config.seed,
            &config.work_dir,
        );
        let run = match built {
            Ok(Built::Case(c)) => Some((run_one(&c.scenario, iut, options), *c)),
            _ => None,
        };
        match run {
            Some((o, c)) if !o.passed => {
                current = smaller;
                best = (c, Some(o));
            }
            _ => i += 1,
        }
    }
    best
}

/// Runs the planned classes against `iut`.
pub fn execute(
    plans: &[ClassPlan],
    iut: &Iut,
    options: &RunOptions,
    jobs: usize,
    config: &Config,
) -> Report {
    let started = Instant::now();
    let mut classes = BTreeMap::new();
    let mut findings = Vec::new();
    for plan in plans {
        let scenarios: Vec<&Scenario> = plan.cases.iter().map(|c| &c.scenario).collect();
        let outcomes = run_all(&scenarios, iut, options, jobs, plan.class.name());
        let sanity: Vec<&Scenario> = plan.sanity.iter().map(|s| &s.1).collect();
        let sanity_outcomes = run_all(&sanity, iut, options, jobs, "sanity");
        let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
        // Failures of one role, path, frame, family and symptom: the first case (the shortest
        // cut, the lowest bit, the smallest value) and how many.
        let mut groups: BTreeMap<[String; 5], (usize, usize)> = BTreeMap::new();
        for (i, (case, o)) in plan.cases.iter().zip(&outcomes).enumerate() {
            let c = counts.entry(case.role.as_str().to_owned()).or_default();
            c.ran += 1;
            if o.passed {
                c.passed += 1;
            } else if o.unsupported {
                c.unsupported += 1;
            } else {
                c.failed += 1;
                let (_, actual) = o.failure.clone().unwrap_or_default();
                let key = [
                    case.role.as_str().to_owned(),
                    case.path.to_owned(),
                    format!("{:?}", case.frame),
                    case.family.clone(),
                    symptom(&actual),
                ];
                groups.entry(key).or_insert((i, 0)).1 += 1;
            }
        }
        for (role, n) in &plan.not_negative {
            counts.entry((*role).to_owned()).or_default().not_negative = *n;
        }
        for (role, n) in &plan.peer_detects {
            counts.entry((*role).to_owned()).or_default().peer_detects = *n;
        }
        for ((_, s), o) in plan.sanity.iter().zip(&sanity_outcomes) {
            let c = counts.entry(s.iut_role.as_str().to_owned()).or_default();
            c.sanity_ran += 1;
            if o.passed {
                c.sanity_passed += 1;
            } else {
                findings.push(Finding {
                    class: plan.class,
                    role: s.iut_role.as_str().to_owned(),
                    id: s.id.clone(),
                    expected: o.failure.clone().unwrap_or_default().0,
                    actual: o.failure.clone().unwrap_or_default().1,
                    like: 1,
                    scenario_file: String::new(),
                    text: plan
                        .sanity
                        .iter()
                        .find(|x| x.1.id == s.id)
                        .map(|x| x.0.clone())
                        .unwrap_or_default(),
                });
            }
        }
        for (_, (i, like)) in groups {
            let (Some(case), Some(o)) = (plan.cases.get(i), outcomes.get(i)) else {
                continue;
            };
            let (case, shrunk) = if case.family == "random" {
                shrink(case, iut, options, config)
            } else {
                (case.clone(), None)
            };
            let (expected, actual) = shrunk
                .as_ref()
                .unwrap_or(o)
                .failure
                .clone()
                .unwrap_or_default();
            findings.push(Finding {
                class: plan.class,
                role: case.role.as_str().to_owned(),
                id: case.scenario.id.clone(),
                expected,
                actual,
                like,
                scenario_file: String::new(),
                text: case.text.clone(),
            });
        }
        classes.insert(plan.class, counts);
    }
    Report {
        iut: iut.name.clone(),
        seed: options.seed,
        seconds: started.elapsed().as_secs_f64(),
        classes,
        findings,
    }
}

/// Writes `generated.json`, `generated.md` and `failures/*.toml` into `dir`.
pub fn write_report(report: &mut Report, dir: &Path) -> std::io::Result<()> {
    let failures = dir.join("failures");
    let _ = std::fs::remove_dir_all(&failures);
    std::fs::create_dir_all(&failures)?;
    for f in &mut report.findings {
        let name = format!(
            "{}.toml",
            f.id.trim_start_matches("generated/").replace('/', "__")
        );
        std::fs::write(
            failures.join(&name),
            format!(
                "# Reproduces a failure of `btls-harness generate` against {} (seed {}): expected {}; got {}. {} failing case(s) like it.\n# Run: btls-harness run --scenarios {} --iut …\n{}",
                report.iut,
                report.seed,
                f.expected,
                f.actual,
                f.like,
                failures.display(),
                f.text
            ),
        )?;
        f.scenario_file = format!("failures/{name}");
    }
    std::fs::write(
        dir.join("generated.json"),
        serde_json::to_string_pretty(report).map_err(std::io::Error::other)?,
    )?;
    let headings: Vec<&str> = Counts::default()
        .columns()
        .iter()
        .map(|(_, heading, _)| *heading)
        .collect();
    let mut md = format!(
        "# Generated negative cases against `{}`\n\nSeed {}, {:.1} s. Oracle: the reference implementation in process in the IUT's role, fed the same changed input in the same state, the exchange going on until it alerts, closes or completes.\n\n| class | role | {} |\n|---|---|{}\n",
        report.iut,
        report.seed,
        report.seconds,
        headings.join(" | "),
        "---|".repeat(headings.len())
    );
    for (class, roles) in &report.classes {
        for (role, c) in roles {
            let values: Vec<String> = c.columns().into_iter().map(|(_, _, v)| v).collect();
            md.push_str(&format!(
                "| {} | {role} | {} |\n",
                class.name(),
                values.join(" | ")
            ));
        }
    }
    md.push_str(&format!("\n## Findings ({})\n\n", report.findings.len()));
    for f in &report.findings {
        md.push_str(&format!(
            "- **{}** ({} failing like it): expected {}; got {} — `{}`\n",
            f.id, f.like, f.expected, f.actual, f.scenario_file
        ));
    }
    std::fs::write(dir.join("generated.md"), md)
}
