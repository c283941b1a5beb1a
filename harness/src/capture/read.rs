//! Reading pcap and pcapng files into TCP segments, whatever wrote them: the harness, tcpdump on
//! an Ethernet or loopback interface, or `tcpdump -i any` (Linux cooked captures).

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{DataLink, PcapError};
use std::net::SocketAddr;
use std::time::Duration;

/// A capture that cannot be read, with the file and the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: at byte offset {offset}: {message}")]
pub struct CaptureError {
    /// The file, as the user named it.
    pub file: String,
    /// Where in the file the problem is.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// One TCP segment of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The packet's number in the file, from 1 (as Wireshark counts).
    pub packet: usize,
    /// Capture time since the Unix epoch.
    pub time: Duration,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// SYN flag.
    pub syn: bool,
    /// ACK flag.
    pub ack: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// The payload.
    pub payload: &'a [u8],
}

/// What reading a capture gave.
#[derive(Debug, Default)]
pub struct Capture<'a> {
    /// Every TCP segment, in file order.
    pub segments: Vec<Segment<'a>>,
    /// Packets that were not TCP/IP (ARP, UDP, …), skipped.
    pub skipped: usize,
    /// Packets that could not be parsed as what their link type says, with the reason.
    pub warnings: Vec<String>,
    /// The pcapng section comment, if any (the harness names the case and seed there).
    pub comment: Option<String>,
    /// Set when the file ends in the middle of a record: everything before it was read.
    pub truncated: Option<CaptureError>,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];

/// Whether a link type is one [`read_capture`] decodes.
fn supported(link: DataLink) -> bool {
    matches!(
        link,
        DataLink::ETHERNET
            | DataLink::LINUX_SLL
            | DataLink::LINUX_SLL2
            | DataLink::RAW
            | DataLink::IPV4
            | DataLink::IPV6
            | DataLink::NULL
            | DataLink::LOOP
    )
}

/// Slices a packet of link type `link` down to its transport layer.
fn slice(link: DataLink, data: &[u8]) -> Result<SlicedPacket<'_>, String> {
    let after = |n: usize| {
        data.get(n..)
            .ok_or_else(|| "shorter than its link header".to_owned())
    };
    // Linux cooked captures (`-i any`) carry the protocol in a fixed place of their header,
    // whatever the device's hardware type (loopback's 772 included).
    let cooked = |at: usize, len: usize| {
        let proto = data
            .get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes)
            .ok_or("shorter than its link header")?;
        Ok::<_, String>(SlicedPacket::from_ether_type(EtherType(proto), after(len)?))
    };
    let r = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
        DataLink::LINUX_SLL => cooked(14, 16)?,
        DataLink::LINUX_SLL2 => cooked(0, 20)?,
        DataLink::NULL | DataLink::LOOP => SlicedPacket::from_ip(after(4)?),
        _ => SlicedPacket::from_ip(data),
    };
    r.map_err(|e| e.to_string())
}

struct Reader<'a, 'f> {
    file: &'f str,
    out: Capture<'a>,
}

impl<'a> Reader<'a, '_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> CaptureError {
        CaptureError {
            file: self.file.to_owned(),
            offset,
            message: message.into(),
        }
    }

    fn packet(&mut self, link: DataLink, time: Duration, data: &'a [u8]) {
        let packet = self.out.segments.len() + self.out.skipped + self.out.warnings.len() + 1;
        let sliced = match slice(link, data) {
            Ok(s) => s,
            Err(e) => {
                self.out
                    .warnings
                    .push(format!("packet {packet}: not a valid packet: {e}"));
                return;
            }
        };
        let (src, dst) = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => (
                std::net::IpAddr::V4(ip.header().source_addr()),
                std::net::IpAddr::V4(ip.header().destination_addr()),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                std::net::IpAddr::V6(ip.header().source_addr()),
                std::net::IpAddr::V6(ip.header().destination_addr()),
            ),
            _ => {
                self.out.skipped += 1;
                return;
            }
        };
        let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
            self.out.skipped += 1;
            return;
        };
        self.out.segments.push(Segment {
            packet,
            time,
            src: SocketAddr::new(src, tcp.source_port()),
            dst: SocketAddr::new(dst, tcp.destination_port()),
            seq: tcp.sequence_number(),
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
        });
    }

    fn pcap(&mut self, data: &'a [u8]) -> Result<(), CaptureError> {
        let (mut rest, parser) = PcapParser::new(data)
            .map_err(|e| self.error(0, format!("bad pcap file header: {e}")))?;
        let link = parser.header().datalink;
        if !supported(link) {
            return Err(self.error(20, format!("unsupported link type {link:?}")));
        }
        while !rest.is_empty() {
            let offset = data.len() - rest.len();
            match parser.next_packet(rest) {
                Ok((next, packet)) => {
                    let bytes: &'a [u8] = match packet.data {
                        std::borrow::Cow::Borrowed(b) => b,
                        std::borrow::Cow::Owned(_) => &[],
                    };
                    self.packet(link, packet.timestamp, bytes);
                    rest = next;
                }
                Err(e) => {
                    self.out.truncated = Some(self.error(offset, record_problem(&e, "packet")));
                    break;
                }
            }
        }
        Ok(())
    }

    fn pcapng(&mut self, data: &'a [u8]) -> Result<(), CaptureError> {
        let (mut rest, mut parser) = PcapNgParser::new(data)
            .map_err(|e| self.error(0, format!("bad pcapng section header: {e}")))?;
        self.out.comment = parser.section().options.iter().find_map(|o| match o {
            pcap_file::pcapng::blocks::section_header::SectionHeaderOption::Comment(c) => {
                Some(c.to_string())
            }
            _ => None,
        });
        // Per interface: link type and the factor from the parser's nanoseconds to real time.
        let mut interfaces: Vec<(DataLink, u32)> = Vec::new();
        while !rest.is_empty() {
            let offset = data.len() - rest.len();
            let (next, block) = match parser.next_block(rest) {
                Ok(b) => b,
                Err(e) => {
                    self.out.truncated = Some(self.error(offset, record_problem(&e, "block")));
                    break;
                }
            };
            rest = next;
            let (interface, raw, bytes) = match block {
                Block::InterfaceDescription(idb) => {
                    if !supported(idb.linktype) {
                        return Err(
                            self.error(offset, format!("unsupported link type {:?}", idb.linktype))
                        );
                    }
                    let resolution = idb.options.iter().find_map(|o| match o {
                        InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                        _ => None,
                    });
                    // Decimal resolutions only; the default is microseconds.
                    let factor = match resolution.unwrap_or(6) {
                        r @ 0..=9 => 10u32.pow(9 - u32::from(r)),
                        _ => 1,
                    };
                    interfaces.push((idb.linktype, factor));
                    continue;
                }
                Block::EnhancedPacket(epb) => (epb.interface_id, epb.timestamp, epb.data),
                Block::SimplePacket(spb) => (0, Duration::ZERO, spb.data),
                Block::Packet(pb) => (
                    u32::from(pb.interface_id),
                    Duration::from_nanos(pb.timestamp),
                    pb.data,
                ),
                _ => continue,
            };
            let Some(&(link, factor)) = interfaces.get(interface as usize) else {
                return Err(self.error(
                    offset,
                    format!("packet of interface {interface}, which no interface block describes"),
                ));
            };
            let bytes: &'a [u8] = match bytes {
                std::borrow::Cow::Borrowed(b) => b,
                std::borrow::Cow::Owned(_) => &[],
            };
            self.packet(link, raw.saturating_mul(factor), bytes);
        }
        Ok(())
    }
}

fn record_problem(e: &PcapError, what: &str) -> String {
    match e {
        PcapError::IncompleteBuffer => {
            format!(
                "the file is truncated: the {what} that starts here ends past the end of the file"
            )
        }
        other => format!("bad {what}: {other}"),
    }
}

/// Reads the capture in `data` (pcap or pcapng, told apart by its magic number). `file` names it
/// in errors.
pub fn read_capture<'a>(data: &'a [u8], file: &str) -> Result<Capture<'a>, CaptureError> {
    let mut reader = Reader {
        file,
        out: Capture::default(),
    };
    let magic: Option<[u8; 4]> = data.get(..4).and_then(|m| m.try_into().ok());
    match magic {
        Some(m) if m == PCAPNG_MAGIC => reader.pcapng(data)?,
        Some(m) if PCAP_MAGICS.contains(&m) => reader.pcap(data)?,
        Some(m) => {
            return Err(reader.error(
                0,
                format!(
                    "not a pcap or pcapng file (it starts with {}; pcap starts with a1b2c3d4 or d4c3b2a1, pcapng with 0a0d0d0a)",
                    hex::encode(m)
                ),
            ))
        }
        None => {
            return Err(reader.error(
                0,
                format!("not a capture: the file has {} bytes", data.len()),
            ))
        }
    }
    Ok(reader.out)
}
