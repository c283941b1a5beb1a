//! Replaying a capture: its transcript (every stream reassembled, every frame decoded).

use super::decode::{decode_stream, stream_text};
use super::keylog::KeyLog;
use super::read::{read_capture, CaptureError};
use super::reassemble::reassemble;
use std::fmt::Write as _;

/// What reading a capture found.
#[derive(Debug, Default)]
pub struct Replay {
    /// The transcript text.
    pub text: String,
    /// Frames that did not decode, holes, and unreadable packets.
    pub problems: usize,
    /// Streams in the capture.
    pub streams: usize,
    /// Frames decoded.
    pub frames: usize,
    /// Set when the file was truncated (the transcript covers what came before).
    pub truncated: Option<CaptureError>,
}

/// Reads the capture `data` (named `file` in errors) and writes its transcript.
pub fn transcript(data: &[u8], file: &str, keys: Option<&KeyLog>) -> Result<Replay, CaptureError> {
    let capture = read_capture(data, file)?;
    let streams = reassemble(&capture.segments);
    let mut out = Replay {
        streams: streams.len(),
        ..Default::default()
    };
    if let Some(c) = &capture.comment {
        let _ = writeln!(out.text, "# {c}");
    }
    let _ = writeln!(
        out.text,
        "# {}: {} TCP segments in {} streams; {} other packets skipped",
        file,
        capture.segments.len(),
        streams.len(),
        capture.skipped
    );
    for w in &capture.warnings {
        let _ = writeln!(out.text, "!! {w}");
        out.problems += 1;
    }
    for stream in &streams {
        let frames = decode_stream(stream, keys);
        out.frames += frames.len();
        out.problems += frames.iter().filter(|f| f.problem.is_some()).count();
        out.problems += usize::from(stream.from_client.hole.is_some());
        out.problems += usize::from(stream.from_server.hole.is_some());
        out.text.push_str(&stream_text(stream, &frames));
    }
    if let Some(t) = &capture.truncated {
        let _ = writeln!(out.text, "!! {t}");
    }
    out.truncated = capture.truncated;
    Ok(out)
}
