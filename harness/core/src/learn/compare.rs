//! Every difference between a specification's machine and a learned one: the first transitions,
//! along paths on which both agree so far, where their outputs differ.

use super::mealy::{Mealy, Word};
use std::collections::{HashMap, VecDeque};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// A shortest input word that shows it: its last input is the one that differs.
    pub word: Word,
    /// The word by input names.
    pub inputs: Vec<String>,
    /// The specification's state before the last input.
    pub spec_state: String,
    /// The learned machine's state before the last input (its index).
    pub learned_state: usize,
    /// What the specification says the last input gives.
    pub expected: String,
    /// What the implementation gave.
    pub actual: String,
}

/// The differences between `spec` and `learned` (same alphabet): breadth first over pairs of
/// states reached by words on which both agree, each pair and input whose outputs differ once,
/// shortest words first.
pub fn differences(spec: &Mealy, learned: &Mealy) -> Vec<Difference> {
    let mut seen: HashMap<(usize, usize), Word> = HashMap::from([((0, 0), Vec::new())]);
    let mut queue = VecDeque::from([(0usize, 0usize)]);
    let mut out = Vec::new();
    while let Some((p, q)) = queue.pop_front() {
        let here = seen.get(&(p, q)).cloned().unwrap_or_default();
        for a in 0..spec.inputs.len() {
            let mut w = here.clone();
            w.push(a);
            let (expected, actual) = (&spec.output[p][a], &learned.output[q][a]);
            if expected != actual {
                out.push(Difference {
                    inputs: w.iter().map(|&i| spec.inputs[i].clone()).collect(),
                    word: w,
                    spec_state: spec.names[p].clone(),
                    learned_state: q,
                    expected: expected.clone(),
                    actual: actual.clone(),
                });
                continue;
            }
            let n = (spec.next[p][a], learned.next[q][a]);
            if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(n) {
                e.insert(w);
                queue.push_back(n);
            }
        }
    }
    out
}

/// Names for the states of `learned`: the name of the specification's state its shortest
/// access word reaches, with `≠` when one of its own transitions answers otherwise, and `(2)`,
/// `(3)` … on further states reached as the same specification state (extra states).
pub fn name_states(learned: &Mealy, spec: &Mealy) -> Vec<String> {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    learned
        .access_sequences()
        .iter()
        .enumerate()
        .map(|(q, w)| {
            let (_, p) = spec.run_from(0, w);
            let n = seen.entry(p).or_insert(0);
            *n += 1;
            let mut name = spec.names[p].clone();
            if *n > 1 {
                name.push_str(&format!(" ({n})"));
            }
            if learned.output[q] != spec.output[p] {
                name.push_str(" ≠");
            }
            name
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    fn toggle(broken: bool) -> Mealy {
        // "on" toggles a light; "look" reports it. The broken one never turns off.
        Mealy::explore(
            vec!["on".into(), "look".into()],
            false,
            |&lit, a| match a {
                0 => ("-".into(), if broken { true } else { !lit }),
                _ => ((if lit { "lit" } else { "dark" }).into(), lit),
            },
            |l| format!("{l}"),
        )
    }

    #[test]
    fn every_first_difference_with_a_shortest_word() {
        let d = differences(&toggle(false), &toggle(true));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].inputs, ["on", "on", "look"]);
        assert_eq!(
            (d[0].expected.as_str(), d[0].actual.as_str()),
            ("dark", "lit")
        );
        assert_eq!(d[0].spec_state, "false");
        assert!(differences(&toggle(true), &toggle(true)).is_empty());
    }

    #[test]
    fn learned_states_take_the_names_of_the_states_they_behave_as() {
        let spec = toggle(false);
        let mut learned = toggle(true);
        learned.names = vec!["a".into(), "b".into()];
        // The broken light's states answer alike; only a target differs.
        assert_eq!(name_states(&learned, &spec), ["false", "true"]);
        learned.output[1][1] = "dark".into();
        assert_eq!(name_states(&learned, &spec), ["false", "true ≠"]);
        assert_eq!(name_states(&spec, &spec), ["false", "true"]);
    }
}
