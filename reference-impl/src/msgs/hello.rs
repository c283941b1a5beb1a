//! CLIENT_HELLO and SERVER_HELLO (SPEC §3.1, §3.2).

use super::{layout, CipherSuite, KeyAlgorithm, RANDOM_LEN, SESSION_ID_LEN};
use crate::codec::{put_vec_u8, Codec, DecodeError, HexBytes, Reader};
use std::fmt;

/// The only protocol version, bTLS 1.0.
pub const PROTOCOL_VERSION: u16 = 0x0100;

/// The fields both hellos carry, in wire order: each side names its key and sends its
/// ephemeral share.
#[derive(Clone, PartialEq, Eq)]
pub struct Hello {
    /// Protocol version (BT-HS-3).
    pub version: u16,
    /// Fresh random (BT-MSG-5).
    pub random: [u8; RANDOM_LEN],
    /// CLIENT_HELLO: the session to resume, if any (BT-RES-2); SERVER_HELLO: the client's
    /// session ID when resuming (BT-MSG-7).
    pub session_id: Option<[u8; SESSION_ID_LEN]>,
    /// Algorithm of the sender's key named below; the server's equals the client's (BT-MSG-6).
    pub key_algorithm: KeyAlgorithm,
    /// The sender's registration handle.
    pub reg_handle: Vec<u8>,
    /// The sender's key handle.
    pub key_handle: Vec<u8>,
    /// Ephemeral public key (BT-MSG-4).
    pub key_share: Vec<u8>,
}

/// CLIENT_HELLO: the client names its key and offers cipher suites.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The fields both hellos carry.
    pub hello: Hello,
    /// Offered cipher suites in preference order (BT-MSG-3).
    pub cipher_suites: Vec<CipherSuite>,
}

/// SERVER_HELLO: the server names its key of the client's algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The fields both hellos carry.
    pub hello: Hello,
}

fn put_session_id(out: &mut Vec<u8>, id: &Option<[u8; SESSION_ID_LEN]>) {
    match id {
        Some(id) => put_vec_u8(out, id),
        None => out.push(0),
    }
}

fn read_session_id(r: &mut Reader<'_>) -> Result<Option<[u8; SESSION_ID_LEN]>, DecodeError> {
    let bytes = r.field(&layout::HELLO_SESSION_ID)?;
    match bytes.len() {
        0 => Ok(None),
        SESSION_ID_LEN => {
            let mut id = [0u8; SESSION_ID_LEN];
            id.copy_from_slice(bytes);
            Ok(Some(id))
        }
        len => Err(DecodeError::LengthOutOfRange {
            what: "session_id (0 or 32)",
            len,
            min: 0,
            max: SESSION_ID_LEN,
        }),
    }
}

impl Codec for Hello {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.random);
        put_session_id(out, &self.session_id);
        out.extend_from_slice(&self.key_algorithm.0.to_be_bytes());
        put_vec_u8(out, &self.reg_handle);
        put_vec_u8(out, &self.key_handle);
        put_vec_u8(out, &self.key_share);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            version: r.u16("version")?,
            random: r.array("random")?,
            session_id: read_session_id(r)?,
            key_algorithm: KeyAlgorithm(r.u16("key_algorithm")?),
            reg_handle: r.field(&layout::REG_HANDLE)?.to_vec(),
            key_handle: r.field(&layout::KEY_HANDLE)?.to_vec(),
            key_share: r.field(&layout::KEY_SHARE)?.to_vec(),
        })
    }
}

impl Codec for ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.hello.encode(out);
        let suites: Vec<u8> = self
            .cipher_suites
            .iter()
            .flat_map(|s| s.0.to_be_bytes())
            .collect();
        put_vec_u8(out, &suites);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hello = Hello::read(r)?;
        let suites = r.field(&layout::CIPHER_SUITES)?;
        if suites.len() % 2 != 0 {
            return Err(DecodeError::InvalidValue {
                what: "cipher_suites",
                why: "odd byte length (BT-MSG-2)",
            });
        }
        let cipher_suites = suites
            .chunks_exact(2)
            .map(|c| {
                CipherSuite(u16::from_be_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ]))
            })
            .collect();
        Ok(Self {
            hello,
            cipher_suites,
        })
    }
}

impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.hello.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hello: Hello::read(r)?,
        })
    }
}

impl Hello {
    /// Adds the fields, in the form the hellos' `Debug` shows them.
    fn debug_fields(&self, d: &mut fmt::DebugStruct<'_, '_>) {
        d.field("version", &format_args!("0x{:04x}", self.version))
            .field("random", &HexBytes(&self.random))
            .field("session_id", &self.session_id.as_ref().map(|s| HexBytes(s)))
            .field("key_algorithm", &self.key_algorithm)
            .field("reg_handle", &String::from_utf8_lossy(&self.reg_handle))
            .field("key_handle", &String::from_utf8_lossy(&self.key_handle))
            .field("key_share", &HexBytes(&self.key_share));
    }
}

impl fmt::Debug for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Hello");
        self.debug_fields(&mut d);
        d.finish()
    }
}

impl fmt::Debug for ClientHello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ClientHello");
        self.hello.debug_fields(&mut d);
        d.field("cipher_suites", &self.cipher_suites).finish()
    }
}

impl fmt::Debug for ServerHello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ServerHello");
        self.hello.debug_fields(&mut d);
        d.finish()
    }
}
