//! TCP stream reassembly: each connection's two byte streams, in order, whatever the capture did
//! to the segments (retransmissions, overlaps, reordering), in time linear in the capture.

use crate::read::Segment;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// One direction of a stream.
#[derive(Debug, Default, Clone)]
pub struct Half {
    /// The bytes, in order, up to the first hole.
    pub data: Vec<u8>,
    /// For each segment that extended `data`: the length of `data` after it and its packet
    /// number, so that positions in the stream map back to packets.
    pub marks: Vec<(usize, usize)>,
    /// Segments that carried only bytes already received.
    pub retransmissions: usize,
    /// Segments that arrived before bytes that precede them.
    pub out_of_order: usize,
    /// A hole that was never filled: (offset, bytes missing). Data after it is not in `data`.
    pub hole: Option<(usize, usize)>,
    /// The sender closed its direction (FIN).
    pub fin: bool,
    /// The sender reset the connection.
    pub reset: bool,
    base: Option<u32>,
    pending: BTreeMap<u64, Vec<u8>>,
}

impl Half {
    /// The packet that carried the byte at `offset` (the one that completed it).
    pub fn packet_at(&self, offset: usize) -> Option<usize> {
        let i = self.marks.partition_point(|(end, _)| *end <= offset);
        self.marks.get(i).map(|(_, p)| *p)
    }

    fn append(&mut self, rel: u64, payload: &[u8], packet: usize) {
        let next = self.data.len() as u64;
        let skip = usize::try_from(next - rel).unwrap_or(usize::MAX);
        if let Some(tail) = payload.get(skip..) {
            if !tail.is_empty() {
                self.data.extend_from_slice(tail);
                self.marks.push((self.data.len(), packet));
            }
        }
    }

    fn segment(&mut self, seg: &Segment<'_>) {
        if seg.syn {
            self.base = Some(seg.seq.wrapping_add(1));
        }
        if seg.rst {
            self.reset = true;
        }
        if seg.payload.is_empty() {
            self.fin |= seg.fin;
            return;
        }
        let base = *self.base.get_or_insert(seg.seq);
        let offset = seg.seq.wrapping_sub(base);
        if (offset as i32) < 0 {
            // Bytes from before the stream's start: an old retransmission.
            self.retransmissions += 1;
            return;
        }
        let rel = u64::from(offset);
        let next = self.data.len() as u64;
        let end = rel + seg.payload.len() as u64;
        if end <= next {
            self.retransmissions += 1;
        } else if rel <= next {
            self.append(rel, seg.payload, seg.packet);
            self.drain(seg.packet);
        } else {
            self.out_of_order += 1;
            let slot = self.pending.entry(rel).or_default();
            if seg.payload.len() > slot.len() {
                *slot = seg.payload.to_vec();
            }
        }
        self.fin |= seg.fin;
    }

    /// Appends the pending segments that now follow on.
    fn drain(&mut self, packet: usize) {
        while let Some(entry) = self.pending.first_entry() {
            let rel = *entry.key();
            if rel > self.data.len() as u64 {
                break;
            }
            let payload = entry.remove();
            self.append(rel, &payload, packet);
        }
    }

    fn finish(&mut self) {
        if let Some((&rel, _)) = self.pending.first_key_value() {
            let at = self.data.len();
            let missing = usize::try_from(rel).unwrap_or(usize::MAX) - at;
            self.hole = Some((at, missing));
        }
        self.pending.clear();
    }
}

/// One TCP connection: its endpoints and both directions.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Index from 0 in order of first appearance (Wireshark's `tcp.stream`).
    pub index: usize,
    /// The side that opened the connection (sent the SYN, or received the SYN+ACK; else the
    /// first packet's sender).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// From the client.
    pub from_client: Half,
    /// From the server.
    pub from_server: Half,
}

impl Stream {
    fn closed(&self) -> bool {
        (self.from_client.fin && self.from_server.fin)
            || self.from_client.reset
            || self.from_server.reset
    }
}

/// Reassembles every TCP stream of a capture, given its segments in file order.
pub fn reassemble(segments: &[Segment<'_>]) -> Vec<Stream> {
    // Payload bytes per direction of each address pair: each direction's buffer is allocated
    // once (a long stream then costs one copy of its bytes, not a copy per doubling).
    let mut sizes: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for seg in segments.iter().filter(|s| !s.payload.is_empty()) {
        *sizes.entry((seg.src, seg.dst)).or_default() += seg.payload.len();
    }
    let mut r = Reassembler {
        sizes,
        ..Reassembler::default()
    };
    for seg in segments {
        r.push(seg);
    }
    r.finish()
}

/// Reassembles TCP streams from segments handed over one at a time, in file order (for reading
/// a capture in chunks).
#[derive(Debug, Default)]
pub struct Reassembler {
    streams: Vec<Stream>,
    by_pair: HashMap<(SocketAddr, SocketAddr), usize>,
    /// Known payload sizes per direction, to allocate each buffer once.
    sizes: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl Reassembler {
    /// Adds one segment (its payload is copied).
    pub fn push(&mut self, seg: &Segment<'_>) {
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let existing = self.by_pair.get(&key).copied();
        // A new SYN on a closed connection is a new connection on the same ports.
        let reuse =
            seg.syn && existing.is_some_and(|i| self.streams.get(i).is_some_and(Stream::closed));
        let i = match existing {
            Some(i) if !reuse => i,
            _ => {
                let index = self.streams.len();
                // A SYN+ACK comes from the side that accepted the connection.
                let (client, server) = if seg.syn && seg.ack {
                    (seg.dst, seg.src)
                } else {
                    (seg.src, seg.dst)
                };
                let half = |from: SocketAddr, to: SocketAddr| Half {
                    data: Vec::with_capacity(self.sizes.get(&(from, to)).copied().unwrap_or(0)),
                    ..Half::default()
                };
                let stream = Stream {
                    index,
                    client,
                    server,
                    from_client: half(client, server),
                    from_server: half(server, client),
                };
                self.streams.push(stream);
                self.by_pair.insert(key, index);
                index
            }
        };
        if let Some(stream) = self.streams.get_mut(i) {
            if seg.src == stream.client {
                stream.from_client.segment(seg);
            } else {
                stream.from_server.segment(seg);
            }
        }
    }

    /// The streams, in the order their first segments came.
    pub fn finish(mut self) -> Vec<Stream> {
        for s in &mut self.streams {
            s.from_client.finish();
            s.from_server.finish();
        }
        self.streams
    }
}
