//! Splitting a byte stream into frames: the one deframer every profile shares.
//!
//! A profile says how long a frame is once its first bytes are known ([`Framing`]); the
//! [`Deframer`] buffers what arrives and hands out whole frames. The same two pieces serve the
//! engine reading an IUT, the interop proxy, the capture decoder and the adapters:
//!
//! | profile | header | length |
//! |---|---|---|
//! | bTLS | 4 bytes: type, subcode, u16 length | 4 + length |
//! | TLS records | 5 bytes: type, u16 version, u16 length | 5 + length |
//! | TLS Pool | none: fixed-size packets | 376 |

/// How a protocol delimits its frames on a byte stream.
pub trait Framing {
    /// How many bytes must be buffered before [`Framing::frame_len`] can answer.
    fn header_len(&self) -> usize;

    /// The whole frame's length, header included, read from its first [`Framing::header_len`]
    /// bytes (`header` holds exactly that many).
    fn frame_len(&self, header: &[u8]) -> usize;
}

/// The length of the frame at the start of `bytes` under `framing`, once its header is there.
pub fn frame_len(framing: &impl Framing, bytes: &[u8]) -> Option<usize> {
    bytes
        .get(..framing.header_len())
        .map(|header| framing.frame_len(header))
}

/// Splits `bytes` into whole frames; a trailing partial frame is the last item, as it is.
pub fn split_frames<'a>(framing: &impl Framing, mut bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let end = frame_len(framing, bytes).map_or(bytes.len(), |n| n.min(bytes.len()));
        let (frame, rest) = bytes.split_at(end);
        frames.push(frame);
        bytes = rest;
    }
    frames
}

/// Buffers bytes as they arrive and hands out whole frames.
#[derive(Debug, Clone, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self, framing: &impl Framing) -> Option<Vec<u8>> {
        let len = frame_len(framing, &self.buf)?;
        if self.buf.len() < len {
            return None;
        }
        Some(self.buf.drain(..len).collect())
    }

    /// The bytes of a frame not yet complete.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes of a frame not yet complete (the stream ended in its middle).
    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 2-byte header holding a u16 body length, like the profiles' headers.
    struct TwoByte;
    impl Framing for TwoByte {
        fn header_len(&self) -> usize {
            2
        }
        fn frame_len(&self, header: &[u8]) -> usize {
            2 + usize::from(u16::from_be_bytes([header[0], header[1]]))
        }
    }

    /// Fixed-size packets, like the TLS Pool's.
    struct Fixed;
    impl Framing for Fixed {
        fn header_len(&self) -> usize {
            0
        }
        fn frame_len(&self, _: &[u8]) -> usize {
            3
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = u16::try_from(body.len()).unwrap().to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn split_keeps_a_trailing_partial_frame() {
        let mut bytes = frame(b"ab");
        bytes.extend(frame(b"cde"));
        bytes.extend([0, 9, 1]);
        let frames = split_frames(&TwoByte, &bytes);
        assert_eq!(frames, vec![&b"\0\x02ab"[..], b"\0\x03cde", b"\0\x09\x01"]);
        assert_eq!(
            split_frames(&Fixed, b"abcdefg"),
            vec![&b"abc"[..], b"def", b"g"]
        );
    }

    proptest! {
        /// Bytes pushed in any pieces give the same frames as the whole stream split at once.
        #[test]
        fn any_split_of_the_stream_gives_the_same_frames(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
            cuts in proptest::collection::vec(1usize..17, 1..30),
        ) {
            let stream: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
            let mut deframer = Deframer::default();
            let mut got = Vec::new();
            let mut rest = &stream[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                deframer.push(piece);
                rest = tail;
                while let Some(f) = deframer.next_frame(&TwoByte) {
                    got.push(f);
                }
            }
            let want: Vec<Vec<u8>> = split_frames(&TwoByte, &stream).into_iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(got, want);
            prop_assert!(deframer.pending().is_empty());
        }
    }
}
