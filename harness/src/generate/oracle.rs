//! The executable oracle of the generated cases: the reference implementation, in process, in the
//! IUT's role and configuration, driven by a reference peer with the same configuration as the
//! harness's, fed the same mutation of the same frame in the same state, then an end of stream.
//! What it answers (an alert, or a close without one) is the specification's error table applied
//! to that input.

use crate::alter;
use crate::engine::{now_ms, PeerConfig};
use crate::scenario::{Alter, Scenario};
use crate::wire::{alert_description, handshake_code};
use btls::msgs::{AlertDescription, HandshakeCode};
use btls::testing::split_frames;
use btls::Connection;
use std::collections::VecDeque;
use std::path::Path;

/// What the reference does with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// It sends these handshake frames, then this alert, and closes.
    Alert {
        /// The handshake messages it sends before the alert.
        before: Vec<HandshakeCode>,
        /// The alert.
        alert: AlertDescription,
        /// The requirement behind it.
        requirement: &'static str,
    },
    /// It closes without an alert (end of stream during or after the handshake).
    Close {
        /// The requirement behind it.
        requirement: &'static str,
    },
    /// It accepts the input and goes on: not a negative case.
    Accepted,
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

/// An in-process exchange between a reference in the IUT's role and the reference peer.
struct Sim {
    iut: Connection,
    peer: Connection,
    to_iut: VecDeque<Vec<u8>>,
    to_peer: VecDeque<Vec<u8>>,
    delivered_to_iut: usize,
}

impl Sim {
    /// Both sides of `scenario` (its `[iut]` and `[peer]` configurations), seeded as a live run
    /// with `seed` seeds them (the IUT `seed`, the peer `seed + 1000`).
    fn new(scenario: &Scenario, seed: u64, dir: &Path) -> Result<Self, String> {
        let peer = PeerConfig::new(scenario, dir)?.connect(seed.wrapping_add(1000))?;
        let mirrored = Scenario {
            iut_role: scenario.iut_role.peer(),
            peer: scenario.iut.clone(),
            ..scenario.clone()
        };
        // The adapter gets `--expect-server` only when the scenario sets it.
        let iut = match PeerConfig::new(&mirrored, dir)? {
            PeerConfig::Client(c) if scenario.iut.expect_server.is_none() => {
                let mut c = (*c).clone();
                c.expected_server = None;
                PeerConfig::Client(std::sync::Arc::new(c))
            }
            other => other,
        }
        .connect(seed)?;
        Ok(Self {
            iut,
            peer,
            to_iut: VecDeque::new(),
            to_peer: VecDeque::new(),
            delivered_to_iut: 0,
        })
    }

    fn pump(&mut self) {
        self.to_iut.extend(split_frames(&self.peer.take_output()));
        self.to_peer.extend(split_frames(&self.iut.take_output()));
    }

    /// Runs the exchange until the IUT side's next frame is its `index`-th; `None` when the
    /// exchange stops first. Returns that frame, not delivered.
    fn until(&mut self, index: Option<usize>) -> Option<Vec<u8>> {
        loop {
            self.pump();
            if index == Some(self.delivered_to_iut) {
                if let Some(frame) = self.to_iut.pop_front() {
                    return Some(frame);
                }
            }
            if let Some(frame) = self.to_iut.pop_front() {
                self.delivered_to_iut += 1;
                if self.iut.receive(&frame, now_ms()).is_err() {
                    return None;
                }
            } else if let Some(frame) = self.to_peer.pop_front() {
                if self.peer.receive(&frame, now_ms()).is_err() {
                    return None;
                }
            } else {
                return None;
            }
        }
    }
}

/// The handshake frames the IUT receives on the valid path of `scenario`, and whether that path
/// completes in process.
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
        sim.iut
            .receive(&frame, now_ms())
            .map_err(|e| format!("the valid path fails in process: {e}"))?;
        index += 1;
    }
    if !sim.iut.is_established() {
        return Err(format!(
            "the valid path does not complete in process (state {})",
            sim.iut.state_name()
        ));
    }
    Ok(out)
}

/// The alert in `output`, with the handshake messages before it.
fn alert_in(output: &[u8]) -> Option<(Vec<HandshakeCode>, AlertDescription)> {
    let frames = split_frames(output);
    let alert = frames.iter().find_map(|f| alert_description(f))?;
    let before = frames.iter().map_while(|f| handshake_code(f)).collect();
    Some((before, alert))
}

/// What the reference in the IUT's role does when its `index`-th received frame is altered by
/// `change` and followed by an end of stream; `index = None`: an end of stream after the
/// completed handshake.
pub fn expect(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
    index: Option<usize>,
    change: &Alter,
) -> Result<Expected, String> {
    let mut sim = Sim::new(scenario, seed, dir)?;
    let frame = sim.until(index);
    if let Some(frame) = frame {
        let bytes = alter::apply(frame, change)?;
        return Ok(judge(&mut sim, &bytes, Vec::new(), false));
    } else if index.is_some() {
        return Err(format!("the path has no received frame {index:?}"));
    } else if !sim.iut.is_established() {
        return Err("the valid path does not complete in process".into());
    }
    Ok(end_of_stream(&mut sim, Vec::new()))
}

/// A change to the order of the frames the IUT receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reorder {
    /// A valid sample of this (later) message instead of the frame.
    Instead(HandshakeCode),
    /// These bytes instead of the frame.
    Bytes(Vec<u8>),
    /// The frame, then the same frame again.
    Duplicate,
}

/// What the reference in the IUT's role does when its `index`-th received frame is replaced or
/// duplicated as `change` says, then an end of stream; with the handshake messages it answers
/// the first copy of a duplicate with, and whether it had completed the handshake by then.
pub fn expect_order(
    scenario: &Scenario,
    seed: u64,
    dir: &Path,
    index: usize,
    change: Reorder,
) -> Result<(Expected, bool), String> {
    let mut sim = Sim::new(scenario, seed, dir)?;
    let frame = sim
        .until(Some(index))
        .ok_or_else(|| format!("the path has no received frame {index}"))?;
    match change {
        Reorder::Instead(code) => {
            let bytes =
                crate::samples::frame(code).ok_or_else(|| format!("no sample of {code}"))?;
            Ok((judge(&mut sim, &bytes, Vec::new(), false), false))
        }
        Reorder::Bytes(bytes) => Ok((judge(&mut sim, &bytes, Vec::new(), false), false)),
        Reorder::Duplicate => {
            sim.iut
                .receive(&frame, now_ms())
                .map_err(|e| format!("the valid frame fails in process: {e}"))?;
            let responses: Vec<HandshakeCode> = split_frames(&sim.iut.take_output())
                .iter()
                .filter_map(|f| handshake_code(f))
                .collect();
            let complete = sim.iut.is_established();
            Ok((judge(&mut sim, &frame, responses, complete), complete))
        }
    }
}

/// Feeds `bytes` to the IUT side, then (unless that settled it) an end of stream. `before`: the
/// handshake messages it sent since the frame before; `established`: whether it had completed
/// the handshake already.
fn judge(
    sim: &mut Sim,
    bytes: &[u8],
    mut before: Vec<HandshakeCode>,
    established: bool,
) -> Expected {
    let result = sim.iut.receive(bytes, now_ms());
    let output = sim.iut.take_output();
    if let Some((sent, alert)) = alert_in(&output) {
        before.extend(sent);
        let requirement = result.err().map_or("BT-ALERT-3", |e| e.requirement());
        return Expected::Alert {
            before,
            alert,
            requirement,
        };
    }
    if let Err(e) = result {
        return Expected::Close {
            requirement: e.requirement(),
        };
    }
    if !output.is_empty() || (sim.iut.is_established() && !established) {
        return Expected::Accepted;
    }
    end_of_stream(sim, before)
}

fn end_of_stream(sim: &mut Sim, mut before: Vec<HandshakeCode>) -> Expected {
    let result = sim.iut.receive_eof();
    let output = sim.iut.take_output();
    match (alert_in(&output), result) {
        (Some((sent, alert)), r) => {
            before.extend(sent);
            Expected::Alert {
                before,
                alert,
                requirement: r.err().map_or("BT-ALERT-3", |e| e.requirement()),
            }
        }
        (None, Err(e)) => Expected::Close {
            requirement: e.requirement(),
        },
        (None, Ok(())) => Expected::Accepted,
    }
}
