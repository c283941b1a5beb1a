//! The one check of how a party ended: its exit status and the events it reported, against what a
//! scenario's `[outcome]` or an interop case's `[expect.client]` / `[expect.server]` asks. The
//! suite and the interop matrix both judge parties here.

use crate::events::{By, Event};
use std::fmt;

/// What `resumed` asks of the completed handshakes.
#[derive(Debug, Clone, Copy, Default)]
pub enum Resumed<'a> {
    /// Nothing.
    #[default]
    Any,
    /// The last completed handshake resumed (`true`) or not (a scenario's `resumed`).
    Last(bool),
    /// One value per completed handshake, in order (an interop case's `resumed`).
    Each(&'a [bool]),
}

/// What a party must have done.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartyCheck<'a> {
    /// Exit status 1 (failure) rather than 0.
    pub failure: bool,
    /// Whether a handshake completed (default: when the exit is a success).
    pub handshake_complete: Option<bool>,
    /// Whether the handshakes resumed.
    pub resumed: Resumed<'a>,
    /// The key algorithm of every completed handshake.
    pub key_algorithm: Option<&'a str>,
    /// The cipher suite of every completed handshake.
    pub cipher_suite: Option<&'a str>,
    /// The peer registration handle every completed handshake exports (BT-KEY-16).
    pub peer_reg_handle: Option<&'a str>,
    /// The peer key handle every completed handshake exports (BT-KEY-16).
    pub peer_key_handle: Option<&'a str>,
    /// The public keys (hex) the peer holds: a `peer_public_key` that a completed handshake
    /// exports must be one of them (BT-KEY-16; empty: not checked).
    pub peer_public_keys: &'a [String],
    /// The reason of a key the party rejected.
    pub validation_failed: Option<&'a str>,
    /// The reason the peer gave for rejecting the party's key.
    pub peer_validation_failed: Option<&'a str>,
    /// The description of an alert the party sent.
    pub alert_sent: Option<&'a str>,
    /// The description of an alert the party received.
    pub alert_received: Option<&'a str>,
    /// A `closed` event per connection (`true`) or none (`false`).
    pub closed: Option<bool>,
    /// All application data the party reported (hex).
    pub application_data: Option<&'a str>,
    /// The bytes the party's `data_received` events count.
    pub data_received: Option<u64>,
}

/// What was expected and what the party did instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.actual)
    }
}

fn mismatch(expected: impl Into<String>, actual: impl Into<String>) -> Mismatch {
    Mismatch {
        expected: expected.into(),
        actual: actual.into(),
    }
}

/// Checks a party that exited with `code` and reported `events` against `check`. `why` is the
/// adapter's own explanation of a failure (appended when the exit status is wrong).
pub fn check_party(
    code: Option<i32>,
    events: &[Event],
    check: &PartyCheck<'_>,
    why: &str,
) -> Result<(), Mismatch> {
    let want_code = i32::from(check.failure);
    if code != Some(want_code) {
        return Err(mismatch(
            format!(
                "exit status {want_code} ({})",
                if check.failure { "failure" } else { "success" }
            ),
            format!(
                "{}{why}",
                code.map_or("none (killed by a signal)".into(), |c| c.to_string())
            ),
        ));
    }
    let complete: Vec<(&str, &str, bool)> = events
        .iter()
        .filter_map(|e| match e {
            Event::HandshakeComplete {
                key_algorithm,
                cipher_suite,
                resumed,
                ..
            } => Some((key_algorithm.as_str(), cipher_suite.as_str(), *resumed)),
            _ => None,
        })
        .collect();
    // BT-KEY-16: handles are compared byte for byte; an exported public key must be the peer's.
    for e in events {
        let Event::HandshakeComplete {
            peer_reg_handle,
            peer_key_handle,
            peer_public_key,
            ..
        } = e
        else {
            continue;
        };
        for (field, want, got) in [
            ("peer_reg_handle", check.peer_reg_handle, peer_reg_handle),
            ("peer_key_handle", check.peer_key_handle, peer_key_handle),
        ] {
            if let Some(want) = want.filter(|w| w != got) {
                return Err(mismatch(
                    format!("{field} {want:?}"),
                    format!("{field} {got:?}"),
                ));
            }
        }
        // Hex is compared without regard to case.
        if let Some(exported) = peer_public_key.as_deref().filter(|x| {
            !check.peer_public_keys.is_empty()
                && !check
                    .peer_public_keys
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(x))
        }) {
            return Err(mismatch(
                format!(
                    "peer_public_key one of the peer's keys ({})",
                    check.peer_public_keys.join(", ")
                ),
                format!("peer_public_key {exported} ({peer_reg_handle}/{peer_key_handle})"),
            ));
        }
    }
    let want_complete = check.handshake_complete.unwrap_or(!check.failure);
    if want_complete == complete.is_empty() {
        return Err(mismatch(
            format!(
                "handshake_complete {}",
                if want_complete {
                    "reported"
                } else {
                    "not reported"
                }
            ),
            format!("{} handshake_complete event(s)", complete.len()),
        ));
    }
    let resumed: Vec<bool> = complete.iter().map(|c| c.2).collect();
    match check.resumed {
        Resumed::Any => {}
        Resumed::Last(want) if resumed.last() != Some(&want) => {
            return Err(mismatch(
                format!("last handshake resumed = {want}"),
                format!("resumed = {resumed:?}"),
            ));
        }
        Resumed::Each(want) if resumed != want => {
            return Err(mismatch(
                format!("resumed = {want:?} over the handshakes"),
                format!("{resumed:?}"),
            ));
        }
        Resumed::Last(_) | Resumed::Each(_) => {}
    }
    for (field, want, got) in [
        (
            "key_algorithm",
            check.key_algorithm,
            complete.iter().map(|c| c.0).collect::<Vec<_>>(),
        ),
        (
            "cipher_suite",
            check.cipher_suite,
            complete.iter().map(|c| c.1).collect(),
        ),
    ] {
        if let Some(want) = want {
            if let Some(other) = got.iter().find(|g| !g.eq_ignore_ascii_case(want)) {
                return Err(mismatch(
                    format!("{field} {want}"),
                    format!("{field} {other}"),
                ));
            }
        }
    }
    let rejections: Vec<(By, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::ValidationFailed { by, reason, .. } => Some((*by, reason.to_string())),
            _ => None,
        })
        .collect();
    for (by, want) in [
        (By::Local, check.validation_failed),
        (By::Peer, check.peer_validation_failed),
    ] {
        if let Some(want) = want {
            if !rejections
                .iter()
                .any(|(b, r)| *b == by && r.eq_ignore_ascii_case(want))
            {
                let seen: Vec<String> = rejections
                    .iter()
                    .map(|(b, r)| format!("{r} by {}", b.as_str()))
                    .collect();
                return Err(mismatch(
                    format!("validation_failed {want} by {}", by.as_str()),
                    if seen.is_empty() {
                        "none".into()
                    } else {
                        seen.join(", ")
                    },
                ));
            }
        }
    }
    for (name, want, sent) in [
        ("alert_sent", check.alert_sent, true),
        ("alert_received", check.alert_received, false),
    ] {
        if let Some(want) = want {
            let seen: Vec<String> = events
                .iter()
                .filter_map(|e| match (e, sent) {
                    (Event::AlertSent { description, .. }, true)
                    | (Event::AlertReceived { description, .. }, false) => {
                        Some(description.to_string())
                    }
                    _ => None,
                })
                .collect();
            if !seen.iter().any(|d| d.eq_ignore_ascii_case(want)) {
                return Err(mismatch(format!("{name} {want}"), format!("{seen:?}")));
            }
        }
    }
    if let Some(closed) = check.closed {
        let n = events
            .iter()
            .filter(|e| matches!(e, Event::Closed { .. }))
            .count();
        let connections = complete.len().max(1);
        if closed != (n >= connections) || (!closed && n > 0) {
            return Err(mismatch(
                if closed {
                    "a closed event (close_notify both ways) per connection"
                } else {
                    "no closed event"
                },
                format!("{n} closed event(s) for {connections} connection(s)"),
            ));
        }
    }
    if let Some(want) = check.application_data {
        let got: String = events
            .iter()
            .filter_map(|e| match e {
                Event::ApplicationData { hex, .. } => Some(hex.as_str()),
                _ => None,
            })
            .collect();
        if !got.eq_ignore_ascii_case(want) {
            return Err(mismatch(
                format!("application_data {want}"),
                if got.is_empty() {
                    "no application_data".to_owned()
                } else {
                    format!("application_data {got}")
                },
            ));
        }
    }
    if let Some(bytes) = check.data_received {
        let counts: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Event::DataReceived { bytes, .. } => Some(*bytes),
                _ => None,
            })
            .collect();
        let got: u64 = counts.iter().sum();
        if counts.is_empty() || got != bytes {
            return Err(mismatch(
                format!("data_received of {bytes} bytes"),
                format!("{got}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use crate::events::Named;

    fn complete(resumed: bool, suite: &str) -> Event {
        Event::HandshakeComplete {
            conn: 0,
            session_id: String::new(),
            key_algorithm: "ED25519_X25519".into(),
            cipher_suite: suite.into(),
            resumed,
            peer_reg_handle: String::new(),
            peer_key_handle: String::new(),
            peer_public_key: Some("aa".into()),
        }
    }

    #[test]
    fn each_expectation_fails_when_the_party_breaks_it() {
        let events = [
            complete(false, "AES_256_GCM"),
            complete(true, "AES_256_GCM"),
            Event::ValidationFailed {
                conn: 0,
                by: By::Peer,
                reason: Named::Name("UNTRUSTED_KEY".into()),
            },
        ];
        let ok = PartyCheck::default();
        assert!(check_party(Some(0), &events, &ok, "").is_ok());
        let (keys_with, keys_without) = (["bb".to_owned(), "AA".to_owned()], ["bb".to_owned()]);
        let cases = [
            PartyCheck {
                failure: true,
                ..ok
            },
            PartyCheck {
                handshake_complete: Some(false),
                ..ok
            },
            PartyCheck {
                resumed: Resumed::Last(false),
                ..ok
            },
            PartyCheck {
                resumed: Resumed::Each(&[false, false]),
                ..ok
            },
            PartyCheck {
                cipher_suite: Some("CHACHA20_POLY1305"),
                ..ok
            },
            PartyCheck {
                validation_failed: Some("UNTRUSTED_KEY"),
                ..ok
            },
            PartyCheck {
                alert_sent: Some("decode_error"),
                ..ok
            },
            PartyCheck {
                closed: Some(true),
                ..ok
            },
            PartyCheck {
                application_data: Some("00"),
                ..ok
            },
            PartyCheck {
                data_received: Some(1),
                ..ok
            },
            PartyCheck {
                peer_public_keys: &keys_without,
                ..ok
            },
        ];
        for (i, c) in cases.iter().enumerate() {
            assert!(check_party(Some(0), &events, c, "").is_err(), "case {i}");
        }
        let kept = [
            PartyCheck {
                resumed: Resumed::Last(true),
                ..ok
            },
            PartyCheck {
                resumed: Resumed::Each(&[false, true]),
                ..ok
            },
            PartyCheck {
                cipher_suite: Some("aes_256_gcm"),
                ..ok
            },
            PartyCheck {
                peer_validation_failed: Some("untrusted_key"),
                ..ok
            },
            PartyCheck {
                peer_public_keys: &keys_with,
                ..ok
            },
        ];
        for (i, c) in kept.iter().enumerate() {
            assert!(check_party(Some(0), &events, c, "").is_ok(), "kept {i}");
        }
    }
}
