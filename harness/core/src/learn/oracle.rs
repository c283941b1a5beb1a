//! Membership queries: answered from the cache when it knows them, else run against the system
//! under learning, several at once, each from a fresh session.

use super::cache::{Cache, Sink};
use super::mealy::Word;
use super::{LearnError, Sul};
use crate::pool::parallel_map;

/// The cache in front of a system under learning.
pub(crate) struct Oracle<'a> {
    sul: &'a dyn Sul,
    pub(crate) cache: Cache,
    jobs: usize,
    /// Queries run against the system (each one session).
    pub(crate) executed: usize,
    /// Queries asked, whether the cache answered them or not.
    pub(crate) asked: usize,
}

impl<'a> Oracle<'a> {
    pub(crate) fn new(sul: &'a dyn Sul, sink: Option<Sink>, jobs: usize) -> Self {
        Self {
            sul,
            cache: Cache::new(sink),
            jobs: jobs.max(1),
            executed: 0,
            asked: 0,
        }
    }

    /// The answer to one word.
    pub(crate) fn answer_one(&mut self, word: &[usize]) -> Result<Vec<String>, LearnError> {
        let mut out = self.answer(&[word.to_vec()])?;
        Ok(out.pop().unwrap_or_default())
    }

    /// The answers to `words`, in order. Unknown words run in parallel; a word that is a prefix
    /// of another unknown word is answered by that one's run.
    pub(crate) fn answer(&mut self, words: &[Word]) -> Result<Vec<Vec<String>>, LearnError> {
        self.asked += words.len();
        let mut unknown: Vec<Word> = words
            .iter()
            .filter(|w| self.cache.lookup(w).is_none())
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        // Sorted, a word is followed by its extensions: keep only words no later word extends.
        let maximal: Vec<Word> = unknown
            .iter()
            .enumerate()
            .filter(|(i, w)| unknown.get(i + 1).is_none_or(|n| !n.starts_with(w)))
            .map(|(_, w)| w.clone())
            .collect();
        if !maximal.is_empty() {
            let sul = self.sul;
            let jobs: Vec<(Word, Vec<String>)> = maximal
                .iter()
                .map(|w| (w.clone(), self.cache.known_prefix_outputs(w)))
                .collect();
            let results = parallel_map(&jobs, self.jobs, |_, (w, known)| sul.query(w, known));
            for (w, r) in maximal.iter().zip(results) {
                self.executed += 1;
                let out = r
                    .unwrap_or_else(|| Err("the query panicked".into()))
                    .map_err(|e| LearnError::Sul {
                        word: w.clone(),
                        message: e,
                    })?;
                if out.len() != w.len() {
                    return Err(LearnError::Sul {
                        word: w.clone(),
                        message: format!("{} outputs for {} inputs", out.len(), w.len()),
                    });
                }
                self.cache
                    .insert(w, &out)
                    .map_err(LearnError::Nondeterministic)?;
            }
        }
        words
            .iter()
            .map(|w| {
                self.cache.lookup(w).ok_or_else(|| LearnError::Sul {
                    word: w.clone(),
                    message: "no answer was recorded".into(),
                })
            })
            .collect()
    }
}
