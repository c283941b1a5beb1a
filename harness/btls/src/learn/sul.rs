//! The IUT as a system under learning. Each query starts a fresh adapter process, accepts its
//! connection on a loopback port of its own, and applies the inputs one by one; after each it
//! reads what the IUT sends until the IUT has been quiet for the quiet period, or closes.
//!
//! The harness's side is the reference implementation in several *candidate* configurations at
//! once (its own key known to the IUT or not, the IUT's key known to it or not, sending its key
//! on request or not). All candidates start from the same seed, receive every frame the IUT
//! sends, and an input is sent as the next frame of the candidates that have that message next;
//! the others are dropped. So each input is made concrete as the reference would send it on some
//! path that agrees with everything sent so far, decided by the input itself, never by a later
//! one: the answer to a word is the prefix of the answer to any longer word, as the cache
//! requires. An input no candidate has next is sent as a valid sample (`inject`), and the
//! candidates are dropped (the IUT's transcript no longer matches theirs).

use super::alphabet::{self, frame_token, Input, CLOSE, CLOSED};
use super::{iut_config, Options};
use crate::adapter::adapter_args;
use crate::peer::PeerConfig;
use crate::profile::BtlsFraming;
use crate::scenario::PartyConfig;
use crate::wire::handshake_code;
use btls::msgs::{
    AlertDescription, AlertLevel, ContentType, FrameHeader, HandshakeCode as H, HandshakeMessage,
    FRAME_HEADER_LEN,
};
use btls::Connection;
use harness_capture::split_frames;
use harness_core::clock::now_ms;
use harness_core::engine::accept;
use harness_core::learn::Sul;
use harness_core::process::Iut;
use harness_core::stream::{FrameReader, Read1};
use harness_core::Role;
use std::collections::VecDeque;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// Application data the harness sends.
pub const PING: &[u8] = b"ping";
/// The placeholder for the listening address in the prepared adapter flags.
const CONNECT: &str = "{connect}";
/// How long the IUT has to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client IUT has to send its first frame after connecting.
const FIRST_FRAME: Duration = Duration::from_secs(5);
/// How long the adapter has to exit once the harness has closed the connection.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// One configuration of the harness's side: the `[peer]` table of a scenario. Each query
/// builds its candidates afresh from these, so that nothing (a session, a key trusted on first
/// use) carries over from one query to the next.
pub type CandidateConfig = PartyConfig;

/// The candidate configurations of the harness's side against an IUT in `role`: for each
/// algorithm a key the IUT knows or a `-second` key it does not, the IUT's keys known to the
/// harness or not (then trusted on first use), and, as the server, its key sent on request or
/// not (for the whole connection, as BT-HS-9 configures a server).
pub fn candidates(role: Role) -> Vec<CandidateConfig> {
    let own = role.peer().as_str();
    let mut key_sets: Vec<Vec<String>> = Vec::new();
    for ed in ["", "-second"] {
        match role {
            // The harness is the client: one key, so every hello names it.
            Role::Server => key_sets.push(vec![format!("{own}-ed25519{ed}")]),
            // The harness is the server: a key of each algorithm (a retried hello names P-256).
            Role::Client => {
                for p in ["", "-second"] {
                    key_sets.push(vec![format!("{own}-ed25519{ed}"), format!("{own}-p256{p}")]);
                }
            }
        }
    }
    let send_key_choices: &[Option<bool>] = match role {
        Role::Server => &[None],
        Role::Client => &[None, Some(false)],
    };
    // Which of the IUT's keys the harness knows: all (the default) or none; as the server also
    // one algorithm's only, since the IUT's retried hello names its other algorithm. A key it
    // does not know it trusts on first use once sent.
    let peer = role.as_str();
    let known_choices: Vec<Option<Vec<String>>> = match role {
        Role::Server => vec![None, Some(Vec::new())],
        Role::Client => vec![
            None,
            Some(Vec::new()),
            Some(vec![format!("{peer}-ed25519")]),
            Some(vec![format!("{peer}-p256")]),
        ],
    };
    let mut out = Vec::new();
    for keys in key_sets {
        for known in &known_choices {
            for &send_key in send_key_choices {
                out.push(PartyConfig {
                    keys: Some(keys.clone()),
                    known: known.clone(),
                    accept_unsigned: known.is_some(),
                    send_key,
                    ..PartyConfig::default()
                });
            }
        }
    }
    out
}

/// Whether a hello frame names a `-second` fixture key (one the IUT does not know).
fn names_new_key(frame: &[u8]) -> bool {
    let (Some(&code), Some(body)) = (frame.get(1), frame.get(FRAME_HEADER_LEN..)) else {
        return false;
    };
    let hello = match HandshakeMessage::decode(H(code), body) {
        Ok(Some(HandshakeMessage::ClientHello(h))) => h.hello,
        Ok(Some(HandshakeMessage::ServerHello(h))) => h.hello,
        _ => return false,
    };
    hello.key_handle.ends_with(b"-2")
}

/// A candidate during a query.
struct Candidate {
    index: usize,
    conn: Connection,
    pending: VecDeque<Vec<u8>>,
}

impl Candidate {
    fn pump(&mut self) {
        let out = self.conn.take_output();
        for f in split_frames(&BtlsFraming, &out) {
            self.pending.push_back(f.to_vec());
        }
    }

    /// Established with nothing left to send: it can send protected frames now.
    fn ready(&mut self) -> bool {
        self.pump();
        self.conn.is_established() && self.pending.is_empty()
    }
}

/// The frame of `msg` with one bit flipped in its signature or verify_data.
fn corrupt(frame: &[u8], input: Input) -> Vec<u8> {
    let (Some(&code), Some(body)) = (frame.get(1), frame.get(FRAME_HEADER_LEN..)) else {
        return frame.to_vec();
    };
    let Ok(Some(mut msg)) = HandshakeMessage::decode(H(code), body) else {
        return frame.to_vec();
    };
    let bad_signature = matches!(input, Input::BadSignature(_));
    match &mut msg {
        HandshakeMessage::ClientReady(r) if bad_signature => {
            if let Some(b) = r.signature.first_mut() {
                *b ^= 1;
            }
        }
        HandshakeMessage::ClientReady(r) => r.verify_data[0] ^= 1,
        HandshakeMessage::ServerReady(r) => r.verify_data[0] ^= 1,
        HandshakeMessage::SessionDetails(d) => {
            if let Some(b) = d.signature.first_mut() {
                *b ^= 1;
            }
        }
        _ => {}
    }
    msg.to_frame()
}

/// The IUT as a system under learning.
pub struct BtlsSul {
    iut: Iut,
    role: Role,
    inputs: Vec<Input>,
    names: Vec<String>,
    args: Vec<String>,
    configs: Vec<CandidateConfig>,
    dir: PathBuf,
    quiet: Duration,
    seed: u64,
}

impl BtlsSul {
    /// Prepares the key files and flags for learning `iut` as `options` says.
    pub fn new(iut: &Iut, options: &Options) -> Result<Self, String> {
        let dir = options
            .work_dir
            .join(format!("learn-{}", options.role.as_str()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let args = adapter_args(options.role, &iut_config(), CONNECT, options.seed, &dir)?;
        Ok(Self {
            iut: iut.clone(),
            role: options.role,
            inputs: alphabet::inputs(options.role),
            names: alphabet::names(options.role),
            args,
            configs: candidates(options.role),
            dir,
            quiet: options.quiet,
            seed: options.seed,
        })
    }

    /// What the IUT sends as soon as it connects, before any input.
    pub fn initial_output(&self) -> Result<String, String> {
        self.session(&[]).map(|(initial, _, _)| initial)
    }

    /// The candidate configurations.
    pub fn configs(&self) -> &[CandidateConfig] {
        &self.configs
    }

    /// One session: the initial output, the output of each input, and how each input was sent.
    pub fn session(&self, word: &[usize]) -> Result<(String, Vec<String>, Vec<Sent>), String> {
        self.session_knowing(word, &[])
    }

    /// [`Self::session`], knowing the outputs of the first inputs: for those, the frames they
    /// name are read and the quiet period is not waited for.
    fn session_knowing(
        &self,
        word: &[usize],
        known: &[String],
    ) -> Result<(String, Vec<String>, Vec<Sent>), String> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?
            .to_string();
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| {
                if a == CONNECT {
                    addr.clone()
                } else {
                    a.clone()
                }
            })
            .collect();
        let running = self.iut.start(&args).map_err(|e| e.to_string())?;
        let mut stream = match accept(&listener, CONNECT_TIMEOUT) {
            Ok(s) => s,
            Err(e) => {
                let finished = running.finish(Duration::from_secs(1));
                return Err(format!(
                    "{e}; the adapter exited with {:?}: {}",
                    finished.code,
                    finished.stderr.lines().next().unwrap_or("")
                ));
            }
        };
        let _ = stream.set_nodelay(true);
        let mut query = Query {
            reader: FrameReader::default(),
            candidates: Vec::new(),
            closed: false,
            quiet: self.quiet,
            sent: Vec::new(),
        };
        for (index, c) in self.configs.iter().enumerate() {
            let conn = PeerConfig::of_party(self.role.peer(), c, &self.dir)?.connect(self.seed)?;
            query.candidates.push(Candidate {
                index,
                conn,
                pending: VecDeque::new(),
            });
        }
        let initial = match self.role {
            Role::Client => query.answer(&mut stream, FIRST_FRAME, None),
            Role::Server => alphabet::NOTHING.into(),
        };
        let mut outputs = Vec::with_capacity(word.len());
        for (n, &i) in word.iter().enumerate() {
            let input = *self.inputs.get(i).ok_or_else(|| format!("no input {i}"))?;
            // The first answer of a session may come from a process that is still starting.
            let first = if n == 0 { self.quiet * 8 } else { self.quiet };
            outputs.push(query.apply(&mut stream, input, known.get(n), first));
        }
        let _ = stream.shutdown(Shutdown::Both);
        drop(stream);
        let finished = running.finish(EXIT_TIMEOUT);
        if finished.killed {
            return Err(format!(
                "the adapter did not exit within {} s of the connection's end",
                EXIT_TIMEOUT.as_secs()
            ));
        }
        if finished.code == Some(2) {
            return Err(format!(
                "the adapter could not start: {}",
                finished.stderr.lines().next().unwrap_or("")
            ));
        }
        Ok((initial, outputs, query.sent))
    }
}

impl Sul for BtlsSul {
    fn inputs(&self) -> Vec<String> {
        self.names.clone()
    }

    fn query(&self, word: &[usize], known: &[String]) -> Result<Vec<String>, String> {
        self.session_knowing(word, known)
            .map(|(_, outputs, _)| outputs)
    }
}

/// One input as it was sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The input.
    pub input: Input,
    /// Whether a candidate sent it (else it was a sample or a plaintext frame).
    pub by_candidate: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The candidates left after it (indices into [`candidates`]).
    pub candidates: Vec<usize>,
    /// For a corrupted message a candidate sent: the bit flipped (`alter.flip_bit`).
    pub flip_bit: Option<usize>,
}

/// The state of one query's connection.
struct Query {
    reader: FrameReader,
    candidates: Vec<Candidate>,
    closed: bool,
    quiet: Duration,
    sent: Vec<Sent>,
}

impl Query {
    /// Sends `input` and names what the IUT answers.
    /// Sends `input` and names what the IUT answers (its first frame awaited for `first`, then
    /// the quiet period); with the answer already `known`, reads the frames it names and does
    /// not wait for the quiet period.
    fn apply(
        &mut self,
        stream: &mut TcpStream,
        input: Input,
        known: Option<&String>,
        first: Duration,
    ) -> String {
        if self.closed {
            return CLOSED.into();
        }
        let (bytes, by_candidate, flip_bit) = self.concretize(input);
        self.sent.push(Sent {
            input,
            by_candidate,
            bytes: bytes.clone(),
            candidates: self.candidates.iter().map(|c| c.index).collect(),
            flip_bit,
        });
        // A failed write means the IUT has gone: what it sent before going is still read.
        let _ = stream.write_all(&bytes);
        let expected = known.map(|k| {
            if k == alphabet::NOTHING {
                0
            } else {
                k.split(" + ").filter(|t| *t != CLOSE).count()
            }
        });
        self.answer(stream, first, expected)
    }

    /// The bytes of `input` in the current state, narrowing the candidates.
    fn concretize(&mut self, input: Input) -> (Vec<u8>, bool, Option<usize>) {
        match input {
            Input::Msg(code)
            | Input::HelloNewKey(code)
            | Input::BadSignature(code)
            | Input::BadMac(code) => {
                let hello = matches!(code, H::CLIENT_HELLO | H::SERVER_HELLO);
                let new_key = matches!(input, Input::HelloNewKey(_));
                for c in &mut self.candidates {
                    c.pump();
                }
                let chosen = self.candidates.iter().find_map(|c| {
                    let front = c.pending.front()?;
                    let fits = handshake_code(front) == Some(code)
                        && (!hello || names_new_key(front) == new_key);
                    fits.then(|| front.clone())
                });
                let by_candidate = chosen.is_some();
                let frame = match chosen {
                    Some(frame) => {
                        self.candidates
                            .retain(|c| c.pending.front() == Some(&frame));
                        for c in &mut self.candidates {
                            c.pending.pop_front();
                        }
                        frame
                    }
                    None => {
                        self.candidates.clear();
                        crate::samples::frame(code).unwrap_or_default()
                    }
                };
                let bytes = match input {
                    Input::BadSignature(_) | Input::BadMac(_) => corrupt(&frame, input),
                    _ => frame.clone(),
                };
                let flip_bit = frame
                    .iter()
                    .zip(&bytes)
                    .position(|(a, b)| a != b)
                    .map(|i| i * 8 + (frame[i] ^ bytes[i]).leading_zeros() as usize);
                (bytes, by_candidate, flip_bit.filter(|_| by_candidate))
            }
            Input::Application => self.protected_input(
                |c| c.send(PING).is_ok(),
                FrameHeader::frame(ContentType::APPLICATION, 0, PING),
            ),
            Input::CloseNotify => self.protected_input(
                |c| {
                    c.close();
                    true
                },
                FrameHeader::frame(
                    ContentType::ALERT,
                    AlertDescription::CLOSE_NOTIFY.0,
                    &[AlertLevel::WARNING.0],
                ),
            ),
            Input::FatalAlert => self.protected_input(
                |c| {
                    c.send_alert_with_level(AlertDescription::FAILED_HANDSHAKE, AlertLevel::FATAL);
                    true
                },
                FrameHeader::frame(
                    ContentType::ALERT,
                    AlertDescription::FAILED_HANDSHAKE.0,
                    &[AlertLevel::FATAL.0],
                ),
            ),
            Input::UnknownCode => (
                FrameHeader::frame(ContentType::HANDSHAKE, 0x7f, &[]),
                false,
                None,
            ),
            Input::UnknownContentType => {
                (FrameHeader::frame(ContentType(0x09), 0, &[0]), false, None)
            }
        }
    }

    /// [`Self::protected`] with no bit flipped.
    fn protected_input(
        &mut self,
        send: impl Fn(&mut Connection) -> bool,
        plain: Vec<u8>,
    ) -> (Vec<u8>, bool, Option<usize>) {
        let (bytes, by_candidate) = self.protected(send, plain);
        (bytes, by_candidate, None)
    }

    /// A frame the established candidates send through their record layer, or `plain` when
    /// none is established (the candidates stay: a plaintext frame is not in the transcript).
    fn protected(
        &mut self,
        send: impl Fn(&mut Connection) -> bool,
        plain: Vec<u8>,
    ) -> (Vec<u8>, bool) {
        let ready: Vec<bool> = self.candidates.iter_mut().map(Candidate::ready).collect();
        if !ready.contains(&true) {
            return (plain, false);
        }
        let mut chosen: Option<Vec<u8>> = None;
        let mut keep = Vec::new();
        for (mut c, ready) in std::mem::take(&mut self.candidates).into_iter().zip(ready) {
            if !ready || !send(&mut c.conn) {
                continue;
            }
            let out = c.conn.take_output();
            match &chosen {
                None => chosen = Some(out),
                Some(first) if *first != out => continue,
                Some(_) => {}
            }
            keep.push(c);
        }
        self.candidates = keep;
        match chosen {
            Some(bytes) => (bytes, true),
            None => (plain, false),
        }
    }

    /// What the IUT sends until it is quiet for the quiet period (the first frame may take
    /// `first`), fed to every candidate; with `frames` known, that many frames (each within
    /// [`FIRST_FRAME`]) and no wait after them.
    fn answer(&mut self, stream: &mut TcpStream, first: Duration, frames: Option<usize>) -> String {
        let mut tokens = Vec::new();
        let mut wait = first;
        loop {
            if let Some(n) = frames {
                if tokens.len() == n {
                    break;
                }
                wait = FIRST_FRAME;
            }
            match self.reader.next(&BtlsFraming, stream, wait) {
                Read1::Frame(frame) => {
                    tokens.push(frame_token(&frame));
                    let now = now_ms();
                    for c in &mut self.candidates {
                        c.pump();
                        let _ = c.conn.receive(&frame, now);
                    }
                }
                Read1::Closed | Read1::ClosedMidFrame(_) | Read1::Failed(_) => {
                    tokens.push(CLOSE.into());
                    self.closed = true;
                    break;
                }
                Read1::TimedOut => break,
            }
            wait = self.quiet;
        }
        alphabet::output(&tokens)
    }
}
