//! Reading pcap and pcapng files into TCP segments, whatever wrote them: the harness, tcpdump on
//! an Ethernet or loopback interface, or `tcpdump -i any` (Linux cooked captures).

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{DataLink, PcapError};
use std::io::Read;
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

/// The state of reading one file: what was seen so far and, for pcapng, its interfaces. The
/// records are parsed from chunks of the file, so that a large capture is never held whole.
struct Reader<'f> {
    file: &'f str,
    /// Packets seen, for numbering.
    packets: usize,
    skipped: usize,
    warnings: Vec<String>,
    comment: Option<String>,
    truncated: Option<CaptureError>,
    /// pcapng: per interface, the link type and the factor from the parser's nanoseconds to
    /// real time.
    interfaces: Vec<(DataLink, u32)>,
}

/// The parser of the file's format, once its header is read.
enum Format {
    Pcap(PcapParser),
    Pcapng(PcapNgParser),
}

impl<'f> Reader<'f> {
    fn new(file: &'f str) -> Self {
        Self {
            file,
            packets: 0,
            skipped: 0,
            warnings: Vec::new(),
            comment: None,
            truncated: None,
            interfaces: Vec::new(),
        }
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> CaptureError {
        CaptureError {
            file: self.file.to_owned(),
            offset,
            message: message.into(),
        }
    }

    /// The TCP segment in one packet, if it is one (other packets are counted).
    fn packet<'a>(
        &mut self,
        link: DataLink,
        time: Duration,
        data: &'a [u8],
    ) -> Option<Segment<'a>> {
        self.packets += 1;
        let packet = self.packets;
        let sliced = match slice(link, data) {
            Ok(s) => s,
            Err(e) => {
                self.warnings
                    .push(format!("packet {packet}: not a valid packet: {e}"));
                return None;
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
                self.skipped += 1;
                return None;
            }
        };
        let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
            self.skipped += 1;
            return None;
        };
        Some(Segment {
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
        })
    }

    /// Reads the file header at the start of `data` (the file's first bytes): the format's
    /// parser and the header's length. `Ok(None)`: more bytes are needed.
    fn header(
        &mut self,
        data: &[u8],
        at_end: bool,
    ) -> Result<Option<(Format, usize)>, CaptureError> {
        let magic: Option<[u8; 4]> = data.get(..4).and_then(|m| m.try_into().ok());
        let incomplete = |e: &PcapError| matches!(e, PcapError::IncompleteBuffer) && !at_end;
        match magic {
            Some(m) if m == PCAPNG_MAGIC => match PcapNgParser::new(data) {
                Ok((rest, parser)) => {
                    self.comment = parser.section().options.iter().find_map(|o| match o {
                        pcap_file::pcapng::blocks::section_header::SectionHeaderOption::Comment(
                            c,
                        ) => Some(c.to_string()),
                        _ => None,
                    });
                    Ok(Some((Format::Pcapng(parser), data.len() - rest.len())))
                }
                Err(e) if incomplete(&e) => Ok(None),
                Err(e) => Err(self.error(0, format!("bad pcapng section header: {e}"))),
            },
            Some(m) if PCAP_MAGICS.contains(&m) => match PcapParser::new(data) {
                Ok((rest, parser)) => {
                    let link = parser.header().datalink;
                    if !supported(link) {
                        return Err(self.error(20, format!("unsupported link type {link:?}")));
                    }
                    Ok(Some((Format::Pcap(parser), data.len() - rest.len())))
                }
                Err(e) if incomplete(&e) => Ok(None),
                Err(e) => Err(self.error(0, format!("bad pcap file header: {e}"))),
            },
            Some(m) => Err(self.error(
                0,
                format!(
                    "not a pcap or pcapng file (it starts with {}; pcap starts with a1b2c3d4 or d4c3b2a1, pcapng with 0a0d0d0a)",
                    hex::encode(m)
                ),
            )),
            None if at_end => Err(self.error(
                0,
                format!("not a capture: the file has {} bytes", data.len()),
            )),
            None => Ok(None),
        }
    }

    /// Parses the whole records at the start of `data`, which starts at byte `base` of the
    /// file, handing each TCP segment to `sink`. Returns how many bytes it consumed; a record
    /// cut by the end of `data` is left for the next call unless `at_end` (then the file is
    /// truncated there and reading stops, as it does at a bad record).
    fn records<'a>(
        &mut self,
        format: &mut Format,
        data: &'a [u8],
        base: usize,
        at_end: bool,
        sink: &mut impl FnMut(Segment<'a>),
    ) -> Result<usize, CaptureError> {
        let mut rest = data;
        while !rest.is_empty() && self.truncated.is_none() {
            let offset = data.len() - rest.len();
            let parsed = match format {
                Format::Pcap(parser) => parser.next_packet(rest).map(|(next, p)| {
                    let link = parser.header().datalink;
                    (next, Some((Some(link), 0, p.timestamp, p.data)))
                }),
                Format::Pcapng(parser) => parser.next_block(rest).map(|(next, block)| {
                    let record = match block {
                        Block::InterfaceDescription(idb) => {
                            let resolution = idb.options.iter().find_map(|o| match o {
                                InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                                _ => None,
                            });
                            // Decimal resolutions only; the default is microseconds.
                            let factor = match resolution.unwrap_or(6) {
                                r @ 0..=9 => 10u32.pow(9 - u32::from(r)),
                                _ => 1,
                            };
                            self.interfaces.push((idb.linktype, factor));
                            None
                        }
                        Block::EnhancedPacket(epb) => {
                            Some((None, epb.interface_id, epb.timestamp, epb.data))
                        }
                        Block::SimplePacket(spb) => Some((None, 0, Duration::ZERO, spb.data)),
                        Block::Packet(pb) => Some((
                            None,
                            u32::from(pb.interface_id),
                            Duration::from_nanos(pb.timestamp),
                            pb.data,
                        )),
                        _ => None,
                    };
                    (next, record)
                }),
            };
            let (next, record) = match parsed {
                Ok(r) => r,
                Err(PcapError::IncompleteBuffer) if !at_end => return Ok(offset),
                Err(e) => {
                    let what = match format {
                        Format::Pcap(_) => "packet",
                        Format::Pcapng(_) => "block",
                    };
                    self.truncated = Some(self.error(base + offset, record_problem(&e, what)));
                    break;
                }
            };
            rest = next;
            let Some((pcap_link, interface, raw, bytes)) = record else {
                if let Some(&(link, _)) = self.interfaces.last() {
                    if !supported(link) && matches!(format, Format::Pcapng(_)) {
                        return Err(
                            self.error(base + offset, format!("unsupported link type {link:?}"))
                        );
                    }
                }
                continue;
            };
            let (link, time) = match pcap_link {
                Some(link) => (link, raw),
                None => {
                    let Some(&(link, factor)) = self.interfaces.get(interface as usize) else {
                        return Err(self.error(
                            base + offset,
                            format!(
                                "packet of interface {interface}, which no interface block describes"
                            ),
                        ));
                    };
                    (link, raw.saturating_mul(factor))
                }
            };
            let bytes: &'a [u8] = match bytes {
                std::borrow::Cow::Borrowed(b) => b,
                std::borrow::Cow::Owned(_) => &[],
            };
            if let Some(segment) = self.packet(link, time, bytes) {
                sink(segment);
            }
        }
        Ok(data.len() - rest.len())
    }

    /// What was read, without the segments (which went to the sink).
    fn summary<'a>(self, segments: Vec<Segment<'a>>) -> Capture<'a> {
        Capture {
            segments,
            skipped: self.skipped,
            warnings: self.warnings,
            comment: self.comment,
            truncated: self.truncated,
        }
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
    let mut reader = Reader::new(file);
    let Some((mut format, start)) = reader.header(data, true)? else {
        return Err(reader.error(0, "not a capture"));
    };
    let mut segments = Vec::new();
    let rest = data.get(start..).unwrap_or_default();
    reader.records(&mut format, rest, start, true, &mut |s| segments.push(s))?;
    Ok(reader.summary(segments))
}

/// How much of a file [`read_capture_from`] reads at a time.
pub const CHUNK: usize = 1 << 22;

/// Reads a capture from `input` in chunks of about `chunk` bytes, handing each TCP segment to
/// `on_segment` as it is read (its payload borrowed from the chunk), so that a large capture is
/// never held whole. Returns what [`read_capture`] returns, without the segments; errors and
/// truncation are reported at the same byte offsets.
pub fn read_capture_from(
    mut input: impl Read,
    file: &str,
    chunk: usize,
    mut on_segment: impl FnMut(Segment<'_>),
) -> Result<Capture<'static>, CaptureError> {
    let chunk = chunk.max(1);
    let mut reader = Reader::new(file);
    let mut buf: Vec<u8> = Vec::new();
    // The file offset of buf[0].
    let mut base = 0;
    let mut at_end = false;
    let mut fill =
        |buf: &mut Vec<u8>, reader: &Reader<'_>, base: usize| -> Result<bool, CaptureError> {
            let old = buf.len();
            buf.resize(old + chunk, 0);
            let got = loop {
                match input.read(buf.get_mut(old..).unwrap_or_default()) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(reader.error(base + old, format!("cannot read: {e}")));
                    }
                }
            };
            buf.truncate(old + got);
            Ok(got == 0)
        };
    let mut format = loop {
        if let Some((format, start)) = reader.header(&buf, at_end)? {
            buf.drain(..start);
            base = start;
            break format;
        }
        at_end = fill(&mut buf, &reader, base)?;
    };
    loop {
        let used = reader.records(&mut format, &buf, base, at_end, &mut on_segment)?;
        if reader.truncated.is_some() || (at_end && used == buf.len()) {
            break;
        }
        buf.drain(..used);
        base += used;
        at_end = fill(&mut buf, &reader, base)?;
    }
    Ok(reader.summary(Vec::new()))
}
