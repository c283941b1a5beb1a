//! The interop matrix: the reference against itself on every case (with byte-identical captures
//! from run to run), the reference against the Python implementation both ways on a few cases,
//! the proxy recording exactly the bytes both sides sent, and misbehaving adapters failing their
//! cells with a clear reason, quickly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

use btls_profile::interop::case::{load_cases, InteropCase};
use btls_profile::interop::cell::{run_cell, CellOptions, CellResult, CellStatus};
use btls_profile::interop::report::capture_bytes;
use btls_profile::interop::run_matrix;
use btls_profile::BtlsProfile;
use harness_capture::read::read_capture;
use harness_capture::reassemble::reassemble;
use harness_capture::{write_capture, Format, Recording};
use harness_core::proxy::{relay, Proxy};
use harness_core::Iut;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases() -> Vec<InteropCase> {
    load_cases(&root().join("scenarios/interop")).unwrap()
}

fn case(code: &str) -> InteropCase {
    cases().into_iter().find(|c| c.code == code).unwrap()
}

fn reference() -> Iut {
    Iut {
        name: "reference".into(),
        program: env!("CARGO_BIN_EXE_btls-iut").into(),
        prefix_args: vec![],
    }
}

fn options(name: &str, timeout: Duration) -> CellOptions {
    CellOptions {
        seed: 1,
        timeout,
        work_dir: std::env::temp_dir().join(format!("btls-interop-{name}-{}", std::process::id())),
    }
}

fn explain(cells: &[CellResult]) -> String {
    cells
        .iter()
        .filter(|c| c.status != CellStatus::Succeeded)
        .map(|c| {
            format!(
                "{} × {} {}: {:?}: {}",
                c.client.implementation,
                c.server.implementation,
                c.case,
                c.status,
                c.reason.as_deref().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reference_against_itself_on_every_case_with_identical_captures() {
    let cases = cases();
    assert!(cases.len() >= 14, "{} cases", cases.len());
    let opts = options("self", Duration::from_secs(20));
    let first = run_matrix(&[reference()], &cases, &opts, 2, None);
    assert!(!first.failed(), "{}", explain(&first.cells));
    assert_eq!(first.count(CellStatus::Succeeded), cases.len());
    let second = run_matrix(&[reference()], &cases, &opts, 2, None);
    for (a, b) in first.cells.iter().zip(&second.cells) {
        assert_eq!(a.case, b.case);
        // BB is the one case whose two directions overlap (INTEROP.md).
        if a.code != "BB" {
            assert!(
                capture_bytes(a, Format::Pcapng).unwrap()
                    == capture_bytes(b, Format::Pcapng).unwrap(),
                "the capture of {} differs between two runs with the same seed",
                a.case
            );
        }
    }
}

/// The Python adapter's interpreter: the one `btls-iut-py` re-executes itself with.
fn python() -> PathBuf {
    let venv = root().join("interop/python/.venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

#[test]
fn reference_and_python_interoperate_both_ways() {
    let ok = std::process::Command::new(python())
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the interop tests need python3 with the `cryptography` package: run `bash interop/python/install.sh`"
    );
    let py = Iut {
        name: "python".into(),
        program: root().join("interop/python/btls-iut-py"),
        prefix_args: vec![],
    };
    let opts = options("python", Duration::from_secs(20));
    let plan: Vec<(InteropCase, Iut, Iut)> = ["PC", "RT", "VS", "R", "BC"]
        .iter()
        .flat_map(|code| {
            let c = case(code);
            [
                (c.clone(), reference(), py.clone()),
                (c, py.clone(), reference()),
            ]
        })
        .collect();
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for chunk in plan.chunks(plan.len().div_ceil(2)) {
            let (results, opts) = (&results, &opts);
            s.spawn(move || {
                for (c, client, server) in chunk {
                    let r = run_cell(c, client, server, opts);
                    results.lock().unwrap().push(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), 10);
    assert!(
        results.iter().all(|c| c.status == CellStatus::Succeeded),
        "{}",
        explain(&results)
    );
}

/// Plays one side through the proxy: writes `data` in pieces of `chunk` bytes, ends its
/// direction, and returns everything it received.
fn endpoint(
    addr: std::net::SocketAddr,
    data: Vec<u8>,
    chunk: usize,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = s.try_clone().unwrap();
        let got = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        for piece in data.chunks(chunk) {
            s.write_all(piece).unwrap();
        }
        s.shutdown(Shutdown::Write).unwrap();
        got.join().unwrap()
    })
}

/// `n` frames (4-byte headers with the right lengths) of pseudo-random bytes, then half a frame.
fn frames(seed: u8, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut x = u32::from(seed) | 1;
    for i in 0..n {
        let len = (i * 977 + usize::from(seed)) % 20_000;
        out.extend_from_slice(&[0x17, seed, (len >> 8) as u8, len as u8]);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.push(x as u8);
        }
    }
    out.extend_from_slice(&[0x15, 0, 0, 9, 1, 2]);
    out
}

#[test]
fn the_proxy_records_exactly_the_bytes_both_sides_sent() {
    let proxy = Proxy::bind().unwrap();
    let to_server = frames(3, 40);
    let to_client = frames(7, 25);
    let client = endpoint(proxy.client_addr().unwrap(), to_server.clone(), 1000);
    let server = endpoint(proxy.server_addr().unwrap(), to_client.clone(), 7);
    let (c, _) = proxy
        .listener(harness_capture::Direction::FromConnector)
        .accept()
        .unwrap();
    let (s, _) = proxy
        .listener(harness_capture::Direction::FromListener)
        .accept()
        .unwrap();
    let recording = Mutex::new(Recording::default());
    recording.lock().unwrap().open(None);
    relay(
        &BtlsProfile,
        &c,
        &s,
        &recording,
        Instant::now() + Duration::from_secs(10),
    );
    drop((c, s));
    assert_eq!(server.join().unwrap(), to_server, "the server received");
    assert_eq!(client.join().unwrap(), to_client, "the client received");
    let mut pcap = Vec::new();
    write_capture(&recording.into_inner().unwrap(), Format::Pcapng, &mut pcap).unwrap();
    let capture = read_capture(&pcap, "proxy.pcapng").unwrap();
    let streams = reassemble(&capture.segments);
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].from_client.data, to_server);
    assert_eq!(streams[0].from_server.data, to_client);
    assert!(streams[0].from_client.fin && streams[0].from_server.fin);
}

fn shell(name: &str, script: &str) -> Iut {
    Iut {
        name: name.into(),
        program: "sh".into(),
        prefix_args: vec!["-c".into(), script.into(), name.into()],
    }
}

#[test]
fn misbehaving_adapters_fail_their_cell_with_a_clear_reason_and_nothing_hangs() {
    let opts = options("broken", Duration::from_millis(1500));
    let ha = case("HA");
    let started = Instant::now();
    let missing = Iut {
        name: "missing".into(),
        program: "/nonexistent/btls-adapter".into(),
        prefix_args: vec![],
    };
    let cells = [
        run_cell(&ha, &missing, &reference(), &opts),
        run_cell(&ha, &reference(), &missing, &opts),
        run_cell(&ha, &shell("quitter", "exit 0"), &reference(), &opts),
        run_cell(&ha, &reference(), &shell("sleeper", "exec sleep 30"), &opts),
        run_cell(
            &ha,
            &reference(),
            &shell(
                "partial",
                "echo '--send-bytes is not supported' >&2; exit 89",
            ),
            &opts,
        ),
    ];
    let reasons: Vec<String> = cells
        .iter()
        .map(|c| c.reason.clone().unwrap_or_default())
        .collect();
    assert_eq!(cells[0].status, CellStatus::Failed);
    assert!(
        reasons[0].contains("client `missing`") && reasons[0].contains("/nonexistent/btls-adapter"),
        "{}",
        reasons[0]
    );
    assert_eq!(cells[1].status, CellStatus::Failed);
    assert!(reasons[1].contains("server `missing`"), "{}", reasons[1]);
    assert_eq!(cells[2].status, CellStatus::Failed);
    assert!(
        reasons[2].contains("client `quitter`")
            && reasons[2].contains("without the contract's first line")
            && reasons[2].contains("exited without opening connection 0"),
        "{}",
        reasons[2]
    );
    assert_eq!(cells[3].status, CellStatus::Failed);
    assert!(
        reasons[3].contains("server `sleeper`") && reasons[3].contains("killed"),
        "{}",
        reasons[3]
    );
    assert_eq!(cells[4].status, CellStatus::Unsupported, "{}", reasons[4]);
    assert!(
        reasons[4].contains("--send-bytes is not supported"),
        "{}",
        reasons[4]
    );
    // Every process was reaped within its cell: the hanging one 2 s after the 1.5 s limit.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    for c in &cells {
        assert!(
            c.duration < Duration::from_secs(6),
            "{}: {:?}",
            c.client.implementation,
            c.duration
        );
    }
}

#[test]
fn the_cli_writes_the_reports_and_fails_when_a_cell_fails() {
    let out = std::env::temp_dir().join(format!("btls-interop-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_btls-harness"))
        .current_dir(root())
        .args([
            "interop",
            "-q",
            "--filter",
            "HA",
            "--timeout-secs",
            "5",
            "--impl",
        ])
        .arg(format!("reference={}", env!("CARGO_BIN_EXE_btls-iut")))
        .args(["--impl", "broken=/nonexistent/adapter", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["summary"]["cells"], 4);
    assert_eq!(results["summary"]["succeeded"], 1);
    assert_eq!(results["summary"]["failed"], 3);
    for file in ["report.md", "report.html", "junit.xml"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let cell = &results["cells"][0];
    assert!(out.join(cell["capture"].as_str().unwrap()).exists());
    let transcript =
        std::fs::read_to_string(out.join(cell["transcript"].as_str().unwrap())).unwrap();
    assert!(
        transcript.contains("HANDSHAKE CLIENT_HELLO"),
        "{transcript}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("chip ok") && html.contains("chip bad"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_deviation_names_the_side_what_was_expected_and_what_was_seen() {
    let opts = options("deviation", Duration::from_secs(10));
    let mut sk = case("SK");
    sk.expect_client.handshake = Some(
        ["CLIENT_HELLO", "SUCCESSFUL_VALIDATION", "CLIENT_READY"]
            .map(String::from)
            .to_vec(),
    );
    let cell = run_cell(&sk, &reference(), &reference(), &opts);
    assert_eq!(cell.status, CellStatus::Failed);
    assert_eq!(
        cell.reason.as_deref().unwrap(),
        "client `reference`: expected to send the handshake messages [CLIENT_HELLO, SUCCESSFUL_VALIDATION, CLIENT_READY] on the wire, sent [CLIENT_HELLO, SEND_KEY, SUCCESSFUL_VALIDATION, CLIENT_READY]"
    );
    let mut ha = case("HA");
    ha.expect_server.exit = Some(btls_profile::scenario::ExitClass::Failure);
    let cell = run_cell(&ha, &reference(), &reference(), &opts);
    assert_eq!(
        cell.reason.as_deref().unwrap(),
        "server `reference`: expected exit status 1 (failure), got 0"
    );
}

#[test]
fn malformed_case_files_are_reported_with_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("btls-interop-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "a.toml",
        "[case]\ncode = \"A\"\ntitle = \"a\"\n[client]\nkeyz = []\n",
    );
    write(
        "sub/b.toml",
        "[case]\ncode = \"B\"\ntitle = \"b\"\n[expect.server]\nhandshake = [\"CLIENT_HELO\"]\n",
    );
    write(
        "c.toml",
        "[case]\ncode = \"C\"\ntitle = \"c\"\n[server]\nkeys = [\"nobody\"]\n",
    );
    write("d.toml", "[case]\ncode = \"D\"\ntitle = \"d\"\n");
    write("e.toml", "[case]\ncode = \"D\"\ntitle = \"e\"\n");
    let errors: Vec<String> = load_cases(&dir)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    let errors = errors.join("\n");
    for want in [
        "a.toml:5: client: unknown field `keyz`",
        "b.toml:5: expect.server.handshake: unknown handshake message \"CLIENT_HELO\"",
        "c.toml:5: server.keys: unknown fixture key \"nobody\"",
        "cases d and e share the code D",
    ] {
        assert!(errors.contains(want), "{want} not in\n{errors}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
