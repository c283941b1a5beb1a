//! Runs one scenario against one IUT: the harness listens, the IUT connects, the harness's side
//! (the reference implementation, scripted step by step) talks to it, and the verdict compares
//! what the IUT did on the wire and in its events with what the scenario expects.

use crate::adapter::adapter_args;
use crate::alter;
use crate::events::typed;
use crate::keylog::{KeyLog, KeyLogEntry};
use crate::outcome::check_party;
use crate::peer::PeerConfig;
use crate::profile::BtlsFraming;
use crate::scenario::{Action, FrameShape, Scenario, Step};
use crate::wire::{alert_description, compare_frames, describe, frame_name, handshake_code};
use btls::msgs::{AlertDescription, AlertLevel, FRAME_HEADER_LEN};
use btls::testing::split_frames;
use btls::Connection;
use harness_capture::framing::frame_len;
use harness_capture::{Direction, Recording};
use harness_core::clock::now_ms;
use harness_core::process::{Finished, Iut, EXIT_UNSUPPORTED};
use harness_core::stream::{FrameReader, Read1};
use harness_core::verdict::{CaseResult, Failure, Verdict};
use std::collections::VecDeque;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Default wait for the IUT in one step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the IUT may take to exit after the last step.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Seed of both sides' randomness.
    pub seed: u64,
    /// Where case directories (key files) go.
    pub work_dir: PathBuf,
    /// How long the IUT may take to connect.
    pub connect_timeout: Duration,
    /// How long the IUT may take to exit after the last step before it is killed.
    pub exit_timeout: Duration,
    /// Captures show the real ephemeral ports instead of the canonical ones (which keep
    /// captures byte-identical from run to run).
    pub real_ports: bool,
    /// The format of the captures written with the reports.
    pub capture_format: harness_capture::Format,
}

impl RunOptions {
    /// Options with the default timeouts.
    pub fn new(seed: u64, work_dir: PathBuf) -> Self {
        Self {
            seed,
            work_dir,
            connect_timeout: Duration::from_secs(5),
            exit_timeout: EXIT_TIMEOUT,
            real_ports: false,
            capture_format: harness_capture::Format::Pcapng,
        }
    }
}

/// The transcript and the capture being written.
struct Log {
    lines: Vec<String>,
    capture: Recording,
    /// The secrets of each connection whose handshake completed, for the key log.
    secrets: Vec<KeyLogEntry>,
}

impl Log {
    fn frame(&mut self, step: usize, outgoing: bool, frame: &[u8]) {
        let arrow = if outgoing {
            "harness → iut"
        } else {
            "iut → harness"
        };
        // How the IUT splits application data into frames depends on how its reads were split,
        // so its APPLICATION frames are logged without sizes and runs of them as one line.
        let text = if !outgoing && frame.first() == Some(&btls::msgs::ContentType::APPLICATION.0) {
            "APPLICATION protected".to_owned()
        } else {
            describe(frame)
        };
        let line = format!("[{step:>2}] {arrow}  {text}");
        if outgoing || self.lines.last() != Some(&line) {
            self.lines.push(line);
        }
    }
    fn note(&mut self, step: usize, text: impl AsRef<str>) {
        self.lines.push(format!("[{step:>2}] {}", text.as_ref()));
    }

    /// Records bytes on the wire in the capture, with the step that sent or read them.
    fn wire(&mut self, from: Direction, bytes: &[u8], comment: String) {
        if let Some(c) = self.capture.current() {
            c.data(from, bytes, comment);
        }
    }

    fn wire_end(&mut self, from: Direction, reset: bool) {
        if let Some(c) = self.capture.current() {
            if reset {
                c.reset(from);
            } else {
                c.fin(from);
            }
        }
    }
}

/// One live connection with the IUT and the reference peer's side of it.
struct Session {
    stream: TcpStream,
    reader: FrameReader,
    peer: Connection,
    pending: VecDeque<Vec<u8>>,
    /// The last frame the harness wrote, for `resend`.
    last_sent: Vec<u8>,
}

impl Session {
    fn pump(&mut self) {
        let out = self.peer.take_output();
        if !out.is_empty() {
            self.pending.extend(split_frames(&out));
        }
    }

    fn write(
        &mut self,
        log: &mut Log,
        step: &Step,
        index: usize,
        frame: &[u8],
    ) -> Result<(), String> {
        log.frame(index, true, frame);
        self.last_sent = frame.to_vec();
        let what = frame_name(frame);
        let comment = |piece: &[u8]| {
            let part = if piece.len() == frame.len() {
                String::new()
            } else {
                format!(" ({} of {} bytes)", piece.len(), frame.len())
            };
            format!(
                "step {index} (line {}): harness sends {what}{part}",
                step.line
            )
        };
        let result = match &step.fragment {
            Some(sizes) if !sizes.is_empty() => {
                let mut rest = frame;
                let mut sizes = sizes.iter().cycle();
                let mut r = Ok(());
                while !rest.is_empty() && r.is_ok() {
                    let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
                    let (piece, tail) = rest.split_at(n);
                    log.wire(Direction::FromListener, piece, comment(piece));
                    r = self
                        .stream
                        .write_all(piece)
                        .and_then(|_| self.stream.flush());
                    rest = tail;
                }
                r
            }
            _ => {
                log.wire(Direction::FromListener, frame, comment(frame));
                self.stream.write_all(frame)
            }
        };
        result.map_err(|e| format!("write to the IUT failed: {e}"))
    }

    /// Writes every frame the peer has queued.
    fn flush_peer(&mut self, log: &mut Log, step: &Step, index: usize) -> Result<(), String> {
        self.pump();
        while let Some(frame) = self.pending.pop_front() {
            self.write(log, step, index, &frame)?;
        }
        Ok(())
    }

    /// Reads one frame from the IUT, logs it and hands it to the reference peer. Returns the
    /// frame and the peer's verdict on it.
    fn read(
        &mut self,
        log: &mut Log,
        index: usize,
        timeout: Duration,
    ) -> Result<(Vec<u8>, Result<(), btls::Error>), Read1> {
        match read_logged(&mut self.reader, &mut self.stream, log, index, timeout) {
            Read1::Frame(frame) => {
                log.frame(index, false, &frame);
                let verdict = self.peer.receive(&frame, now_ms());
                Ok((frame, verdict))
            }
            other => Err(other),
        }
    }
}

/// Reads the IUT's next frame and records what arrived (or how the stream ended) in the capture.
fn read_logged(
    reader: &mut FrameReader,
    stream: &mut TcpStream,
    log: &mut Log,
    index: usize,
    timeout: Duration,
) -> Read1 {
    let r = reader.next(&BtlsFraming, stream, timeout);
    let at = if index == 0 {
        "after the last step".to_owned()
    } else {
        format!("step {index}")
    };
    match &r {
        Read1::Frame(frame) => log.wire(
            Direction::FromConnector,
            frame,
            format!("{at}: iut sent {}", frame_name(frame)),
        ),
        Read1::ClosedMidFrame(bytes) => {
            log.wire(
                Direction::FromConnector,
                bytes,
                format!("{at}: iut sent part of a frame, then closed"),
            );
            log.wire_end(Direction::FromConnector, false);
        }
        Read1::Closed => log.wire_end(Direction::FromConnector, false),
        Read1::Failed(_) => log.wire_end(Direction::FromConnector, true),
        Read1::TimedOut => {}
    }
    r
}

fn fail(
    step: usize,
    line: usize,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Failure {
    Failure {
        step,
        line,
        expected: expected.into(),
        actual: actual.into(),
    }
}

fn read_problem(r: Read1, timeout: Duration) -> String {
    match r {
        Read1::Closed => "the IUT closed the connection".into(),
        Read1::ClosedMidFrame(b) => format!(
            "the IUT closed the connection in the middle of a frame ({} bytes)",
            b.len()
        ),
        Read1::TimedOut => format!("nothing from the IUT within {} ms", timeout.as_millis()),
        Read1::Failed(e) => format!("the connection failed: {e}"),
        Read1::Frame(f) => describe(&f),
    }
}

/// Accepts the IUT's next connection, or gives up after `timeout`.
fn accept(listener: &TcpListener, timeout: Duration) -> Result<TcpStream, String> {
    let listener = listener.try_clone().map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok((stream, _))) => Ok(stream),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            // Unblock the accepting thread so it ends.
            let _ = TcpStream::connect(addr);
            Err(format!(
                "the IUT did not connect within {} ms",
                timeout.as_millis()
            ))
        }
    }
}

/// Runs `scenario` against `iut`.
pub fn run_case(scenario: &Scenario, iut: &Iut, options: &RunOptions) -> CaseResult {
    let started = Instant::now();
    let mut log = Log {
        capture: Recording {
            comment: format!(
                "bTLS conformance case {} (iut role {}, seed {})",
                scenario.id,
                scenario.iut_role.as_str(),
                options.seed
            ),
            connections: Vec::new(),
        },
        secrets: Vec::new(),
        lines: vec![
            format!("# {} — {}", scenario.id, scenario.title),
            format!(
                "# iut role: {}, seed: {}",
                scenario.iut_role.as_str(),
                options.seed
            ),
        ],
    };
    let dir = options.work_dir.join(scenario.id.replace('/', "__"));
    let _ = std::fs::create_dir_all(&dir);
    let (verdict, finished) = drive(scenario, iut, options, &dir, &mut log);
    let mut verdict = verdict;
    if let Some(finished) = &finished {
        for event in transcript_events(&finished.events) {
            log.lines.push(format!("[iut] {event}"));
        }
        log.lines.push(match (finished.code, finished.killed) {
            (_, true) => "[iut] killed after the exit timeout".into(),
            (Some(code), _) => format!("[iut] exit status {code}"),
            (None, _) => "[iut] ended by a signal".into(),
        });
        if finished.code == Some(EXIT_UNSUPPORTED) {
            let reason = finished
                .stderr
                .lines()
                .next()
                .unwrap_or("an option is not supported")
                .to_owned();
            verdict = Verdict::Unsupported(reason);
        } else if matches!(verdict, Verdict::Pass | Verdict::PassLenient(_)) {
            if let Err(f) = check_outcome(scenario, finished) {
                verdict = Verdict::Fail(f);
            }
        }
    }
    log.lines.push(format!(
        "verdict: {}",
        match &verdict {
            Verdict::Pass => "pass".to_owned(),
            Verdict::PassLenient(n) => format!("pass (lenient: {n})"),
            Verdict::Fail(f) => format!(
                "fail at step {} (line {}): expected {}; got {}",
                f.step, f.line, f.expected, f.actual
            ),
            Verdict::Unsupported(r) => format!("unsupported: {r}"),
        }
    ));
    let mut transcript = log.lines.join("\n");
    transcript.push('\n');
    CaseResult {
        verdict,
        transcript,
        capture: log.capture,
        key_log: (!log.secrets.is_empty()).then(|| {
            KeyLog {
                entries: log.secrets,
            }
            .to_text()
        }),
        stderr: finished.map(|f| f.stderr).unwrap_or_default(),
        duration: started.elapsed(),
    }
}

fn drive(
    scenario: &Scenario,
    iut: &Iut,
    options: &RunOptions,
    dir: &std::path::Path,
    log: &mut Log,
) -> (Verdict, Option<Finished>) {
    let setup = |e: String| (Verdict::Fail(fail(0, 0, "the case to start", e)), None);
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => return setup(format!("cannot listen: {e}")),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a.to_string(),
        Err(e) => return setup(e.to_string()),
    };
    let args = match adapter_args(scenario.iut_role, &scenario.iut, &addr, options.seed, dir) {
        Ok(a) => a,
        Err(e) => return setup(e),
    };
    let peer_config = match PeerConfig::new(scenario, dir) {
        Ok(p) => p,
        Err(e) => return setup(e),
    };
    let running = match iut.start(&args) {
        Ok(r) => r,
        Err(e) => return setup(e),
    };
    let verdict = run_steps(scenario, options, &listener, &peer_config, log);
    (verdict, Some(running.finish(options.exit_timeout)))
}

fn new_session(
    listener: &TcpListener,
    peer_config: &PeerConfig,
    seed: u64,
    options: &RunOptions,
    log: &mut Log,
) -> Result<Session, String> {
    let stream = accept(listener, options.connect_timeout)?;
    let real = match (stream.peer_addr(), stream.local_addr()) {
        (Ok(std::net::SocketAddr::V4(c)), Ok(std::net::SocketAddr::V4(l)))
            if options.real_ports =>
        {
            Some((c, l))
        }
        _ => None,
    };
    log.capture.open(real);
    let _ = stream.set_nodelay(true);
    let peer = peer_config.connect(seed)?;
    Ok(Session {
        stream,
        reader: FrameReader::default(),
        peer,
        pending: VecDeque::new(),
        last_sent: Vec::new(),
    })
}

fn run_steps(
    scenario: &Scenario,
    options: &RunOptions,
    listener: &TcpListener,
    peer_config: &PeerConfig,
    log: &mut Log,
) -> Verdict {
    let mut connection = 0u64;
    let mut session = match new_session(
        listener,
        peer_config,
        options.seed.wrapping_add(1000),
        options,
        log,
    ) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(fail(0, 0, "the IUT to connect", e)),
    };
    let mut lenient = None;
    for (i, step) in scenario.steps.iter().enumerate() {
        let index = i + 1;
        if let Some(c) = &step.comment {
            log.note(index, format!("# {c}"));
        }
        match run_step(&mut session, step, index, log) {
            Ok(StepOutcome::Done) => {}
            Ok(StepOutcome::Lenient(note)) => lenient = Some(note),
            Ok(StepOutcome::NextConnection) => {
                end_session(&mut session, log, index);
                connection += 1;
                session = match new_session(
                    listener,
                    peer_config,
                    options.seed.wrapping_add(1000 + connection),
                    options,
                    log,
                ) {
                    Ok(s) => s,
                    Err(e) => {
                        return Verdict::Fail(fail(
                            index,
                            step.line,
                            "the IUT's next connection",
                            e,
                        ))
                    }
                };
                log.note(index, format!("connection {connection}"));
            }
            Err(f) => {
                end_session(&mut session, log, index);
                return Verdict::Fail(f);
            }
        }
    }
    end_session(&mut session, log, scenario.steps.len() + 1);
    match lenient {
        Some(note) => Verdict::PassLenient(note),
        None => Verdict::Pass,
    }
}

/// Ends the harness's side: end of stream, then whatever the IUT still sends, until it closes.
fn end_session(session: &mut Session, log: &mut Log, index: usize) {
    let _ = session.stream.shutdown(Shutdown::Write);
    log.wire_end(Direction::FromListener, false);
    loop {
        match read_logged(
            &mut session.reader,
            &mut session.stream,
            log,
            0,
            Duration::from_secs(2),
        ) {
            Read1::Frame(frame) => log.frame(index, false, &frame),
            Read1::Closed => break,
            other => {
                log.note(
                    index,
                    format!("end: {}", read_problem(other, Duration::from_secs(2))),
                );
                break;
            }
        }
    }
    log.secrets.extend(KeyLogEntry::of(&session.peer));
}

enum StepOutcome {
    Done,
    Lenient(String),
    NextConnection,
}

fn run_step(
    s: &mut Session,
    step: &Step,
    index: usize,
    log: &mut Log,
) -> Result<StepOutcome, Failure> {
    let timeout = step.timeout_ms.map_or(STEP_TIMEOUT, Duration::from_millis);
    let line = step.line;
    let f = |expected: &str, actual: String| fail(index, line, expected, actual);
    match &step.action {
        Action::Send {
            code,
            alter: change,
        } => {
            s.pump();
            let Some(frame) = s.pending.pop_front() else {
                return Err(f(
                    &format!("the reference peer to have {code} to send"),
                    format!("it has nothing to send (state {})", s.peer.state_name()),
                ));
            };
            if handshake_code(&frame) != Some(*code) {
                s.pending.push_front(frame.clone());
                return Err(f(
                    &format!("the reference peer's next frame to be {code}"),
                    describe(&frame),
                ));
            }
            let frame = match change {
                Some(a) => alter::apply(frame, a).map_err(|e| f("a valid alteration", e))?,
                None => frame,
            };
            s.write(log, step, index, &frame)
                .map_err(|e| f("to send", e))?;
        }
        Action::Resend => {
            let frame = s.last_sent.clone();
            if frame.is_empty() {
                return Err(f("a frame sent before to send again", "none".into()));
            }
            s.write(log, step, index, &frame)
                .map_err(|e| f("to send", e))?;
        }
        Action::Inject(code) => {
            let frame = crate::samples::frame(*code)
                .ok_or_else(|| f("a known message", code.to_string()))?;
            s.write(log, step, index, &frame)
                .map_err(|e| f("to send", e))?;
        }
        Action::SendRaw(bytes) | Action::SendFrame(bytes) => {
            s.write(log, step, index, bytes)
                .map_err(|e| f("to send", e))?;
        }
        Action::SendAlert(alert) => {
            s.peer.send_alert_with_level(
                AlertDescription(alert.description),
                AlertLevel(alert.level),
            );
            s.flush_peer(log, step, index)
                .map_err(|e| f("to send", e))?;
        }
        Action::ExpectFrame(shape) => {
            let want = match shape {
                FrameShape::Header(ct, sub, len) => format!(
                    "a frame with content type {ct}, subcode 0x{sub:02x}{}",
                    len.map(|l| format!(", length {l}")).unwrap_or_default()
                ),
                FrameShape::Like(recorded) => {
                    format!("a frame like the recorded {}", frame_name(recorded))
                }
            };
            let (frame, _) = s
                .read(log, index, timeout)
                .map_err(|r| f(&want, read_problem(r, timeout)))?;
            let verdict = match shape {
                FrameShape::Header(ct, sub, len) => {
                    let length = frame_len(&BtlsFraming, &frame)
                        .and_then(|n| u16::try_from(n - FRAME_HEADER_LEN).ok());
                    let ok = frame.first() == Some(ct)
                        && frame.get(1) == Some(sub)
                        && len.is_none_or(|l| Some(l) == length);
                    if ok {
                        Ok(())
                    } else {
                        Err(describe(&frame))
                    }
                }
                FrameShape::Like(recorded) => compare_frames(recorded, &frame),
            };
            verdict.map_err(|e| f(&want, e))?;
        }
        Action::Expect(codes) => {
            let names: Vec<String> = codes.iter().map(ToString::to_string).collect();
            let want = names.join(" or ");
            let (frame, peer) = s
                .read(log, index, timeout)
                .map_err(|r| f(&want, read_problem(r, timeout)))?;
            match handshake_code(&frame) {
                Some(code) if codes.contains(&code) => {
                    if let Err(e) = peer {
                        return Err(f(
                            &format!("{want} that the reference accepts"),
                            format!("the reference rejects it: {e} ({})", e.requirement()),
                        ));
                    }
                }
                _ => return Err(f(&want, describe(&frame))),
            }
        }
        Action::ExpectAlert { allowed, lenient } => {
            let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            let want = format!("alert {}", names.join(" or "));
            match s.read(log, index, timeout) {
                Ok((frame, peer)) => match alert_description(&frame) {
                    Some(d) if allowed.contains(&d) => {
                        // BT-ALERT-1: the level goes with the description.
                        let level = alert_level(&mut s.peer, &frame, &peer);
                        if let Some(level) = level.filter(|l| *l != d.level()) {
                            return Err(f(
                                &format!("{want} at level {}", d.level().0),
                                format!("alert {d} at level {} (BT-ALERT-1)", level.0),
                            ));
                        }
                    }
                    Some(d) => return Err(f(&want, format!("alert {d}"))),
                    None => return Err(f(&want, describe(&frame))),
                },
                Err(Read1::Closed) if *lenient => {
                    return Ok(StepOutcome::Lenient(format!("closed without {want}")));
                }
                Err(r) => return Err(f(&want, read_problem(r, timeout))),
            }
        }
        Action::ExpectClose => match s.read(log, index, timeout) {
            Err(Read1::Closed) => {}
            Err(r) => {
                return Err(f(
                    "the IUT to close the connection",
                    read_problem(r, timeout),
                ))
            }
            Ok((frame, _)) => return Err(f("the IUT to close the connection", describe(&frame))),
        },
        Action::Complete => loop {
            s.flush_peer(log, step, index)
                .map_err(|e| f("to send", e))?;
            if s.peer.is_established() {
                break;
            }
            if let Some(e) = s.peer.failure() {
                return Err(f(
                    "the handshake to complete",
                    format!("the reference failed: {e} ({})", e.requirement()),
                ));
            }
            let (_, peer) = s
                .read(log, index, timeout)
                .map_err(|r| f("the handshake to complete", read_problem(r, timeout)))?;
            if let Err(e) = peer {
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
                return Err(f(
                    "the handshake to complete",
                    format!(
                        "the reference rejected the IUT's frame: {e} ({})",
                        e.requirement()
                    ),
                ));
            }
        },
        Action::Finish => {
            let mut closing = false;
            // Each read has its own timeout; the whole step has one too, so an IUT that keeps
            // sending and never closes cannot hold it forever.
            let deadline = Instant::now() + timeout * 4;
            loop {
                if Instant::now() > deadline {
                    return Err(f(
                        "the connection to end",
                        format!("still open after {} ms", (timeout * 4).as_millis()),
                    ));
                }
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
                if s.peer.is_established() && !closing {
                    closing = true;
                    s.peer.close();
                    continue;
                }
                match s.read(log, index, timeout) {
                    Ok(_) => {}
                    Err(Read1::Closed | Read1::Failed(_)) => break,
                    Err(r) => return Err(f("the connection to end", read_problem(r, timeout))),
                }
            }
        }
        Action::AdvanceTo(code) => loop {
            s.pump();
            while let Some(frame) = s.pending.front() {
                if handshake_code(frame) == Some(*code) {
                    return Ok(StepOutcome::Done);
                }
                let frame = s.pending.pop_front().unwrap_or_default();
                s.write(log, step, index, &frame)
                    .map_err(|e| f("to send", e))?;
            }
            if s.peer.is_established() || s.peer.is_closed() {
                return Err(f(
                    &format!("the reference peer to reach {code}"),
                    format!("it ended in state {}", s.peer.state_name()),
                ));
            }
            let (_, peer) = s.read(log, index, timeout).map_err(|r| {
                f(
                    &format!("the exchange to reach {code}"),
                    read_problem(r, timeout),
                )
            })?;
            if let Err(e) = peer {
                return Err(f(
                    &format!("the exchange to reach {code}"),
                    format!(
                        "the reference rejected the IUT's frame: {e} ({})",
                        e.requirement()
                    ),
                ));
            }
        },
        Action::SendApp(data) => {
            s.peer
                .send(data)
                .map_err(|e| f("the reference peer to send application data", e.to_string()))?;
            s.flush_peer(log, step, index)
                .map_err(|e| f("to send", e))?;
        }
        Action::ExpectApp(data) => {
            let want = format!("application data {}", hex::encode(data));
            let mut got = s.peer.take_application_data();
            while got.len() < data.len() {
                let (_, peer) = s
                    .read(log, index, timeout)
                    .map_err(|r| f(&want, read_problem(r, timeout)))?;
                if let Err(e) = peer {
                    return Err(f(
                        &want,
                        format!("the reference rejected the IUT's frame: {e}"),
                    ));
                }
                got.extend(s.peer.take_application_data());
            }
            if got != *data {
                return Err(f(&want, format!("application data {}", hex::encode(&got))));
            }
        }
        Action::Close => {
            s.peer.close();
            s.flush_peer(log, step, index)
                .map_err(|e| f("to send", e))?;
        }
        Action::Shutdown => {
            let _ = s.stream.shutdown(Shutdown::Write);
            log.wire_end(Direction::FromListener, false);
            log.note(index, "harness → iut  end of stream");
        }
        Action::Wait(ms) => {
            log.note(index, format!("harness waits {ms} ms"));
            std::thread::sleep(Duration::from_millis(*ms));
        }
        Action::NextConnection => return Ok(StepOutcome::NextConnection),
    }
    Ok(StepOutcome::Done)
}

/// The level of an alert frame the reference peer just received: from the peer's view (it opens a
/// protected alert), else from a plaintext body.
fn alert_level(
    peer: &mut Connection,
    frame: &[u8],
    verdict: &Result<(), btls::Error>,
) -> Option<AlertLevel> {
    if let Err(btls::Error::AlertReceived(alert)) = verdict {
        return Some(alert.level);
    }
    let mut seen = None;
    while let Some(event) = peer.poll_event() {
        if let btls::Event::AlertReceived(alert) = event {
            seen = Some(alert.level);
        }
    }
    seen.or_else(|| match frame.get(FRAME_HEADER_LEN..) {
        Some(&[level]) if verdict.is_ok() => Some(AlertLevel(level)),
        _ => None,
    })
}

/// The IUT's events as the transcript shows them: consecutive `application_data` events merged
/// (their split depends on the transport) and long data abbreviated.
fn transcript_events(events: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    let mut pending: Option<(serde_json::Value, String)> = None;
    let flush = |pending: &mut Option<(serde_json::Value, String)>,
                 out: &mut Vec<serde_json::Value>| {
        if let Some((mut event, hex)) = pending.take() {
            let shown = match hex.get(..32) {
                Some(head) if hex.len() > 64 => format!("{head}…({} bytes)", hex.len() / 2),
                _ => hex,
            };
            if let Some(map) = event.as_object_mut() {
                map.insert("hex".into(), serde_json::Value::String(shown));
            }
            out.push(event);
        }
    };
    for e in events {
        let data =
            (e.get("event").and_then(|v| v.as_str()) == Some("application_data")).then(|| {
                e.get("hex")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            });
        match (data, pending.as_mut()) {
            (Some(hex), Some((_, acc))) => acc.push_str(&hex),
            (Some(hex), None) => pending = Some((e.clone(), hex)),
            (None, _) => {
                flush(&mut pending, &mut out);
                out.push(e.clone());
            }
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Checks the IUT's exit status and events against `[outcome]`.
fn check_outcome(scenario: &Scenario, finished: &Finished) -> Result<(), Failure> {
    if finished.killed {
        return Err(fail(
            0,
            0,
            "the IUT to exit",
            format!(
                "it was still running {} s after the last step and was killed",
                EXIT_TIMEOUT.as_secs()
            ),
        ));
    }
    let check = scenario.outcome.check(scenario.expects_failure());
    check_party(finished.code, &typed(&finished.events), &check, "")
        .map_err(|m| fail(0, 0, m.expected, m.actual))
}
