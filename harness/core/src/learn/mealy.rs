//! Mealy machines over a named input alphabet: running a word, building a machine from a
//! transition function, minimising, access sequences, characterising sets and the shortest word
//! that tells two machines apart.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;

/// An input word: indices into the machine's alphabet.
pub type Word = Vec<usize>;

/// A deterministic, complete Mealy machine; state 0 is the initial state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mealy {
    /// The input alphabet's names.
    pub inputs: Vec<String>,
    /// `next[state][input]`.
    pub next: Vec<Vec<usize>>,
    /// `output[state][input]`.
    pub output: Vec<Vec<String>>,
    /// A name for each state (the specification's state names, or `s0`, `s1`, … when learned).
    pub names: Vec<String>,
}

impl Mealy {
    /// The number of states.
    pub fn states(&self) -> usize {
        self.next.len()
    }

    /// The outputs of `word` from the initial state.
    pub fn run(&self, word: &[usize]) -> Vec<String> {
        self.run_from(0, word).0
    }

    /// The outputs of `word` from `state`, and the state it ends in.
    pub fn run_from(&self, mut state: usize, word: &[usize]) -> (Vec<String>, usize) {
        let mut out = Vec::with_capacity(word.len());
        for &a in word {
            out.push(self.output[state][a].clone());
            state = self.next[state][a];
        }
        (out, state)
    }

    /// The machine whose states are those reachable from `initial` through `step` (a state and
    /// an input index give the output and the next state), named by `name`.
    pub fn explore<S: Clone + Eq + Hash>(
        inputs: Vec<String>,
        initial: S,
        step: impl Fn(&S, usize) -> (String, S),
        name: impl Fn(&S) -> String,
    ) -> Self {
        let mut index: HashMap<S, usize> = HashMap::new();
        let mut states = vec![initial.clone()];
        index.insert(initial, 0);
        let (mut next, mut output) = (Vec::new(), Vec::new());
        let mut i = 0;
        while let Some(s) = states.get(i).cloned() {
            let (mut n, mut o) = (Vec::new(), Vec::new());
            for a in 0..inputs.len() {
                let (out, t) = step(&s, a);
                let id = *index.entry(t.clone()).or_insert_with(|| {
                    states.push(t);
                    states.len() - 1
                });
                n.push(id);
                o.push(out);
            }
            next.push(n);
            output.push(o);
            i += 1;
        }
        Self {
            inputs,
            next,
            output,
            names: states.iter().map(name).collect(),
        }
    }

    /// The shortest word reaching each state (breadth first, inputs in alphabet order).
    pub fn access_sequences(&self) -> Vec<Word> {
        let mut access: Vec<Option<Word>> = vec![None; self.states()];
        access[0] = Some(Vec::new());
        let mut queue = VecDeque::from([0]);
        while let Some(s) = queue.pop_front() {
            let here = access[s].clone().unwrap_or_default();
            for a in 0..self.inputs.len() {
                let t = self.next[s][a];
                if access[t].is_none() {
                    let mut w = here.clone();
                    w.push(a);
                    access[t] = Some(w);
                    queue.push_back(t);
                }
            }
        }
        access.into_iter().map(Option::unwrap_or_default).collect()
    }

    /// The equivalence classes of states (partition refinement): `class[state]`, numbered in
    /// order of first appearance.
    fn classes(&self) -> Vec<usize> {
        let renumber = |keys: Vec<Vec<String>>| -> Vec<usize> {
            let mut seen: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            let mut order: HashMap<Vec<String>, usize> = HashMap::new();
            keys.into_iter()
                .map(|k| {
                    if let Some(&c) = order.get(&k) {
                        return c;
                    }
                    let c = seen.len();
                    seen.insert(k.clone(), c);
                    order.insert(k, c);
                    c
                })
                .collect()
        };
        let mut class = renumber(self.output.clone());
        loop {
            let keys: Vec<Vec<String>> = (0..self.states())
                .map(|s| {
                    let mut k = vec![class[s].to_string()];
                    k.extend(self.next[s].iter().map(|&t| class[t].to_string()));
                    k
                })
                .collect();
            let refined = renumber(keys);
            let count = |c: &[usize]| c.iter().max().map_or(0, |m| m + 1);
            if count(&refined) == count(&class) {
                return refined;
            }
            class = refined;
        }
    }

    /// The minimal machine with the same behaviour, its states in breadth-first order from the
    /// initial state; each state keeps the name of the first state of its class.
    pub fn minimize(&self) -> Self {
        let class = self.classes();
        let classes = class.iter().max().map_or(0, |m| m + 1);
        let mut rep = vec![usize::MAX; classes];
        for (s, &c) in class.iter().enumerate() {
            if rep[c] == usize::MAX {
                rep[c] = s;
            }
        }
        let quotient = Self {
            inputs: self.inputs.clone(),
            next: rep
                .iter()
                .map(|&s| self.next[s].iter().map(|&t| class[t]).collect())
                .collect(),
            output: rep.iter().map(|&s| self.output[s].clone()).collect(),
            names: rep.iter().map(|&s| self.names[s].clone()).collect(),
        };
        quotient.reachable_bfs()
    }

    /// The reachable part, renumbered breadth first.
    fn reachable_bfs(&self) -> Self {
        let mut order = vec![0];
        let mut id: HashMap<usize, usize> = HashMap::from([(0, 0)]);
        let mut i = 0;
        while let Some(&s) = order.get(i) {
            for &t in &self.next[s] {
                if let std::collections::hash_map::Entry::Vacant(e) = id.entry(t) {
                    e.insert(order.len());
                    order.push(t);
                }
            }
            i += 1;
        }
        Self {
            inputs: self.inputs.clone(),
            next: order
                .iter()
                .map(|&s| self.next[s].iter().map(|t| id[t]).collect())
                .collect(),
            output: order.iter().map(|&s| self.output[s].clone()).collect(),
            names: order.iter().map(|&s| self.names[s].clone()).collect(),
        }
    }

    /// The shortest word on which state `p` of `self` and state `q` of `other` give different
    /// outputs, if any (breadth first over the pairs of states).
    pub fn distinguish_states(&self, p: usize, other: &Mealy, q: usize) -> Option<Word> {
        let mut seen: HashMap<(usize, usize), (usize, usize, usize)> = HashMap::new();
        let mut queue = VecDeque::from([(p, q)]);
        seen.insert((p, q), (usize::MAX, usize::MAX, usize::MAX));
        let path = |seen: &HashMap<(usize, usize), (usize, usize, usize)>,
                    mut at: (usize, usize)| {
            let mut w = Vec::new();
            while let Some(&(pp, pq, a)) = seen.get(&at) {
                if a == usize::MAX {
                    break;
                }
                w.push(a);
                at = (pp, pq);
            }
            w.reverse();
            w
        };
        while let Some((s, t)) = queue.pop_front() {
            for a in 0..self.inputs.len() {
                if self.output[s][a] != other.output[t][a] {
                    let mut w = path(&seen, (s, t));
                    w.push(a);
                    return Some(w);
                }
                let n = (self.next[s][a], other.next[t][a]);
                if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(n) {
                    e.insert((s, t, a));
                    queue.push_back(n);
                }
            }
        }
        None
    }

    /// The shortest word on which the two machines' outputs differ, if any. Both must have the
    /// same alphabet.
    pub fn distinguish(&self, other: &Mealy) -> Option<Word> {
        self.distinguish_states(0, other, 0)
    }

    /// A characterising set: words that tell every pair of distinct states of the minimal
    /// machine apart, chosen greedily (a pair the set does not tell apart yet adds its shortest
    /// distinguishing word), so it stays small.
    pub fn characterizing_set(&self) -> Vec<Word> {
        let min = self.minimize();
        let mut set: Vec<Word> = Vec::new();
        for p in 0..min.states() {
            for q in (p + 1)..min.states() {
                let told = set
                    .iter()
                    .any(|w| min.run_from(p, w).0 != min.run_from(q, w).0);
                if !told {
                    if let Some(w) = min.distinguish_states(p, &min, q) {
                        set.push(w);
                    }
                }
            }
        }
        set
    }

    /// A word's inputs by name, joined with spaces.
    pub fn show(&self, word: &[usize]) -> String {
        if word.is_empty() {
            return "(the empty word)".into();
        }
        word.iter()
            .map(|&a| self.inputs.get(a).map_or("?", String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
pub(crate) mod tests {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    /// A random complete machine with `states` states over `inputs` inputs and `outputs` output
    /// symbols.
    pub(crate) fn random_machine(seed: u64, states: usize, inputs: usize, outputs: u32) -> Mealy {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut pick = |n: u32| (rng.next_u32() % n) as usize;
        let next = (0..states)
            .map(|_| (0..inputs).map(|_| pick(states as u32)).collect())
            .collect();
        let output = (0..states)
            .map(|_| (0..inputs).map(|_| format!("o{}", pick(outputs))).collect())
            .collect();
        Mealy {
            inputs: (0..inputs).map(|a| format!("i{a}")).collect(),
            next,
            output,
            names: (0..states).map(|s| format!("q{s}")).collect(),
        }
    }

    /// A counter modulo `n` that says "tick" when it wraps: `n` states, none equivalent.
    fn counter(n: usize) -> Mealy {
        Mealy::explore(
            vec!["inc".into(), "read".into()],
            0usize,
            |&s, a| match a {
                0 if s + 1 == n => ("tick".into(), 0),
                0 => ("-".into(), s + 1),
                _ => ((if s == 0 { "zero" } else { "more" }).into(), s),
            },
            |s| format!("c{s}"),
        )
    }

    #[test]
    fn explore_finds_every_reachable_state_and_runs_words() {
        let m = counter(4);
        assert_eq!(m.states(), 4);
        assert_eq!(m.run(&[0, 0, 0, 0, 1]), ["-", "-", "-", "tick", "zero"]);
        assert_eq!(m.access_sequences()[3], vec![0, 0, 0]);
    }

    #[test]
    fn minimize_merges_equivalent_states_only() {
        // Counting modulo 6 but observing only "wrapped" gives back the same 6 states;
        // a machine that duplicates each state (a flag nobody reads) halves.
        let doubled = Mealy::explore(
            vec!["inc".into(), "read".into()],
            (0usize, false),
            |&(s, flag), a| match a {
                0 if s + 1 == 3 => ("tick".into(), (0, !flag)),
                0 => ("-".into(), (s + 1, !flag)),
                _ => ((if s == 0 { "zero" } else { "more" }).into(), (s, flag)),
            },
            |(s, f)| format!("c{s}{f}"),
        );
        assert_eq!(doubled.states(), 6);
        let min = doubled.minimize();
        assert_eq!(min.states(), 3);
        assert_eq!(min.distinguish(&counter(3)), None);
        assert_eq!(counter(5).minimize().states(), 5);
    }

    #[test]
    fn distinguish_gives_a_shortest_word_with_different_outputs() {
        let (a, b) = (counter(3), counter(4));
        let w = a.distinguish(&b).expect("they differ");
        assert_eq!(w, vec![0, 0, 0], "the third inc ticks in one only");
        assert_ne!(a.run(&w), b.run(&w));
        assert_eq!(a.distinguish(&a.clone()), None);
    }

    #[test]
    fn the_characterizing_set_separates_every_pair_of_states() {
        for seed in 0..20 {
            let m = random_machine(seed, 7, 3, 2).minimize();
            let w = m.characterizing_set();
            for p in 0..m.states() {
                for q in (p + 1)..m.states() {
                    assert!(
                        w.iter().any(|x| m.run_from(p, x).0 != m.run_from(q, x).0),
                        "seed {seed}: states {p} and {q}"
                    );
                }
            }
        }
    }
}
