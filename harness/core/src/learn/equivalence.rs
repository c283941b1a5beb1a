//! The equivalence oracle: test words run against the system and compared with the hypothesis,
//! first random walks, then the W-method to a bounded depth.

use super::mealy::{Mealy, Word};
use super::oracle::Oracle;
use super::{LearnError, Options};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How many test words run per batch (the batch runs in parallel; the first counterexample
/// found ends the search).
const BATCH: usize = 1024;

/// Random walks: from the access word of a random state, random inputs, `length` at most.
fn random_walks(h: &Mealy, count: usize, length: usize, seed: u64) -> Vec<Word> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let access = h.access_sequences();
    let inputs = h.inputs.len().max(1) as u64;
    (0..count)
        .map(|_| {
            let start = rng.next_u64() as usize % access.len().max(1);
            let mut w = access.get(start).cloned().unwrap_or_default();
            let n = 1 + rng.next_u64() as usize % length.max(1);
            w.extend((0..n).map(|_| (rng.next_u64() % inputs) as usize));
            w
        })
        .collect()
}

/// The W-method's test words: transition cover · every word of at most `depth` inputs ·
/// the characterising set.
fn w_method(h: &Mealy, depth: usize) -> Vec<Word> {
    let n = h.inputs.len();
    let mut cover = Vec::new();
    for a in h.access_sequences() {
        cover.push(a.clone());
        for i in 0..n {
            let mut w = a.clone();
            w.push(i);
            cover.push(w);
        }
    }
    let mut middles: Vec<Word> = vec![Vec::new()];
    let mut layer: Vec<Word> = vec![Vec::new()];
    for _ in 0..depth {
        layer = layer
            .iter()
            .flat_map(|m| {
                (0..n).map(move |i| {
                    let mut w = m.clone();
                    w.push(i);
                    w
                })
            })
            .collect();
        middles.extend(layer.iter().cloned());
    }
    let chars = h.characterizing_set();
    let mut words = Vec::new();
    for p in &cover {
        for m in &middles {
            for c in &chars {
                let mut w = p.clone();
                w.extend_from_slice(m);
                w.extend_from_slice(c);
                words.push(w);
            }
        }
    }
    words
}

/// A word on which the system and `h` differ, if the tests find one; the shortest of the
/// first batch that has any.
pub(crate) fn find_counterexample(
    oracle: &mut Oracle<'_>,
    h: &Mealy,
    options: &Options,
    round: u64,
) -> Result<(Option<Word>, usize), LearnError> {
    let walk_length = options.walk_length.max(2 * h.states());
    let mut words = random_walks(
        h,
        options.random_walks,
        walk_length,
        options.seed.wrapping_add(round),
    );
    words.extend(w_method(h, options.depth));
    let mut tested = 0;
    for batch in words.chunks(BATCH) {
        let answers = oracle.answer(batch)?;
        tested += batch.len();
        let found = batch
            .iter()
            .zip(answers)
            .filter(|(w, real)| h.run(w) != *real)
            .map(|(w, _)| w.clone())
            .min_by_key(Vec::len);
        if let Some(w) = found {
            return Ok((Some(w), tested));
        }
    }
    Ok((None, tested))
}
