//! The state tables of SPEC.md §12 as Mealy machines over the learning alphabet, for the IUT
//! configuration of [`super::iut_config`]: what the IUT sends for each input in each state.
//!
//! Written from the specification's text, not from the reference implementation:
//! - every input a table does not list for a state is `unexpected_message` (BT-HS-24, BT-HS-26
//!   after the peer's READY, BT-HS-25 for early APPLICATION, BT-FRAME-5 for an unknown code,
//!   BT-FRAME-3 for an unknown content type),
//!   then the close (BT-ALERT-3);
//! - a received alert ends the handshake or the connection without an answer (BT-ALERT-2,
//!   BT-ALERT-4, BT-CLOSE-5), except `close_notify` after the handshake, answered with its own
//!   (BT-CLOSE-2);
//! - after receiving FAILED_VALIDATION a party sends nothing and ignores every frame until the
//!   alert or the close (BT-HS-11);
//! - a corrupted CLIENT_READY signature or MAC, SESSION_DETAILS signature or SERVER_READY MAC is
//!   `decrypt_error` (BT-HS-20..23);
//! - the harness's side sends its key on request or not for the whole connection (BT-HS-9), so
//!   after a retry the only SENDING_KEY it has is a sample whose key the hello did not name,
//!   rejected by BT-KEY-5 (FAILED_VALIDATION, then `failed_handshake`, BT-HS-10);
//! - the IUT echoes application data (its configuration), so APPLICATION after the handshake
//!   is answered with APPLICATION.

use super::alphabet::{self, Input, CLOSE, CLOSED, NOTHING};
use btls::msgs::HandshakeCode as H;
use harness_core::learn::Mealy;
use harness_core::Role;

const UNEXPECTED: &str = "alert unexpected_message + close";
const DECRYPT_ERROR: &str = "alert decrypt_error + close";
const FAILED_HANDSHAKE: &str = "alert failed_handshake + close";
const CLOSE_NOTIFY: &str = "alert close_notify + close";
const REJECTED_KEY: &str = "FAILED_VALIDATION + alert failed_handshake + close";

/// A state of either table, with what the client's table needs to tell its states apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum State {
    // §12.2, the server.
    ExpectClientHello,
    ExpectClientKey,
    ExpectClientVerdict,
    ExpectClientVerdictAfterKey,
    ExpectClientReady,
    // §12.1, the client: `retried` after a CANNOT_SEND_KEY (BT-HS-16), `key_sent` once it has
    // answered a SEND_KEY for its last CLIENT_HELLO (BT-TIME-4).
    ExpectServerHello {
        retried: bool,
        key_sent: bool,
    },
    ExpectClientKeyVerdict {
        retried: bool,
    },
    ExpectServerKey {
        retried: bool,
    },
    ExpectSessionDetails,
    ExpectServerReady,
    // Both.
    Established,
    /// FAILED_VALIDATION received: waiting for the alert or the close (BT-HS-11).
    AfterFailedValidation,
    /// The connection is over.
    Over,
}

impl State {
    fn name(&self) -> String {
        match self {
            Self::ExpectServerHello { retried, key_sent } => format!(
                "ExpectServerHello{}{}",
                if *retried { " (retry)" } else { "" },
                if *key_sent { " (key sent)" } else { "" }
            ),
            Self::ExpectClientKeyVerdict { retried } | Self::ExpectServerKey { retried } => {
                let base = if matches!(self, Self::ExpectServerKey { .. }) {
                    "ExpectServerKey"
                } else {
                    "ExpectClientKeyVerdict"
                };
                format!("{base}{}", if *retried { " (retry)" } else { "" })
            }
            Self::AfterFailedValidation => "Failed (FAILED_VALIDATION received)".into(),
            Self::Over => "Closed".into(),
            other => format!("{other:?}"),
        }
    }
}

/// The answer and next state for a handshake message the state's table lists; `None` for one
/// it does not.
fn listed(role: Role, state: &State, input: Input) -> Option<(&'static str, State)> {
    use Input::{BadMac, BadSignature, HelloNewKey, Msg};
    use State::*;
    let verdict_failed = (NOTHING, AfterFailedValidation);
    Some(match (role, state, input) {
        (Role::Server, ExpectClientHello, Msg(H::CLIENT_HELLO)) => {
            ("SERVER_HELLO", ExpectClientVerdict)
        }
        (Role::Server, ExpectClientHello, HelloNewKey(H::CLIENT_HELLO)) => {
            ("SEND_KEY", ExpectClientKey)
        }
        (Role::Server, ExpectClientKey, Msg(H::SENDING_KEY)) => {
            ("SUCCESSFUL_VALIDATION + SERVER_HELLO", ExpectClientVerdict)
        }
        (Role::Server, ExpectClientVerdict, Msg(H::SEND_KEY)) => {
            ("SENDING_KEY", ExpectClientVerdictAfterKey)
        }
        (
            Role::Server,
            ExpectClientVerdict | ExpectClientVerdictAfterKey,
            Msg(H::SUCCESSFUL_VALIDATION),
        ) => ("SESSION_DETAILS", ExpectClientReady),
        (
            Role::Server,
            ExpectClientVerdict | ExpectClientVerdictAfterKey,
            Msg(H::FAILED_VALIDATION),
        ) => verdict_failed,
        (Role::Server, ExpectClientReady, Msg(H::CLIENT_READY)) => ("SERVER_READY", Established),
        (
            Role::Server,
            ExpectClientReady,
            BadSignature(H::CLIENT_READY) | BadMac(H::CLIENT_READY),
        ) => (DECRYPT_ERROR, Over),
        (
            Role::Client,
            ExpectServerHello {
                retried,
                key_sent: false,
            },
            Msg(H::SEND_KEY),
        ) => ("SENDING_KEY", ExpectClientKeyVerdict { retried: *retried }),
        (Role::Client, ExpectServerHello { .. }, Msg(H::SERVER_HELLO)) => {
            ("SUCCESSFUL_VALIDATION", ExpectSessionDetails)
        }
        (Role::Client, ExpectServerHello { retried, .. }, HelloNewKey(H::SERVER_HELLO)) => {
            ("SEND_KEY", ExpectServerKey { retried: *retried })
        }
        (
            Role::Client,
            ExpectServerHello { .. } | ExpectClientKeyVerdict { .. },
            Msg(H::FAILED_VALIDATION),
        ) => verdict_failed,
        (Role::Client, ExpectClientKeyVerdict { retried }, Msg(H::SUCCESSFUL_VALIDATION)) => (
            NOTHING,
            ExpectServerHello {
                retried: *retried,
                key_sent: true,
            },
        ),
        (Role::Client, ExpectServerKey { retried: false }, Msg(H::SENDING_KEY)) => {
            ("SUCCESSFUL_VALIDATION", ExpectSessionDetails)
        }
        // After a retry the harness's side is a server that does not send its key (it answered
        // CANNOT_SEND_KEY, and BT-HS-9 configures that for the connection): SENDING_KEY here is
        // the sample, whose key is not the one the retried SERVER_HELLO named (BT-KEY-5).
        (Role::Client, ExpectServerKey { retried: true }, Msg(H::SENDING_KEY)) => {
            (REJECTED_KEY, Over)
        }
        (Role::Client, ExpectServerKey { retried: false }, Msg(H::CANNOT_SEND_KEY)) => (
            "CLIENT_HELLO",
            ExpectServerHello {
                retried: true,
                key_sent: false,
            },
        ),
        // BT-HS-16: no key of an untried algorithm is left.
        (Role::Client, ExpectServerKey { retried: true }, Msg(H::CANNOT_SEND_KEY)) => {
            (FAILED_HANDSHAKE, Over)
        }
        (Role::Client, ExpectSessionDetails, Msg(H::SESSION_DETAILS)) => {
            ("CLIENT_READY", ExpectServerReady)
        }
        (Role::Client, ExpectSessionDetails, BadSignature(H::SESSION_DETAILS)) => {
            (DECRYPT_ERROR, Over)
        }
        (Role::Client, ExpectServerReady, Msg(H::SERVER_READY)) => (NOTHING, Established),
        (Role::Client, ExpectServerReady, BadMac(H::SERVER_READY)) => (DECRYPT_ERROR, Over),
        _ => return None,
    })
}

/// What the IUT in `role` answers to `input` in `state`.
fn step(role: Role, state: &State, input: Input) -> (String, State) {
    use State::*;
    let out = |o: &str, s: State| (o.to_owned(), s);
    match (state, input) {
        (Over, _) => out(CLOSED, Over),
        (AfterFailedValidation, Input::CloseNotify | Input::FatalAlert) => out(CLOSE, Over),
        (AfterFailedValidation, _) => out(NOTHING, AfterFailedValidation),
        (Established, Input::Application) => out("APPLICATION", Established),
        (Established, Input::CloseNotify) => out(CLOSE_NOTIFY, Over),
        (_, Input::CloseNotify | Input::FatalAlert) => out(CLOSE, Over),
        (_, Input::Application | Input::UnknownCode | Input::UnknownContentType) => {
            out(UNEXPECTED, Over)
        }
        (s, i) => match listed(role, s, i) {
            Some((o, next)) => out(o, next),
            None => out(UNEXPECTED, Over),
        },
    }
}

/// The specification's machine for an IUT in `role`, minimal.
pub fn machine(role: Role) -> Mealy {
    let inputs = alphabet::inputs(role);
    let initial = match role {
        Role::Server => State::ExpectClientHello,
        Role::Client => State::ExpectServerHello {
            retried: false,
            key_sent: false,
        },
    };
    Mealy::explore(
        alphabet::names(role),
        initial,
        |s, a| step(role, s, inputs[a]),
        State::name,
    )
    .minimize()
}

/// What the specification says a client IUT sends on connecting; a server sends nothing.
pub fn initial_output(role: Role) -> &'static str {
    match role {
        Role::Client => "CLIENT_HELLO",
        Role::Server => NOTHING,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn the_tables_have_the_states_of_section_12() {
        let server = machine(Role::Server);
        let names: Vec<&str> = server.names.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ExpectClientHello",
                "ExpectClientVerdict",
                "ExpectClientKey",
                "Closed",
                "ExpectClientVerdictAfterKey",
                "ExpectClientReady",
                "Failed (FAILED_VALIDATION received)",
                "Established"
            ]
        );
        // The client's retry doubles the states before SESSION_DETAILS.
        assert_eq!(machine(Role::Client).states(), 13);
    }

    #[test]
    fn the_full_handshake_with_both_keys_requested() {
        let m = machine(Role::Server);
        let n = alphabet::names(Role::Server);
        let word: Vec<usize> = [
            "CLIENT_HELLO(new key)",
            "SENDING_KEY",
            "SEND_KEY",
            "SUCCESSFUL_VALIDATION",
            "CLIENT_READY",
            "APPLICATION",
            "close_notify",
            "SEND_KEY",
        ]
        .iter()
        .map(|x| n.iter().position(|y| y == x).expect("an input"))
        .collect();
        assert_eq!(
            m.run(&word),
            [
                "SEND_KEY",
                "SUCCESSFUL_VALIDATION + SERVER_HELLO",
                "SENDING_KEY",
                "SESSION_DETAILS",
                "SERVER_READY",
                "APPLICATION",
                CLOSE_NOTIFY,
                CLOSED
            ]
        );
    }
}
