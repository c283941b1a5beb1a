//! The adapter contract's events (`harness/IUT-ADAPTER.md`, "Events"), typed. The reference
//! adapter writes them with serde and the harness reads every adapter's lines into them, so the
//! outcome checks ([`crate::outcome`]), the bench and the vector check see fields, not JSON.
//!
//! The transcripts keep the line as the adapter wrote it (`harness_core::Finished::events`), so a
//! field this enum does not know still shows there.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A registry value as the contract writes it: the specification's name (compared without
/// regard to case), or the number for a value the specification does not name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Named {
    /// The specification's name (`SEND_KEY`, `close_notify`).
    Name(String),
    /// The value on the wire.
    Number(u64),
}

impl Named {
    /// The name when the value has one, else its number.
    pub fn of(name: Option<&str>, value: u8) -> Self {
        name.map_or(Self::Number(u64::from(value)), |n| Self::Name(n.to_owned()))
    }

    /// Whether this is `name`, ignoring case.
    pub fn is(&self, name: &str) -> bool {
        matches!(self, Self::Name(n) if n.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Number(v) => write!(f, "{v}"),
        }
    }
}

/// Who rejected a key in a `validation_failed` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// The adapter's implementation rejected the peer's key.
    Local,
    /// The peer rejected the implementation's key (it sent FAILED_VALIDATION).
    Peer,
}

impl By {
    /// `local` or `peer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Peer => "peer",
        }
    }
}

/// One event line of an adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first line: the contract version the adapter speaks.
    Adapter {
        /// The contract version (1).
        contract: u64,
        /// The implementation's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A handshake completed.
    HandshakeComplete {
        /// The connection, from 0.
        conn: u32,
        /// The session ID (hex).
        session_id: String,
        /// The negotiated key algorithm.
        key_algorithm: String,
        /// The negotiated cipher suite.
        cipher_suite: String,
        /// Whether the handshake resumed a session.
        resumed: bool,
        /// The peer's registration handle.
        #[serde(default)]
        peer_reg_handle: String,
        /// The peer's key handle.
        #[serde(default)]
        peer_key_handle: String,
        /// The peer's public key (hex; revision 1.3, optional).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_public_key: Option<String>,
    },
    /// A handshake message was sent (optional).
    HandshakeSent {
        /// The connection.
        conn: u32,
        /// Its code.
        code: Named,
    },
    /// A handshake message was received (optional).
    HandshakeReceived {
        /// The connection.
        conn: u32,
        /// Its code.
        code: Named,
    },
    /// A key was rejected.
    ValidationFailed {
        /// The connection.
        conn: u32,
        /// Who rejected it.
        by: By,
        /// Why.
        reason: Named,
    },
    /// An alert was sent.
    AlertSent {
        /// The connection.
        conn: u32,
        /// Its description.
        description: Named,
        /// Its level, as on the wire.
        level: u64,
    },
    /// An alert was received.
    AlertReceived {
        /// The connection.
        conn: u32,
        /// Its description.
        description: Named,
        /// Its level, as on the wire.
        level: u64,
    },
    /// Application data arrived.
    ApplicationData {
        /// The connection.
        conn: u32,
        /// The bytes (hex).
        hex: String,
    },
    /// close_notify was exchanged.
    Closed {
        /// The connection.
        conn: u32,
    },
    /// With `--sink`: the application bytes a connection received.
    DataReceived {
        /// The connection.
        conn: u32,
        /// How many.
        bytes: u64,
        /// Their SHA-256 (hex; contract revision 1.1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// With `--send-bytes`: all of them are written (contract revision 1.1).
    DataSent {
        /// The connection.
        conn: u32,
        /// How many.
        bytes: u64,
        /// Their SHA-256 (hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// The implementation failed.
    Error {
        /// The connection.
        #[serde(default)]
        conn: u32,
        /// What happened.
        message: String,
        /// The requirement behind it (`BT-…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requirement: Option<String>,
    },
    /// Vector mode: the answer to one test.
    Vector {
        /// The test's id.
        #[serde(rename = "tcId")]
        tc_id: u64,
        /// `valid`, `invalid` or `malformed`.
        result: String,
        /// The alert the input gives, for invalid inputs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alert: Option<String>,
        /// Why a test could not be read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

impl Event {
    /// The event of one line the harness read, or `None` when the line is not an event of the
    /// contract (unparsed text, an unknown event, a known event with missing fields).
    pub fn from_value(value: &Value) -> Option<Self> {
        Self::deserialize(value).ok()
    }

    /// The line the adapter writes.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The events of an adapter run, typed; lines that are not contract events are left out.
pub fn typed(values: &[Value]) -> Vec<Event> {
    values.iter().filter_map(Event::from_value).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_the_contract_writes_them_and_round_trip() {
        let lines = [
            r#"{"event":"adapter","contract":1,"name":"x"}"#,
            r#"{"event":"validation_failed","conn":0,"by":"local","reason":"UNTRUSTED_KEY"}"#,
            r#"{"event":"alert_received","conn":1,"description":200,"level":2}"#,
            r#"{"event":"data_received","conn":0,"bytes":5}"#,
            r#"{"event":"vector","tcId":17,"result":"invalid","alert":"decode_error"}"#,
        ];
        for line in lines {
            let value: Value = serde_json::from_str(line).unwrap();
            let event = Event::from_value(&value).unwrap();
            let again: Value = serde_json::from_str(&event.to_line()).unwrap();
            assert_eq!(again, value, "{line}");
        }
        let alert: Value = serde_json::from_str(lines[2]).unwrap();
        assert!(matches!(
            Event::from_value(&alert),
            Some(Event::AlertReceived {
                description: Named::Number(200),
                level: 2,
                ..
            })
        ));
    }

    #[test]
    fn lines_that_are_not_contract_events_are_left_out() {
        let values: Vec<Value> = [
            r#"{"unparsed":"hello"}"#,
            r#"{"event":"handshake_complete","conn":0}"#,
            r#"{"event":"closed","conn":0}"#,
        ]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        assert_eq!(typed(&values), vec![Event::Closed { conn: 0 }]);
    }
}
