//! Captures as Wireshark sees them: every conformance case's connections, written into one
//! pcapng, are read by tshark with the bTLS dissector (`harness/wireshark/btls.lua`) and must
//! agree with the harness's own reading packet for packet and frame for frame: checksums good,
//! sequence numbers continuous (no lost, retransmitted or out-of-order segment in tshark's TCP
//! analysis), each direction's payload the bytes the harness recorded, "Follow TCP stream"
//! giving the same bytes as the harness's reassembly, and the same frames (content type,
//! subcode, length) in the same order.
//!
//! tshark is installed by `scripts/install-tshark.sh` (which `scripts/test.sh` runs); without it
//! this test fails and says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls::msgs::MAX_FRAME_BODY;
use btls_profile::dissect::decode_stream;
use btls_profile::engine::{run_case, RunOptions};
use btls_profile::scenario::load_dir;
use harness_capture::read::read_capture;
use harness_capture::reassemble::reassemble;
use harness_capture::{write_capture, Connection, Direction, Format, Recording, TcpEvent};
use harness_core::Iut;
use harness_core::Verdict;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tshark() -> Command {
    let found = Command::new("tshark").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "tshark is not installed: run `bash scripts/install-tshark.sh` (or `bash scripts/test.sh`, \
         which installs what the tests need)"
    );
    let mut cmd = Command::new("tshark");
    cmd.arg("-X")
        .arg(format!(
            "lua_script:{}",
            root().join("harness/wireshark/btls.lua").display()
        ))
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
        ]);
    cmd
}

/// Every connection of every conformance case against the reference, each on its own client
/// port so that tshark sees distinct streams.
fn all_connections() -> Recording {
    let iut = Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    };
    let dir = std::env::temp_dir().join(format!("btls-wireshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = Recording {
        comment: "every conformance case".into(),
        connections: Vec::new(),
    };
    for scenario in load_dir(&root().join("scenarios")).unwrap() {
        let result = run_case(&scenario, &iut, &RunOptions::new(1, dir.clone()));
        assert!(
            matches!(result.verdict, Verdict::Pass | Verdict::PassLenient(_)),
            "{}: {:?}",
            scenario.id,
            result.verdict
        );
        for conn in result.capture.connections {
            let port = 10_000 + u16::try_from(all.connections.len()).unwrap();
            let mut moved =
                Connection::new(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), conn.listener);
            for event in conn.events() {
                match event {
                    TcpEvent::Data {
                        from,
                        bytes,
                        comment,
                    } => moved.data(*from, bytes, comment.clone()),
                    TcpEvent::Fin { from } => moved.fin(*from),
                    TcpEvent::Reset { from } => moved.reset(*from),
                }
            }
            all.connections.push(moved);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    all
}

/// What tshark says of one packet.
#[derive(Debug)]
struct Packet {
    number: usize,
    stream: usize,
    from_client: bool,
    seq: u64,
    payload: Vec<u8>,
    /// (content type, subcode, length) of each bTLS frame this packet completes.
    frames: Vec<(u64, u64, u64)>,
    bad_checksum: bool,
    analysis: bool,
    /// A dissector exception (not a protocol problem the dissector reports).
    malformed: bool,
}

fn numbers(field: &str) -> Vec<u64> {
    field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s.trim();
            s.strip_prefix("0x").map_or_else(
                || s.parse().unwrap(),
                |h| u64::from_str_radix(h, 16).unwrap(),
            )
        })
        .collect()
}

fn tshark_packets(file: &Path, client_ports: &BTreeMap<usize, u16>) -> Vec<Packet> {
    let fields = [
        "frame.number",
        "tcp.stream",
        "tcp.srcport",
        "tcp.seq",
        "tcp.payload",
        "ip.checksum.status",
        "tcp.checksum.status",
        "tcp.analysis.flags",
        "btls.content_type",
        "btls.subcode",
        "btls.length",
        // Exceptions only: the dissector's own expert items (group Malformed) flag the
        // malformed frames the suite sends on purpose.
        "_ws.malformed.expert",
        "_ws.malformed.dissector_bug",
        "_ws.malformed.reassembly",
    ];
    let mut cmd = tshark();
    cmd.arg("-r").arg(file).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    cmd.args([
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Lua"),
        "tshark failed on {}: {stderr}",
        file.display()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), fields.len(), "unexpected tshark line {line:?}");
            let stream = f[1].parse().unwrap();
            let (types, subcodes, lengths) = (numbers(f[8]), numbers(f[9]), numbers(f[10]));
            assert!(
                types.len() == subcodes.len() && types.len() == lengths.len(),
                "packet {}: uneven bTLS fields {line:?}",
                f[0]
            );
            Packet {
                number: f[0].parse().unwrap(),
                stream,
                from_client: f[2].parse::<u16>().ok() == client_ports.get(&stream).copied(),
                seq: f[3].parse().unwrap(),
                payload: hex::decode(f[4]).unwrap(),
                frames: (0..types.len())
                    .map(|i| (types[i], subcodes[i], lengths[i]))
                    .collect(),
                bad_checksum: f[5].split(',').chain(f[6].split(',')).any(|s| s == "0"),
                analysis: !f[7].is_empty(),
                malformed: f[11..].iter().any(|m| !m.is_empty()),
            }
        })
        .collect()
}

/// tshark's "Follow TCP stream" (raw) of every stream: per stream, the bytes from node 0 (the
/// side that sent first) and from node 1, with node 0's address.
fn tshark_follow(file: &Path, streams: usize) -> BTreeMap<usize, (String, Vec<u8>, Vec<u8>)> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file).arg("-q");
    for i in 0..streams {
        cmd.arg("-z").arg(format!("follow,tcp,raw,{i}"));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark follow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut followed = BTreeMap::new();
    let mut current: Option<(usize, String, Vec<u8>, Vec<u8>)> = None;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if let Some(n) = line.strip_prefix("Filter: tcp.stream eq ") {
            current = Some((
                n.trim().parse().unwrap(),
                String::new(),
                Vec::new(),
                Vec::new(),
            ));
        } else if let Some(addr) = line.strip_prefix("Node 0: ") {
            if let Some(c) = current.as_mut() {
                c.1 = addr.trim().to_owned();
            }
        } else if line.starts_with("====") {
            if let Some((n, addr, a, b)) = current.take() {
                followed.insert(n, (addr, a, b));
            }
        } else if let Some(c) = current.as_mut() {
            if let Some(hex1) = line.strip_prefix('\t') {
                c.3.extend(hex::decode(hex1).unwrap());
            } else if !line.starts_with("Follow:") && !line.starts_with("Node 1:") {
                c.2.extend(hex::decode(line).unwrap());
            }
        }
    }
    followed
}

#[test]
fn tshark_reads_every_case_capture_as_the_harness_does() {
    let recording = all_connections();
    // Left in place for a look with Wireshark when this test fails.
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("all-cases.pcapng");
    let mut bytes = Vec::new();
    write_capture(&recording, Format::Pcapng, &mut bytes).unwrap();
    std::fs::write(&file, &bytes).unwrap();

    // The harness's own reading of the same file.
    let capture = read_capture(&bytes, "all-cases.pcapng").unwrap();
    let streams = reassemble(&capture.segments);
    assert_eq!(streams.len(), recording.connections.len());
    let client_ports: BTreeMap<usize, u16> =
        streams.iter().map(|s| (s.index, s.client.port())).collect();

    let packets = tshark_packets(&file, &client_ports);
    assert_eq!(packets.len(), capture.segments.len(), "packet count");
    for p in &packets {
        assert!(!p.bad_checksum, "packet {}: bad checksum", p.number);
        assert!(
            !p.analysis,
            "packet {}: tshark's TCP analysis flags it",
            p.number
        );
        assert!(
            !p.malformed,
            "packet {}: malformed ({})",
            p.number,
            file.display()
        );
    }

    // "Follow TCP stream" shows exactly the bytes each side sent.
    let followed = tshark_follow(&file, streams.len());
    assert_eq!(followed.len(), streams.len(), "streams tshark follows");
    for stream in &streams {
        let (node0, a, b) = &followed[&stream.index];
        let (first, second) = if *node0 == stream.client.to_string() {
            (&stream.from_client, &stream.from_server)
        } else {
            (&stream.from_server, &stream.from_client)
        };
        assert_eq!(
            hex::encode(a),
            hex::encode(&first.data),
            "stream {}: follow, node 0",
            stream.index
        );
        assert_eq!(
            hex::encode(b),
            hex::encode(&second.data),
            "stream {}: follow, node 1",
            stream.index
        );
    }

    let mut frames_compared = 0;
    for (stream, conn) in streams.iter().zip(&recording.connections) {
        // Payload bytes, in tshark's sequence order, are what each side sent.
        for (from_client, direction) in [
            (true, Direction::FromConnector),
            (false, Direction::FromListener),
        ] {
            let mut sent = Vec::new();
            for e in conn.events() {
                if let TcpEvent::Data { from, bytes, .. } = e {
                    if *from == direction {
                        sent.extend_from_slice(bytes);
                    }
                }
            }
            let mut seen = Vec::new();
            for p in packets
                .iter()
                .filter(|p| p.stream == stream.index && p.from_client == from_client)
                .filter(|p| !p.payload.is_empty())
            {
                // Relative sequence numbers start at 1 after the SYN.
                assert_eq!(
                    p.seq,
                    1 + seen.len() as u64,
                    "stream {} packet {}: sequence number",
                    stream.index,
                    p.number
                );
                seen.extend_from_slice(&p.payload);
            }
            assert_eq!(
                hex::encode(&seen),
                hex::encode(&sent),
                "stream {} {}: payload",
                stream.index,
                if from_client { "c→s" } else { "s→c" }
            );
        }

        // The same whole frames, in the same order, each way.
        let ours = decode_stream(stream, None);
        for from_client in [true, false] {
            let expected: Vec<(u64, u64, u64)> = ours
                .iter()
                .filter(|f| f.from_client == from_client && f.bytes.len() >= 4)
                .filter(|f| {
                    // A whole frame, or a header whose length is over the limit: a receiver
                    // judges that one from the header alone (BT-FRAME-10).
                    let length = usize::from(u16::from_be_bytes([f.bytes[2], f.bytes[3]]));
                    f.bytes.len() == 4 + length || length > MAX_FRAME_BODY
                })
                .map(|f| {
                    (
                        u64::from(f.bytes[0]),
                        u64::from(f.bytes[1]),
                        u64::from(u16::from_be_bytes([f.bytes[2], f.bytes[3]])),
                    )
                })
                .collect();
            let seen: Vec<(u64, u64, u64)> = packets
                .iter()
                .filter(|p| p.stream == stream.index && p.from_client == from_client)
                .flat_map(|p| p.frames.iter().copied())
                .collect();
            assert_eq!(
                seen,
                expected,
                "stream {} {}: frames (content type, subcode, length) tshark found vs the \
                 harness's decoder\n{}",
                stream.index,
                if from_client { "c→s" } else { "s→c" },
                btls_profile::dissect::stream_text(stream, &ours)
            );
            frames_compared += expected.len();
        }
    }
    assert!(
        frames_compared > 1000,
        "only {frames_compared} frames compared"
    );
}
