//! The byte-level codec: a borrowed reader that names what ran short, and the [`Codec`] trait
//! every wire structure implements.
//!
//! Decoding is exact (BT-FRAME-7): [`Codec::decode`] rejects trailing bytes, every length prefix
//! is checked against the bytes that remain and against the field's range.

use std::fmt;

/// Why a body did not decode. Every variant maps to the alert `decode_error` (BT-FRAME-7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ended before the named field was complete.
    #[error("{what} is truncated: needs {needed} more byte(s), {remaining} remain")]
    Truncated {
        /// The field or structure that ran short.
        what: &'static str,
        /// Bytes the field still needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes were left over after the last field of a structure.
    #[error("{count} trailing byte(s) after {what}")]
    TrailingBytes {
        /// The structure that was complete.
        what: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// A length prefix or fixed length lies outside the field's allowed range.
    #[error("{what} has length {len}, allowed {min}..={max}")]
    LengthOutOfRange {
        /// The field.
        what: &'static str,
        /// The length found.
        len: usize,
        /// Smallest allowed length.
        min: usize,
        /// Largest allowed length.
        max: usize,
    },
    /// A field has a value the syntax forbids (for example `not_after < not_before`).
    #[error("{what}: {why}")]
    InvalidValue {
        /// The field.
        what: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A cursor over a borrowed byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// How many bytes have been consumed.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes exactly `n` bytes, or reports `what` as truncated.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::Truncated {
                what,
                needed: n - remaining,
                remaining,
            });
        }
        let out = self.buf.get(self.pos..self.pos + n).unwrap_or_default();
        self.pos += n;
        Ok(out)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads `opaque x<min..max>` with a one-byte length prefix.
    pub fn vec_u8(
        &mut self,
        min: usize,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u8(what)?);
        check_len(len, min, max, what)?;
        self.take(len, what)
    }

    /// Reads `opaque x<min..max>` with a two-byte length prefix.
    pub fn vec_u16(
        &mut self,
        min: usize,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16(what)?);
        check_len(len, min, max, what)?;
        self.take(len, what)
    }

    /// Reads a field of the layout table (`crate::msgs::layout`): a fixed-size field's bytes, or
    /// a length-prefixed field's value within the table's limits.
    pub fn field(&mut self, field: &crate::msgs::layout::Field) -> Result<&'a [u8], DecodeError> {
        use crate::msgs::layout::Shape;
        match field.shape {
            Shape::Fixed(size) => self.take(size, field.name),
            Shape::Prefixed { width: 1, min, max } => self.vec_u8(min, max, field.name),
            Shape::Prefixed { min, max, .. } => self.vec_u16(min, max, field.name),
        }
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte was consumed.
    pub fn expect_end(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }
}

fn check_len(len: usize, min: usize, max: usize, what: &'static str) -> Result<(), DecodeError> {
    if len < min || len > max {
        return Err(DecodeError::LengthOutOfRange {
            what,
            len,
            min,
            max,
        });
    }
    Ok(())
}

/// A wire structure: encoding cannot fail, decoding is exact.
pub trait Codec: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value, leaving the reader after it.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The encoding as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes `bytes` completely: trailing bytes are an error (BT-FRAME-7).
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::read(&mut r)?;
        r.expect_end(
            std::any::type_name::<Self>()
                .rsplit("::")
                .next()
                .unwrap_or("body"),
        )?;
        Ok(value)
    }
}

/// Appends `opaque x<..255>` (one-byte prefix). The caller guarantees `data.len() <= 255`; longer
/// data is truncated to keep the encoding well-formed, which the message constructors prevent.
pub fn put_vec_u8(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len().min(usize::from(u8::MAX));
    out.push(len as u8);
    out.extend_from_slice(data.get(..len).unwrap_or_default());
}

/// Appends `opaque x<..65535>` (two-byte prefix), truncating as [`put_vec_u8`] does.
pub fn put_vec_u16(out: &mut Vec<u8>, data: &[u8]) {
    let len = data.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(data.get(..len).unwrap_or_default());
}

/// Declares an open registry: a newtype over the wire integer with named constants, so unknown
/// values round-trip and print in hex.
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $cname:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        #[allow(missing_docs, reason = "each constant's doc is its name in the specification")]
        impl $name {
            $( $(#[$cmeta])* pub const $cname: Self = Self($value); )*

            /// Every value the specification defines.
            pub const ALL: &'static [Self] = &[$(Self::$cname),*];

            /// The specification's name, or `None` for an unknown value.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$cname => Some(stringify!($cname)), )*
                    _ => None,
                }
            }

            /// Whether the specification defines this value.
            pub fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// Looks a value up by its specification name (case-insensitive, `-` or `_`).
            pub fn from_name(name: &str) -> Option<Self> {
                let wanted = name.replace('-', "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name().is_some_and(|n| n.eq_ignore_ascii_case(&wanted)))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "unknown(0x{:0w$x})", self.0, w = 2 * std::mem::size_of::<$int>()),
                }
            }
        }
    };
}
pub(crate) use registry;

/// Formats bytes as lowercase hex (for Debug output of opaque fields).
pub struct HexBytes<'a>(pub &'a [u8]);

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_names_the_field_that_ran_short() {
        let mut r = Reader::new(&[0x00]);
        let err = r.u16("version").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "version",
                needed: 1,
                remaining: 1
            }
        );
    }

    #[test]
    fn length_prefix_outside_range_is_rejected() {
        let mut r = Reader::new(&[0x00]);
        let err = r.vec_u8(1, 255, "reg_handle").unwrap_err();
        assert!(matches!(
            err,
            DecodeError::LengthOutOfRange { len: 0, min: 1, .. }
        ));
    }

    #[test]
    fn length_prefix_past_end_is_truncation() {
        let mut r = Reader::new(&[0x03, 0xaa]);
        let err = r.vec_u8(0, 255, "key_share").unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Truncated {
                what: "key_share",
                needed: 2,
                ..
            }
        ));
    }
}
