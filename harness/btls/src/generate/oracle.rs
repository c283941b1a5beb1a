//! The executable oracle of the generated cases: the reference implementation, in process, in the
//! IUT's role and configuration, driven by a reference peer with the same configuration as the
//! harness's, fed the same change of the same frame in the same state; the exchange then goes on
//! (the peer answering what the IUT side sends, an end of stream when both wait) until the IUT
//! side alerts, closes or completes. What it answers is the specification's error table applied
//! to that input.

use crate::alter;
use crate::alter::Alter;
use crate::peer::PeerConfig;
use crate::scenario::{Role, Scenario};
use crate::wire::{alert_description, describe, handshake_code};
use btls::conn::Side;
use btls::msgs::{AlertDescription, HandshakeCode};
use btls::testing::{other, split_frames, Pair};
use btls::Connection;
use harness_core::clock::now_ms;
use std::collections::VecDeque;
use std::path::Path;

/// One turn of the exchange after the changed input, in the order a scenario replays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The IUT sends this handshake message (the peer accepts it).
    Iut(HandshakeCode),
    /// The peer sends its next handshake message.
    Peer(HandshakeCode),
    /// The peer ends the stream (no close_notify).
    EndOfStream,
}

/// What the reference does with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// After these turns it sends this alert and closes.
    Alert {
        /// The exchange between the input and the alert.
        before: Vec<Turn>,
        /// The alert.
        alert: AlertDescription,
        /// The requirement behind it.
        requirement: &'static str,
    },
    /// After these turns it closes without an alert (end of stream during or after the
    /// handshake, or an alert received).
    Close {
        /// The exchange between the input and the close.
        before: Vec<Turn>,
        /// The requirement behind it.
        requirement: &'static str,
    },
    /// It completes the handshake (the input is valid, only delivered differently).
    Completes,
    /// It accepts the input: it completes the handshake (or, after a completed handshake, takes
    /// the end of stream without complaint). Not a negative case.
    Accepted,
    /// It accepts the input, and the peer is the one to reject what follows: not a negative
    /// case of the IUT (a replayed CLIENT_HELLO cannot be told from a fresh one by the server).
    PeerDetects,
}

impl std::fmt::Display for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Iut(code) => write!(f, "iut {code}"),
            Self::Peer(code) => write!(f, "peer {code}"),
            Self::EndOfStream => f.write_str("end of stream"),
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let turns =
            |before: &[Turn]| -> String { before.iter().map(|t| format!("{t}, ")).collect() };
        match self {
            Self::Alert {
                before,
                alert,
                requirement,
            } => write!(f, "{}alert {alert} ({requirement})", turns(before)),
            Self::Close {
                before,
                requirement,
            } => write!(f, "{}close ({requirement})", turns(before)),
            Self::Completes => f.write_str("completes (BT-TIME-2)"),
            Self::Accepted => f.write_str("accepted"),
            Self::PeerDetects => f.write_str("for the peer to detect"),
        }
    }
}

/// A frame the IUT receives on a valid path.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its position among the frames the IUT receives (0-based).
    pub index: usize,
    /// Its handshake code (only handshake frames are listed).
    pub code: HandshakeCode,
    /// The frame as the in-process peer sent it.
    pub bytes: Vec<u8>,
}

/// An in-process exchange between a reference in the IUT's role and the reference peer: the
/// reference's own in-memory pair, seen from the IUT's side.
struct Sim {
    pair: Pair,
    /// The IUT's side of the pair.
    side: Side,
    delivered_to_iut: usize,
}

impl Sim {
    /// Both sides of `scenario` (its `[iut]` and `[peer]` configurations), seeded as a live run
    /// with `seed` seeds them (the IUT's connection n `seed + n`, the peer's `seed + 1000 + n`),
    /// at the IUT's last connection.
    fn new(scenario: &Scenario, seed: u64, dir: &Path) -> Result<Self, String> {
        let peer_config = PeerConfig::new(scenario, dir)?;
        let mirrored = Scenario {
            iut_role: scenario.iut_role.peer(),
            peer: scenario.iut.clone(),
            ..scenario.clone()
        };
        // The adapter gets `--expect-server` only when the scenario sets it, and then accepts
        // any server explicitly (contract revision 1.2, BT-KEY-16).
        let iut_config = match PeerConfig::new(&mirrored, dir)? {
            PeerConfig::Client(c) if scenario.iut.expect_server.is_none() => {
                let mut c = (*c).clone();
                c.expected_server = None;
                c.accept_any_server = true;
                PeerConfig::Client(std::sync::Arc::new(c))
            }
            other => other,
        };
        let side = match scenario.iut_role {
            Role::Client => Side::Client,
            Role::Server => Side::Server,
        };
        let connect = |n: u64| -> Result<Pair, String> {
            let iut = iut_config.connect(seed.wrapping_add(n))?;
            let peer = peer_config.connect(seed.wrapping_add(1000 + n))?;
            let (client, server) = match side {
                Side::Client => (iut, peer),
                Side::Server => (peer, iut),
            };
            Ok(Pair::from_connections(client, server, now_ms()))
        };
        let mut sim = Self {
            pair: connect(0)?,
            side,
            delivered_to_iut: 0,
        };
        // Earlier connections of the IUT (a resumption path): each a full handshake closed by
        // the peer, seeded as the adapter and the engine seed them.
        for n in 1..scenario.iut.connections.unwrap_or(1) {
            sim.run_out();
            if !sim.iut().is_established() {
                return Err(format!(
                    "connection {n} does not complete in process (state {})",
                    sim.iut().state_name()
                ));
            }
            sim.peer().close();
            sim.run_out();
            sim.pair = connect(u64::from(n))?;
            sim.delivered_to_iut = 0;
        }
        Ok(sim)
    }

    /// The reference in the IUT's role.
    fn iut(&mut self) -> &mut Connection {
        self.pair.conn(self.side)
    }

    /// The reference peer.
    fn peer(&mut self) -> &mut Connection {
        self.pair.conn(other(self.side))
    }

    /// Frames the peer sent and the IUT side has not received.
    fn queue_to_iut(&mut self) -> &mut VecDeque<Vec<u8>> {
        self.pair.queue(self.side)
    }

    /// Frames the IUT side sent and the peer has not received.
    fn queue_to_peer(&mut self) -> &mut VecDeque<Vec<u8>> {
        self.pair.queue(other(self.side))
    }

    /// The IUT side receives `bytes` now.
    fn iut_receives(&mut self, bytes: &[u8]) -> Result<(), btls::Error> {
        let now = self.pair.now_ms;
        self.iut().receive(bytes, now)
    }

    /// The peer receives `bytes` now.
    fn peer_receives(&mut self, bytes: &[u8]) -> Result<(), btls::Error> {
        let now = self.pair.now_ms;
        self.peer().receive(bytes, now)
    }

    /// Runs the exchange until the IUT side's next frame is its `index`-th; `None` when the
    /// exchange stops first. Returns that frame, not delivered.
    fn until(&mut self, index: Option<usize>) -> Option<Vec<u8>> {
        loop {
            self.pair.pump();
            if index == Some(self.delivered_to_iut) {
                if let Some(frame) = self.queue_to_iut().pop_front() {
                    return Some(frame);
                }
            }
            if let Some(result) = self.pair.deliver_one(self.side) {
                self.delivered_to_iut += 1;
                if result.is_err() {
                    return None;
                }
            } else if let Some(result) = self.pair.deliver_one(other(self.side)) {
                if result.is_err() {
                    return None;
                }
            } else {
                return None;
            }
        }
    }

    /// Runs the exchange until it stops: an error, or both sides waiting.
    fn run_out(&mut self) {
        // With no index to stop at, `until` returns only when the exchange stops.
        let _ = self.until(None);
    }
}

/// The handshake frames the IUT receives on the valid path of `scenario`; an error when that
/// path does not complete in process.
pub fn received_frames(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
) -> Result<Vec<Received>, String> {
    let mut sim = Sim::new(scenario, seed, dir)?;
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(frame) = sim.until(Some(index)) {
        if let Some(code) = handshake_code(&frame) {
            out.push(Received {
                index,
                code,
                bytes: frame.clone(),
            });
        }
        sim.delivered_to_iut += 1;
        sim.iut_receives(&frame)
            .map_err(|e| format!("the valid path fails in process: {e}"))?;
        index += 1;
    }
    if !sim.iut().is_established() {
        return Err(format!(
            "the valid path does not complete in process (state {})",
            sim.iut().state_name()
        ));
    }
    Ok(out)
}

/// How the input at one position of the valid path is changed.
#[derive(Debug, Clone)]
pub enum Change {
    /// The frame altered (lengths, bit flips, replays, selections).
    Alter(Box<Alter>),
    /// The first this many bytes of the frame, then end of stream.
    Cut(usize),
    /// A valid sample of this (later) message instead of the frame.
    Instead(HandshakeCode),
    /// These bytes instead of the frame.
    Bytes(Vec<u8>),
    /// The frame, then the same frame again.
    Duplicate,
    /// The first this many bytes of the frame, then silence until the handshake timeout.
    Stall(usize),
    /// The frame one byte at a time, then the rest of the handshake.
    Trickle,
}

/// At most this many turns after the changed input before the oracle gives up on an answer.
const MAX_TURNS: usize = 64;

/// What the reference in the IUT's role does when its `index`-th received frame is changed as
/// `change` says and the exchange goes on (the peer answering what the IUT sends, an end of stream
/// when both wait), with whether it had completed the handshake before the changed input counted;
/// `index = None`: an end of stream after the completed handshake.
pub fn expect(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
    index: Option<usize>,
    change: &Change,
) -> Result<(Expected, bool), String> {
    let mut sim = Sim::new(scenario, seed, dir)?;
    let Some(index) = index else {
        sim.run_out();
        if !sim.iut().is_established() {
            return Err("the valid path does not complete in process".into());
        }
        let result = sim.iut().receive_eof();
        return Ok((sim.settle(result, vec![Turn::EndOfStream], true)?, false));
    };
    let frame = sim
        .until(Some(index))
        .ok_or_else(|| format!("the path has no received frame {index}"))?;
    Ok(match change {
        Change::Alter(alter) => {
            let bytes = alter::apply(frame, alter)?;
            let result = sim.iut_receives(&bytes);
            (sim.settle(result, Vec::new(), false)?, false)
        }
        Change::Cut(cut) => {
            let part = frame.get(..*cut).unwrap_or_default();
            let result = sim
                .iut_receives(part)
                .and_then(|()| sim.iut().receive_eof());
            (sim.settle(result, vec![Turn::EndOfStream], false)?, false)
        }
        Change::Instead(code) => {
            let bytes =
                crate::samples::frame(*code).ok_or_else(|| format!("no sample of {code}"))?;
            // The peer has not sent its frame: it stays first in line, as in the engine.
            sim.queue_to_iut().push_front(frame);
            let result = sim.iut_receives(&bytes);
            (sim.settle(result, Vec::new(), false)?, false)
        }
        Change::Bytes(bytes) => {
            sim.queue_to_iut().push_front(frame);
            let result = sim.iut_receives(bytes);
            (sim.settle(result, Vec::new(), false)?, false)
        }
        Change::Duplicate => {
            sim.iut_receives(&frame)
                .map_err(|e| format!("the valid frame fails in process: {e}"))?;
            let mut before = Vec::new();
            for reply in split_frames(&sim.iut().take_output()) {
                if let Some(code) = handshake_code(&reply) {
                    before.push(Turn::Iut(code));
                }
                if sim.peer_receives(&reply).is_err() {
                    return Ok((Expected::PeerDetects, false));
                }
            }
            let complete = sim.iut().is_established();
            let result = sim.iut_receives(&frame);
            (sim.settle(result, before, complete)?, complete)
        }
        Change::Stall(cut) => {
            let part = frame.get(..*cut).unwrap_or_default();
            let result = sim.iut_receives(part);
            let result = match (result, sim.iut().timeout()) {
                (Ok(()), Some(deadline)) => sim.iut().handle_timeout(deadline),
                (Ok(()), None) => {
                    return Err(format!(
                        "no handshake timer runs in process while frame {index} stalls"
                    ))
                }
                (r, _) => r,
            };
            (sim.settle(result, Vec::new(), false)?, false)
        }
        Change::Trickle => {
            for byte in &frame {
                sim.iut_receives(std::slice::from_ref(byte))
                    .map_err(|e| format!("the frame one byte at a time fails in process: {e}"))?;
            }
            sim.delivered_to_iut += 1;
            sim.run_out();
            if !sim.iut().is_established() {
                return Err(format!(
                    "the handshake does not complete in process after the trickled frame (state {})",
                    sim.iut().state_name()
                ));
            }
            (Expected::Completes, false)
        }
    })
}

impl Sim {
    /// Goes on from an input the IUT side answered with `result`: hands what it sends to the
    /// peer and what the peer sends back to it, and ends the stream when both wait, until the
    /// IUT side alerts, closes or completes the handshake. `before`: the turns so far;
    /// `established`: whether it had completed the handshake before the input. An error when
    /// the exchange neither ends nor settles within MAX_TURNS, or the IUT side sends a frame
    /// that is neither a handshake message nor an alert.
    fn settle(
        &mut self,
        mut result: Result<(), btls::Error>,
        mut before: Vec<Turn>,
        established: bool,
    ) -> Result<Expected, String> {
        let mut ended = before.contains(&Turn::EndOfStream);
        for _ in 0..MAX_TURNS {
            // What the IUT side sent and the peer has not seen yet, then what it sends now.
            let sent = self.iut().take_output();
            self.queue_to_peer().extend(split_frames(&sent));
            while let Some(frame) = self.queue_to_peer().pop_front() {
                if let Some(alert) = alert_description(&frame) {
                    let requirement = result.err().map_or("BT-ALERT-3", |e| e.requirement());
                    return Ok(Expected::Alert {
                        before,
                        alert,
                        requirement,
                    });
                }
                let code = handshake_code(&frame)
                    .ok_or_else(|| format!("the IUT side sends {} in process", describe(&frame)))?;
                before.push(Turn::Iut(code));
                if self.peer_receives(&frame).is_err() {
                    return Ok(Expected::PeerDetects);
                }
            }
            if let Err(e) = result {
                return Ok(Expected::Close {
                    before,
                    requirement: e.requirement(),
                });
            }
            if ended || (self.iut().is_established() && !established) {
                return Ok(Expected::Accepted);
            }
            // What the peer has queued (the rest of its flight), then what it sends now.
            let sent = self.peer().take_output();
            self.queue_to_iut().extend(split_frames(&sent));
            if self.queue_to_iut().is_empty() {
                before.push(Turn::EndOfStream);
                ended = true;
                result = self.iut().receive_eof();
                continue;
            }
            while let Some(frame) = self.queue_to_iut().pop_front() {
                let Some(code) = handshake_code(&frame) else {
                    return Ok(Expected::PeerDetects);
                };
                before.push(Turn::Peer(code));
                result = self.iut_receives(&frame);
                if result.is_err() {
                    break;
                }
            }
        }
        Err(format!(
            "the exchange does not settle in process within {MAX_TURNS} turns: {}",
            before
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}
