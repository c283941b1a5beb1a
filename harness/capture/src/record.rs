//! What a capture records: the TCP connections of one case, each as the ordered list of what
//! either side put on the wire.

use std::net::SocketAddrV4;

/// The canonical address of the side that listens (the harness): captures use it instead of
/// the real ephemeral port so that they are byte-identical from run to run.
pub const CANONICAL_LISTENER: SocketAddrV4 = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 4433);
/// The canonical port of the connecting side's first connection; connection `n` uses this + n.
pub const CANONICAL_CONNECTOR_PORT: u16 = 49152;

/// Which way bytes travel, in TCP terms: the connector (the IUT, which always opens the
/// connection) or the listener (the harness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the side that opened the connection.
    FromConnector,
    /// From the side that accepted it.
    FromListener,
}

/// One thing a side did on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpEvent {
    /// Payload bytes in one segment, with a comment for the packet (the scenario step).
    Data {
        /// Who sent them.
        from: Direction,
        /// The bytes.
        bytes: Vec<u8>,
        /// Names the scenario step that sent or expected them.
        comment: String,
    },
    /// An orderly end of the sender's direction.
    Fin {
        /// Who closed.
        from: Direction,
    },
    /// An abortive close (the connection failed, or the process was killed).
    Reset {
        /// Who reset.
        from: Direction,
    },
}

/// One TCP connection of a recording.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The side that opened the connection.
    pub connector: SocketAddrV4,
    /// The side that accepted it.
    pub listener: SocketAddrV4,
    /// What happened, in order (recorded through [`Connection::data`], [`Connection::fin`]
    /// and [`Connection::reset`]).
    events: Vec<TcpEvent>,
    /// Whether each side has ended its direction: (connector, listener).
    ended: (bool, bool),
}

impl Connection {
    /// A connection with no events yet.
    pub fn new(connector: SocketAddrV4, listener: SocketAddrV4) -> Self {
        Self {
            connector,
            listener,
            events: Vec::new(),
            ended: (false, false),
        }
    }

    /// Whether `from` has ended its direction (FIN or reset).
    pub fn ended(&self, from: Direction) -> bool {
        match from {
            Direction::FromConnector => self.ended.0,
            Direction::FromListener => self.ended.1,
        }
    }

    /// What happened, in order.
    pub fn events(&self) -> &[TcpEvent] {
        &self.events
    }

    fn end(&mut self, from: Direction, event: TcpEvent) {
        if !self.ended(from) {
            self.events.push(event);
            match from {
                Direction::FromConnector => self.ended.0 = true,
                Direction::FromListener => self.ended.1 = true,
            }
        }
    }

    /// Records payload bytes (empty payloads are not recorded).
    pub fn data(&mut self, from: Direction, bytes: &[u8], comment: impl Into<String>) {
        if !bytes.is_empty() && !self.ended(from) {
            self.events.push(TcpEvent::Data {
                from,
                bytes: bytes.to_vec(),
                comment: comment.into(),
            });
        }
    }

    /// Records the end of `from`'s direction, once.
    pub fn fin(&mut self, from: Direction) {
        self.end(from, TcpEvent::Fin { from });
    }

    /// Records an abortive close by `from`, unless that side already ended.
    pub fn reset(&mut self, from: Direction) {
        self.end(from, TcpEvent::Reset { from });
    }
}

/// Every connection of one case, and a comment for the whole capture.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Describes the capture (case, IUT, seed), stored in the pcapng section header.
    pub comment: String,
    /// The connections, in the order they were opened.
    pub connections: Vec<Connection>,
}

impl Recording {
    /// A synthetic recording for speed measurements: one connection carrying `frames`
    /// APPLICATION frames with 512-byte bodies, alternately from each side, then a FIN from each.
    /// Written out it is `2 * frames + 7` packets (handshake, each segment and its ACK, FINs).
    pub fn synthetic(frames: usize) -> Self {
        let mut recording = Self::default();
        recording.open(None);
        if let Some(conn) = recording.current() {
            for i in 0..frames {
                let from = if i % 2 == 0 {
                    Direction::FromConnector
                } else {
                    Direction::FromListener
                };
                let fill = u8::try_from(i % 251).unwrap_or(0);
                let mut frame = vec![3, 0, 0x02, 0x00];
                frame.resize(4 + 512, fill);
                conn.data(from, &frame, String::new());
            }
            conn.fin(Direction::FromConnector);
            conn.fin(Direction::FromListener);
        }
        recording
    }

    /// Opens connection number `self.connections.len()`: with canonical addresses unless
    /// `real` gives the real ones.
    pub fn open(&mut self, real: Option<(SocketAddrV4, SocketAddrV4)>) {
        let n =
            u16::try_from(self.connections.len()).unwrap_or(u16::MAX - CANONICAL_CONNECTOR_PORT);
        let (connector, listener) = real.unwrap_or((
            SocketAddrV4::new(
                std::net::Ipv4Addr::LOCALHOST,
                CANONICAL_CONNECTOR_PORT.saturating_add(n),
            ),
            CANONICAL_LISTENER,
        ));
        self.connections.push(Connection::new(connector, listener));
    }

    /// The connection being recorded, if any.
    pub fn current(&mut self) -> Option<&mut Connection> {
        self.connections.last_mut()
    }
}
