//! Runs one case against one IUT, whatever the protocol: the harness listens on an ephemeral
//! loopback port, starts the adapter, accepts its connections, lets the profile's steps talk to
//! it through a [`Session`], records every byte in the capture and every frame in the
//! transcript, reaps the process and judges its exit. What a step does, how the reference peer
//! is built and what the outcome must be come from the profile's [`Case`].

mod session;

pub use session::accept;
use session::{read_logged, read_problem};
pub use session::{Log, Session};

use crate::case::CaseInfo;
use crate::process::{Finished, Iut, EXIT_UNSUPPORTED};
use crate::profile::{Profile, ReferencePeer};
use crate::stream::{FrameReader, Read1};
use crate::verdict::{CaseResult, Failure, Verdict};
use harness_capture::{Format, Recording};
use std::collections::VecDeque;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Default wait for the IUT in one step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the IUT may take to exit after the last step.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the IUT may take to close after the harness ended its side of a connection.
const END_TIMEOUT: Duration = Duration::from_secs(2);

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
    pub capture_format: Format,
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
            capture_format: Format::Pcapng,
        }
    }
}

/// One step of a scenario: the profile's action and what every step has.
#[derive(Debug, Clone)]
pub struct Step<A> {
    /// What to do (the profile's vocabulary).
    pub action: A,
    /// Write frames in pieces of these sizes (sending steps).
    pub fragment: Option<Vec<usize>>,
    /// Keep the frames this step would write back instead ([`Session::held`]), for a later
    /// release in another order, or together in one segment.
    pub hold: bool,
    /// Wait this long before writing (before each piece of a fragmented write): a slow peer
    /// whose pauses each stay under the IUT's timeout. The wait ends early, and the step writes
    /// nothing more, once the IUT has sent something (the next step reads it).
    pub pause_ms: Option<u64>,
    /// A reading step's frame must arrive no later than this many ms after the connection was
    /// opened (bounds measured from the connection, not from the last input: BT-TIME-1).
    pub within_ms: Option<u64>,
    /// A reading step's frame must not arrive earlier than this many ms after the connection
    /// was opened (a timeout that fires too soon: BT-TIME-2).
    pub not_before_ms: Option<u64>,
    /// How long to wait for the IUT in this step.
    pub timeout_ms: Option<u64>,
    /// 1-based line of the step in its file.
    pub line: usize,
    /// A note for the transcript.
    pub comment: Option<String>,
}

impl<A> Step<A> {
    /// A step that does `action`, with every other field at its default.
    pub fn new(action: A, line: usize) -> Self {
        Self {
            action,
            fragment: None,
            hold: false,
            pause_ms: None,
            within_ms: None,
            not_before_ms: None,
            timeout_ms: None,
            line,
            comment: None,
        }
    }

    /// How long the step waits for the IUT.
    pub fn timeout(&self) -> Duration {
        self.timeout_ms.map_or(STEP_TIMEOUT, Duration::from_millis)
    }

    /// How long the step waits for the IUT on a connection opened `age` ago: its timeout, cut
    /// short by `within_ms`.
    pub fn timeout_at(&self, age: Duration) -> Duration {
        match self.within_ms {
            Some(ms) => Duration::from_millis(ms)
                .saturating_sub(age)
                .max(Duration::from_millis(1)),
            None => self.timeout(),
        }
    }

    /// Whether a frame that arrived `age` after the connection was opened keeps to the step's
    /// `within_ms` and `not_before_ms`; the error says how it missed.
    pub fn check_arrival(&self, age: Duration) -> Result<(), String> {
        let ms = age.as_millis();
        if let Some(bound) = self.within_ms.filter(|b| ms > u128::from(*b)) {
            return Err(format!(
                "it arrived {ms} ms after the connection was opened, later than the {bound} ms \
                 the step allows (the timer runs from the connection's creation, BT-TIME-1)"
            ));
        }
        if let Some(bound) = self.not_before_ms.filter(|b| ms < u128::from(*b)) {
            return Err(format!(
                "it arrived {ms} ms after the connection was opened, earlier than the {bound} ms \
                 the step requires (slow delivery alone is not an error, BT-TIME-2)"
            ));
        }
        Ok(())
    }

    /// What the step waits for when it bounds its frame's arrival, for a failure message.
    pub fn arrival_text(&self) -> String {
        match (self.not_before_ms, self.within_ms) {
            (Some(a), Some(b)) => format!(" between {a} and {b} ms after the connection opened"),
            (None, Some(b)) => format!(" within {b} ms of the connection opening"),
            (Some(a), None) => format!(" no sooner than {a} ms after the connection opened"),
            (None, None) => String::new(),
        }
    }
}

/// What a step asks of the engine once it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Go on with the next step.
    Done,
    /// Go on; the case passes only under a lenient grade (the note says why).
    Lenient(String),
    /// End this connection and accept the IUT's next one.
    NextConnection,
    /// The IUT's answer settles the case, which passes without its remaining steps: one of
    /// the answers the RFC allows ended the exchange (the note says which).
    Settled(String),
}

/// A case as a profile runs it.
pub trait Case {
    /// The protocol.
    type Profile: Profile;
    /// The harness's side of one connection.
    type Peer: ReferencePeer;
    /// What the reference peer's connections share (its configuration, its session cache).
    type Setup;
    /// The profile's step vocabulary.
    type Action;

    /// The case's identity.
    fn info(&self) -> CaseInfo;

    /// The protocol.
    fn profile(&self) -> &Self::Profile;

    /// The steps, in order.
    fn steps(&self) -> &[Step<Self::Action>];

    /// The adapter's flags for an IUT that connects to `connect`, and the peer's shared state;
    /// key files and the like go into `dir`.
    fn setup(
        &self,
        connect: &str,
        seed: u64,
        dir: &Path,
    ) -> Result<(Vec<String>, Self::Setup), String>;

    /// The harness's side of a new connection, seeded with `seed`.
    fn connect(&self, setup: &Self::Setup, seed: u64) -> Result<Self::Peer, String>;

    /// Runs one step.
    fn run_step(
        &self,
        session: &mut Session<'_, Self::Profile, Self::Peer>,
        log: &mut Log<'_, Self::Profile>,
        step: &Step<Self::Action>,
        index: usize,
    ) -> Result<StepOutcome, Failure>;

    /// Whether the IUT listens and the harness connects to it (a real stack's server program,
    /// which reports its port on stdout: [`crate::process::listening_address`]); otherwise the
    /// harness listens and the IUT connects, whatever its role.
    fn iut_listens(&self) -> bool {
        false
    }

    /// How long the IUT may take to exit after the last step, if not the run's
    /// [`RunOptions::exit_timeout`]: a server program that serves until it is stopped is ended
    /// this soon.
    fn exit_timeout(&self) -> Option<Duration> {
        None
    }

    /// The first line of the case's key log.
    fn key_log_header(&self) -> &'static str;

    /// The IUT's events as the transcript shows them.
    fn transcript_events(&self, finished: &Finished) -> Vec<String>;

    /// Checks the IUT's exit status and events once the steps passed.
    fn check_outcome(&self, finished: &Finished) -> Result<(), Failure>;
}

/// A failure at `step` (0: the end-of-case checks), from the scenario's `line`.
pub fn fail(
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

/// Runs `case` against `iut`.
pub fn run_case<C: Case>(case: &C, iut: &Iut, options: &RunOptions) -> CaseResult {
    let started = Instant::now();
    let info = case.info();
    let mut log = Log {
        profile: case.profile(),
        capture: Recording {
            comment: format!(
                "{} conformance case {} (iut role {}, seed {})",
                case.profile().display_name(),
                info.id,
                info.iut_role.as_str(),
                options.seed
            ),
            connections: Vec::new(),
        },
        secrets: Vec::new(),
        received: Vec::new(),
        harness_connects: false,
        lines: vec![
            format!("# {} — {}", info.id, info.title),
            format!(
                "# iut role: {}, seed: {}",
                info.iut_role.as_str(),
                options.seed
            ),
        ],
    };
    let dir = options.work_dir.join(info.id.replace('/', "__"));
    let _ = std::fs::create_dir_all(&dir);
    let (mut verdict, finished) = drive(case, iut, options, &dir, &mut log);
    if let (Verdict::Fail(f), Some(finished)) = (&mut verdict, &finished) {
        // An adapter that never connected usually said why before it exited.
        if f.step == 0 && f.expected == "the IUT to connect" && !finished.killed {
            let why = finished.stderr.lines().find(|l| !l.trim().is_empty());
            f.actual = format!(
                "{} (it exited with status {}{})",
                f.actual,
                finished.code.map_or("none".into(), |c| c.to_string()),
                why.map(|w| format!(": {}", w.trim())).unwrap_or_default()
            );
        }
    }
    if let Some(finished) = &finished {
        for event in case.transcript_events(finished) {
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
        } else if verdict.passed() {
            if let Err(f) = case.check_outcome(finished) {
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
        key_log: (!log.secrets.is_empty())
            .then(|| format!("{}{}", case.key_log_header(), log.secrets.concat())),
        stderr: finished.map(|f| f.stderr).unwrap_or_default(),
        duration: started.elapsed(),
    }
}

fn drive<'p, C: Case>(
    case: &C,
    iut: &Iut,
    options: &RunOptions,
    dir: &Path,
    log: &mut Log<'p, C::Profile>,
) -> (Verdict, Option<Finished>) {
    let setup = |e: String| (Verdict::Fail(fail(0, 0, "the case to start", e)), None);
    if case.iut_listens() {
        log.harness_connects = true;
        let (args, shared) = match case.setup("", options.seed, dir) {
            Ok(s) => s,
            Err(e) => return setup(e),
        };
        let mut running = match iut.start(&args) {
            Ok(r) => r,
            Err(e) => return setup(e.to_string()),
        };
        let verdict = match running.listening(options.connect_timeout) {
            Ok(addr) => run_steps(case, options, &Endpoint::Iut(addr), &shared, log),
            Err(e) => Verdict::Fail(fail(0, 0, "the IUT to listen", e)),
        };
        let exit_timeout = case.exit_timeout().unwrap_or(options.exit_timeout);
        return (verdict, Some(running.finish(exit_timeout)));
    }
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => return setup(format!("cannot listen: {e}")),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a.to_string(),
        Err(e) => return setup(e.to_string()),
    };
    let (args, shared) = match case.setup(&addr, options.seed, dir) {
        Ok(s) => s,
        Err(e) => return setup(e),
    };
    let running = match iut.start(&args) {
        Ok(r) => r,
        Err(e) => return setup(e.to_string()),
    };
    let verdict = run_steps(case, options, &Endpoint::Harness(listener), &shared, log);
    (verdict, Some(running.finish(options.exit_timeout)))
}

/// Who listens.
enum Endpoint {
    /// The harness, on this socket; the IUT connects.
    Harness(TcpListener),
    /// The IUT, at this loopback address; the harness connects.
    Iut(SocketAddr),
}

/// Accepts the IUT's next connection (or makes one to a listening IUT) and opens the peer's side
/// of it.
fn accept_connection<'p, C: Case>(
    case: &'p C,
    endpoint: &Endpoint,
    shared: &C::Setup,
    seed: u64,
    options: &RunOptions,
    log: &mut Log<'_, C::Profile>,
) -> Result<Session<'p, C::Profile, C::Peer>, String> {
    let (stream, ends) = match endpoint {
        Endpoint::Harness(listener) => {
            let s = accept(listener, options.connect_timeout)?;
            let ends = (s.peer_addr(), s.local_addr());
            (s, ends)
        }
        Endpoint::Iut(addr) => {
            let s = TcpStream::connect_timeout(addr, options.connect_timeout)
                .map_err(|e| format!("cannot connect to the IUT at {addr}: {e}"))?;
            let ends = (s.local_addr(), s.peer_addr());
            (s, ends)
        }
    };
    let real = match ends {
        (Ok(SocketAddr::V4(c)), Ok(SocketAddr::V4(l))) if options.real_ports => Some((c, l)),
        _ => None,
    };
    log.capture.open(real);
    let _ = stream.set_nodelay(true);
    let peer = case.connect(shared, seed)?;
    Ok(Session {
        profile: case.profile(),
        stream,
        reader: FrameReader::default(),
        peer,
        pending: VecDeque::new(),
        last_sent: Vec::new(),
        held: Vec::new(),
        opened: Instant::now(),
        interrupted: false,
    })
}

fn run_steps<C: Case>(
    case: &C,
    options: &RunOptions,
    listener: &Endpoint,
    shared: &C::Setup,
    log: &mut Log<'_, C::Profile>,
) -> Verdict {
    let steps = case.steps();
    let mut connection = 0u64;
    let mut session = match accept_connection(
        case,
        listener,
        shared,
        options.seed.wrapping_add(1000),
        options,
        log,
    ) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(fail(0, 0, "the IUT to connect", e)),
    };
    let mut lenient = None;
    for (i, step) in steps.iter().enumerate() {
        let index = i + 1;
        if let Some(c) = &step.comment {
            log.note(index, format!("# {c}"));
        }
        session.interrupted = false;
        match case.run_step(&mut session, log, step, index) {
            Ok(StepOutcome::Done) => {}
            Ok(StepOutcome::Lenient(note)) => lenient = Some(note),
            Ok(StepOutcome::Settled(note)) => {
                log.note(index, format!("{note}: the remaining steps do not apply"));
                end_connection(&mut session, log, index);
                return match lenient {
                    Some(note) => Verdict::PassLenient(note),
                    None => Verdict::Pass,
                };
            }
            Ok(StepOutcome::NextConnection) => {
                end_connection(&mut session, log, index);
                connection += 1;
                session = match accept_connection(
                    case,
                    listener,
                    shared,
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
                end_connection(&mut session, log, index);
                return Verdict::Fail(f);
            }
        }
    }
    end_connection(&mut session, log, steps.len() + 1);
    match lenient {
        Some(note) => Verdict::PassLenient(note),
        None => Verdict::Pass,
    }
}

/// Ends the harness's side: end of stream, then whatever the IUT still sends, until it closes;
/// the session's secrets go to the key log.
fn end_connection<P: Profile, R: ReferencePeer>(
    session: &mut Session<'_, P, R>,
    log: &mut Log<'_, P>,
    index: usize,
) {
    let _ = session.stream.shutdown(Shutdown::Write);
    log.wire_end(log.harness_side(), false);
    loop {
        match read_logged(
            &mut session.reader,
            &mut session.stream,
            log,
            0,
            END_TIMEOUT,
        ) {
            Read1::Frame(frame) => log.frame(index, false, &frame),
            Read1::Closed => break,
            other => {
                let problem = read_problem(session.profile, other, END_TIMEOUT);
                log.note(index, format!("end: {problem}"));
                break;
            }
        }
    }
    log.secrets.extend(session.peer.key_log());
}
