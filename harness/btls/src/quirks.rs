//! The suite's self-test (`btls-harness quirks`): runs the conformance suite against the
//! reference adapter with each deliberate bug of [`btls::quirks`] turned on, one at a time, and
//! reports which cases caught each one. A case *catches* a quirk when it passes against the clean
//! reference and fails against the quirk build. Every quirk must be caught, in **each role** whose
//! code it changes ([`btls::Quirk::sides`]), by at least one case against an IUT in that role; a
//! role in which it is not caught shows a gap in the suite, and a role in which a single case
//! catches it is flagged as a weak spot.

use crate::engine::{run_case, RunOptions};
use crate::scenario::Scenario;
use btls::{Quirk, Side};
use harness_core::pool::parallel_map;
use harness_core::process::Iut;
use harness_core::verdict::explain;
use harness_core::Role;
use harness_core::Verdict;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The JSON report's schema name.
pub const SCHEMA: &str = "btls-quirks/1";

/// Which cases run against each quirk build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseSelection {
    /// Every selected case against every quirk.
    All,
    /// Against each quirk, only the cases that cite the requirement the quirk breaks (fast).
    Relevant,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The reference adapter (`btls-iut`), which understands `--quirk NAME`.
    pub adapter: PathBuf,
    /// The quirks to test.
    pub quirks: Vec<Quirk>,
    /// The cases.
    pub scenarios: Vec<Scenario>,
    /// Which cases run against each quirk.
    pub selection: CaseSelection,
    /// Cases run at once.
    pub jobs: usize,
    /// Seed of both sides' randomness.
    pub seed: u64,
    /// Scratch folder for the cases' key files.
    pub work_dir: PathBuf,
}

/// One quirk's result.
#[derive(Debug, Clone, Serialize)]
pub struct QuirkResult {
    /// The quirk's name.
    pub name: &'static str,
    /// The requirement it breaks.
    pub requirement: &'static str,
    /// What it does wrong.
    pub description: &'static str,
    /// Cases run against it.
    pub cases_run: usize,
    /// The roles whose code the quirk changes (`client`, `server`).
    pub roles: Vec<&'static str>,
    /// The cases that caught it, in suite order.
    pub caught_by: Vec<String>,
    /// Of those, the ones against a client IUT.
    pub caught_by_client: Vec<String>,
    /// Of those, the ones against a server IUT.
    pub caught_by_server: Vec<String>,
    /// Wall time of its cases, added up.
    pub case_seconds: f64,
}

impl QuirkResult {
    /// Whether at least one case caught the quirk.
    pub fn caught(&self) -> bool {
        !self.caught_by.is_empty()
    }

    /// The cases that caught it against an IUT in `role`.
    pub fn caught_in(&self, role: &str) -> &[String] {
        match role {
            "client" => &self.caught_by_client,
            _ => &self.caught_by_server,
        }
    }

    /// The roles it changes in which no case caught it.
    pub fn uncaught_roles(&self) -> Vec<&'static str> {
        self.roles
            .iter()
            .copied()
            .filter(|r| self.caught_in(r).is_empty())
            .collect()
    }

    /// The roles it changes in which exactly one case caught it (a weak spot).
    pub fn weak_roles(&self) -> Vec<&'static str> {
        self.roles
            .iter()
            .copied()
            .filter(|r| self.caught_in(r).len() == 1)
            .collect()
    }
}

fn role_of(side: Side) -> Role {
    match side {
        Side::Client => Role::Client,
        Side::Server => Role::Server,
    }
}

/// Whether the quirk changes the code an IUT in `role` runs.
pub fn changes(quirk: Quirk, role: Role) -> bool {
    quirk.sides().list().iter().any(|s| role_of(*s) == role)
}

/// The whole self-test.
#[derive(Debug, Clone, Serialize)]
pub struct SelfTest {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Cases in the suite (as selected).
    pub cases: usize,
    /// `all` or `relevant`.
    pub selection: &'static str,
    /// Cases that fail against the clean reference (they cannot catch anything).
    pub baseline_failures: Vec<String>,
    /// One entry per quirk.
    pub quirks: Vec<QuirkResult>,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
    /// Cases run at once.
    pub jobs: usize,
}

impl SelfTest {
    /// The quirks not caught in every role they change.
    pub fn uncaught(&self) -> Vec<&QuirkResult> {
        self.quirks
            .iter()
            .filter(|q| !q.uncaught_roles().is_empty())
            .collect()
    }

    /// The quirks caught by a single case in some role they change.
    pub fn weak(&self) -> Vec<&QuirkResult> {
        self.quirks
            .iter()
            .filter(|q| !q.weak_roles().is_empty())
            .collect()
    }

    /// Whether every quirk was caught in every role it changes and the clean reference passed
    /// every case.
    pub fn passed(&self) -> bool {
        self.baseline_failures.is_empty() && self.uncaught().is_empty()
    }
}

fn passes(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Pass | Verdict::PassLenient(_))
}

/// Whether `scenario` runs against `quirk` under `selection`: with `Relevant`, the cases that
/// cite the requirement the quirk breaks, against an IUT in a role whose code the quirk changes.
pub fn selected(quirk: Quirk, scenario: &Scenario, selection: CaseSelection) -> bool {
    selection == CaseSelection::All
        || (changes(quirk, scenario.iut_role)
            && scenario
                .requirements
                .iter()
                .any(|r| r == quirk.requirement()))
}

/// Runs the self-test: the clean reference and every (quirk, case) pair, on `jobs` threads.
/// `progress` is then called once per quirk, in order.
pub fn run(options: &Options, progress: &mut dyn FnMut(&QuirkResult)) -> SelfTest {
    let started = Instant::now();
    let clean = Iut {
        name: "reference".into(),
        program: options.adapter.clone(),
        prefix_args: Vec::new(),
    };
    // Each job is (quirk index or None for the clean build, scenario index).
    // The clean build runs every case some quirk runs.
    let mut jobs: Vec<(Option<usize>, usize)> = options
        .scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            options
                .quirks
                .iter()
                .any(|q| selected(*q, s, options.selection))
        })
        .map(|(i, _)| (None, i))
        .collect();
    for (qi, quirk) in options.quirks.iter().enumerate() {
        for (si, s) in options.scenarios.iter().enumerate() {
            if selected(*quirk, s, options.selection) {
                jobs.push((Some(qi), si));
            }
        }
    }
    let iuts: Vec<Iut> = options
        .quirks
        .iter()
        .map(|q| Iut {
            name: format!("quirk-{}", q.name()),
            program: options.adapter.clone(),
            prefix_args: vec!["--quirk".into(), q.name().into()],
        })
        .collect();
    // Verdicts: [clean, quirk 0, quirk 1, …] × scenarios, with each case's wall time.
    let width = options.scenarios.len();
    // One scratch folder per thread: a case's key files depend only on the case, so a thread
    // writes them once and reuses them for every build it runs the case against.
    let run = parallel_map(&jobs, options.jobs, |thread, &(qi, si)| {
        let run_options =
            RunOptions::new(options.seed, options.work_dir.join(format!("j{thread}")));
        let (scenario, iut) = (
            options.scenarios.get(si)?,
            qi.map_or(Some(&clean), |q| iuts.get(q))?,
        );
        let result = run_case(scenario, iut, &run_options);
        if let (None, Verdict::Fail(f)) = (qi, &result.verdict) {
            eprint!(
                "the clean reference fails {}\n{}",
                scenario.id,
                explain(f, &scenario.path, None)
            );
        }
        Some((
            qi.map_or(0, |q| q + 1) * width + si,
            passes(&result.verdict),
            result.duration,
        ))
    });
    let mut results: Vec<Option<(bool, Duration)>> = vec![None; width * (options.quirks.len() + 1)];
    for (slot, pass, duration) in run.into_iter().flatten().flatten() {
        if let Some(cell) = results.get_mut(slot) {
            *cell = Some((pass, duration));
        }
    }
    let cell = |row: usize, si: usize| results.get(row * width + si).copied().flatten();
    let baseline_failures: Vec<String> = options
        .scenarios
        .iter()
        .enumerate()
        .filter(|(si, _)| cell(0, *si).is_some_and(|(pass, _)| !pass))
        .map(|(_, s)| s.id.clone())
        .collect();
    let quirks: Vec<QuirkResult> = options
        .quirks
        .iter()
        .enumerate()
        .map(|(qi, quirk)| {
            let mut caught_by = Vec::new();
            let (mut caught_by_client, mut caught_by_server) = (Vec::new(), Vec::new());
            let mut cases_run = 0;
            let mut case_seconds = 0.0;
            for (si, s) in options.scenarios.iter().enumerate() {
                let Some((pass, took)) = cell(qi + 1, si) else {
                    continue;
                };
                cases_run += 1;
                case_seconds += took.as_secs_f64();
                let clean_pass = cell(0, si).is_some_and(|(p, _)| p);
                if clean_pass && !pass {
                    caught_by.push(s.id.clone());
                    match s.iut_role {
                        Role::Client => caught_by_client.push(s.id.clone()),
                        Role::Server => caught_by_server.push(s.id.clone()),
                    }
                }
            }
            QuirkResult {
                name: quirk.name(),
                requirement: quirk.requirement(),
                description: quirk.description(),
                roles: quirk
                    .sides()
                    .list()
                    .iter()
                    .map(|s| role_of(*s).as_str())
                    .collect(),
                cases_run,
                caught_by,
                caught_by_client,
                caught_by_server,
                case_seconds,
            }
        })
        .collect();
    for q in &quirks {
        progress(q);
    }
    SelfTest {
        schema: SCHEMA,
        cases: options.scenarios.len(),
        selection: match options.selection {
            CaseSelection::All => "all",
            CaseSelection::Relevant => "relevant",
        },
        baseline_failures,
        quirks,
        seconds: started.elapsed().as_secs_f64(),
        jobs: options.jobs.max(1),
    }
}

/// The report as JSON (schema [`SCHEMA`]).
pub fn json(test: &SelfTest) -> String {
    serde_json::to_string_pretty(test).unwrap_or_default() + "\n"
}

/// The report as Markdown: the quirk-detection table.
pub fn markdown(test: &SelfTest) -> String {
    let mut out = String::new();
    let caught = test
        .quirks
        .iter()
        .filter(|q| q.uncaught_roles().is_empty())
        .count();
    let _ = writeln!(out, "# Quirk self-test\n");
    let _ = writeln!(
        out,
        "{caught} of {} quirks caught in every role whose code they change; {} caught by a single \
         case in some role (weak); {} case(s) ({} per quirk), {:.1} s with {} job(s).\n",
        test.quirks.len(),
        test.weak().len(),
        test.cases,
        test.selection,
        test.seconds,
        test.jobs
    );
    let _ = writeln!(
        out,
        "A case catches a quirk when it passes against the clean reference and fails with the \
         quirk on (`btls-iut --quirk NAME`). *client* and *server* count the catching cases \
         against an IUT in that role, for the roles whose code the quirk changes (— for the \
         others); **0** is a gap, *1 (weak)* a weak spot.\n"
    );
    if !test.baseline_failures.is_empty() {
        let _ = writeln!(
            out,
            "**Cases failing against the clean reference:** {}\n",
            test.baseline_failures.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "| quirk | breaks | what it does | client | server | caught by | cases |\n|---|---|---|---|---|---|---|"
    );
    for q in &test.quirks {
        let shown: Vec<String> = q
            .caught_by
            .iter()
            .take(6)
            .map(|c| format!("`{c}`"))
            .collect();
        let more = q.caught_by.len().saturating_sub(shown.len());
        let cases = if q.caught_by.is_empty() {
            "**NOT CAUGHT**".to_owned()
        } else if more > 0 {
            format!("{} … and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        };
        let per_role = |role: &str| {
            if !q.roles.contains(&role) {
                return "—".to_owned();
            }
            match q.caught_in(role).len() {
                0 => "**0**".to_owned(),
                1 => "*1 (weak)*".to_owned(),
                n => n.to_string(),
            }
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} of {} | {} |",
            q.name,
            q.requirement,
            q.description,
            per_role("client"),
            per_role("server"),
            q.caught_by.len(),
            q.cases_run,
            cases
        );
    }
    out
}

/// Writes `quirks.json` and `quirks.md` into `dir`.
pub fn write(test: &SelfTest, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("quirks.json"), json(test))?;
    std::fs::write(dir.join("quirks.md"), markdown(test))
}
