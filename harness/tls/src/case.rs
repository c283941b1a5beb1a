//! A TLS scenario as the engine runs it: the IUT (a stack's server program behind its adapter)
//! listens, the harness's client connects and plays the steps, and the verdict comes from the
//! wire and the exit status (a real stack's output is free text, not contract events).

use crate::client::{ClientPeer, Failure as PeerFailure, Saved12, Saved13};
use crate::msgs::{Alert, AlertDescription};
use crate::profile::TlsProfile;
use crate::scenario::Resume;
use crate::scenario::{Action, TlsScenario};
use harness_core::engine::RunOptions;
use harness_core::engine::{fail, Case, Log, Session, Step, StepOutcome};
use harness_core::process::{listening_address, Finished, Iut};
use harness_core::profile::ReferencePeer;
use harness_core::stream::Read1;
use harness_core::verdict::{CaseResult, Failure};
use harness_core::CaseInfo;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The harness's side of one connection: the client and what it sent as application data.
pub struct TlsPeer {
    /// The client.
    pub client: ClientPeer,
    /// The harness's session store, shared by the case's connections.
    store: Store,
    /// Application data sent since the last echo was read.
    sent: Vec<u8>,
}

impl ReferencePeer for TlsPeer {
    type Error = PeerFailure;

    fn take_output(&mut self) -> Vec<u8> {
        self.client.take_output()
    }

    fn receive(&mut self, frame: &[u8], _now_ms: u64) -> Result<(), PeerFailure> {
        self.client.receive(frame)
    }

    fn key_log(&self) -> Option<String> {
        let lines = self.client.key_log_lines();
        (!lines.is_empty()).then(|| lines.iter().map(|l| format!("{l}\n")).collect())
    }
}

/// What the harness's client keeps from one connection to the next: the last TLS 1.2 session
/// and the last TLS 1.3 ticket.
#[derive(Debug, Default)]
pub struct Sessions {
    /// The TLS 1.2 session of the last full handshake.
    pub tls12: Option<Saved12>,
    /// The last TLS 1.3 ticket.
    pub tls13: Option<Saved13>,
}

/// The session store, shared by a case's connections.
pub type Store = Arc<Mutex<Sessions>>;

/// A scenario with the certificates it names.
pub struct TlsCase<'a> {
    /// The scenario.
    pub scenario: &'a TlsScenario,
    /// Where `scripts/tls-certs.sh` wrote the certificates.
    pub certs: PathBuf,
}

/// The key-log file's first line.
const HEADER: &str =
    "# TLS secrets in NSS key log format (SSLKEYLOGFILE), one session per handshake\n";

impl TlsCase<'_> {
    /// Runs one step's action.
    fn run_action(
        &self,
        s: &mut Session<'_, TlsProfile, TlsPeer>,
        log: &mut Log<'_, TlsProfile>,
        step: &Step<Action>,
        index: usize,
    ) -> Result<StepOutcome, Failure> {
        let line = step.line;
        let timeout = step.timeout();
        let f = |want: &str, actual: String| fail(index, line, want, actual);
        match &step.action {
            Action::SendHello(alter) => {
                let client = &mut s.peer.client;
                alter.apply(&mut client.hello);
                let message = alter
                    .message(client.hello.encode_body())
                    .map_err(|e| f("to send the ClientHello", e))?;
                client.send_hello_message(message);
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
            }
            Action::Expect(typ) => {
                let want = typ.to_string();
                loop {
                    if let Some(got) = s.peer.client.next_message() {
                        if got == want {
                            break;
                        }
                        return Err(f(&want, got));
                    }
                    let (frame, verdict) = s
                        .read(log, index, timeout)
                        .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
                    s.flush_peer(log, step, index)
                        .map_err(|e| f("to send", e))?;
                    if let Err(e) = verdict {
                        let mut failure = peer_failure(step, index, &want, &e);
                        failure.actual = format!("{} ({})", failure.actual, s.describe(&frame));
                        return Err(failure);
                    }
                }
            }
            Action::Inject { typ, body } => {
                let client = &mut s.peer.client;
                let tls13 = client.version() != Some(crate::msgs::ProtocolVersion::TLS12);
                let body = body.clone().unwrap_or_else(|| {
                    crate::msgs::plausible_body(*typ, tls13, &client.hello.encode_body())
                });
                client
                    .send_handshake(*typ, &body)
                    .map_err(|e| f(&format!("to send {typ}"), e.to_string()))?;
                log.note(
                    index,
                    format!(
                        "{typ} injected ({} bytes of body, {})",
                        body.len(),
                        if client.sealing() {
                            "protected under the client's current key"
                        } else {
                            "in clear"
                        }
                    ),
                );
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
            }
            Action::SendRecord(record) => {
                s.write(log, step, index, &record.encode())
                    .map_err(|e| f("to send", e))?;
            }
            Action::Complete {
                spoil,
                version,
                hold,
                resumed,
                or_alert,
                premaster,
            } => {
                s.peer.client.spoil_finished = *spoil;
                s.peer.client.hold = *hold;
                s.peer.client.bad_premaster = *premaster;
                if !s.peer.client.hello_sent() {
                    s.peer.client.send_hello();
                }
                loop {
                    s.flush_peer(log, step, index)
                        .map_err(|e| f("to send", e))?;
                    // With a spoiled Finished the step ends once it is out: the server's
                    // answer is the next step's to read.
                    if s.peer.client.is_established()
                        || s.peer.client.is_held()
                        || ((spoil.is_some() || premaster.is_some())
                            && s.peer.client.finished_sent())
                    {
                        break;
                    }
                    let (_, verdict) = s.read(log, index, timeout).map_err(|r| {
                        f(
                            "the handshake to complete",
                            s.step_read_problem(r, step, timeout),
                        )
                    })?;
                    if let Err(e) = verdict {
                        s.flush_peer(log, step, index)
                            .map_err(|e| f("to send", e))?;
                        if let PeerFailure::AlertReceived(a) = &e {
                            if or_alert.contains(&a.description)
                                && check_alert(*a, or_alert).is_ok()
                            {
                                return Ok(StepOutcome::Settled(format!(
                                    "the server aborted with {a}, an answer the case allows"
                                )));
                            }
                        }
                        return Err(peer_failure(step, index, "the handshake to complete", &e));
                    }
                }
                // The handshake's messages are taken: an `expect` after `complete` reads on.
                while s.peer.client.next_message().is_some() {}
                if let (Some(want), Some(e)) = (resumed, s.peer.client.established()) {
                    if e.resumed != *want {
                        return Err(f(
                            if *want {
                                "the server to resume the session offered (RFC5246-7.3)"
                            } else {
                                "a full handshake (the session offered is not one to resume)"
                            },
                            if e.resumed {
                                "an abbreviated handshake".to_string()
                            } else {
                                "a full handshake".to_string()
                            },
                        ));
                    }
                }
                if let (Some(want), Some(e)) = (version, s.peer.client.established()) {
                    if e.version != *want {
                        return Err(f(
                            &format!("the handshake to settle on {want}"),
                            format!("{} (RFC8446-4.2.1)", e.version),
                        ));
                    }
                }
                if let (Some(h), Some(v)) = (hold, s.peer.client.version()) {
                    log.note(
                        index,
                        format!("handshake held before the client's {h:?} ({v})"),
                    );
                }
                if let Some(p) = premaster {
                    log.note(
                        index,
                        format!("the client's Finished is out over a premaster made wrong ({p:?})"),
                    );
                }
                if let Some(e) = s.peer.client.established() {
                    let spoiled = match spoil {
                        Some(s) => format!("; the client's Finished spoiled ({s:?})"),
                        None => String::new(),
                    };
                    log.note(
                        index,
                        if e.resumed {
                            format!(
                                "handshake complete: {} {}, session resumed (abbreviated handshake){spoiled}",
                                e.version, e.suite
                            )
                        } else {
                            format!(
                                "handshake complete: {} {} with {}, signature {}, {} certificate(s){spoiled}",
                                e.version,
                                e.suite,
                                e.group,
                                e.signature_scheme,
                                e.certificates.len(),
                            )
                        },
                    );
                }
            }
            Action::SendApp(data, flip) => {
                let client = &mut s.peer.client;
                match flip {
                    None => client.send_application_data(data),
                    Some(at) => client.send_flipped_application_data(data, *at),
                }
                .map_err(|e| f("to send application data", e.to_string()))?;
                if let Some(at) = flip {
                    log.note(index, format!("byte {at} of the record's fragment flipped"));
                } else {
                    s.peer.sent.extend_from_slice(data);
                }
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
            }
            Action::ExpectEcho => {
                let sent = std::mem::take(&mut s.peer.sent);
                let want = format!("the echo of {} byte(s)", sent.len());
                let mut got = s.peer.client.take_application_data();
                while got.len() < sent.len() {
                    let (frame, verdict) = s
                        .read(log, index, timeout)
                        .map_err(|r| f(&want, s.step_read_problem(r, step, timeout)))?;
                    if let Err(e) = verdict {
                        s.flush_peer(log, step, index)
                            .map_err(|e| f("to send", e))?;
                        let mut failure = peer_failure(step, index, &want, &e);
                        failure.actual = format!("{} ({})", failure.actual, s.describe(&frame));
                        return Err(failure);
                    }
                    got.extend(s.peer.client.take_application_data());
                }
                if !is_echo(&sent, &got) {
                    return Err(f(
                        &format!("{want}: {}", String::from_utf8_lossy(&sent).escape_debug()),
                        format!("{}", String::from_utf8_lossy(&got).escape_debug()),
                    ));
                }
            }
            Action::ExpectAlert {
                allowed,
                lenient,
                or_retry,
            } => {
                let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                let want = format!("a fatal alert {}", names.join(" or "));
                let mut read = s.read(log, index, timeout);
                while matches!(&read, Ok((frame, verdict)) if passed_over(frame, verdict, &mut s.peer.client))
                {
                    read = s.read(log, index, timeout);
                }
                match read {
                    Ok(_) if *or_retry && s.peer.client.retry_requested() => {
                        s.flush_peer(log, step, index)
                            .map_err(|e| f("to send", e))?;
                        return Ok(StepOutcome::Lenient(format!(
                            "a HelloRetryRequest instead of {want} (the check is a MAY)"
                        )));
                    }
                    Ok((frame, verdict)) => match (verdict, s.peer.client.alert_received()) {
                        (Err(PeerFailure::AlertReceived(a)), _) | (_, Some(a)) => {
                            check_alert(a, allowed).map_err(|actual| f(&want, actual))?;
                        }
                        (Err(e), None) => {
                            s.flush_peer(log, step, index)
                                .map_err(|e| f("to send", e))?;
                            let mut failure = peer_failure(step, index, &want, &e);
                            failure.actual = format!("{} ({})", failure.actual, s.describe(&frame));
                            return Err(failure);
                        }
                        (Ok(()), None) => return Err(f(&want, s.describe(&frame))),
                    },
                    Err(Read1::Closed) if *lenient => {
                        return Ok(StepOutcome::Lenient(format!("closed without {want}")));
                    }
                    Err(r) => return Err(f(&want, s.step_read_problem(r, step, timeout))),
                }
            }
            Action::ExpectClose => {
                let want = "the IUT to close the connection".to_string();
                let mut read = s.read(log, index, timeout);
                // RFC8446-D.4 and RFC8446-4.6.1: a compatibility change_cipher_spec (a server
                // sends one after its HelloRetryRequest) and tickets may come first.
                while matches!(&read, Ok((frame, verdict)) if passed_over(frame, verdict, &mut s.peer.client))
                {
                    read = s.read(log, index, timeout);
                }
                match read {
                    Err(Read1::Closed) => {}
                    Err(r) => return Err(f(&want, s.step_read_problem(r, step, timeout))),
                    Ok((frame, verdict)) => {
                        // RFC8446-6.1: close_notify before the close is a clean close.
                        let notify = s
                            .peer
                            .client
                            .alert_received()
                            .is_some_and(|a| a.description == AlertDescription::CLOSE_NOTIFY);
                        if !notify || !matches!(verdict, Err(PeerFailure::AlertReceived(_))) {
                            return Err(f(&want, s.describe(&frame)));
                        }
                        match s.read(log, index, timeout) {
                            Err(Read1::Closed) => {}
                            Err(r) => return Err(f(&want, s.step_read_problem(r, step, timeout))),
                            Ok((frame, _)) => {
                                return Err(f(
                                    &format!("{want} after its close_notify (RFC8446-6.1)"),
                                    s.describe(&frame),
                                ))
                            }
                        }
                    }
                }
            }
            Action::NewConnection => return Ok(StepOutcome::NextConnection),
            Action::Close => {
                s.peer
                    .client
                    .close()
                    .map_err(|e| f("to send close_notify", e.to_string()))?;
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
            }
            Action::SendAlert(d) => {
                s.peer
                    .client
                    .send_alert(Alert::fatal(*d))
                    .map_err(|e| f("to send an alert", e.to_string()))?;
                s.flush_peer(log, step, index)
                    .map_err(|e| f("to send", e))?;
            }
        }
        Ok(StepOutcome::Done)
    }
}

fn peer_failure(step: &Step<Action>, index: usize, want: &str, e: &PeerFailure) -> Failure {
    match e {
        PeerFailure::AlertReceived(a) => fail(index, step.line, want, format!("the alert {a}")),
        PeerFailure::Violation { .. } => fail(
            index,
            step.line,
            want,
            format!("the harness's client rejected the IUT's record: {e}"),
        ),
        other => fail(index, step.line, want, other.to_string()),
    }
}

/// The echo of `sent` as the IUT may give it: as it was, or each line reversed.
fn is_echo(sent: &[u8], got: &[u8]) -> bool {
    if sent == got {
        return true;
    }
    let mut reversed = Vec::with_capacity(sent.len());
    for line in sent.split_inclusive(|b| *b == b'\n') {
        let (body, nl) = match line.split_last() {
            Some((b'\n', body)) => (body, true),
            _ => (line, false),
        };
        reversed.extend(body.iter().rev());
        if nl {
            reversed.push(b'\n');
        }
    }
    reversed == got
}

impl Case for TlsCase<'_> {
    type Profile = TlsProfile;
    type Peer = TlsPeer;
    type Setup = Store;
    type Action = Action;

    fn info(&self) -> CaseInfo {
        info(self.scenario)
    }

    fn profile(&self) -> &TlsProfile {
        &TlsProfile
    }

    fn steps(&self) -> &[Step<Action>] {
        &self.scenario.steps
    }

    fn iut_listens(&self) -> bool {
        true
    }

    fn setup(
        &self,
        _connect: &str,
        _seed: u64,
        _dir: &Path,
    ) -> Result<(Vec<String>, Store), String> {
        let iut = &self.scenario.iut;
        let cert = format!("server-{}", iut.cert);
        let mut args = vec![
            "--role".to_string(),
            "server".into(),
            "--cert".into(),
            self.certs.join(format!("{cert}.pem")).display().to_string(),
            "--key".into(),
            self.certs.join(format!("{cert}.key")).display().to_string(),
            "--connections".into(),
            iut.connections.to_string(),
        ];
        // Only a change from the stacks' defaults is passed, so that adapters written before
        // these flags keep working.
        for (flag, on) in [
            ("--session-cache", iut.session_cache),
            ("--tickets", iut.tickets),
        ] {
            if !on {
                args.push(flag.into());
                args.push("off".into());
            }
        }
        for (flag, list) in [
            ("--suites", &iut.suites),
            ("--groups", &iut.groups),
            ("--versions", &iut.versions),
        ] {
            if let Some(v) = list {
                args.push(flag.into());
                args.push(v.join(","));
            }
        }
        Ok((args, Store::default()))
    }

    fn connect(&self, store: &Store, seed: u64) -> Result<TlsPeer, String> {
        let mut client = ClientPeer::new(&self.scenario.peer.config(seed));
        let store_now = store.lock().map_err(|e| e.to_string())?;
        match (
            self.scenario.peer.offer(),
            &store_now.tls12,
            &store_now.tls13,
        ) {
            (Some(Resume::V12(how)), Some(saved), _) => client.offer_session(saved, how),
            (Some(Resume::V13(spoil)), _, Some(saved)) => client.offer_ticket(saved, spoil),
            _ => {}
        }
        drop(store_now);
        Ok(TlsPeer {
            client,
            store: Arc::clone(store),
            sent: Vec::new(),
        })
    }

    fn run_step(
        &self,
        s: &mut Session<'_, TlsProfile, TlsPeer>,
        log: &mut Log<'_, TlsProfile>,
        step: &Step<Action>,
        index: usize,
    ) -> Result<StepOutcome, Failure> {
        let outcome = self.run_action(s, log, step, index);
        // What the connection has to resume is kept for the case's later connections.
        if let Ok(mut store) = s.peer.store.lock() {
            if let Some(saved) = s.peer.client.saved_session() {
                store.tls12 = Some(saved.clone());
            }
            if let Some(saved) = s.peer.client.saved_ticket() {
                store.tls13 = Some(saved.clone());
            }
        }
        // What the protected records of the step held, as the harness's client decrypted them.
        for line in s.peer.client.take_opened() {
            log.note(index, format!("  decrypted: {line}"));
        }
        outcome
    }

    fn exit_timeout(&self) -> Option<Duration> {
        // Some stacks' servers (gnutls-serv) serve until stopped; those that stop by themselves
        // after their connections do so within milliseconds of the last close.
        Some(Duration::from_millis(1500))
    }

    fn key_log_header(&self) -> &'static str {
        HEADER
    }

    fn transcript_events(&self, finished: &Finished) -> Vec<String> {
        // A stack's output is free text: the transcript shows its lines as they came.
        finished
            .events
            .iter()
            .map(|e| match e.get("unparsed").and_then(|u| u.as_str()) {
                Some(line) => line.to_string(),
                None => e.to_string(),
            })
            .filter(|l| !l.trim().is_empty())
            // The ephemeral port differs from run to run; the transcript stays the same.
            .map(|l| match (listening_address(&l), l.rsplit_once(':')) {
                (Some(_), Some((head, _))) => format!("{head}:PORT"),
                _ => l,
            })
            .collect()
    }

    fn check_outcome(&self, finished: &Finished) -> Result<(), Failure> {
        let want = self.scenario.outcome.iut_exit.as_deref().unwrap_or("any");
        let ok = match want {
            "success" => finished.code == Some(0),
            "failure" => finished.code.is_some_and(|c| c != 0),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(fail(
                0,
                0,
                format!("the IUT to exit with {want}"),
                match finished.code {
                    Some(c) => format!("exit status {c}"),
                    None => "no exit status (killed or signalled)".into(),
                },
            ))
        }
    }
}

/// Whether the record just read was one to pass over while waiting for an alert or the close:
/// the compatibility change_cipher_spec (RFC 8446 D.4) or protected NewSessionTickets, which a
/// server may send as soon as it has sent its Finished (RFC 8446 §4.6.1).
fn passed_over(frame: &[u8], verdict: &Result<(), PeerFailure>, client: &mut ClientPeer) -> bool {
    if is_compat_ccs(frame) {
        return true;
    }
    if verdict.is_err() {
        return false;
    }
    let mut tickets_only = true;
    let mut any = false;
    while let Some(m) = client.next_message() {
        any = true;
        tickets_only &= m == crate::msgs::HandshakeType::NEW_SESSION_TICKET.to_string();
    }
    any && tickets_only
}

/// Whether `frame` is the one-byte change_cipher_spec of RFC 8446 D.4.
fn is_compat_ccs(frame: &[u8]) -> bool {
    crate::msgs::Record::decode(frame).is_ok_and(|r| {
        r.content_type == crate::msgs::ContentType::CHANGE_CIPHER_SPEC && r.fragment == [1]
    })
}

/// The alert's level must be fatal (RFC 8446 §6.2: every error alert is fatal in TLS 1.3) and
/// its description one of `allowed`.
fn check_alert(a: Alert, allowed: &[AlertDescription]) -> Result<(), String> {
    if !allowed.contains(&a.description) {
        return Err(format!("the alert {a}"));
    }
    if a.level != 2 && a.description != AlertDescription::CLOSE_NOTIFY {
        return Err(format!(
            "the alert {a} at level {} (RFC8446-6.2: fatal)",
            a.level
        ));
    }
    Ok(())
}

/// A case's identity for the runner and the reports.
pub fn info(s: &TlsScenario) -> CaseInfo {
    CaseInfo {
        id: s.id.clone(),
        title: s.title.clone(),
        path: s.path.clone(),
        iut_role: s.iut_role,
        requirements: s.requirements.clone(),
    }
}

/// Runs `scenario` against `iut` with the certificates in `certs`.
pub fn run_case(
    scenario: &TlsScenario,
    certs: &Path,
    iut: &Iut,
    options: &RunOptions,
) -> CaseResult {
    harness_core::engine::run_case(
        &TlsCase {
            scenario,
            certs: certs.to_owned(),
        },
        iut,
        options,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_is_the_same_bytes_or_each_line_reversed() {
        assert!(is_echo(b"hello\n", b"hello\n"));
        assert!(is_echo(b"hello\nab\n", b"olleh\nba\n"));
        assert!(!is_echo(b"hello\n", b"hell\n"));
        assert!(!is_echo(b"hello\n", b"olleh"));
    }
}
