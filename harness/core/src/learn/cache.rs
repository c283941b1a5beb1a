//! The answers of membership queries, kept as a tree of prefixes: a query answers all of its
//! prefixes too, an answer that contradicts an earlier one is nondeterminism, and after an output
//! that ends the session (the IUT closed the connection) every later output is known without
//! asking.

use super::mealy::Word;
use std::collections::HashMap;

/// Two answers that disagree on a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The shortest input prefix on which they disagree.
    pub word: Word,
    /// The output of its last input, as first observed.
    pub first: String,
    /// The output of its last input, as observed now.
    pub second: String,
}

/// Which outputs end the session, and what every later input then gives.
#[derive(Debug, Clone)]
pub struct Sink {
    /// An output after which the session is over (for example one that ends in a close).
    pub ends: fn(&str) -> bool,
    /// The output of every input after that.
    pub after: String,
}

#[derive(Debug, Default)]
struct Node {
    children: HashMap<usize, (String, usize)>,
}

/// The answers so far.
#[derive(Debug)]
pub struct Cache {
    nodes: Vec<Node>,
    sink: Option<Sink>,
    hits: usize,
}

impl Cache {
    /// An empty cache; with `sink`, words that pass through a session-ending output are
    /// answered without a query.
    pub fn new(sink: Option<Sink>) -> Self {
        Self {
            nodes: vec![Node::default()],
            sink,
            hits: 0,
        }
    }

    /// How many lookups were answered from the cache.
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// The outputs of `word`, if known.
    pub fn lookup(&mut self, word: &[usize]) -> Option<Vec<String>> {
        let out = self.known(word);
        if out.is_some() {
            self.hits += 1;
        }
        out
    }

    fn known(&self, word: &[usize]) -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(word.len());
        let mut node = 0;
        for (i, a) in word.iter().enumerate() {
            if let Some(sink) = &self.sink {
                if out.last().is_some_and(|o: &String| (sink.ends)(o)) {
                    out.extend(std::iter::repeat_n(sink.after.clone(), word.len() - i));
                    return Some(out);
                }
            }
            let (o, n) = self.nodes[node].children.get(a)?;
            out.push(o.clone());
            node = *n;
        }
        Some(out)
    }

    /// Records the outputs of `word`; an output that contradicts a recorded one is a
    /// [`Conflict`] (and nothing is recorded).
    pub fn insert(&mut self, word: &[usize], outputs: &[String]) -> Result<(), Conflict> {
        if let Some(known) = self.known_prefix(word) {
            for (i, (k, o)) in known.iter().zip(outputs).enumerate() {
                if k != o {
                    return Err(Conflict {
                        word: word[..=i].to_vec(),
                        first: k.clone(),
                        second: o.clone(),
                    });
                }
            }
        }
        let mut node = 0;
        for (a, o) in word.iter().zip(outputs) {
            node = match self.nodes[node].children.get(a) {
                Some((_, n)) => *n,
                None => {
                    self.nodes.push(Node::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[node].children.insert(*a, (o.clone(), n));
                    n
                }
            };
        }
        Ok(())
    }

    /// The outputs known for the longest known prefix of `word` (sink rule included).
    pub fn known_prefix_outputs(&self, word: &[usize]) -> Vec<String> {
        self.known_prefix(word).unwrap_or_default()
    }

    fn known_prefix(&self, word: &[usize]) -> Option<Vec<String>> {
        (0..=word.len()).rev().find_map(|n| self.known(&word[..n]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn a_query_answers_its_prefixes_and_contradictions_are_caught() {
        let mut c = Cache::new(None);
        c.insert(&[0, 1, 2], &s(&["a", "b", "c"])).expect("first");
        assert_eq!(c.lookup(&[0, 1]), Some(s(&["a", "b"])));
        assert_eq!(c.lookup(&[0, 2]), None);
        assert_eq!(c.lookup(&[]), Some(vec![]));
        let e = c
            .insert(&[0, 1, 0], &s(&["a", "x", "y"]))
            .expect_err("b then x");
        assert_eq!(
            e,
            Conflict {
                word: vec![0, 1],
                first: "b".into(),
                second: "x".into()
            }
        );
        assert_eq!(
            c.lookup(&[0, 1, 0]),
            None,
            "nothing of a conflicting answer is kept"
        );
    }

    #[test]
    fn after_a_session_ending_output_every_input_gives_the_sink_output() {
        let mut c = Cache::new(Some(Sink {
            ends: |o| o.ends_with("close"),
            after: "closed".into(),
        }));
        c.insert(&[3, 1], &s(&["nothing", "alert + close"]))
            .expect("first");
        assert_eq!(
            c.lookup(&[3, 1, 0, 2]),
            Some(s(&["nothing", "alert + close", "closed", "closed"]))
        );
        assert!(c
            .insert(&[3, 1, 4], &s(&["nothing", "alert + close", "x"]))
            .is_err());
        assert_eq!(c.hits(), 1);
    }
}
