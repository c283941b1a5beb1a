//! Shared helpers for the integration tests.

#![allow(dead_code, reason = "each test binary uses a subset")]

use btls::conn::{ClientConfig, Event, ServerConfig};
use btls::msgs::{AlertDescription, HandshakeCode};
use btls::Connection;

/// Handshake codes sent by `conn`, in order, draining its events.
pub(crate) fn sent_codes(events: &[Event]) -> Vec<HandshakeCode> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::HandshakeSent(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// Drains every event.
pub(crate) fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// The alerts a connection sent.
pub(crate) fn alerts_sent(events: &[Event]) -> Vec<AlertDescription> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AlertSent(a) => Some(a.description),
            _ => None,
        })
        .collect()
}

/// Fixture configs where neither side knows the other's key and both trust on first use.
pub(crate) fn strangers() -> (ClientConfig, ServerConfig) {
    let (mut c, mut s) = btls::testing::fixture_configs();
    c.peer_keys.known.clear();
    s.peer_keys.known.clear();
    c.peer_keys.policy.accept_unsigned = true;
    s.peer_keys.policy.accept_unsigned = true;
    (c, s)
}
