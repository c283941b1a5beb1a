//! The frame header (SPEC §1).

use super::ContentType;

/// Length of a frame header: content type, subcode, u16 length (BT-FRAME-1).
pub const FRAME_HEADER_LEN: usize = 4;
/// Largest body a frame may carry: 2^14 plaintext bytes plus a 16-byte tag (BT-FRAME-2).
pub const MAX_FRAME_BODY: usize = 16384 + 16;
/// Largest application plaintext in one frame (BT-REC-7).
pub const MAX_PLAINTEXT: usize = 16384;

/// The whole length of the frame that starts with `header`: the header and the body its length
/// field announces (BT-FRAME-1). The one place a frame's length is read.
pub fn frame_len(header: [u8; FRAME_HEADER_LEN]) -> usize {
    FRAME_HEADER_LEN + usize::from(FrameHeader::parse(header).length)
}

/// The 4-byte header in front of every frame body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// What the body is.
    pub content_type: ContentType,
    /// Handshake code, alert description, or 0 for application data.
    pub subcode: u8,
    /// Number of body bytes that follow.
    pub length: u16,
}

impl FrameHeader {
    /// Parses a header from its 4 bytes.
    pub fn parse(bytes: [u8; FRAME_HEADER_LEN]) -> Self {
        let [ct, subcode, hi, lo] = bytes;
        Self {
            content_type: ContentType(ct),
            subcode,
            length: u16::from_be_bytes([hi, lo]),
        }
    }

    /// The 4 header bytes.
    pub fn to_bytes(self) -> [u8; FRAME_HEADER_LEN] {
        let [hi, lo] = self.length.to_be_bytes();
        [self.content_type.0, self.subcode, hi, lo]
    }

    /// Encodes a whole frame: header then body. `body` must not exceed [`MAX_FRAME_BODY`].
    pub fn frame(content_type: ContentType, subcode: u8, body: &[u8]) -> Vec<u8> {
        let length = u16::try_from(body.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(FRAME_HEADER_LEN + body.len());
        out.extend_from_slice(
            &Self {
                content_type,
                subcode,
                length,
            }
            .to_bytes(),
        );
        out.extend_from_slice(body);
        out
    }
}
