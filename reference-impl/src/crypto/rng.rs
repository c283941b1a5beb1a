//! Injected randomness: the protocol core owns no global RNG.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A source of random bytes for hellos, ephemeral keys and session IDs.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// The operating system's CSPRNG (through aws-lc-rs). Use this outside tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if aws_lc_rs::rand::fill(buf).is_err() {
            // aws-lc-rs's fill only fails if the OS entropy source is broken; there is no safe way
            // to continue a handshake without randomness.
            panic!("the operating system's random source failed");
        }
    }
}

/// A deterministic ChaCha20 stream from a 64-bit seed: the same seed gives byte-identical
/// sessions. For tests, vectors and the harness only — never for real traffic.
#[derive(Debug, Clone)]
pub struct SeededRandom(ChaCha20Rng);

impl SeededRandom {
    /// A stream determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(ChaCha20Rng::seed_from_u64(seed))
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }
}

impl<R: RandomSource + ?Sized> RandomSource for Box<R> {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf);
    }
}
