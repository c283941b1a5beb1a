//! Reading and writing the TLS presentation language (RFC 8446 §3): big-endian integers and
//! vectors with 1-, 2- or 3-byte length prefixes.

use thiserror::Error;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended inside `what`.
    #[error("{what}: {needed} more byte(s) needed")]
    Short {
        /// The field being read.
        what: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// Bytes were left over after the last field of `what`.
    #[error("{what}: {count} byte(s) left over")]
    Trailing {
        /// The structure read.
        what: &'static str,
        /// Bytes left.
        count: usize,
    },
    /// A field held a value its definition does not allow.
    #[error("{what}: {detail}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// A cursor over received bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next `n` bytes, for `what`.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Short {
                what,
                needed: n - self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// A big-endian integer of `n` bytes (1 to 4).
    pub fn uint(&mut self, n: usize, what: &'static str) -> Result<u32, DecodeError> {
        Ok(self
            .take(n, what)?
            .iter()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or_default())
    }

    /// Two bytes, big-endian.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        // Two bytes always fit.
        Ok(self.uint(2, what)? as u16)
    }

    /// A vector with an `n`-byte length prefix.
    pub fn vec(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.uint(n, what)? as usize;
        self.take(len, what)
    }

    /// Fails unless everything has been read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                what,
                count: self.rest.len(),
            })
        }
    }
}

/// Appends `value` as an `n`-byte big-endian integer (the low `n` bytes).
pub fn put_uint(out: &mut Vec<u8>, n: usize, value: u32) {
    let bytes = value.to_be_bytes();
    out.extend_from_slice(bytes.get(4 - n.min(4)..).unwrap_or_default());
}

/// Appends `body` with an `n`-byte length prefix; `len` overrides the prefix's value (a wrong
/// length on purpose), else it is `body`'s length.
pub fn put_vec(out: &mut Vec<u8>, n: usize, body: &[u8], len: Option<u32>) {
    put_uint(out, n, len.unwrap_or(body.len() as u32));
    out.extend_from_slice(body);
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_short_input_is_named() {
        let mut out = Vec::new();
        put_vec(&mut out, 3, b"abc", None);
        put_vec(&mut out, 1, b"", None);
        assert_eq!(out, [0, 0, 3, b'a', b'b', b'c', 0]);
        let mut r = Reader::new(&out);
        assert_eq!(r.vec(3, "x"), Ok(&b"abc"[..]));
        assert_eq!(r.vec(1, "y"), Ok(&b""[..]));
        assert!(r.finish("z").is_ok());
        let mut r = Reader::new(&[0, 5, 1]);
        assert_eq!(
            r.vec(2, "list"),
            Err(DecodeError::Short {
                what: "list",
                needed: 4
            })
        );
    }

    #[test]
    fn a_length_override_is_written_as_given() {
        let mut out = Vec::new();
        put_vec(&mut out, 2, b"ab", Some(0xffff));
        assert_eq!(out, [0xff, 0xff, b'a', b'b']);
    }
}
