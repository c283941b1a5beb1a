//! The record-layer classes: protected application records that the reference peer seals after
//! a completed handshake, which the harness holds back and then drops, duplicates, reorders,
//! tampers with or writes together in one segment (the steps `hold` and `release`).
//!
//! Their expectations follow from the record rules alone, with no oracle run: a record that
//! does not open under the next sequence number is answered with `bad_record_mac` and its
//! content discarded (BT-REC-2, BT-REC-4); records that arrive whole and in order are delivered,
//! however the transport groups them.

use super::cases::{Class, ValidPath};
use super::mutations::Mutation;
use crate::scenario::Role;
use btls::msgs::{HandshakeCode as H, FRAME_HEADER_LEN};

/// The AEAD tag's length (both suites).
const TAG_LEN: usize = 16;

/// What one record-layer case does after the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordChange {
    /// `records` records sealed and held, then written one at a time in `order` (indices;
    /// one left out is dropped, one repeated is replayed). `close`: close_notify is sealed
    /// and held after them, as index `records`.
    Release {
        /// How many application records are sealed.
        records: usize,
        /// Whether close_notify is sealed after them.
        close: bool,
        /// The order they are written in.
        order: Vec<usize>,
    },
    /// A first record sent as sealed, then a second one changed by this `alter` table.
    Tamper(String),
    /// Held frames written in one segment: `ready` puts the peer's READY first (sent as the last
    /// handshake frame), then `records` records, then close_notify when `close`.
    Coalesce {
        /// Whether the peer's READY message goes in the segment too.
        ready: Option<H>,
        /// How many application records.
        records: usize,
        /// Whether close_notify ends the segment.
        close: bool,
    },
}

/// The plaintext of record `i`: `rec` and the digit.
fn data(i: usize) -> Vec<u8> {
    format!("rec{i}").into_bytes()
}

impl RecordChange {
    /// The application data an IUT that follows the rules delivers.
    pub fn delivered(&self) -> Vec<u8> {
        match self {
            Self::Release { records, order, .. } => {
                let mut out = Vec::new();
                for (next, &i) in order.iter().enumerate() {
                    if i != next || i >= *records {
                        break;
                    }
                    out.extend(data(i));
                }
                out
            }
            Self::Tamper(_) => data(0),
            Self::Coalesce { records, .. } => (0..*records).flat_map(data).collect(),
        }
    }

    /// Whether an IUT that follows the rules completes the exchange (nothing breaks a rule).
    pub fn completes(&self) -> bool {
        matches!(self, Self::Coalesce { .. })
    }

    /// Whether the peer's close_notify is among the records (the IUT answers it).
    pub fn closes(&self) -> bool {
        matches!(self, Self::Coalesce { close: true, .. })
    }

    /// The steps after the handshake.
    pub fn steps(&self) -> String {
        let seal = |i: usize, hold: bool| {
            format!(
                "[[step]]\nsend_app = \"{}\"\n{}",
                hex::encode(data(i)),
                if hold { "hold = true\n" } else { "" }
            )
        };
        match self {
            Self::Release {
                records,
                close,
                order,
            } => {
                let mut s = String::from("[[step]]\ncomplete = true\n");
                for i in 0..*records {
                    s.push_str(&seal(i, true));
                }
                if *close {
                    s.push_str("[[step]]\nclose = true\nhold = true\n");
                }
                for i in order {
                    s.push_str(&format!("[[step]]\nrelease = [{i}]\n"));
                }
                s
            }
            Self::Tamper(alter) => format!(
                "[[step]]\ncomplete = true\n{}[[step]]\nsend_app = \"{}\"\nalter = {alter}\n",
                seal(0, false),
                hex::encode(data(1))
            ),
            Self::Coalesce {
                ready,
                records,
                close,
            } => {
                let mut s = String::new();
                let mut held = 0;
                match ready {
                    Some(code) => {
                        s.push_str(&format!(
                            "[[step]]\nadvance_to = \"{code}\"\n[[step]]\nsend = \"{code}\"\nhold = true\n"
                        ));
                        held += 1;
                    }
                    None => s.push_str("[[step]]\ncomplete = true\n"),
                }
                for i in 0..*records {
                    s.push_str(&seal(i, true));
                    held += 1;
                }
                if *close {
                    s.push_str("[[step]]\nclose = true\nhold = true\n");
                    held += 1;
                }
                let all: Vec<String> = (0..held).map(|i| i.to_string()).collect();
                s.push_str(&format!("[[step]]\nrelease = [{}]\n", all.join(", ")));
                if ready.is_some() {
                    // The IUT's own READY, if it has one to send after the peer's.
                    s.push_str("[[step]]\ncomplete = true\n");
                }
                s
            }
        }
    }
}

/// The peer's READY message that completes its side of the handshake while the IUT has
/// nothing more to send, so that records can follow it in the same segment: SERVER_READY of a
/// full handshake (IUT client), CLIENT_READY of an abbreviated one (IUT server).
fn last_ready(role: Role, path: &ValidPath) -> Option<H> {
    match (role, path.name) {
        (Role::Client, "full") => Some(H::SERVER_READY),
        (Role::Server, "resumption") => Some(H::CLIENT_READY),
        _ => None,
    }
}

/// The candidates of a record-layer class: (family, label, mutation).
pub fn candidates(class: Class, role: Role, path: &ValidPath) -> Vec<(String, String, Mutation)> {
    let one = |family: &str, label: String, change: RecordChange| {
        (family.to_owned(), label, Mutation::Records(change))
    };
    let mut out = Vec::new();
    match class {
        Class::RecordsOrder => {
            // Each order is written up to its first record that must not open: the IUT closes
            // there, so nothing is written after it.
            let n = 3;
            let release = |order: Vec<usize>| RecordChange::Release {
                records: n,
                close: false,
                order,
            };
            for k in 0..n - 1 {
                // Record k dropped: k + 1 arrives under k's sequence number. (Dropping the last
                // record is only a delay.)
                let mut order: Vec<usize> = (0..k).collect();
                order.push(k + 1);
                out.push(one("drop", format!("drop-record-{k}"), release(order)));
            }
            for k in 0..n {
                let mut order: Vec<usize> = (0..=k).collect();
                order.push(k);
                out.push(one(
                    "duplicate",
                    format!("duplicate-record-{k}"),
                    release(order),
                ));
            }
            for k in 0..n - 1 {
                let mut order: Vec<usize> = (0..k).collect();
                order.push(k + 1);
                out.push(one(
                    "reorder",
                    format!("record-{}-before-record-{k}", k + 1),
                    release(order),
                ));
            }
            // close_notify sealed after a record but written first.
            out.push(one(
                "reorder",
                "close-notify-before-the-record-sealed-first".into(),
                RecordChange::Release {
                    records: 1,
                    close: true,
                    order: vec![1],
                },
            ));
        }
        Class::RecordsTamper => {
            let body = data(1).len() + TAG_LEN;
            for i in 0..body {
                let bit = (FRAME_HEADER_LEN + i) * 8 + 7;
                let part = if i < data(1).len() {
                    "ciphertext"
                } else {
                    "tag"
                };
                out.push(one(
                    "flip",
                    format!("{part}-byte-{i}"),
                    RecordChange::Tamper(format!("{{ flip_bit = {bit} }}")),
                ));
            }
            for k in [0, 1, TAG_LEN - 1, TAG_LEN, body - 1] {
                out.push(one(
                    "cut-body",
                    format!("body-cut-to-{k}"),
                    RecordChange::Tamper(format!("{{ truncate_body = {k} }}")),
                ));
            }
            out.push(one(
                "append",
                "one-byte-appended".into(),
                RecordChange::Tamper("{ append = \"00\" }".into()),
            ));
        }
        Class::Coalesce => {
            for records in [2, 3] {
                out.push(one(
                    "records",
                    format!("{records}-records-in-one-segment"),
                    RecordChange::Coalesce {
                        ready: None,
                        records,
                        close: false,
                    },
                ));
            }
            out.push(one(
                "records",
                "record-and-close-notify-in-one-segment".into(),
                RecordChange::Coalesce {
                    ready: None,
                    records: 1,
                    close: true,
                },
            ));
            if let Some(code) = last_ready(role, path) {
                out.push(one(
                    "ready",
                    format!(
                        "{}-and-records-in-one-segment",
                        crate::scenario::id_segment(&code.to_string())
                    ),
                    RecordChange::Coalesce {
                        ready: Some(code),
                        records: 2,
                        close: false,
                    },
                ));
            }
        }
        _ => {}
    }
    out
}
