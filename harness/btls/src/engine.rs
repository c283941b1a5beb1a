//! A bTLS scenario as a case of the core's engine (`harness_core::engine`): the reference
//! implementation as the harness's side of each connection, the step vocabulary of
//! `scenarios/README.md`, the adapter's flags, the outcome check and the key log.

use crate::adapter::adapter_args;
use crate::alter;
use crate::events::typed;
use crate::keylog::{KeyLogEntry, HEADER};
use crate::outcome::check_party;
use crate::peer::PeerConfig;
use crate::profile::{BtlsFraming, BtlsProfile};
use crate::scenario::{Action, FrameShape, FreshField, Scenario, Step};
use crate::wire::{alert_description, compare_frames, frame_name, fresh_value, handshake_code};
use btls::msgs::{AlertDescription, AlertLevel, FRAME_HEADER_LEN};
use btls::Connection;
use harness_capture::framing::frame_len;
pub use harness_core::engine::RunOptions;
use harness_core::engine::{fail, Case, Log, Session, StepOutcome, EXIT_TIMEOUT};
use harness_core::process::{Finished, Iut};
use harness_core::profile::ReferencePeer;
use harness_core::stream::Read1;
use harness_core::verdict::{CaseResult, Failure};
use harness_core::CaseInfo;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::time::{Duration, Instant};

/// The reference implementation as the harness's side of a connection.
pub struct Peer(pub Connection);

impl Deref for Peer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl DerefMut for Peer {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

impl ReferencePeer for Peer {
    type Error = btls::Error;

    fn take_output(&mut self) -> Vec<u8> {
        self.0.take_output()
    }

    fn receive(&mut self, frame: &[u8], now_ms: u64) -> Result<(), btls::Error> {
        self.0.receive(frame, now_ms)
    }

    fn key_log(&self) -> Option<String> {
        KeyLogEntry::of(&self.0).map(|e| e.lines())
    }
}

/// `alter.reuse`: `alter` with each reused field put in its `set`, valued as in the last frame
/// the IUT sent that has it (`received`, every connection of the case).
fn reused(alter: &alter::Alter, received: &[Vec<u8>]) -> Result<alter::Alter, String> {
    let Some(fields) = &alter.reuse else {
        return Ok(alter.clone());
    };
    let mut set = alter.set.clone().unwrap_or_default();
    for name in fields {
        let field = FreshField::from_name(name)?;
        let value = received
            .iter()
            .rev()
            .find_map(|frame| fresh_value(frame, field))
            .ok_or_else(|| format!("the IUT has sent no {} to reuse", field.name()))?;
        set.insert(name.clone(), toml::Value::String(hex::encode(value)));
    }
    Ok(alter::Alter {
        set: Some(set),
        reuse: None,
        ..alter.clone()
    })
}

/// `fresh`: the last frame the IUT sent must not repeat any of `fields` of an earlier frame it
/// sent in the case (on any connection).
fn check_fresh(received: &[Vec<u8>], fields: &[FreshField]) -> Result<(), String> {
    let Some((last, earlier)) = received.split_last() else {
        return Ok(());
    };
    for field in fields {
        let value = fresh_value(last, *field)
            .ok_or_else(|| format!("{} has no {} to check", frame_name(last), field.name()))?;
        if let Some(n) = earlier
            .iter()
            .position(|e| fresh_value(e, *field).as_ref() == Some(&value))
        {
            return Err(format!(
                "its {} {} repeats that of the IUT's frame #{} of the case ({}): not fresh",
                field.name(),
                hex::encode(&value),
                n + 1,
                frame_name(earlier.get(n).map_or(&[][..], Vec::as_slice))
            ));
        }
    }
    Ok(())
}

/// A bTLS scenario as the engine runs it.
pub struct BtlsCase<'a>(pub &'a Scenario);

impl Case for BtlsCase<'_> {
    type Profile = BtlsProfile;
    type Peer = Peer;
    type Setup = PeerConfig;
    type Action = Action;

    fn info(&self) -> CaseInfo {
        self.0.info()
    }

    fn profile(&self) -> &BtlsProfile {
        &BtlsProfile
    }

    fn steps(&self) -> &[Step] {
        &self.0.steps
    }

    fn setup(
        &self,
        connect: &str,
        seed: u64,
        dir: &Path,
    ) -> Result<(Vec<String>, PeerConfig), String> {
        let scenario = self.0;
        let args = adapter_args(scenario.iut_role, &scenario.iut, connect, seed, dir)?;
        Ok((args, PeerConfig::new(scenario, dir)?))
    }

    fn connect(&self, setup: &PeerConfig, seed: u64) -> Result<Peer, String> {
        setup.connect(seed).map(Peer)
    }

    fn run_step(
        &self,
        session: &mut Session<'_, BtlsProfile, Peer>,
        log: &mut Log<'_, BtlsProfile>,
        step: &Step,
        index: usize,
    ) -> Result<StepOutcome, Failure> {
        run_step(session, log, step, index)
    }

    fn key_log_header(&self) -> &'static str {
        HEADER
    }

    fn transcript_events(&self, finished: &Finished) -> Vec<String> {
        transcript_events(&finished.events)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn check_outcome(&self, finished: &Finished) -> Result<(), Failure> {
        check_outcome(self.0, finished)
    }
}

/// Runs `scenario` against `iut`.
pub fn run_case(scenario: &Scenario, iut: &Iut, options: &RunOptions) -> CaseResult {
    harness_core::engine::run_case(&BtlsCase(scenario), iut, options)
}

fn run_step(
    s: &mut Session<'_, BtlsProfile, Peer>,
    log: &mut Log<'_, BtlsProfile>,
    step: &Step,
    index: usize,
) -> Result<StepOutcome, Failure> {
    let timeout = step.timeout_at(s.age());
    let line = step.line;
    let f = |expected: &str, actual: String| fail(index, line, expected, actual);
    // `within_ms`, `not_before_ms`: when a reading step's frame must arrive.
    let when = step.arrival_text();
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
                    s.describe(&frame),
                ));
            }
            let frame = match change {
                Some(a) => {
                    let a = reused(a, log.received()).map_err(|e| f("a value to reuse", e))?;
                    alter::apply(frame, &a).map_err(|e| f("a valid alteration", e))?
                }
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
            } + &when;
            let (frame, _) = s
                .read(log, index, timeout)
                .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
            step.check_arrival(s.age()).map_err(|e| f(&want, e))?;
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
                        Err(s.describe(&frame))
                    }
                }
                FrameShape::Like(recorded) => compare_frames(recorded, &frame),
            };
            verdict.map_err(|e| f(&want, e))?;
        }
        Action::Expect(codes) | Action::ExpectFresh { codes, .. } => {
            let names: Vec<String> = codes.iter().map(ToString::to_string).collect();
            let want = names.join(" or ") + &when;
            let (frame, peer) = s
                .read(log, index, timeout)
                .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
            step.check_arrival(s.age()).map_err(|e| f(&want, e))?;
            match handshake_code(&frame) {
                Some(code) if codes.contains(&code) => {
                    if let Err(e) = peer {
                        return Err(f(
                            &format!("{want} that the reference accepts"),
                            format!("the reference rejects it: {e} ({})", e.requirement()),
                        ));
                    }
                }
                _ => return Err(f(&want, s.describe(&frame))),
            }
            if let Action::ExpectFresh { fields, .. } = &step.action {
                check_fresh(log.received(), fields).map_err(|e| f(&want, e))?;
            }
        }
        Action::ExpectInTransit {
            code,
            alter: change,
        } => {
            let want = format!("{code}{when}");
            let frame = s
                .read_unfed(log, index, timeout)
                .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
            step.check_arrival(s.age()).map_err(|e| f(&want, e))?;
            if handshake_code(&frame) != Some(*code) {
                return Err(f(&want, s.describe(&frame)));
            }
            let changed = alter::apply(frame, change).map_err(|e| f("a valid alteration", e))?;
            log.note(
                index,
                format!(
                    "in transit: the harness's side reads {}",
                    s.describe(&changed)
                ),
            );
            if let Err(e) = s.feed(&changed) {
                return Err(f(
                    &format!("{want}, changed in transit, that the reference accepts"),
                    format!("the reference rejects it: {e} ({})", e.requirement()),
                ));
            }
        }
        Action::ExpectAlert { allowed, lenient } => {
            let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            let want = format!("alert {}{when}", names.join(" or "));
            match s.read(log, index, timeout) {
                Ok((frame, peer)) => match (step.check_arrival(s.age()), alert_description(&frame))
                {
                    (Err(late), _) => {
                        return Err(f(&want, format!("{}; {late}", s.describe(&frame))));
                    }
                    (Ok(()), Some(d)) if allowed.contains(&d) => {
                        // BT-ALERT-1: the level goes with the description.
                        let level = alert_level(&mut s.peer, &frame, &peer);
                        if let Some(level) = level.filter(|l| *l != d.level()) {
                            return Err(f(
                                &format!("{want} at level {}", d.level().0),
                                format!("alert {d} at level {} (BT-ALERT-1)", level.0),
                            ));
                        }
                    }
                    (Ok(()), Some(d)) => return Err(f(&want, format!("alert {d}"))),
                    (Ok(()), None) => return Err(f(&want, s.describe(&frame))),
                },
                Err(Read1::Closed) if *lenient => {
                    return Ok(StepOutcome::Lenient(format!("closed without {want}")));
                }
                Err(r) => return Err(f(&want, s.step_read_problem(r, step, timeout))),
            }
        }
        Action::ExpectClose => {
            let want = format!("the IUT to close the connection{when}");
            match s.read(log, index, timeout) {
                Err(Read1::Closed) => step.check_arrival(s.age()).map_err(|e| f(&want, e))?,
                Err(r) => return Err(f(&want, s.step_read_problem(r, step, timeout))),
                Ok((frame, _)) => return Err(f(&want, s.describe(&frame))),
            }
        }
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
            let (_, peer) = s.read(log, index, timeout).map_err(|r| {
                f(
                    "the handshake to complete",
                    s.step_read_problem(r, step, timeout),
                )
            })?;
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
                    Err(r) => {
                        return Err(f(
                            "the connection to end",
                            s.step_read_problem(r, step, timeout),
                        ))
                    }
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
                    s.step_read_problem(r, step, timeout),
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
        Action::SendApp { data, alter } => {
            // `send_app = ""`: one record with no plaintext, the tag alone (BT-REC-3 allows 0
            // bytes), which Connection::send would not make for no data.
            let sent = if data.is_empty() {
                s.peer.seal_data_regardless(data)
            } else {
                s.peer.send(data)
            };
            match sent {
                // After the peer's close_notify (or its own failure) the record is sealed
                // anyway: data a broken peer sends after its close (BT-CLOSE-1), for checking
                // that the IUT delivers nothing after a closing alert (BT-CLOSE-2).
                Err(btls::Error::ConnectionClosed) => {
                    s.peer.seal_data_regardless(data).map_err(|e| {
                        f("the reference peer to seal application data", e.to_string())
                    })?;
                    log.note(
                        index,
                        "harness seals application data after its close, as BT-CLOSE-1 forbids",
                    );
                }
                r => {
                    r.map_err(|e| f("the reference peer to send application data", e.to_string()))?
                }
            }
            match alter {
                None => s
                    .flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?,
                Some(a) => {
                    s.pump();
                    while let Some(frame) = s.pending.pop_front() {
                        let frame =
                            alter::apply(frame, a).map_err(|e| f("a valid alteration", e))?;
                        s.write(log, step, index, &frame)
                            .map_err(|e| f("to send", e))?;
                    }
                }
            }
        }
        Action::Release(order) => {
            s.release(log, index, line, order)
                .map_err(|e| f("to release the held frames", e))?;
        }
        Action::ExpectApp(data) => {
            let want = format!("application data {}", hex::encode(data));
            let mut got = s.peer.take_application_data();
            while got.len() < data.len() {
                let (_, peer) = s
                    .read(log, index, timeout)
                    .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
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
            s.shutdown(log, index);
        }
        Action::Wait(ms) => {
            log.note(index, format!("harness waits {ms} ms"));
            std::thread::sleep(Duration::from_millis(*ms));
        }
        Action::ExpectQuiet(ms) => {
            let quiet = Duration::from_millis(*ms);
            let want = format!("nothing from the IUT for {ms} ms");
            match s.read(log, index, quiet) {
                Err(Read1::TimedOut) => {}
                Err(r) => return Err(f(&want, s.read_problem(r, quiet))),
                Ok((frame, _)) => return Err(f(&want, s.describe(&frame))),
            }
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
    let peer_keys = crate::peer::own_public_keys(scenario);
    let mut check = scenario.outcome.check(scenario.expects_failure());
    check.peer_public_keys = &peer_keys;
    check_party(finished.code, &typed(&finished.events), &check, "")
        .map_err(|m| fail(0, 0, m.expected, m.actual))
}
