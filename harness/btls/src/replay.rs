//! Replaying a capture: its transcript (every stream reassembled, every frame decoded), the
//! scenario that replays it, and that scenario run against an IUT.

use crate::dissect::{decode_stream, stream_text, Frame};
use crate::engine::{run_case, RunOptions};
use crate::keylog::KeyLog;
use crate::scenario::{load_file, Role, Scenario};
use harness_capture::read::{read_capture, read_capture_from, Capture, CaptureError, CHUNK};
use harness_capture::reassemble::{reassemble, Reassembler, Stream};
use harness_core::process::Iut;
use harness_core::CaseResult;
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
    Ok(decode_all(
        &capture,
        capture.segments.len(),
        &streams,
        file,
        keys,
        true,
    ))
}

/// Reads a capture from `input` in chunks (a large file is never held whole) and writes its
/// transcript, or only its counts (streams, frames, problems) when `with_text` is false: for a
/// large capture the text costs as much as the decoding.
pub fn transcript_from(
    input: impl std::io::Read,
    file: &str,
    keys: Option<&KeyLog>,
    with_text: bool,
) -> Result<Replay, CaptureError> {
    let mut streams = Reassembler::default();
    let mut segments = 0;
    let capture = read_capture_from(input, file, CHUNK, |s| {
        segments += 1;
        streams.push(&s);
    })?;
    let streams = streams.finish();
    Ok(decode_all(
        &capture, segments, &streams, file, keys, with_text,
    ))
}

fn decode_all(
    capture: &Capture<'_>,
    segments: usize,
    streams: &[Stream],
    file: &str,
    keys: Option<&KeyLog>,
    with_text: bool,
) -> Replay {
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
        segments,
        streams.len(),
        capture.skipped
    );
    for w in &capture.warnings {
        let _ = writeln!(out.text, "!! {w}");
        out.problems += 1;
    }
    for stream in streams {
        let frames = decode_stream(stream, keys);
        out.frames += frames.len();
        out.problems += frames.iter().filter(|f| f.problem.is_some()).count();
        out.problems += usize::from(stream.from_client.hole.is_some());
        out.problems += usize::from(stream.from_server.hole.is_some());
        if with_text {
            out.text.push_str(&stream_text(stream, &frames));
        }
    }
    if let Some(t) = &capture.truncated {
        let _ = writeln!(out.text, "!! {t}");
    }
    out.truncated.clone_from(&capture.truncated);
    out
}

/// What a capture becomes when it is turned into a scenario.
pub struct ScenarioOptions<'a> {
    /// The case the capture was recorded from, if known: its IUT and peer configuration and
    /// its outcome are reused.
    pub base: Option<&'a Scenario>,
    /// The role the IUT plays (default: the base case's).
    pub iut_role: Option<Role>,
    /// A title for the scenario.
    pub title: String,
}

/// The case id a harness capture names in its comment ("bTLS conformance case ID (…").
pub fn case_of(comment: &str) -> Option<&str> {
    comment
        .strip_prefix("bTLS conformance case ")?
        .split_whitespace()
        .next()
}

/// Turns a capture into a scenario file (TOML) that replays it: the harness's side sends the
/// recorded bytes verbatim (`send_raw`) and the IUT must answer like the recording
/// (`expect_frame` with `like`, `expect_alert`, `expect_close`), one connection per stream.
pub fn to_scenario(
    data: &[u8],
    file: &str,
    options: &ScenarioOptions<'_>,
) -> Result<String, String> {
    let capture = read_capture(data, file).map_err(|e| e.to_string())?;
    if let Some(t) = &capture.truncated {
        return Err(t.to_string());
    }
    let role = options
        .iut_role
        .or(options.base.map(|b| b.iut_role))
        .ok_or("the IUT's role is not known: give --iut-role (or --case)")?;
    let all = reassemble(&capture.segments);
    let streams: Vec<_> = all
        .iter()
        .map(|s| (s, decode_stream(s, None)))
        .filter(|(_, frames)| !frames.is_empty())
        .collect();
    if streams.is_empty() {
        return Err(format!("{file}: no bTLS frames in any TCP stream"));
    }
    let mut steps = Vec::new();
    for (n, (stream, frames)) in streams.iter().enumerate() {
        if n > 0 {
            steps.push(step([("next_connection", toml::Value::Boolean(true))]));
        }
        // The IUT is the side whose bTLS role is `role`: the client sends CLIENT_HELLO.
        let client_hello = |f: &&Frame<'_>| {
            f.bytes.first() == Some(&btls::msgs::ContentType::HANDSHAKE.0)
                && f.bytes.get(1) == Some(&btls::msgs::HandshakeCode::CLIENT_HELLO.0)
        };
        let tcp_client_is_btls_client = frames
            .iter()
            .find(client_hello)
            .is_none_or(|f| f.from_client);
        let iut_is_tcp_client = tcp_client_is_btls_client == (role == Role::Client);
        for f in frames {
            let comment = toml::Value::String(format!(
                "stream {}, packet {}: {}",
                stream.index,
                f.packet.map_or("-".into(), |p| p.to_string()),
                crate::wire::frame_name(f.bytes)
            ));
            let from_iut = f.from_client == iut_is_tcp_client;
            let action = if !from_iut {
                ("send_raw", toml::Value::String(hex::encode(f.bytes)))
            } else if let Some(d) = crate::wire::alert_description(f.bytes) {
                (
                    "expect_alert",
                    toml::Value::String(d.to_string().to_lowercase()),
                )
            } else {
                let mut like = toml::Table::new();
                like.insert("like".into(), toml::Value::String(hex::encode(f.bytes)));
                ("expect_frame", toml::Value::Table(like))
            };
            steps.push(step([action, ("comment", comment)]));
        }
        let iut_half = if iut_is_tcp_client {
            &stream.from_client
        } else {
            &stream.from_server
        };
        if iut_half.fin || iut_half.reset {
            steps.push(step([("expect_close", toml::Value::Boolean(true))]));
        }
    }
    let mut meta = toml::Table::new();
    meta.insert("title".into(), options.title.clone().into());
    meta.insert(
        "description".into(),
        format!(
            "Replays {file}: the harness sends the recorded bytes of its side verbatim and the IUT must answer like the recording (fields random by nature compared by length). Edit an expectation to what the specification requires to turn this into a regression test."
        )
        .into(),
    );
    let requirements = options
        .base
        .map(|b| b.requirements.clone())
        .unwrap_or_default();
    meta.insert(
        "requirements".into(),
        toml::Value::Array(requirements.into_iter().map(Into::into).collect()),
    );
    meta.insert("iut_role".into(), role.as_str().into());
    let mut doc = toml::Table::new();
    doc.insert("scenario".into(), toml::Value::Table(meta));
    if let Some(base) = options.base {
        let mut iut = base.iut.clone();
        if streams.len() > 1 {
            iut.connections = Some(u32::try_from(streams.len()).unwrap_or(u32::MAX));
        }
        doc.insert("iut".into(), to_value(&iut)?);
        doc.insert("peer".into(), to_value(&base.peer)?);
        doc.insert("outcome".into(), to_value(&base.outcome)?);
    }
    doc.insert("step".into(), toml::Value::Array(steps));
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Generated by `btls-harness replay {file} --to-scenario`.\n{body}"
    ))
}

fn step<const N: usize>(fields: [(&str, toml::Value); N]) -> toml::Value {
    toml::Value::Table(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<toml::Value, String> {
    toml::Value::try_from(value).map_err(|e| e.to_string())
}

/// Plays the harness's side of a capture against `iut` (see [`to_scenario`]) and returns the
/// case's result: its verdict names the first frame where the IUT's answers diverge from the
/// recording.
pub fn against(
    data: &[u8],
    file: &str,
    options: &ScenarioOptions<'_>,
    iut: &Iut,
    run: &RunOptions,
) -> Result<CaseResult, String> {
    let text = to_scenario(data, file, options)?;
    let dir = run.work_dir.join("replay");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("replay.toml");
    std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    let scenario = load_file(&dir, &path)
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("the generated scenario is empty")?;
    Ok(run_case(&scenario, iut, run))
}
