//! Angluin's L* for Mealy machines with Rivest and Schapire's counterexample processing: the
//! observation table's access words `S` stay pairwise distinct, so the table needs no
//! consistency check, and each counterexample adds one distinguishing suffix, found by binary
//! search.

use super::mealy::{Mealy, Word};
use super::oracle::Oracle;
use super::LearnError;

/// The observation table: access words `S`, suffixes `E`.
pub(crate) struct Table {
    pub(crate) access: Vec<Word>,
    pub(crate) suffixes: Vec<Word>,
    inputs: usize,
}

fn concat(a: &[usize], b: &[usize]) -> Word {
    let mut w = a.to_vec();
    w.extend_from_slice(b);
    w
}

impl Table {
    /// `S = {ε}`, `E` = every single input.
    pub(crate) fn new(inputs: usize) -> Self {
        Self {
            access: vec![Vec::new()],
            suffixes: (0..inputs).map(|a| vec![a]).collect(),
            inputs,
        }
    }

    /// Every word whose answer the table needs.
    fn needed(&self) -> Vec<Word> {
        let mut words = Vec::new();
        for s in &self.access {
            for a in 0..self.inputs {
                let sa = concat(s, &[a]);
                for e in &self.suffixes {
                    words.push(concat(s, e));
                    words.push(concat(&sa, e));
                }
            }
        }
        words
    }

    /// The row of `u`: the outputs of each suffix after `u`.
    fn row(&self, oracle: &mut Oracle<'_>, u: &[usize]) -> Result<Vec<Vec<String>>, LearnError> {
        self.suffixes
            .iter()
            .map(|e| {
                let out = oracle.answer_one(&concat(u, e))?;
                Ok(out[u.len()..].to_vec())
            })
            .collect()
    }

    /// Adds access words until every one-input extension of an access word has the row of an
    /// access word; then the hypothesis.
    pub(crate) fn close(
        &mut self,
        oracle: &mut Oracle<'_>,
        max_states: usize,
    ) -> Result<Mealy, LearnError> {
        loop {
            oracle.answer(&self.needed())?;
            let rows: Vec<Vec<Vec<String>>> = self
                .access
                .iter()
                .map(|s| self.row(oracle, s))
                .collect::<Result<_, _>>()?;
            let mut missing = None;
            let mut next = vec![vec![0; self.inputs]; self.access.len()];
            let mut output = vec![vec![String::new(); self.inputs]; self.access.len()];
            'rows: for (i, s) in self.access.iter().enumerate() {
                for a in 0..self.inputs {
                    let sa = concat(s, &[a]);
                    let row = self.row(oracle, &sa)?;
                    match rows.iter().position(|r| *r == row) {
                        Some(j) => next[i][a] = j,
                        None => {
                            missing = Some(sa);
                            break 'rows;
                        }
                    }
                    output[i][a] = rows[i][a].first().cloned().unwrap_or_default();
                }
            }
            match missing {
                Some(sa) => {
                    self.access.push(sa);
                    if self.access.len() > max_states {
                        return Err(LearnError::TooManyStates(max_states));
                    }
                }
                None => {
                    return Ok(Mealy {
                        inputs: Vec::new(),
                        names: (0..self.access.len()).map(|i| format!("s{i}")).collect(),
                        next,
                        output,
                    })
                }
            }
        }
    }

    /// Rivest–Schapire: the suffix of counterexample `w` that tells an extension of an access
    /// word from the access word of the state the hypothesis maps it to; added to `E`.
    pub(crate) fn process(
        &mut self,
        oracle: &mut Oracle<'_>,
        hypothesis: &Mealy,
        w: &[usize],
    ) -> Result<(), LearnError> {
        // agrees(i): from the access word of the state reached by w[..i], the rest of w gives
        // what the hypothesis predicts. agrees(0) is false (w is a counterexample);
        // agrees(|w|) is true (nothing is left to disagree on).
        let mut agrees = |i: usize| -> Result<bool, LearnError> {
            let (_, q) = hypothesis.run_from(0, &w[..i]);
            let u = &self.access[q];
            let real = oracle.answer_one(&concat(u, &w[i..]))?;
            let (predicted, _) = hypothesis.run_from(q, &w[i..]);
            Ok(real[u.len()..] == predicted[..])
        };
        let (mut lo, mut hi) = (0, w.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if agrees(mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let suffix = w[hi..].to_vec();
        if suffix.is_empty() || self.suffixes.contains(&suffix) {
            // Cannot happen with a deterministic system; fall back to every suffix of w so
            // that learning still progresses.
            for i in 1..w.len() {
                let s = w[i..].to_vec();
                if !self.suffixes.contains(&s) {
                    self.suffixes.push(s);
                }
            }
        } else {
            self.suffixes.push(suffix);
        }
        Ok(())
    }
}
