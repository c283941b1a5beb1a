//! Active automata learning (protocol state fuzzing): the Mealy machine an implementation really
//! has, learned by membership queries (each one a fresh session) and equivalence tests, then
//! compared with the specification's machine and drawn.
//!
//! - [`mealy`]: Mealy machines: run, build from a transition function, minimise, tell apart;
//! - [`learn`]: L* with Rivest–Schapire counterexample processing over a [`Sul`], its answers
//!   cached (a query answers its prefixes; a contradiction is reported as nondeterminism), the
//!   equivalence oracle random walks and the W-method to a bounded depth;
//! - [`compare`]: every difference between a learned machine and the specification's, each
//!   with a shortest input word;
//! - [`dot`]: a machine as Graphviz `dot` text (parallel edges merged, differences
//!   highlighted, a legend) and as SVG through the `dot` program.
//!
//! Protocol-neutral: inputs and outputs are names; a profile maps them to messages.
#![allow(
    clippy::indexing_slicing,
    reason = "states, inputs and word positions index tables the machines build themselves: every index is below the length by construction, no index comes from outside input"
)]

pub mod cache;
pub mod compare;
pub mod dot;
mod equivalence;
mod lstar;
pub mod mealy;
mod oracle;

pub use cache::{Conflict, Sink};
pub use compare::{differences, name_states, Difference};
pub use mealy::{Mealy, Word};

use std::time::Instant;

/// A system under learning: answers one word from a fresh session (a new connection to a new
/// IUT process), one output per input.
pub trait Sul: Sync {
    /// The inputs' names.
    fn inputs(&self) -> Vec<String>;
    /// The outputs of `word`, one per input, from a fresh session. `known` holds the outputs
    /// already observed for a prefix of `word`: a system may use them to stop waiting once the
    /// known answer is complete (an answer that differs is still reported as it is, and then
    /// shows as nondeterminism).
    fn query(&self, word: &[usize], known: &[String]) -> Result<Vec<String>, String>;
}

/// How to learn.
#[derive(Debug, Clone)]
pub struct Options {
    /// Queries run at once.
    pub jobs: usize,
    /// Outputs that end the session, answered without asking afterwards.
    pub sink: Option<Sink>,
    /// Random walks per equivalence test.
    pub random_walks: usize,
    /// The longest random walk after its start (at least twice the hypothesis's states).
    pub walk_length: usize,
    /// The W-method's depth: inputs between the transition cover and the characterising set.
    pub depth: usize,
    /// The random walks' seed.
    pub seed: u64,
    /// Give up beyond this many states.
    pub max_states: usize,
    /// Print a line per round on standard error.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            jobs: 4,
            sink: None,
            random_walks: 300,
            walk_length: 8,
            depth: 1,
            seed: 1,
            max_states: 60,
            progress: false,
        }
    }
}

/// What a learning run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Hypotheses built (rounds of L*).
    pub rounds: usize,
    /// Membership queries asked, answered by the cache or by the system.
    pub queries: usize,
    /// Queries run against the system: one session (connection, IUT process) each.
    pub sessions: usize,
    /// Test words of the equivalence oracle.
    pub equivalence_tests: usize,
    /// The counterexamples found, by input names.
    pub counterexamples: Vec<String>,
    /// Wall time.
    pub millis: u128,
}

/// A learned machine.
#[derive(Debug, Clone)]
pub struct Learned {
    /// The machine (minimal, states breadth first from the initial one).
    pub machine: Mealy,
    /// What it took.
    pub stats: Stats,
}

/// Why learning stopped.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// A query could not be run.
    #[error("the query {word:?} could not be run: {message}")]
    Sul {
        /// The query.
        word: Word,
        /// Why.
        message: String,
    },
    /// The same inputs gave different outputs.
    #[error("the system is nondeterministic: after inputs {:?} it answered {:?} once and {:?} once", .0.word, .0.first, .0.second)]
    Nondeterministic(Conflict),
    /// The hypothesis outgrew the bound.
    #[error("the machine has more than {0} states")]
    TooManyStates(usize),
}

/// Learns the machine of `sul`.
pub fn learn(sul: &dyn Sul, options: &Options) -> Result<Learned, LearnError> {
    let start = Instant::now();
    let inputs = sul.inputs();
    let mut oracle = oracle::Oracle::new(sul, options.sink.clone(), options.jobs);
    let mut table = lstar::Table::new(inputs.len());
    let mut stats = Stats::default();
    loop {
        let mut h = table.close(&mut oracle, options.max_states)?;
        h.inputs.clone_from(&inputs);
        stats.rounds += 1;
        let (found, tested) =
            equivalence::find_counterexample(&mut oracle, &h, options, stats.rounds as u64)?;
        stats.equivalence_tests += tested;
        if options.progress {
            eprintln!(
                "learn: round {}: {} states, {} sessions so far, {} equivalence tests{}",
                stats.rounds,
                h.states(),
                oracle.executed,
                stats.equivalence_tests,
                if found.is_some() {
                    ", counterexample found"
                } else {
                    ""
                }
            );
        }
        match found {
            Some(w) => {
                let w = shortest_prefix_that_differs(&mut oracle, &h, &w)?;
                stats.counterexamples.push(h.show(&w));
                table.process(&mut oracle, &h, &w)?;
            }
            None => {
                stats.queries = oracle.asked;
                stats.sessions = oracle.executed;
                stats.millis = start.elapsed().as_millis();
                let machine = h.minimize();
                return Ok(Learned { machine, stats });
            }
        }
    }
}

/// `w` cut after its first input whose output the hypothesis gets wrong.
fn shortest_prefix_that_differs(
    oracle: &mut oracle::Oracle<'_>,
    h: &Mealy,
    w: &[usize],
) -> Result<Word, LearnError> {
    let real = oracle.answer_one(w)?;
    let predicted = h.run(w);
    let cut = real
        .iter()
        .zip(&predicted)
        .position(|(a, b)| a != b)
        .map_or(w.len(), |i| i + 1);
    Ok(w[..cut].to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::mealy::tests::random_machine;
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A known machine as a system under learning.
    struct Known(Mealy);

    impl Sul for Known {
        fn inputs(&self) -> Vec<String> {
            self.0.inputs.clone()
        }
        fn query(&self, word: &[usize], _: &[String]) -> Result<Vec<String>, String> {
            Ok(self.0.run(word))
        }
    }

    #[test]
    fn learns_random_machines_exactly_and_minimally() {
        for seed in 0..40 {
            let target = random_machine(seed, 2 + (seed as usize % 11), 2 + (seed as usize % 3), 2);
            let learned = learn(&Known(target.clone()), &Options::default())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(
                learned.machine.distinguish(&target),
                None,
                "seed {seed}: the learned machine behaves as the target"
            );
            assert_eq!(
                learned.machine.states(),
                target.minimize().states(),
                "seed {seed}: as few states as the minimal target"
            );
        }
    }

    #[test]
    fn a_combination_lock_is_learned_through_counterexamples() {
        // Opens only after the inputs 2 0 1 1 in a row; a wrong input resets.
        let code = [2, 0, 1, 1];
        let lock = Mealy::explore(
            vec!["a".into(), "b".into(), "c".into()],
            0usize,
            |&s, a| {
                if s == code.len() {
                    ("open".into(), s)
                } else if code[s] == a {
                    (
                        (if s + 1 == code.len() { "click" } else { "-" }).into(),
                        s + 1,
                    )
                } else {
                    ("-".into(), usize::from(a == code[0]))
                }
            },
            |s| format!("l{s}"),
        );
        let learned = learn(&Known(lock.clone()), &Options::default()).expect("learns");
        assert_eq!(learned.machine.distinguish(&lock), None);
        assert_eq!(learned.machine.states(), 5);
        assert!(learned.stats.rounds >= 2, "the first hypothesis is wrong");
    }

    #[test]
    fn a_session_ending_output_saves_queries() {
        // Any input but 0 closes; after a close, every input says "closed".
        let m = Mealy::explore(
            vec!["ok".into(), "bad".into(), "worse".into()],
            Some(0usize),
            |s, a| match (s, a) {
                (Some(n), 0) => (format!("ack{}", n % 3), Some((n + 1) % 3)),
                (Some(_), _) => ("alert + close".into(), None),
                (None, _) => ("closed".into(), None),
            },
            |s| format!("{s:?}"),
        );
        let plain = learn(&Known(m.clone()), &Options::default()).expect("learns");
        let sink = Options {
            sink: Some(Sink {
                ends: |o| o.ends_with("close"),
                after: "closed".into(),
            }),
            ..Options::default()
        };
        let with_sink = learn(&Known(m.clone()), &sink).expect("learns");
        assert_eq!(with_sink.machine.distinguish(&m), None);
        assert_eq!(plain.machine.distinguish(&m), None);
        assert!(
            with_sink.stats.sessions < plain.stats.sessions,
            "{} sessions with the sink rule, {} without",
            with_sink.stats.sessions,
            plain.stats.sessions
        );
    }

    #[test]
    fn a_system_that_answers_differently_is_reported_as_nondeterministic() {
        struct Flaky(Mealy, AtomicUsize);
        impl Sul for Flaky {
            fn inputs(&self) -> Vec<String> {
                self.0.inputs.clone()
            }
            fn query(&self, word: &[usize], _: &[String]) -> Result<Vec<String>, String> {
                let mut out = self.0.run(word);
                if self.1.fetch_add(1, Ordering::SeqCst) % 7 == 6 {
                    if let Some(o) = out.first_mut() {
                        o.push('!');
                    }
                }
                Ok(out)
            }
        }
        let flaky = Flaky(random_machine(3, 5, 2, 2), AtomicUsize::new(0));
        let options = Options {
            jobs: 1,
            ..Options::default()
        };
        match learn(&flaky, &options) {
            Err(LearnError::Nondeterministic(c)) => {
                assert_eq!(c.word.len(), 1, "the first output differs");
                assert_eq!(format!("{}!", c.first), c.second);
            }
            other => panic!("expected nondeterminism, got {other:?}"),
        }
    }
}
