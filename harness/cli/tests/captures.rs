//! Captures: every case's capture is deterministic and holds exactly the bytes of its session;
//! reading reassembles streams whatever the order of the segments; bad files give errors with
//! the file and the byte offset; a capture replays against the reference.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls_profile::engine::{run_case, RunOptions};
use btls_profile::keylog::KeyLog;
use btls_profile::replay::{
    against, to_scenario, transcript, transcript_from, Replay, ScenarioOptions,
};
use btls_profile::scenario::{load_dir, Scenario};
use harness_capture::read::{read_capture, read_capture_from};
use harness_capture::reassemble::{reassemble, Reassembler, Stream};
use harness_capture::{write_capture, Direction, Format, Recording, TcpEvent};
use harness_core::Iut;
use harness_core::{CaseResult, Verdict};
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btls-captures-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn reference() -> Iut {
    Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    }
}

fn scenarios() -> Vec<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    load_dir(&root).unwrap()
}

fn case(id: &str) -> Scenario {
    scenarios().into_iter().find(|s| s.id == id).unwrap()
}

fn run(id: &str, dir: &Path) -> CaseResult {
    let result = run_case(&case(id), &reference(), &RunOptions::new(1, dir.to_owned()));
    assert!(
        matches!(result.verdict, Verdict::Pass | Verdict::PassLenient(_)),
        "{id}: {:?}\n{}",
        result.verdict,
        result.transcript
    );
    result
}

fn bytes_of(recording: &Recording, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    write_capture(recording, format, &mut out).unwrap();
    out
}

/// The bytes each side sent on each connection, as recorded.
fn recorded_streams(recording: &Recording) -> Vec<(Vec<u8>, Vec<u8>)> {
    recording
        .connections
        .iter()
        .map(|c| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for e in c.events() {
                if let TcpEvent::Data { from, bytes, .. } = e {
                    match from {
                        Direction::FromConnector => a.extend_from_slice(bytes),
                        Direction::FromListener => b.extend_from_slice(bytes),
                    }
                }
            }
            (a, b)
        })
        .collect()
}

#[test]
fn a_case_capture_is_byte_identical_across_runs_and_holds_the_session_bytes() {
    let dir = temp_dir("determinism");
    // Resumption: two connections; data both ways; a key log.
    for id in ["client/handshake/chacha", "server/handshake/resumption"] {
        let first = run(id, &dir.join("a"));
        let second = run(id, &dir.join("b"));
        for format in [Format::Pcapng, Format::Pcap] {
            let a = bytes_of(&first.capture, format);
            assert_eq!(a, bytes_of(&second.capture, format), "{id} {format:?}");
            let read = read_capture(&a, id).unwrap();
            assert!(read.truncated.is_none() && read.warnings.is_empty());
            let streams = reassemble(&read.segments);
            let expected = recorded_streams(&first.capture);
            assert_eq!(streams.len(), expected.len(), "{id}");
            for (s, (c, srv)) in streams.iter().zip(&expected) {
                assert_eq!(&s.from_client.data, c, "{id}: client bytes");
                assert_eq!(&s.from_server.data, srv, "{id}: server bytes");
                assert!(s.from_client.fin && s.from_server.fin, "{id}: FIN exchange");
            }
        }
        let keys = KeyLog::parse(first.key_log.as_deref().unwrap_or_default(), id).unwrap();
        assert!(!keys.entries.is_empty(), "{id}: key log");
    }
}

#[test]
fn the_transcript_of_a_capture_decrypts_with_its_key_log_and_names_the_case() {
    let result = run("client/handshake/chacha", &temp_dir("keylog"));
    let data = bytes_of(&result.capture, Format::Pcapng);
    let keys = KeyLog::parse(result.key_log.as_deref().unwrap_or_default(), "keys").unwrap();
    let plain = transcript(&data, "c.pcapng", None).unwrap();
    assert!(
        plain.text.contains("APPLICATION protected"),
        "{}",
        plain.text
    );
    let opened = transcript(&data, "c.pcapng", Some(&keys)).unwrap();
    assert_eq!(opened.problems, 0, "{}", opened.text);
    assert!(
        opened.text.contains("(decrypted): \"chacha\""),
        "{}",
        opened.text
    );
    assert!(opened
        .text
        .contains("ALERT CLOSE_NOTIFY level 1 (decrypted)"));
    assert!(opened
        .text
        .starts_with("# bTLS conformance case client/handshake/chacha"));
}

/// Splits a classic pcap file into its header and packet records.
fn pcap_records(data: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut records = Vec::new();
    let mut at = 24;
    let big_endian = data[0] == 0xa1;
    while at < data.len() {
        let field: [u8; 4] = data[at + 8..at + 12].try_into().unwrap();
        let len = if big_endian {
            u32::from_be_bytes(field)
        } else {
            u32::from_le_bytes(field)
        } as usize;
        records.push(data[at..at + 16 + len].to_vec());
        at += 16 + len;
    }
    (data[..24].to_vec(), records)
}

#[test]
fn reassembly_survives_reordering_retransmission_and_duplicates() {
    let result = run("server/handshake/known-keys", &temp_dir("chaos"));
    let data = bytes_of(&result.capture, Format::Pcap);
    let (header, records) = pcap_records(&data);
    // Swap neighbours, delay the first data packet past later ones of its direction, send every
    // third packet twice, and repeat the first data packet at the end.
    let mut shuffled: Vec<Vec<u8>> = Vec::new();
    for pair in records.chunks(2) {
        shuffled.extend(pair.iter().rev().cloned());
    }
    let first_data = shuffled.remove(2);
    shuffled.insert(9, first_data);
    let mut chaos = header.clone();
    for (i, r) in shuffled.iter().enumerate() {
        chaos.extend_from_slice(r);
        if i % 3 == 0 {
            chaos.extend_from_slice(r);
        }
    }
    chaos.extend_from_slice(&records[3]);
    let clean = reassemble(&read_capture(&data, "clean").unwrap().segments);
    let read = read_capture(&chaos, "chaos").unwrap();
    let messy = reassemble(&read.segments);
    assert_eq!(clean.len(), messy.len());
    assert_eq!(clean[0].from_client.data, messy[0].from_client.data);
    assert_eq!(clean[0].from_server.data, messy[0].from_server.data);
    let (c, srv) = (&messy[0].from_client, &messy[0].from_server);
    assert!(c.retransmissions + srv.retransmissions > 0, "{c:?}");
    assert!(c.out_of_order + srv.out_of_order > 0, "{c:?}");
    // A lost segment is a hole reported with its offset; the frames before it still decode.
    let mut lossy = header;
    for (i, r) in records.iter().enumerate() {
        if i != 5 {
            lossy.extend_from_slice(r);
        }
    }
    let out = transcript(&lossy, "lossy.pcap", None).unwrap();
    assert!(out.text.contains("bytes missing at offset"), "{}", out.text);
    assert!(out.text.contains("CLIENT_HELLO"));
}

#[test]
fn bad_files_are_errors_naming_the_file_and_offset() {
    let e = read_capture(b"hello, this is not a capture", "notes.txt").unwrap_err();
    assert_eq!(e.offset, 0);
    assert!(
        e.to_string()
            .starts_with("notes.txt: at byte offset 0: not a pcap or pcapng file"),
        "{e}"
    );
    let e = read_capture(b"", "empty.pcap").unwrap_err();
    assert!(e.to_string().contains("the file has 0 bytes"), "{e}");

    let result = run("client/handshake/chacha", &temp_dir("bad"));
    for format in [Format::Pcap, Format::Pcapng] {
        let data = bytes_of(&result.capture, format);
        let cut = &data[..data.len() - 30];
        let read = read_capture(cut, "cut").unwrap();
        let t = read.truncated.expect("truncation reported");
        assert!(t.offset > 24 && t.offset < cut.len(), "{t}");
        assert!(t.message.contains("truncated"), "{t}");
        assert!(
            !read.segments.is_empty(),
            "the packets before the cut are read"
        );
        let out = transcript(cut, "cut", None).unwrap();
        assert!(out.truncated.is_some() && out.text.contains("HANDSHAKE CLIENT_HELLO"));
    }
    // A link type the reader does not know (USER0 = 147).
    let mut data = bytes_of(&result.capture, Format::Pcap);
    let user0 = if data[0] == 0xa1 {
        147u32.to_be_bytes()
    } else {
        147u32.to_le_bytes()
    };
    data[20..24].copy_from_slice(&user0);
    let e = read_capture(&data, "user0.pcap").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("user0.pcap: at byte offset 20: unsupported link type"),
        "{e}"
    );
}

#[test]
fn a_frame_that_does_not_decode_is_reported_and_decoding_goes_on() {
    let mut rec = Recording::default();
    rec.open(None);
    let c = rec.current().unwrap();
    // A CLIENT_HELLO with a body that is too short, then a valid alert, then an unknown type.
    c.data(
        Direction::FromConnector,
        &[1, 1, 0, 2, 0xaa, 0xbb],
        "bad hello",
    );
    c.data(Direction::FromConnector, &[2, 40, 0, 1, 2], "alert");
    c.data(Direction::FromConnector, &[9, 0, 0, 0], "unknown");
    c.fin(Direction::FromConnector);
    c.fin(Direction::FromListener);
    let data = bytes_of(&rec, Format::Pcapng);
    let out = transcript(&data, "mixed.pcapng", None).unwrap();
    assert_eq!(out.problems, 2, "{}", out.text);
    assert!(
        out.text.contains("stream 0 c→s offset 0: does not decode"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("ALERT FAILED_HANDSHAKE level 2"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("offset 11: unknown content type 9"),
        "{}",
        out.text
    );
}

#[test]
fn a_capture_replays_against_the_reference_and_a_divergence_names_the_field() {
    let dir = temp_dir("against");
    let base = case("server/validation/algorithm-not-allowed");
    let result = run(&base.id, &dir);
    let data = bytes_of(&result.capture, Format::Pcapng);
    let options = ScenarioOptions {
        base: Some(&base),
        iut_role: None,
        title: "replay".into(),
    };
    let text = to_scenario(&data, "a.pcapng", &options).unwrap();
    assert!(text.contains("send_raw = ") && text.contains("expect_alert = \"failed_handshake\""));
    let same = against(
        &data,
        "a.pcapng",
        &options,
        &reference(),
        &RunOptions::new(1, dir.join("same")),
    )
    .unwrap();
    assert_eq!(same.verdict, Verdict::Pass, "{}", same.transcript);

    // With another seed the server's randoms differ (compared by length, so they pass), and the
    // first real divergence is reported with its field.
    let client = case("client/handshake/chacha");
    let result = run(&client.id, &dir.join("c"));
    let data = bytes_of(&result.capture, Format::Pcapng);
    let options = ScenarioOptions {
        base: Some(&client),
        iut_role: None,
        title: "replay".into(),
    };
    let other = against(
        &data,
        "c.pcapng",
        &options,
        &reference(),
        &RunOptions::new(7, dir.join("other")),
    )
    .unwrap();
    let Verdict::Fail(f) = other.verdict else {
        panic!("expected a divergence: {}", other.transcript)
    };
    assert!(
        f.expected
            .contains("like the recorded HANDSHAKE CLIENT_READY"),
        "{f:?}"
    );
    assert!(f.actual.contains("now ALERT"), "{f:?}");
}

/// Real captures, taken by dumpcap on loopback while the harness ran a case with its real ports
/// (`tests/data/capture-real.sh`): `-i lo` as pcapng (Ethernet) and `-i any` as pcap (Linux
/// cooked, loopback hardware type). Read back, each holds exactly the bytes the same case sends
/// today with the same seed, connection by connection and direction by direction.
#[test]
fn real_captures_hold_the_bytes_of_a_fresh_run() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (file, id) in [
        ("real-lo.pcapng", "client/handshake/resumption"),
        ("real-any.pcap", "server/handshake/known-keys"),
    ] {
        let bytes = std::fs::read(data.join(file)).unwrap();
        let capture = read_capture(&bytes, file).unwrap();
        assert!(
            capture.warnings.is_empty(),
            "{file}: {:?}",
            capture.warnings
        );
        let seen: Vec<(Vec<u8>, Vec<u8>)> = reassemble(&capture.segments)
            .into_iter()
            .map(|s| (s.from_client.data, s.from_server.data))
            .collect();
        let dir = temp_dir("real");
        let now = recorded_streams(&run(id, &dir).capture);
        // When the case or the reference changed on purpose, run tests/data/capture-real.sh.
        assert_eq!(seen.len(), now.len(), "{file}: connections");
        for (i, (a, b)) in seen.iter().zip(&now).enumerate() {
            assert_eq!(
                hex::encode(&a.0),
                hex::encode(&b.0),
                "{file}: connection {i}, IUT → harness"
            );
            assert_eq!(
                hex::encode(&a.1),
                hex::encode(&b.1),
                "{file}: connection {i}, harness → IUT"
            );
        }
        let replay = transcript(&bytes, file, None).unwrap();
        assert_eq!(replay.problems, 0, "{file}:\n{}", replay.text);
    }
}

/// What reading a capture gives, in a comparable form: each stream's addresses, bytes each way
/// and how it ended, and the capture's warnings, truncation and skipped packets.
type Reading = (Vec<String>, Vec<String>, Option<String>, usize);

fn reading(capture: &harness_capture::read::Capture<'_>, streams: &[Stream]) -> Reading {
    let streams = streams
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {:?} {:?} {} {}",
                s.client,
                s.server,
                hex::encode(&s.from_client.data),
                hex::encode(&s.from_server.data),
                s.from_client.hole,
                s.from_server.hole,
                s.from_client.fin,
                s.from_server.reset
            )
        })
        .collect();
    (
        streams,
        capture.warnings.clone(),
        capture.truncated.as_ref().map(ToString::to_string),
        capture.skipped,
    )
}

/// Reading a file in chunks of any size (down to one byte) gives exactly what reading it whole
/// gives: the same streams, warnings, truncation and errors at the same byte offsets, and the
/// same transcript.
#[test]
fn reading_in_chunks_gives_what_reading_whole_gives() {
    let dir = temp_dir("chunks");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for id in [
        "client/handshake/chacha",
        "server/handshake/resumption",
        "server/alerts/oversize-length",
    ] {
        let r = run(id, &dir);
        files.push((format!("{id}.pcapng"), bytes_of(&r.capture, Format::Pcapng)));
        files.push((format!("{id}.pcap"), bytes_of(&r.capture, Format::Pcap)));
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for f in ["real-lo.pcapng", "real-any.pcap"] {
        files.push((f.into(), std::fs::read(data.join(f)).unwrap()));
    }
    for (name, whole) in files.clone().into_iter().take(2) {
        for cut in [0, 3, 10, 30, whole.len() / 2, whole.len() - 1] {
            files.push((format!("{name} cut at {cut}"), whole[..cut].to_vec()));
        }
    }
    files.push(("garbage".into(), b"<html>not a capture</html>".to_vec()));
    for (name, data) in &files {
        let whole = read_capture(data, name).map(|c| {
            let streams = reassemble(&c.segments);
            reading(&c, &streams)
        });
        for chunk in [1, 7, 100, 4096, 1 << 22] {
            let mut r = Reassembler::default();
            let got = read_capture_from(&data[..], name, chunk, |s| r.push(&s)).map(|c| {
                let streams = r.finish();
                reading(&c, &streams)
            });
            assert_eq!(got, whole, "{name}, chunks of {chunk}");
        }
        let text = |r: Result<Replay, _>| r.map(|r| (r.text, r.frames, r.problems));
        assert_eq!(
            text(transcript_from(&data[..], name, None, true)),
            text(transcript(data, name, None)),
            "{name}: transcript"
        );
    }
}
