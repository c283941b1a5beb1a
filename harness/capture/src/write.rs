//! Writing a [`Recording`] as a capture: Ethernet/IPv4/TCP packets with a three-way handshake,
//! correct sequence and acknowledgement numbers and checksums, every payload acknowledged, and
//! the closing FIN (or RST) exchange, on a deterministic clock.

use crate::record::{Connection, Direction, Recording, TcpEvent};
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{PcapNgWriter, RawBlock};
use pcap_file::{DataLink, TsResolution};
use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

/// The capture file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// pcapng, with a comment on every packet naming the scenario step.
    #[default]
    Pcapng,
    /// Classic pcap (nanosecond timestamps; no comments).
    Pcap,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pcapng => "pcapng",
            Self::Pcap => "pcap",
        }
    }
}

/// The first packet's time: 2026-01-01T00:00:00Z. Each packet is 10 µs after the one before and
/// each connection starts on the next whole millisecond, so that captures are deterministic.
const EPOCH: Duration = Duration::from_secs(1_767_225_600);
const PACKET_STEP: Duration = Duration::from_micros(10);
/// Payloads above this size are split over several segments (the loopback MSS is larger).
const MAX_SEGMENT: usize = 32 * 1024;
const WINDOW: u16 = 65_535;
const TTL: u8 = 64;

/// One packet to write.
struct Packet {
    time: Duration,
    bytes: Vec<u8>,
    comment: Option<String>,
}

/// The TCP state of one side while packets are generated.
struct Side {
    addr: std::net::SocketAddrV4,
    mac: [u8; 6],
    /// Next sequence number this side sends.
    seq: u32,
}

#[derive(Clone, Copy)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
}

/// Turns the connections of a recording into packets.
struct Packets {
    clock: Duration,
    out: Vec<Packet>,
}

impl Packets {
    fn emit(
        &mut self,
        from: &mut Side,
        to: &Side,
        flags: Flags,
        payload: &[u8],
        comment: Option<String>,
    ) -> std::io::Result<()> {
        let ack = to.seq;
        let base = PacketBuilder::ethernet2(from.mac, to.mac)
            .ipv4(from.addr.ip().octets(), to.addr.ip().octets(), TTL)
            .tcp(from.addr.port(), to.addr.port(), from.seq, WINDOW);
        let builder = match flags {
            Flags::Syn => base.syn(),
            Flags::SynAck => base.syn().ack(ack),
            Flags::Ack => base.ack(ack),
            Flags::Data => base.ack(ack).psh(),
            Flags::Fin => base.fin().ack(ack),
            Flags::Rst => base.rst().ack(ack),
        };
        let mut bytes = Vec::with_capacity(builder.size(payload.len()));
        builder
            .write(&mut bytes, payload)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let consumed = match flags {
            Flags::Syn | Flags::SynAck | Flags::Fin => 1,
            Flags::Data => u32::try_from(payload.len()).unwrap_or(u32::MAX),
            Flags::Ack | Flags::Rst => 0,
        };
        from.seq = from.seq.wrapping_add(consumed);
        self.out.push(Packet {
            time: self.clock,
            bytes,
            comment,
        });
        self.clock += PACKET_STEP;
        Ok(())
    }

    fn connection(&mut self, index: usize, conn: &Connection) -> std::io::Result<()> {
        let n = u32::try_from(index).unwrap_or(u32::MAX);
        let mut connector = Side {
            addr: conn.connector,
            mac: [0x02, 0, 0, 0, 0, 0x01],
            seq: 0x1000_0000_u32.wrapping_add(n.wrapping_mul(0x0100_0000)),
        };
        let mut listener = Side {
            addr: conn.listener,
            mac: [0x02, 0, 0, 0, 0, 0x02],
            seq: 0x8000_0000_u32.wrapping_add(n.wrapping_mul(0x0100_0000)),
        };
        // Start on the next whole millisecond.
        let ms = self.clock.as_millis() + 1;
        self.clock = Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
        self.emit(&mut connector, &listener, Flags::Syn, &[], None)?;
        self.emit(&mut listener, &connector, Flags::SynAck, &[], None)?;
        self.emit(&mut connector, &listener, Flags::Ack, &[], None)?;
        // (connector closed, listener closed)
        let mut fin = (false, false);
        for event in conn.events() {
            let (from, flags, payload, comment) = match event {
                TcpEvent::Data {
                    from,
                    bytes,
                    comment,
                } => (*from, Flags::Data, bytes.as_slice(), Some(comment)),
                TcpEvent::Fin { from } => (*from, Flags::Fin, &[][..], None),
                TcpEvent::Reset { from } => (*from, Flags::Rst, &[][..], None),
            };
            let (sender, receiver) = match from {
                Direction::FromConnector => (&mut connector, &mut listener),
                Direction::FromListener => (&mut listener, &mut connector),
            };
            match flags {
                Flags::Data => {
                    for chunk in payload.chunks(MAX_SEGMENT) {
                        self.emit(sender, receiver, Flags::Data, chunk, comment.cloned())?;
                        self.emit(receiver, sender, Flags::Ack, &[], None)?;
                    }
                }
                Flags::Fin => {
                    self.emit(sender, receiver, Flags::Fin, &[], None)?;
                    self.emit(receiver, sender, Flags::Ack, &[], None)?;
                    match from {
                        Direction::FromConnector => fin.0 = true,
                        Direction::FromListener => fin.1 = true,
                    }
                }
                _ => {
                    // A reset ends the connection for both sides.
                    self.emit(sender, receiver, Flags::Rst, &[], None)?;
                    return Ok(());
                }
            }
        }
        // A side that never closed (its process was killed) is shown as a reset.
        if !(fin.0 && fin.1) {
            let (sender, receiver) = if fin.0 {
                (&mut listener, &mut connector)
            } else {
                (&mut connector, &mut listener)
            };
            self.emit(sender, receiver, Flags::Rst, &[], None)?;
        }
        Ok(())
    }
}

fn io_error(e: pcap_file::PcapError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Writes `recording` to `out` in `format`.
pub fn write_capture(
    recording: &Recording,
    format: Format,
    out: impl Write,
) -> std::io::Result<()> {
    write_capture_with_secrets(recording, format, None, out)
}

/// The block type of a pcapng Decryption Secrets Block.
const DECRYPTION_SECRETS_BLOCK: u32 = 0x0000_000A;
/// Its secrets type for a TLS key log (NSS key log format): `TLSK`.
pub const TLS_KEY_LOG: u32 = 0x544c_534b;

/// A Decryption Secrets Block body: secrets type, length, the secrets padded to 32 bits, no
/// options; big-endian, as the section header the writer starts with.
fn secrets_block(kind: u32, secrets: &[u8]) -> RawBlock<'static> {
    let mut body = Vec::with_capacity(8 + secrets.len() + 3);
    body.extend_from_slice(&kind.to_be_bytes());
    body.extend_from_slice(
        &u32::try_from(secrets.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    body.extend_from_slice(secrets);
    body.resize(body.len().next_multiple_of(4), 0);
    let len = u32::try_from(body.len() + 12).unwrap_or(u32::MAX);
    RawBlock {
        type_: DECRYPTION_SECRETS_BLOCK,
        initial_len: len,
        body: Cow::Owned(body),
        trailer_len: len,
    }
}

/// As [`write_capture`]; a pcapng also carries `secrets` (a secrets type such as
/// [`TLS_KEY_LOG`] and its bytes) in a Decryption Secrets Block before the first packet, so that
/// Wireshark decrypts the capture with no option. A classic pcap has no place for them.
pub fn write_capture_with_secrets(
    recording: &Recording,
    format: Format,
    secrets: Option<(u32, &[u8])>,
    out: impl Write,
) -> std::io::Result<()> {
    let mut packets = Packets {
        clock: EPOCH,
        out: Vec::new(),
    };
    for (i, conn) in recording.connections.iter().enumerate() {
        packets.connection(i, conn)?;
    }
    match format {
        Format::Pcapng => {
            let mut options = vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                "btls-harness",
            ))];
            if !recording.comment.is_empty() {
                options.push(SectionHeaderOption::Comment(Cow::Owned(
                    recording.comment.clone(),
                )));
            }
            let section = SectionHeaderBlock {
                options,
                ..Default::default()
            };
            let mut w = PcapNgWriter::with_section_header(out, section).map_err(io_error)?;
            w.write_pcapng_block(InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: 0,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed("lo")),
                    // pcap-file writes nanosecond timestamps: say so (the default is µs).
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            })
            .map_err(io_error)?;
            if let Some((kind, bytes)) = secrets {
                w.write_raw_block(&secrets_block(kind, bytes))
                    .map_err(io_error)?;
            }
            for p in packets.out {
                let len = u32::try_from(p.bytes.len()).unwrap_or(u32::MAX);
                w.write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: p.time,
                    original_len: len,
                    data: Cow::Owned(p.bytes),
                    options: p
                        .comment
                        .map(|c| vec![EnhancedPacketOption::Comment(Cow::Owned(c))])
                        .unwrap_or_default(),
                })
                .map_err(io_error)?;
            }
            w.into_inner().flush()
        }
        Format::Pcap => {
            let header = PcapHeader {
                datalink: DataLink::ETHERNET,
                ts_resolution: TsResolution::NanoSecond,
                snaplen: 65_535,
                ..Default::default()
            };
            let mut w = PcapWriter::with_header(out, header).map_err(io_error)?;
            for p in packets.out {
                let len = u32::try_from(p.bytes.len()).unwrap_or(u32::MAX);
                w.write_packet(&PcapPacket::new_owned(p.time, len, p.bytes))
                    .map_err(io_error)?;
            }
            w.into_writer().flush()
        }
    }
}
