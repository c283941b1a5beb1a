//! The V1 packet: fixed 376 bytes in host byte order with natural C alignment, as the original
//! TLS Pool's public header lays it out (`struct tlspool_command` at identity
//! [`IDENTITY_V1`]). Every size and offset is a constant here, pinned by tests and by a C
//! program compiled against `include/tlspool/commands-v1.h` (POOL-PKT-1).
//!
//! ```text
//! offset  size  field
//!      0     2  reqid      copied from request to response
//!      2     2  cbid       0, or the callback the daemon opened (1..=1024)
//!      4     4  cmd
//!      8   368  data       one of: error (132), ping (136), starttls (268), pinentry (368)
//! ```

use std::fmt;

/// Size of every packet (POOL-PKT-1).
pub const PACKET_LEN: usize = 376;
/// Where the union begins.
pub const DATA_OFFSET: usize = 8;
/// Size of the union (its largest member, `pinentry`).
pub const DATA_LEN: usize = 368;
/// Size of an identity field (`localid`, `remoteid`), NUL included.
pub const IDENTITY_LEN: usize = 128;
/// Size of `ping.YYYYMMDD_producer`.
pub const PING_LEN: usize = 136;
/// Size of `error.message`.
pub const MESSAGE_LEN: usize = 128;
/// Size of `pinentry.pin` and `pinentry.prompt`.
pub const PIN_LEN: usize = 128;
/// The V1 semantics version and producer of the original daemon, which this one answers with.
pub const IDENTITY_V1: &str = "20130710tlspool@openfortress.nl";
/// The first and last callback identifiers the daemon hands out.
pub const CBID_RANGE: (u16, u16) = (1, 1024);
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u8 = 17;
/// `IPPROTO_SCTP`.
pub const IPPROTO_SCTP: u8 = 132;

/// Offsets inside the union, by member and field, relative to [`DATA_OFFSET`].
pub mod offset {
    /// `error.tlserrno`.
    pub const ERROR_ERRNO: usize = 0;
    /// `error.message`.
    pub const ERROR_MESSAGE: usize = 4;
    /// `ping.YYYYMMDD_producer`.
    pub const PING_IDENTITY: usize = 0;
    /// `starttls.flags`.
    pub const STARTTLS_FLAGS: usize = 0;
    /// `starttls.local`.
    pub const STARTTLS_LOCAL: usize = 4;
    /// `starttls.ipproto`.
    pub const STARTTLS_IPPROTO: usize = 8;
    /// `starttls.streamid` (after one pad byte at 9).
    pub const STARTTLS_STREAMID: usize = 10;
    /// `starttls.localid`.
    pub const STARTTLS_LOCALID: usize = 12;
    /// `starttls.remoteid`.
    pub const STARTTLS_REMOTEID: usize = 140;
    /// Size of the starttls member.
    pub const STARTTLS_LEN: usize = 268;
    /// `pinentry.flags`.
    pub const PIN_FLAGS: usize = 0;
    /// `pinentry.attempt`.
    pub const PIN_ATTEMPT: usize = 4;
    /// `pinentry.timeout_us`.
    pub const PIN_TIMEOUT_US: usize = 8;
    /// `pinentry.pin`.
    pub const PIN_PIN: usize = 12;
    /// `pinentry.prompt`.
    pub const PIN_PROMPT: usize = 140;
    /// `pinentry.token_manuf` (33 bytes).
    pub const PIN_TOKEN_MANUF: usize = 268;
    /// `pinentry.token_model` (17 bytes).
    pub const PIN_TOKEN_MODEL: usize = 301;
    /// `pinentry.token_serial` (17 bytes).
    pub const PIN_TOKEN_SERIAL: usize = 318;
    /// `pinentry.token_label` (33 bytes).
    pub const PIN_TOKEN_LABEL: usize = 335;
}

/// A command tag. Unknown tags round-trip and print as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command(pub u32);

impl Command {
    /// `PIOC_SUCCESS_V1`.
    pub const SUCCESS: Self = Self(0x00);
    /// `PIOC_ERROR_V1`.
    pub const ERROR: Self = Self(0x01);
    /// `PIOC_PING_V1`.
    pub const PING: Self = Self(0x10);
    /// `PIOC_STARTTLS_CLIENT_V1`.
    pub const STARTTLS_CLIENT: Self = Self(0x20);
    /// `PIOC_STARTTLS_SERVER_V1`.
    pub const STARTTLS_SERVER: Self = Self(0x21);
    /// `PIOC_STARTTLS_LOCALID_V1`.
    pub const STARTTLS_LOCALID: Self = Self(0x28);
    /// `PIOC_PINENTRY_V1`.
    pub const PINENTRY: Self = Self(0x29);

    /// Every command V1 defines, with its name.
    pub const ALL: [(Self, &'static str); 7] = [
        (Self::SUCCESS, "SUCCESS"),
        (Self::ERROR, "ERROR"),
        (Self::PING, "PING"),
        (Self::STARTTLS_CLIENT, "STARTTLS_CLIENT"),
        (Self::STARTTLS_SERVER, "STARTTLS_SERVER"),
        (Self::STARTTLS_LOCALID, "STARTTLS_LOCALID"),
        (Self::PINENTRY, "PINENTRY"),
    ];

    /// The command's name, if V1 defines it.
    pub fn name(self) -> Option<&'static str> {
        Self::ALL.iter().find(|(c, _)| *c == self).map(|(_, n)| *n)
    }

    /// The command with this name (`PING`, `STARTTLS_CLIENT`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Command({:#x})", self.0),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// STARTTLS flags (`PIOF_STARTTLS_*_V1`).
pub mod flags {
    /// DTLS instead of TLS.
    pub const DTLS: u32 = 0x01;
    /// Require DNSSEC for the peer's identity.
    pub const REQUIRE_DNSSEC: u32 = 0x10;
    /// Require the peer's certificate from LDAP.
    pub const REQUIRE_LDAP_CERT: u32 = 0x20;
    /// Require DANE through LDAP.
    pub const REQUIRE_LDAP_DANE: u32 = 0x40;
    /// Skip external authentication.
    pub const SKIP_EXT_AUTHN: u32 = 0x80;
    /// Bypass external authorisation.
    pub const BYPASS_EXT_AUTHZ: u32 = 0x100;
    /// Send the remote identity as SNI.
    pub const SEND_SNI: u32 = 0x200;
    /// Bypass the key and session caches.
    pub const IGNORE_CACHES: u32 = 0x400;
    /// Ask the peer for its identity (client authentication, for a server).
    pub const REQUEST_REMOTEID: u32 = 0x800;
    /// Do not check the remote identity.
    pub const IGNORE_REMOTEID: u32 = 0x1000;

    /// Every flag with its name.
    pub const ALL: [(u32, &str); 10] = [
        (DTLS, "DTLS"),
        (REQUIRE_DNSSEC, "REQUIRE_DNSSEC"),
        (REQUIRE_LDAP_CERT, "REQUIRE_LDAP_CERT"),
        (REQUIRE_LDAP_DANE, "REQUIRE_LDAP_DANE"),
        (SKIP_EXT_AUTHN, "SKIP_EXT_AUTHN"),
        (BYPASS_EXT_AUTHZ, "BYPASS_EXT_AUTHZ"),
        (SEND_SNI, "SEND_SNI"),
        (IGNORE_CACHES, "IGNORE_CACHES"),
        (REQUEST_REMOTEID, "REQUEST_REMOTEID"),
        (IGNORE_REMOTEID, "IGNORE_REMOTEID"),
    ];

    /// `A|B|0x4000` for people.
    pub fn describe(bits: u32) -> String {
        if bits == 0 {
            return "0".into();
        }
        let mut parts: Vec<String> = ALL
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| (*n).to_owned())
            .collect();
        let unknown = ALL.iter().fold(bits, |rest, (b, _)| rest & !b);
        if unknown != 0 {
            parts.push(format!("{unknown:#x}"));
        }
        parts.join("|")
    }

    /// The flag with this name.
    pub fn from_name(name: &str) -> Option<u32> {
        ALL.iter().find(|(_, n)| *n == name).map(|(b, _)| *b)
    }
}

/// Why bytes are not a usable packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Fewer or more bytes than a packet has.
    #[error("a packet is {PACKET_LEN} bytes; got {0}")]
    WrongLength(usize),
    /// A string field fills its whole array: no NUL terminates it.
    #[error("{field} has no NUL within its {size} bytes")]
    Unterminated {
        /// The field.
        field: &'static str,
        /// Its size.
        size: usize,
    },
    /// A string does not fit its field (the NUL included).
    #[error("{field} is {len} bytes; it holds at most {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The string's length.
        len: usize,
        /// The most it holds.
        max: usize,
    },
    /// A string field is not UTF-8.
    #[error("{field} is not UTF-8")]
    NotUtf8 {
        /// The field.
        field: &'static str,
    },
}

/// One packet: header and the raw union, read through typed views.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    /// Request identifier, copied from request to response.
    pub reqid: u16,
    /// Callback identifier.
    pub cbid: u16,
    /// The command.
    pub cmd: Command,
    /// The union's bytes.
    pub data: [u8; DATA_LEN],
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self))
    }
}

impl Packet {
    /// A packet with a zeroed union.
    pub fn new(cmd: Command, reqid: u16, cbid: u16) -> Self {
        Self {
            reqid,
            cbid,
            cmd,
            data: [0; DATA_LEN],
        }
    }

    /// The wire bytes (host byte order).
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut out = [0u8; PACKET_LEN];
        let (head, data) = out.split_at_mut(DATA_OFFSET);
        let (reqid, rest) = head.split_at_mut(2);
        let (cbid, cmd) = rest.split_at_mut(2);
        reqid.copy_from_slice(&self.reqid.to_ne_bytes());
        cbid.copy_from_slice(&self.cbid.to_ne_bytes());
        cmd.copy_from_slice(&self.cmd.0.to_ne_bytes());
        data.copy_from_slice(&self.data);
        out
    }

    /// Reads a packet from exactly [`PACKET_LEN`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        let bytes: &[u8; PACKET_LEN] = bytes
            .try_into()
            .map_err(|_| PacketError::WrongLength(bytes.len()))?;
        let (head, data) = bytes.split_at(DATA_OFFSET);
        let mut packet = Self::new(Command(u32_at(head, 4)), u16_at(head, 0), u16_at(head, 2));
        packet.data.copy_from_slice(data);
        Ok(packet)
    }

    /// A 32-bit field of the union.
    pub fn u32_field(&self, at: usize) -> u32 {
        u32_at(&self.data, at)
    }

    /// Sets a 32-bit field of the union.
    pub fn set_u32_field(&mut self, at: usize, value: u32) {
        put(&mut self.data, at, &value.to_ne_bytes());
    }

    /// A NUL-terminated string field of the union.
    pub fn str_field(
        &self,
        field: &'static str,
        at: usize,
        size: usize,
    ) -> Result<String, PacketError> {
        let raw = self.data.get(at..at + size).unwrap_or_default();
        let end = raw
            .iter()
            .position(|&b| b == 0)
            .ok_or(PacketError::Unterminated { field, size })?;
        let text = raw.get(..end).unwrap_or_default();
        String::from_utf8(text.to_vec()).map_err(|_| PacketError::NotUtf8 { field })
    }

    /// Sets a string field, NUL-padding the rest of it.
    pub fn set_str_field(
        &mut self,
        field: &'static str,
        at: usize,
        size: usize,
        value: &str,
    ) -> Result<(), PacketError> {
        if value.len() >= size {
            return Err(PacketError::TooLong {
                field,
                len: value.len(),
                max: size - 1,
            });
        }
        let mut raw = vec![0u8; size];
        put(&mut raw, 0, value.as_bytes());
        put(&mut self.data, at, &raw);
        Ok(())
    }

    /// Sets raw bytes of the union (for malformed packets: a string without NUL).
    pub fn set_raw(&mut self, at: usize, bytes: &[u8]) {
        put(&mut self.data, at, bytes);
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    let mut b = [0u8; 2];
    b.copy_from_slice(buf.get(at..at + 2).unwrap_or(&[0, 0]));
    u16::from_ne_bytes(b)
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(buf.get(at..at + 4).unwrap_or(&[0; 4]));
    u32::from_ne_bytes(b)
}

/// The ERROR member: a Linux errno and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// `tlserrno`.
    pub errno: i32,
    /// `message` (truncated to fit on encoding).
    pub message: String,
}

impl ErrorBody {
    /// Reads the member.
    pub fn read(p: &Packet) -> Result<Self, PacketError> {
        Ok(Self {
            errno: p.u32_field(offset::ERROR_ERRNO) as i32,
            message: p.str_field("error.message", offset::ERROR_MESSAGE, MESSAGE_LEN)?,
        })
    }

    /// An ERROR packet answering `reqid`; a message too long for the field is cut at a
    /// character boundary.
    pub fn packet(&self, reqid: u16) -> Packet {
        let mut p = Packet::new(Command::ERROR, reqid, 0);
        p.set_u32_field(offset::ERROR_ERRNO, self.errno as u32);
        let mut msg = self.message.as_str();
        while msg.len() >= MESSAGE_LEN {
            let mut cut = MESSAGE_LEN - 1;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg = msg.get(..cut).unwrap_or_default();
        }
        let _ = p.set_str_field("error.message", offset::ERROR_MESSAGE, MESSAGE_LEN, msg);
        p
    }
}

/// The PING member: `YYYYMMDD` and the producer's identity.
pub fn ping_packet(reqid: u16, identity: &str) -> Result<Packet, PacketError> {
    let mut p = Packet::new(Command::PING, reqid, 0);
    p.set_str_field(
        "ping.YYYYMMDD_producer",
        offset::PING_IDENTITY,
        PING_LEN,
        identity,
    )?;
    Ok(p)
}

/// The identity a PING carries.
pub fn ping_identity(p: &Packet) -> Result<String, PacketError> {
    p.str_field("ping.YYYYMMDD_producer", offset::PING_IDENTITY, PING_LEN)
}

/// The STARTTLS member (also used by STARTTLS_LOCALID).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Starttls {
    /// `PIOF_STARTTLS_*` bits ([`flags`]).
    pub flags: u32,
    /// Locally defined bits, passed through.
    pub local: u32,
    /// `IPPROTO_TCP`, `_UDP` or `_SCTP`.
    pub ipproto: u8,
    /// SCTP stream.
    pub streamid: u16,
    /// Local identity, or empty.
    pub localid: String,
    /// Remote identity, or empty.
    pub remoteid: String,
}

impl Starttls {
    /// A TCP request with these identities and no flags.
    pub fn tcp(localid: &str, remoteid: &str) -> Self {
        Self {
            ipproto: IPPROTO_TCP,
            localid: localid.into(),
            remoteid: remoteid.into(),
            ..Self::default()
        }
    }

    /// Reads the member.
    pub fn read(p: &Packet) -> Result<Self, PacketError> {
        let d = &p.data;
        Ok(Self {
            flags: p.u32_field(offset::STARTTLS_FLAGS),
            local: p.u32_field(offset::STARTTLS_LOCAL),
            ipproto: d.get(offset::STARTTLS_IPPROTO).copied().unwrap_or(0),
            streamid: u16_at(d, offset::STARTTLS_STREAMID),
            localid: p.str_field("localid", offset::STARTTLS_LOCALID, IDENTITY_LEN)?,
            remoteid: p.str_field("remoteid", offset::STARTTLS_REMOTEID, IDENTITY_LEN)?,
        })
    }

    /// Writes the member into `p`.
    pub fn write(&self, p: &mut Packet) -> Result<(), PacketError> {
        p.set_u32_field(offset::STARTTLS_FLAGS, self.flags);
        p.set_u32_field(offset::STARTTLS_LOCAL, self.local);
        p.set_raw(offset::STARTTLS_IPPROTO, &[self.ipproto, 0]);
        p.set_raw(offset::STARTTLS_STREAMID, &self.streamid.to_ne_bytes());
        p.set_str_field(
            "localid",
            offset::STARTTLS_LOCALID,
            IDENTITY_LEN,
            &self.localid,
        )?;
        p.set_str_field(
            "remoteid",
            offset::STARTTLS_REMOTEID,
            IDENTITY_LEN,
            &self.remoteid,
        )
    }

    /// A packet of `cmd` carrying this member.
    pub fn packet(&self, cmd: Command, reqid: u16, cbid: u16) -> Result<Packet, PacketError> {
        let mut p = Packet::new(cmd, reqid, cbid);
        self.write(&mut p)?;
        Ok(p)
    }
}

/// The PINENTRY member.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pinentry {
    /// `PIOF_PINENTRY_*` bits.
    pub flags: u32,
    /// Attempt counter, from 1.
    pub attempt: u32,
    /// How long the daemon waits for the answer.
    pub timeout_us: u32,
    /// The PIN; empty when offering, refusing, or asking.
    pub pin: zeroize::Zeroizing<String>,
    /// What to ask the user.
    pub prompt: String,
    /// Token manufacturer (32 characters at most).
    pub token_manuf: String,
    /// Token model (16).
    pub token_model: String,
    /// Token serial (16).
    pub token_serial: String,
    /// Token label (32).
    pub token_label: String,
}

impl fmt::Debug for Pinentry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pinentry")
            .field("attempt", &self.attempt)
            .field("timeout_us", &self.timeout_us)
            .field("pin", &if self.pin.is_empty() { "" } else { "(set)" })
            .field("prompt", &self.prompt)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

impl Pinentry {
    /// Reads the member.
    pub fn read(p: &Packet) -> Result<Self, PacketError> {
        use offset::*;
        Ok(Self {
            flags: p.u32_field(PIN_FLAGS),
            attempt: p.u32_field(PIN_ATTEMPT),
            timeout_us: p.u32_field(PIN_TIMEOUT_US),
            pin: zeroize::Zeroizing::new(p.str_field("pin", PIN_PIN, PIN_LEN)?),
            prompt: p.str_field("prompt", PIN_PROMPT, PIN_LEN)?,
            token_manuf: p.str_field("token_manuf", PIN_TOKEN_MANUF, 33)?,
            token_model: p.str_field("token_model", PIN_TOKEN_MODEL, 17)?,
            token_serial: p.str_field("token_serial", PIN_TOKEN_SERIAL, 17)?,
            token_label: p.str_field("token_label", PIN_TOKEN_LABEL, 33)?,
        })
    }

    /// A PINENTRY packet carrying this member.
    pub fn packet(&self, reqid: u16, cbid: u16) -> Result<Packet, PacketError> {
        use offset::*;
        let mut p = Packet::new(Command::PINENTRY, reqid, cbid);
        p.set_u32_field(PIN_FLAGS, self.flags);
        p.set_u32_field(PIN_ATTEMPT, self.attempt);
        p.set_u32_field(PIN_TIMEOUT_US, self.timeout_us);
        p.set_str_field("pin", PIN_PIN, PIN_LEN, &self.pin)?;
        p.set_str_field("prompt", PIN_PROMPT, PIN_LEN, &self.prompt)?;
        p.set_str_field("token_manuf", PIN_TOKEN_MANUF, 33, &self.token_manuf)?;
        p.set_str_field("token_model", PIN_TOKEN_MODEL, 17, &self.token_model)?;
        p.set_str_field("token_serial", PIN_TOKEN_SERIAL, 17, &self.token_serial)?;
        p.set_str_field("token_label", PIN_TOKEN_LABEL, 33, &self.token_label)?;
        Ok(p)
    }
}

/// One transcript line: the command and every field of its member, decoded; a PIN shows as
/// `(set)`, never its value.
pub fn describe(p: &Packet) -> String {
    let head = format!("{} reqid={} cbid={}", p.cmd, p.reqid, p.cbid);
    let body = match p.cmd {
        Command::ERROR => match ErrorBody::read(p) {
            Ok(e) => format!(
                "errno={} message={:?}",
                crate::errno::label(e.errno),
                e.message
            ),
            Err(e) => format!("({e})"),
        },
        Command::PING => match ping_identity(p) {
            Ok(id) => format!("identity={id:?}"),
            Err(e) => format!("({e})"),
        },
        Command::STARTTLS_CLIENT | Command::STARTTLS_SERVER | Command::STARTTLS_LOCALID => {
            match Starttls::read(p) {
                Ok(s) => format!(
                    "flags={} local={:#x} ipproto={} streamid={} localid={:?} remoteid={:?}",
                    flags::describe(s.flags),
                    s.local,
                    s.ipproto,
                    s.streamid,
                    s.localid,
                    s.remoteid
                ),
                Err(e) => format!("({e})"),
            }
        }
        Command::PINENTRY => match Pinentry::read(p) {
            Ok(e) => format!(
                "attempt={} timeout_us={} pin={} prompt={:?} token_label={:?}",
                e.attempt,
                e.timeout_us,
                if e.pin.is_empty() { "\"\"" } else { "(set)" },
                e.prompt,
                e.token_label
            ),
            Err(e) => format!("({e})"),
        },
        _ => String::new(),
    };
    if body.is_empty() {
        head
    } else {
        format!("{head} {body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pinentry_fields_fill_the_union_exactly() {
        use offset::*;
        assert_eq!(PIN_PIN + PIN_LEN, PIN_PROMPT);
        assert_eq!(PIN_PROMPT + PIN_LEN, PIN_TOKEN_MANUF);
        assert_eq!(PIN_TOKEN_MANUF + 33, PIN_TOKEN_MODEL);
        assert_eq!(PIN_TOKEN_MODEL + 17, PIN_TOKEN_SERIAL);
        assert_eq!(PIN_TOKEN_SERIAL + 17, PIN_TOKEN_LABEL);
        assert_eq!(PIN_TOKEN_LABEL + 33, DATA_LEN);
        assert_eq!(STARTTLS_REMOTEID + IDENTITY_LEN, STARTTLS_LEN);
        assert_eq!(DATA_OFFSET + DATA_LEN, PACKET_LEN);
    }

    #[test]
    fn header_fields_sit_in_host_byte_order_at_their_offsets() {
        let p = Packet::new(Command::STARTTLS_SERVER, 0x0102, 0x0304);
        let b = p.encode();
        assert_eq!(&b[0..2], &0x0102u16.to_ne_bytes());
        assert_eq!(&b[2..4], &0x0304u16.to_ne_bytes());
        assert_eq!(&b[4..8], &0x21u32.to_ne_bytes());
    }

    #[test]
    fn starttls_leaves_the_pad_byte_zero_and_puts_streamid_at_ten() {
        let s = Starttls {
            flags: flags::IGNORE_CACHES,
            local: 7,
            ipproto: IPPROTO_TCP,
            streamid: 0xabcd,
            localid: "a.example".into(),
            remoteid: "b@c.example".into(),
        };
        let b = s.packet(Command::STARTTLS_CLIENT, 1, 0).unwrap().encode();
        let d = &b[DATA_OFFSET..];
        assert_eq!(d[8], 6);
        assert_eq!(d[9], 0);
        assert_eq!(&d[10..12], &0xabcdu16.to_ne_bytes());
        assert_eq!(&d[12..21], b"a.example");
        assert_eq!(d[21], 0);
        assert_eq!(&d[140..151], b"b@c.example");
    }

    #[test]
    fn a_string_filling_its_field_is_unterminated() {
        let mut p = Packet::new(Command::STARTTLS_CLIENT, 1, 0);
        p.set_raw(offset::STARTTLS_LOCALID, &[b'a'; IDENTITY_LEN]);
        assert_eq!(
            Starttls::read(&p),
            Err(PacketError::Unterminated {
                field: "localid",
                size: 128
            })
        );
        let long = "a".repeat(128);
        assert!(matches!(
            Starttls::tcp(&long, "").packet(Command::STARTTLS_CLIENT, 1, 0),
            Err(PacketError::TooLong { max: 127, .. })
        ));
    }

    #[test]
    fn an_error_message_is_cut_to_fit_at_a_character_boundary() {
        let e = ErrorBody {
            errno: 71,
            message: "é".repeat(100),
        };
        let back = ErrorBody::read(&e.packet(3)).unwrap();
        assert_eq!(back.errno, 71);
        assert_eq!(back.message.len(), 126);
    }

    #[test]
    fn the_pin_never_shows_in_a_transcript_line() {
        let e = Pinentry {
            pin: zeroize::Zeroizing::new("1234".into()),
            ..Pinentry::default()
        };
        let line = describe(&e.packet(1, 2).unwrap());
        assert!(!line.contains("1234"), "{line}");
        assert!(line.contains("pin=(set)"), "{line}");
    }

    proptest! {
        #[test]
        fn every_packet_round_trips(bytes in proptest::collection::vec(any::<u8>(), PACKET_LEN)) {
            let p = Packet::decode(&bytes).unwrap();
            prop_assert_eq!(p.encode().to_vec(), bytes);
            let _ = describe(&p);
        }

        #[test]
        fn starttls_round_trips(flags in any::<u32>(), local in any::<u32>(), ipproto in any::<u8>(),
                                streamid in any::<u16>(), l in "[a-z@.]{0,127}", r in "[a-z@.]{0,127}") {
            let s = Starttls { flags, local, ipproto, streamid, localid: l, remoteid: r };
            let p = s.packet(Command::STARTTLS_SERVER, 9, 0).unwrap();
            let back = Packet::decode(&p.encode()).unwrap();
            prop_assert_eq!(Starttls::read(&back).unwrap(), s);
        }

        #[test]
        fn other_lengths_are_refused(n in 0usize..800) {
            prop_assume!(n != PACKET_LEN);
            prop_assert_eq!(Packet::decode(&vec![0; n]), Err(PacketError::WrongLength(n)));
        }
    }
}
