//! The bTLS frames of reassembled streams: each frame decoded and described, problems reported
//! with the stream and offset (decoding goes on with the next frame, since every header gives
//! its body's length), protected frames opened when a key log has the session's secrets.

use crate::keylog::KeyLog;
use crate::profile::BtlsFraming;
use crate::wire::describe;
use btls::crypto::RecordKey;
use btls::msgs::{
    Alert, ContentType, FrameHeader, HandshakeCode, HandshakeMessage, FRAME_HEADER_LEN,
};
use harness_capture::framing::frame_len;
use harness_capture::reassemble::{Half, Stream};
use std::fmt::Write as _;

/// One frame of a stream (its bytes borrowed from the stream).
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// Sent by the side that opened the TCP connection.
    pub from_client: bool,
    /// Offset of the frame's first byte in its direction's byte stream.
    pub offset: usize,
    /// The packet that completed the frame.
    pub packet: Option<usize>,
    /// The frame's bytes (header and body).
    pub bytes: &'a [u8],
    /// One line describing it.
    pub text: String,
    /// Why it does not decode, if it does not.
    pub problem: Option<String>,
}

/// Every frame of one direction, in order.
fn frames_of(half: &Half, from_client: bool) -> Vec<Frame<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    let data = half.data.as_slice();
    while let Some(rest) = data.get(offset..).filter(|r| !r.is_empty()) {
        let mut frame = Frame {
            from_client,
            offset,
            packet: half.packet_at(offset),
            bytes: &[],
            text: String::new(),
            problem: None,
        };
        let Some(whole_len) = frame_len(&BtlsFraming, rest) else {
            frame.bytes = rest;
            frame.text = format!("partial header {}", hex::encode(rest));
            frame.problem = Some(format!(
                "the stream ends after {} bytes of a frame header",
                rest.len()
            ));
            out.push(frame);
            break;
        };
        let length = whole_len - FRAME_HEADER_LEN;
        let Some(whole) = rest.get(..whole_len) else {
            frame.bytes = rest;
            frame.text = describe(rest);
            frame.problem = Some(format!(
                "the stream ends inside the frame: length field {length}, {} body bytes follow",
                rest.len() - FRAME_HEADER_LEN
            ));
            frame.packet = half.marks.last().map(|(_, p)| *p);
            out.push(frame);
            break;
        };
        frame.bytes = whole;
        frame.packet = half.packet_at(offset + whole.len() - 1);
        offset += whole.len();
        out.push(frame);
    }
    out
}

/// Decodes and describes one direction's frames; `key` opens the protected ones.
fn judge(frames: &mut [Frame<'_>], mut key: Option<RecordKey>) {
    let mut protected = false;
    for f in frames.iter_mut().filter(|f| f.problem.is_none()) {
        let (ct, sub) = (
            ContentType(f.bytes.first().copied().unwrap_or(0)),
            f.bytes.get(1).copied().unwrap_or(0),
        );
        let body = f.bytes.get(FRAME_HEADER_LEN..).unwrap_or_default();
        f.text = describe(f.bytes);
        match ct {
            ContentType::HANDSHAKE => match HandshakeMessage::decode(HandshakeCode(sub), body) {
                Ok(Some(msg)) => {
                    if matches!(
                        msg,
                        HandshakeMessage::ClientReady(_) | HandshakeMessage::ServerReady(_)
                    ) {
                        protected = true;
                    }
                }
                Ok(None) => f.problem = Some(format!("unknown handshake code 0x{sub:02x}")),
                Err(e) => f.problem = Some(format!("does not decode: {e}")),
            },
            ContentType::ALERT | ContentType::APPLICATION if protected => {
                let Some(k) = key.as_mut() else { continue };
                let header = FrameHeader {
                    content_type: ct,
                    subcode: sub,
                    length: u16::try_from(body.len()).unwrap_or(u16::MAX),
                };
                let mut buf = body.to_vec();
                match k.open(header, &mut buf) {
                    Some(plain) if ct == ContentType::ALERT => match Alert::from_body(sub, plain) {
                        Ok(a) => {
                            f.text =
                                format!("ALERT {} level {} (decrypted)", a.description, a.level.0)
                        }
                        Err(e) => f.problem = Some(format!("decrypted alert: {e}")),
                    },
                    Some(plain) => {
                        f.text = format!(
                            "APPLICATION {} bytes (decrypted): {}",
                            plain.len(),
                            printable(plain)
                        );
                    }
                    None => {
                        f.problem = Some("does not open with the key log's secret".into());
                        key = None;
                    }
                }
            }
            ContentType::ALERT => {
                if let Err(e) = Alert::from_body(sub, body) {
                    f.problem = Some(format!("does not decode: {e}"));
                }
            }
            ContentType::APPLICATION => {
                f.problem = Some("application data before the sender's READY (BT-REC-6)".into());
            }
            other => f.problem = Some(format!("unknown content type {}", other.0)),
        }
    }
}

/// Application data as text when it is printable, else as hex (at most 64 bytes shown).
fn printable(bytes: &[u8]) -> String {
    let shown = bytes.get(..64).unwrap_or(bytes);
    let more = if shown.len() < bytes.len() { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n') => format!("{s:?}{more}"),
        _ => format!("{}{more}", hex::encode(shown)),
    }
}

/// The client randoms of a direction's CLIENT_HELLO frames.
fn client_randoms(frames: &[Frame<'_>]) -> Vec<[u8; 32]> {
    frames
        .iter()
        .filter_map(|f| {
            let body = f.bytes.get(FRAME_HEADER_LEN..)?;
            match HandshakeMessage::decode(HandshakeCode(*f.bytes.get(1)?), body) {
                Ok(Some(HandshakeMessage::ClientHello(h)))
                    if f.bytes.first() == Some(&ContentType::HANDSHAKE.0) =>
                {
                    Some(h.hello.random)
                }
                _ => None,
            }
        })
        .collect()
}

/// Every frame of `stream`, both directions interleaved in capture order.
pub fn decode_stream<'a>(stream: &'a Stream, keys: Option<&KeyLog>) -> Vec<Frame<'a>> {
    let mut a = frames_of(&stream.from_client, true);
    let mut b = frames_of(&stream.from_server, false);
    // The bTLS client is whichever side sent CLIENT_HELLO.
    let (randoms_a, randoms_b) = (client_randoms(&a), client_randoms(&b));
    let tcp_client_is_btls_client = !randoms_a.is_empty() || randoms_b.is_empty();
    let entry = keys.and_then(|k| {
        randoms_a
            .iter()
            .chain(&randoms_b)
            .rev()
            .find_map(|r| k.find(r))
    });
    let key_for = |btls_client: bool| {
        entry.and_then(|e| {
            let secret = if btls_client {
                &e.client_traffic
            } else {
                &e.server_traffic
            };
            RecordKey::from_traffic(e.cipher_suite, secret)
        })
    };
    judge(&mut a, key_for(tcp_client_is_btls_client));
    judge(&mut b, key_for(!tcp_client_is_btls_client));
    let mut all: Vec<Frame<'_>> = a.into_iter().chain(b).collect();
    all.sort_by_key(|f| (f.packet.unwrap_or(usize::MAX), !f.from_client, f.offset));
    all
}

/// The transcript of a stream as text: a header line, then one line per frame, then the
/// stream's TCP notes (holes, retransmissions, how it ended).
pub fn stream_text(stream: &Stream, frames: &[Frame<'_>]) -> String {
    let mut out = format!(
        "stream {}: {} → {}\n",
        stream.index, stream.client, stream.server
    );
    for f in frames {
        let arrow = if f.from_client { "c→s" } else { "s→c" };
        let packet = f.packet.map_or("-".to_owned(), |p| p.to_string());
        let _ = writeln!(out, "  #{packet:<6} {arrow} @{:<6} {}", f.offset, f.text);
        if let Some(p) = &f.problem {
            let _ = writeln!(
                out,
                "  !! stream {} {arrow} offset {}: {p}",
                stream.index, f.offset
            );
        }
    }
    for (name, half) in [("c→s", &stream.from_client), ("s→c", &stream.from_server)] {
        if let Some((at, missing)) = half.hole {
            let _ = writeln!(
                out,
                "  !! stream {} {name}: {missing} bytes missing at offset {at}; later bytes not decoded",
                stream.index
            );
        }
        if half.retransmissions + half.out_of_order > 0 {
            let _ = writeln!(
                out,
                "  {name}: {} retransmitted and {} out-of-order segments reassembled",
                half.retransmissions, half.out_of_order
            );
        }
        let end = if half.reset {
            "reset"
        } else if half.fin {
            "closed (FIN)"
        } else {
            "still open at the end of the capture"
        };
        let _ = writeln!(out, "  {name}: {} bytes, {end}", half.data.len());
    }
    out
}
