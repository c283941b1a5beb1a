//! The mutations of each generated class: what the IUT receives instead of a valid frame
//! (cuts, length fields from the layout table, bit flips, replays, selections, stalls), and the
//! list of them per class, received frame and path.

use super::cases::{Class, Rng};
use super::oracle::{Change, Received};
use crate::alter::{Alter, Patch};
use crate::scenario::id_segment;
use btls::msgs::layout::{place, Placed, Shape};
use btls::msgs::{
    AlertDescription, CipherSuite, ContentType, FrameHeader, HandshakeCode as H, KeyAlgorithm,
    FRAME_HEADER_LEN, MAX_FRAME_BODY,
};

/// A mutation of one received frame (or none: end of stream after the handshake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// The frame cut after this many bytes, then end of stream.
    Cut(usize),
    /// Bytes overwritten (length fields, random mutations).
    Patch(Vec<Patch>),
    /// One bit flipped.
    Flip(usize),
    /// After the completed handshake: optional application data, then end of stream.
    EndOfStream(Option<Vec<u8>>),
    /// A valid sample of this later message instead of the frame (skip, reorder).
    Instead(H),
    /// The frame, then the same frame again.
    Duplicate,
    /// These bytes instead of the frame (an alert).
    Raw(Vec<u8>),
    /// The same message of another session instead of the frame, the peer counting its own as
    /// sent.
    Replace(Vec<u8>),
    /// The message re-encoded with one field set to this value.
    Set(&'static str, u16),
    /// CLIENT_HELLO re-encoded with this cipher suite offer.
    Offer(Vec<u16>),
    /// The first this many bytes of the frame, then silence.
    Stall(usize),
    /// The frame one byte at a time.
    Trickle,
    /// Every frame of the handshake one byte at a time.
    TrickleAll,
    /// These bytes (hex) appended to the body, the frame's length fixed.
    Append(String),
    /// After the completed handshake: protected application records the peer seals, changed on
    /// the way (classes records-order, records-tamper, coalesce).
    Records(super::records::RecordChange),
}

impl Mutation {
    /// The frame change the oracle judges: the very `alter` the case's scenario sends.
    fn alter(&self) -> Result<Alter, String> {
        #[derive(serde::Deserialize)]
        struct Step {
            alter: Alter,
        }
        toml::from_str::<Step>(&format!("alter = {}", self.toml()))
            .map(|s| s.alter)
            .map_err(|e| format!("generated alter {}: {}", self.toml(), e.message()))
    }

    /// Lines the case adds to the `[iut]` table: a stall waits for the IUT's handshake timeout,
    /// so stall cases set it to 1 s.
    pub(super) fn iut_lines(&self) -> &'static str {
        match self {
            Self::Stall(_) => "handshake_timeout_ms = 1000\n",
            _ => "",
        }
    }

    /// What the oracle is asked about.
    pub(super) fn change(&self) -> Result<Change, String> {
        Ok(match self {
            Self::Cut(k) => Change::Cut(*k),
            Self::Stall(k) => Change::Stall(*k),
            Self::Trickle => Change::Trickle,
            Self::Instead(code) => Change::Instead(*code),
            Self::Duplicate => Change::Duplicate,
            Self::Raw(bytes) => Change::Bytes(bytes.clone()),
            _ => Change::Alter(Box::new(self.alter()?)),
        })
    }

    /// The `alter` table of the step that sends the changed frame.
    pub(super) fn toml(&self) -> String {
        match self {
            Self::Cut(k) | Self::Stall(k) => format!("{{ truncate_frame = {k} }}"),
            Self::Flip(b) => format!("{{ flip_bit = {b} }}"),
            Self::Patch(p) => {
                let items: Vec<String> = p
                    .iter()
                    .map(|p| format!("{{ at = {}, hex = \"{}\" }}", p.at, p.hex))
                    .collect();
                format!("{{ patch = [{}] }}", items.join(", "))
            }
            Self::Replace(bytes) => format!("{{ replace = \"{}\" }}", hex::encode(bytes)),
            Self::Set(field, value) => format!("{{ set = {{ {field} = {value} }} }}"),
            Self::Append(hex) => format!("{{ append = \"{hex}\" }}"),
            Self::Offer(suites) => {
                let list: Vec<String> = suites.iter().map(u16::to_string).collect();
                format!("{{ set = {{ cipher_suites = [{}] }} }}", list.join(", "))
            }
            _ => "{}".to_owned(),
        }
    }
}

/// A length prefix inside a handshake body: its field's name, offset in the frame, width in
/// bytes, and the largest value the field allows (from the layout table).
fn inner_lengths(code: H, frame: &[u8]) -> Vec<(String, usize, usize, usize)> {
    let body = frame.get(FRAME_HEADER_LEN..).unwrap_or_default();
    place(code, body)
        .into_iter()
        .filter_map(|p| match p.field.shape {
            Shape::Prefixed { width, max, .. } => Some((
                p.field.name.to_owned(),
                FRAME_HEADER_LEN + p.offset,
                width,
                max,
            )),
            Shape::Fixed(_) => None,
        })
        .collect()
}

fn length_values(current: usize, width: usize, max: usize) -> Vec<usize> {
    let limit = 1usize << (8 * width);
    let mut v: Vec<usize> = [
        0,
        1,
        current.wrapping_sub(1),
        current + 1,
        0x7FFF,
        0x8000,
        0xFFFF,
        max + 1,
    ]
    .into_iter()
    .filter(|v| *v < limit && *v != current)
    .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Values tried in a selection field whose registry has the values `registered`: 0, each
/// registered value, the first unassigned one, the largest signed and the largest value.
fn selections(registered: impl Iterator<Item = u16>) -> Vec<u16> {
    let registered: Vec<u16> = registered.collect();
    let unassigned = registered.iter().max().map_or(1, |m| m.saturating_add(1));
    let mut v = vec![0, unassigned, 0x7FFF, 0xFFFF];
    v.extend(registered);
    v.sort_unstable();
    v.dedup();
    v
}

/// The selection fields of a message (re-encoded with `alter.set`).
fn selection_fields(code: H) -> &'static [&'static str] {
    match code {
        H::CLIENT_HELLO => &["key_algorithm", "cipher_suites"],
        H::SERVER_HELLO | H::SENDING_KEY => &["key_algorithm"],
        H::SESSION_DETAILS => &["cipher_suite"],
        _ => &[],
    }
}

/// The mutations of `class` for one received frame: (family, label, mutation). `other`: the
/// frame at the same position of another session (class replay).
pub fn mutations(
    class: Class,
    frame: &Received,
    later: &[H],
    other: Option<&Received>,
    rng: &mut Rng,
    random: usize,
) -> Vec<(String, String, Mutation)> {
    let bytes = &frame.bytes;
    match class {
        Class::Boundaries => boundaries(frame),
        Class::SessionIds => session_ids(frame),
        Class::ContentTypes => {
            let mut values: Vec<u8> = ContentType::ALL.iter().map(|c| c.0).collect();
            let unassigned = values.iter().max().map_or(0, |m| m.saturating_add(1));
            values.extend([0, unassigned, 0x7F, 0xFF]);
            header_values(bytes, 0, values, "content-type")
        }
        Class::Codes => {
            let mut values: Vec<u8> = H::ALL.iter().map(|c| c.0).collect();
            let unassigned = values.iter().max().map_or(0, |m| m.saturating_add(1));
            values.extend([0, unassigned, 0x7F, 0xFF]);
            header_values(bytes, 1, values, "code")
        }
        Class::Trailing => {
            let room = MAX_FRAME_BODY.saturating_sub(bytes.len().saturating_sub(FRAME_HEADER_LEN));
            let mut out: Vec<(String, String, Mutation)> = [
                ("one-zero", "00".to_owned()),
                ("one-ff", "ff".to_owned()),
                ("sixteen", "5a".repeat(16)),
                ("a-field-again", trailing_field(frame)),
            ]
            .into_iter()
            .filter(|(_, hex)| !hex.is_empty() && hex.len() / 2 <= room)
            .map(|(label, hex)| ("trailing".into(), label.into(), Mutation::Append(hex)))
            .collect();
            if room > 0 {
                // Up to the largest body a frame may carry (BT-FRAME-2 still holds).
                out.push((
                    "trailing".into(),
                    "to-the-frame-limit".into(),
                    Mutation::Append("00".repeat(room)),
                ));
            }
            out
        }
        Class::RecordsOrder | Class::RecordsTamper | Class::Coalesce => Vec::new(),
        Class::Replay => other
            .filter(|o| o.code == frame.code && o.bytes != frame.bytes)
            .map(|o| {
                vec![(
                    "replay".into(),
                    "other-session".into(),
                    Mutation::Replace(o.bytes.clone()),
                )]
            })
            .unwrap_or_default(),
        Class::Selection => {
            let mut out = Vec::new();
            for field in selection_fields(frame.code) {
                let values = if field.starts_with("cipher_suite") {
                    selections(CipherSuite::ALL.iter().map(|s| s.0))
                } else {
                    selections(KeyAlgorithm::ALL.iter().map(|a| a.0))
                };
                for v in values {
                    let (label, mutation) = if *field == "cipher_suites" {
                        // The offer narrowed to this one value.
                        (format!("offer-only-{v:04x}"), Mutation::Offer(vec![v]))
                    } else {
                        (
                            format!("{}-{v:04x}", id_segment(field)),
                            Mutation::Set(field, v),
                        )
                    };
                    let changes = mutation
                        .alter()
                        .and_then(|a| crate::alter::apply(bytes.clone(), &a))
                        .map_or(true, |changed| changed != *bytes);
                    if changes {
                        out.push((id_segment(field), label, mutation));
                    }
                }
            }
            out
        }
        Class::Timing => {
            let mut cuts = vec![
                0,
                FRAME_HEADER_LEN - 1,
                FRAME_HEADER_LEN,
                bytes.len().saturating_sub(1),
            ];
            cuts.dedup();
            let mut out: Vec<_> = cuts
                .into_iter()
                .map(|k| {
                    (
                        "stall".into(),
                        format!("stall-after-{k}"),
                        Mutation::Stall(k),
                    )
                })
                .collect();
            out.push((
                "trickle".into(),
                "one-byte-at-a-time".into(),
                Mutation::Trickle,
            ));
            out
        }
        Class::Alerts => {
            let mut descriptions: Vec<u8> = AlertDescription::ALL.iter().map(|a| a.0).collect();
            descriptions.push(255);
            descriptions
                .into_iter()
                .flat_map(|d| {
                    let level = if d == 0 { 1 } else { 2 };
                    [(level, "alert"), (3 - level, "alert-other-level")]
                        .into_iter()
                        .map(move |(level, family)| {
                            let frame = FrameHeader::frame(ContentType::ALERT, d, &[level]);
                            (
                                family.into(),
                                format!("{d}-level-{level}"),
                                Mutation::Raw(frame),
                            )
                        })
                })
                .collect()
        }
        Class::Order => {
            let mut out = vec![("duplicate".into(), "duplicate".into(), Mutation::Duplicate)];
            for (n, code) in later.iter().enumerate() {
                let (family, label) = if n == 0 {
                    ("skip", "skip")
                } else {
                    ("reorder", "early")
                };
                out.push((
                    family.into(),
                    format!("{label}-{}", id_segment(&code.to_string())),
                    Mutation::Instead(*code),
                ));
            }
            out
        }
        Class::Truncation => (0..bytes.len())
            .map(|k| ("cut".into(), format!("cut-{k}"), Mutation::Cut(k)))
            .collect(),
        Class::Lengths => {
            let body = bytes.len().saturating_sub(FRAME_HEADER_LEN);
            let mut fields = vec![("frame-length".to_owned(), 2, 2, MAX_FRAME_BODY)];
            fields.extend(inner_lengths(frame.code, bytes));
            let mut out = Vec::new();
            for (name, at, width, max) in fields {
                let current = bytes.get(at..at + width).map_or(body, |b| {
                    b.iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b))
                });
                for v in length_values(current, width, max) {
                    let be = v.to_be_bytes();
                    let hex = hex::encode(be.get(be.len() - width..).unwrap_or_default());
                    out.push((
                        format!("{name}-length"),
                        format!("{name}-{v}"),
                        Mutation::Patch(vec![Patch { at, hex }]),
                    ));
                }
            }
            out
        }
        Class::Bitflips => {
            let mut out: Vec<_> = (0..bytes.len() * 8)
                .map(|b| ("flip".into(), format!("bit-{b}"), Mutation::Flip(b)))
                .collect();
            for n in 0..random {
                let count = 1 + rng.below(4);
                let mut patches: Vec<Patch> = (0..count)
                    .map(|_| Patch {
                        at: rng.below(bytes.len()),
                        hex: format!("{:02x}", rng.next_u64() & 0xFF),
                    })
                    .collect();
                patches.sort_by_key(|p| p.at);
                patches.dedup_by_key(|p| p.at);
                out.push((
                    "random".into(),
                    format!("random-{n}"),
                    Mutation::Patch(patches),
                ));
            }
            out
        }
    }
}

/// The frame with its header byte `at` set to each of `values` (other than its own).
fn header_values(
    bytes: &[u8],
    at: usize,
    mut values: Vec<u8>,
    family: &str,
) -> Vec<(String, String, Mutation)> {
    values.sort_unstable();
    values.dedup();
    let current = bytes.get(at).copied();
    values
        .into_iter()
        .filter(|v| Some(*v) != current)
        .map(|v| {
            (
                family.to_owned(),
                format!("{family}-{v:02x}"),
                Mutation::Patch(vec![Patch {
                    at,
                    hex: format!("{v:02x}"),
                }]),
            )
        })
        .collect()
}

/// The message's last field encoded once more (its prefix and value), as a sender that writes a
/// field twice would: trailing bytes that look like a field.
fn trailing_field(frame: &Received) -> String {
    let body = frame.bytes.get(FRAME_HEADER_LEN..).unwrap_or_default();
    place(frame.code, body)
        .last()
        .and_then(|p| {
            let head = match p.field.shape {
                Shape::Fixed(_) => 0,
                Shape::Prefixed { width, .. } => width,
            };
            body.get(p.offset..p.offset + head + p.len)
        })
        .map(hex::encode)
        .unwrap_or_default()
}

/// `frame` with field `placed`'s value replaced by `value`, its prefix (if any) and the frame's
/// length fixed; `None` when the prefix or the frame length cannot hold it.
fn splice(frame: &[u8], placed: &Placed, value: &[u8]) -> Option<Vec<u8>> {
    let body = frame.get(FRAME_HEADER_LEN..)?;
    let head = match placed.field.shape {
        Shape::Fixed(_) => 0,
        Shape::Prefixed { width, .. } => width,
    };
    let mut out = frame.get(..FRAME_HEADER_LEN)?.to_vec();
    out.extend(body.get(..placed.offset)?);
    if head > 0 {
        if value.len() >= 1usize << (8 * head) {
            return None;
        }
        let be = value.len().to_be_bytes();
        out.extend(be.get(be.len() - head..)?);
    }
    out.extend(value);
    out.extend(body.get(placed.offset + head + placed.len..)?);
    let len = u16::try_from(out.len() - FRAME_HEADER_LEN).ok()?;
    if usize::from(len) > MAX_FRAME_BODY {
        return None;
    }
    out.get_mut(2..4)?.copy_from_slice(&len.to_be_bytes());
    Some(out)
}

/// `value`'s bytes repeated (or `fill` when it is empty) to `len` bytes.
fn filled(value: &[u8], len: usize, fill: u8) -> Vec<u8> {
    if value.is_empty() {
        return vec![fill; len];
    }
    value.iter().copied().cycle().take(len).collect()
}

/// Class boundaries: each field of the message re-encoded at the edges the field-layout table
/// gives it. A prefixed field holds its fewest and most bytes and one past each (where its
/// prefix can say so), the prefix and the frame length fixed; a fixed field holds its smallest
/// and largest value and the values one inside them.
fn boundaries(frame: &Received) -> Vec<(String, String, Mutation)> {
    let body = frame.bytes.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let mut out = Vec::new();
    for placed in place(frame.code, body) {
        let name = id_segment(placed.field.name);
        let head = match placed.field.shape {
            Shape::Fixed(_) => 0,
            Shape::Prefixed { width, .. } => width,
        };
        let current = body
            .get(placed.offset + head..placed.offset + head + placed.len)
            .unwrap_or_default();
        let values: Vec<(String, Vec<u8>)> = match placed.field.shape {
            Shape::Prefixed { min, max, .. } => {
                let mut lens = vec![min, max, max + 1];
                if min > 0 {
                    lens.push(min - 1);
                }
                lens.sort_unstable();
                lens.dedup();
                lens.into_iter()
                    .filter(|n| *n != current.len())
                    .map(|n| (format!("{name}-{n}-bytes"), filled(current, n, 0x61)))
                    .collect()
            }
            Shape::Fixed(size) => {
                let mut one = vec![0u8; size];
                if let Some(last) = one.last_mut() {
                    *last = 1;
                }
                let mut below_max = vec![0xFFu8; size];
                if let Some(last) = below_max.last_mut() {
                    *last = 0xFE;
                }
                vec![
                    (format!("{name}-zero"), vec![0u8; size]),
                    (format!("{name}-one"), one),
                    (format!("{name}-max-less-one"), below_max),
                    (format!("{name}-max"), vec![0xFFu8; size]),
                ]
                .into_iter()
                .filter(|(_, v)| v.as_slice() != current)
                .collect()
            }
        };
        for (label, value) in values {
            if let Some(bytes) = splice(&frame.bytes, &placed, &value) {
                out.push((format!("{name}-boundary"), label, Mutation::Replace(bytes)));
            }
        }
    }
    out
}

/// Class session-ids: the session IDs of the hellos and of SESSION_DETAILS replaced: absent,
/// one byte, 31 and 33 bytes, all zero and all 0xFF, and the ID with its first or last byte
/// changed (an ID the receiver never issued or offered).
fn session_ids(frame: &Received) -> Vec<(String, String, Mutation)> {
    let body = frame.bytes.get(FRAME_HEADER_LEN..).unwrap_or_default();
    let Some(placed) = place(frame.code, body)
        .into_iter()
        .find(|p| p.field.name == "session_id")
    else {
        return Vec::new();
    };
    let head = match placed.field.shape {
        Shape::Fixed(_) => 0,
        Shape::Prefixed { width, .. } => width,
    };
    let current = body
        .get(placed.offset + head..placed.offset + head + placed.len)
        .unwrap_or_default()
        .to_vec();
    let seed = if current.is_empty() {
        vec![0x5A; 32]
    } else {
        current.clone()
    };
    let mut first = seed.clone();
    let mut last = seed.clone();
    if let Some(b) = first.first_mut() {
        *b ^= 0x01;
    }
    if let Some(b) = last.last_mut() {
        *b ^= 0x80;
    }
    let mut values = vec![
        ("all-zero", vec![0u8; 32]),
        ("all-ff", vec![0xFFu8; 32]),
        ("first-byte-changed", first),
        ("last-byte-changed", last),
    ];
    if head > 0 {
        values.extend([
            ("absent", Vec::new()),
            ("one-byte", seed.get(..1).unwrap_or_default().to_vec()),
            ("31-bytes", seed.get(..31).unwrap_or_default().to_vec()),
            ("33-bytes", filled(&seed, 33, 0x5A)),
        ]);
    }
    values
        .into_iter()
        .filter(|(_, v)| *v != current)
        .filter_map(|(label, v)| {
            splice(&frame.bytes, &placed, &v)
                .map(|bytes| ("session-id".into(), label.into(), Mutation::Replace(bytes)))
        })
        .collect()
}
