//! TLS messages (RFC 5246, RFC 8446): records, handshake message framing, the hellos and their
//! extensions, alerts. Every message the harness sends is a plain struct whose every field,
//! length and list can be set to any value, including wrong ones: `encode` writes what the
//! struct says, and the `*_len` overrides replace a computed length prefix.

use crate::codec::{put_uint, put_vec, DecodeError, Reader};
use std::fmt;

macro_rules! codes {
    ($(#[$doc:meta])* $name:ident($ty:ty) { $($(#[$vdoc:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $ty);

        impl $name {
            $($(#[$vdoc])* pub const $variant: Self = Self($value);)*

            /// The name the RFCs give the value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($variant)),)*
                    _ => None,
                }
            }

            /// The value with this name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($variant) => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "0x{:0w$x}", self.0, w = 2 * std::mem::size_of::<$ty>()),
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

codes! {
    /// A record's content type (RFC 8446 §5.1).
    ContentType(u8) {
        /// change_cipher_spec
        CHANGE_CIPHER_SPEC = 20,
        /// alert
        ALERT = 21,
        /// handshake
        HANDSHAKE = 22,
        /// application_data
        APPLICATION_DATA = 23,
    }
}

codes! {
    /// A handshake message's type (RFC 8446 §4, RFC 5246 §7.4, RFC 5077 §3.3).
    HandshakeType(u8) {
        /// hello_request (TLS 1.2)
        HELLO_REQUEST = 0,
        /// client_hello
        CLIENT_HELLO = 1,
        /// server_hello
        SERVER_HELLO = 2,
        /// new_session_ticket
        NEW_SESSION_TICKET = 4,
        /// end_of_early_data
        END_OF_EARLY_DATA = 5,
        /// encrypted_extensions
        ENCRYPTED_EXTENSIONS = 8,
        /// certificate
        CERTIFICATE = 11,
        /// server_key_exchange (TLS 1.2)
        SERVER_KEY_EXCHANGE = 12,
        /// certificate_request
        CERTIFICATE_REQUEST = 13,
        /// server_hello_done (TLS 1.2)
        SERVER_HELLO_DONE = 14,
        /// certificate_verify
        CERTIFICATE_VERIFY = 15,
        /// client_key_exchange (TLS 1.2)
        CLIENT_KEY_EXCHANGE = 16,
        /// finished
        FINISHED = 20,
        /// key_update
        KEY_UPDATE = 24,
        /// message_hash (the synthetic message of a HelloRetryRequest transcript)
        MESSAGE_HASH = 254,
    }
}

codes! {
    /// A protocol version on the wire.
    ProtocolVersion(u16) {
        /// SSL 3.0
        SSL3 = 0x0300,
        /// TLS 1.0
        TLS10 = 0x0301,
        /// TLS 1.1
        TLS11 = 0x0302,
        /// TLS 1.2
        TLS12 = 0x0303,
        /// TLS 1.3
        TLS13 = 0x0304,
    }
}

codes! {
    /// A cipher suite (IANA registry).
    CipherSuite(u16) {
        /// TLS 1.3
        TLS_AES_128_GCM_SHA256 = 0x1301,
        /// TLS 1.3
        TLS_AES_256_GCM_SHA384 = 0x1302,
        /// TLS 1.3
        TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
        /// TLS 1.2
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
        /// TLS 1.2
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
        /// TLS 1.2
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
        /// TLS 1.2
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
        /// TLS 1.2
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
        /// TLS 1.2
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
        /// TLS 1.2, RSA key exchange
        TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
        /// TLS 1.2, RSA key exchange
        TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
        /// The renegotiation signalling value (RFC 5746)
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff,
    }
}

codes! {
    /// A key-exchange group (RFC 8446 §4.2.7).
    NamedGroup(u16) {
        /// secp256r1
        SECP256R1 = 0x0017,
        /// secp384r1
        SECP384R1 = 0x0018,
        /// x25519
        X25519 = 0x001d,
    }
}

codes! {
    /// A signature scheme (RFC 8446 §4.2.3).
    SignatureScheme(u16) {
        /// rsa_pkcs1_sha256
        RSA_PKCS1_SHA256 = 0x0401,
        /// rsa_pkcs1_sha384
        RSA_PKCS1_SHA384 = 0x0501,
        /// ecdsa_secp256r1_sha256
        ECDSA_SECP256R1_SHA256 = 0x0403,
        /// ecdsa_secp384r1_sha384
        ECDSA_SECP384R1_SHA384 = 0x0503,
        /// rsa_pss_rsae_sha256
        RSA_PSS_RSAE_SHA256 = 0x0804,
        /// rsa_pss_rsae_sha384
        RSA_PSS_RSAE_SHA384 = 0x0805,
        /// ed25519
        ED25519 = 0x0807,
    }
}

codes! {
    /// An extension type (RFC 8446 §4.2, RFC 5077, RFC 7627, RFC 5746).
    ExtensionType(u16) {
        /// server_name
        SERVER_NAME = 0,
        /// supported_groups
        SUPPORTED_GROUPS = 10,
        /// ec_point_formats (TLS 1.2)
        EC_POINT_FORMATS = 11,
        /// signature_algorithms
        SIGNATURE_ALGORITHMS = 13,
        /// extended_master_secret
        EXTENDED_MASTER_SECRET = 23,
        /// session_ticket (RFC 5077)
        SESSION_TICKET = 35,
        /// pre_shared_key
        PRE_SHARED_KEY = 41,
        /// supported_versions
        SUPPORTED_VERSIONS = 43,
        /// cookie
        COOKIE = 44,
        /// psk_key_exchange_modes
        PSK_KEY_EXCHANGE_MODES = 45,
        /// key_share
        KEY_SHARE = 51,
        /// renegotiation_info
        RENEGOTIATION_INFO = 0xff01,
    }
}

codes! {
    /// An alert's description (RFC 8446 §6).
    AlertDescription(u8) {
        /// close_notify
        CLOSE_NOTIFY = 0,
        /// unexpected_message
        UNEXPECTED_MESSAGE = 10,
        /// bad_record_mac
        BAD_RECORD_MAC = 20,
        /// record_overflow
        RECORD_OVERFLOW = 22,
        /// handshake_failure
        HANDSHAKE_FAILURE = 40,
        /// bad_certificate
        BAD_CERTIFICATE = 42,
        /// unsupported_certificate
        UNSUPPORTED_CERTIFICATE = 43,
        /// certificate_revoked
        CERTIFICATE_REVOKED = 44,
        /// certificate_expired
        CERTIFICATE_EXPIRED = 45,
        /// certificate_unknown
        CERTIFICATE_UNKNOWN = 46,
        /// illegal_parameter
        ILLEGAL_PARAMETER = 47,
        /// unknown_ca
        UNKNOWN_CA = 48,
        /// access_denied
        ACCESS_DENIED = 49,
        /// decode_error
        DECODE_ERROR = 50,
        /// decrypt_error
        DECRYPT_ERROR = 51,
        /// protocol_version
        PROTOCOL_VERSION = 70,
        /// insufficient_security
        INSUFFICIENT_SECURITY = 71,
        /// internal_error
        INTERNAL_ERROR = 80,
        /// inappropriate_fallback
        INAPPROPRIATE_FALLBACK = 86,
        /// user_canceled
        USER_CANCELED = 90,
        /// missing_extension
        MISSING_EXTENSION = 109,
        /// unsupported_extension
        UNSUPPORTED_EXTENSION = 110,
        /// unrecognized_name
        UNRECOGNIZED_NAME = 112,
        /// certificate_required
        CERTIFICATE_REQUIRED = 116,
        /// no_application_protocol
        NO_APPLICATION_PROTOCOL = 120,
    }
}

/// The length of a record header.
pub const RECORD_HEADER_LEN: usize = 5;
/// The largest plaintext fragment (RFC 8446 §5.1: 2^14).
pub const MAX_FRAGMENT: usize = 1 << 14;

/// One record as it travels: header fields and the fragment, sealed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The content type in the header (for a protected TLS 1.3 record, application_data).
    pub content_type: ContentType,
    /// The legacy record version.
    pub version: ProtocolVersion,
    /// The fragment.
    pub fragment: Vec<u8>,
}

impl Record {
    /// The record's bytes; `length` overrides the header's length field.
    pub fn encode(&self, length: Option<u16>) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + self.fragment.len());
        out.push(self.content_type.0);
        put_uint(&mut out, 2, u32::from(self.version.0));
        put_vec(&mut out, 2, &self.fragment, length.map(u32::from));
        out
    }

    /// The length of the record that `bytes` starts with, once its header is there.
    pub fn frame_len(bytes: &[u8]) -> Option<usize> {
        let hi = *bytes.get(3)?;
        let lo = *bytes.get(4)?;
        Some(RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([hi, lo])))
    }

    /// Decodes one whole record (header and fragment).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let content_type = ContentType(r.u8("record content type")?);
        let version = ProtocolVersion(r.u16("record version")?);
        let fragment = r.vec(2, "record fragment")?.to_vec();
        r.finish("record")?;
        Ok(Self {
            content_type,
            version,
            fragment,
        })
    }
}

/// A handshake message with its 4-byte header (type, 24-bit length).
pub fn handshake_message(typ: HandshakeType, body: &[u8], length: Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(typ.0);
    put_vec(&mut out, 3, body, length);
    out
}

/// Splits whole handshake messages off the front of `buf` (messages may span records and a
/// record may hold several, RFC 8446 §5.1); what is left is an incomplete message.
pub fn take_handshake_messages(buf: &mut Vec<u8>) -> Vec<(HandshakeType, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(&[a, b, c]) = buf.get(1..4) {
        let len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
        if buf.len() < 4 + len {
            break;
        }
        let whole: Vec<u8> = buf.drain(..4 + len).collect();
        let typ = HandshakeType(whole.first().copied().unwrap_or_default());
        out.push((typ, whole));
    }
    out
}

/// An alert: level and description (RFC 8446 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// What happened.
    pub description: AlertDescription,
}

impl Alert {
    /// A fatal alert.
    pub fn fatal(description: AlertDescription) -> Self {
        Self {
            level: 2,
            description,
        }
    }

    /// The alert's two bytes.
    pub fn encode(self) -> [u8; 2] {
        [self.level, self.description.0]
    }

    /// Decodes an alert body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let level = r.u8("alert level")?;
        let description = AlertDescription(r.u8("alert description")?);
        r.finish("alert")?;
        Ok(Self { level, description })
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            1 => "warning",
            2 => "fatal",
            _ => "level?",
        };
        write!(f, "{level} {}", self.description)
    }
}

/// One extension: its type and its body as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The type.
    pub typ: ExtensionType,
    /// The body (`extension_data`).
    pub data: Vec<u8>,
}

impl Extension {
    /// `supported_versions` in a ClientHello: a 1-byte-prefixed list.
    pub fn client_versions(versions: &[ProtocolVersion]) -> Self {
        let mut list = Vec::new();
        for v in versions {
            put_uint(&mut list, 2, u32::from(v.0));
        }
        let mut data = Vec::new();
        put_vec(&mut data, 1, &list, None);
        Self {
            typ: ExtensionType::SUPPORTED_VERSIONS,
            data,
        }
    }

    /// `supported_groups`.
    pub fn groups(groups: &[NamedGroup]) -> Self {
        Self::u16_list(ExtensionType::SUPPORTED_GROUPS, groups.iter().map(|g| g.0))
    }

    /// `signature_algorithms`.
    pub fn signature_algorithms(schemes: &[SignatureScheme]) -> Self {
        Self::u16_list(
            ExtensionType::SIGNATURE_ALGORITHMS,
            schemes.iter().map(|s| s.0),
        )
    }

    /// `key_share` in a ClientHello: (group, share) entries.
    pub fn client_key_shares(shares: &[(NamedGroup, Vec<u8>)]) -> Self {
        let mut list = Vec::new();
        for (group, share) in shares {
            put_uint(&mut list, 2, u32::from(group.0));
            put_vec(&mut list, 2, share, None);
        }
        let mut data = Vec::new();
        put_vec(&mut data, 2, &list, None);
        Self {
            typ: ExtensionType::KEY_SHARE,
            data,
        }
    }

    /// `server_name` with one host name.
    pub fn server_name(host: &str) -> Self {
        let mut entry = vec![0u8];
        put_vec(&mut entry, 2, host.as_bytes(), None);
        let mut data = Vec::new();
        put_vec(&mut data, 2, &entry, None);
        Self {
            typ: ExtensionType::SERVER_NAME,
            data,
        }
    }

    fn u16_list(typ: ExtensionType, values: impl Iterator<Item = u16>) -> Self {
        let mut list = Vec::new();
        for v in values {
            put_uint(&mut list, 2, u32::from(v));
        }
        let mut data = Vec::new();
        put_vec(&mut data, 2, &list, None);
        Self { typ, data }
    }
}

fn encode_extensions(
    out: &mut Vec<u8>,
    extensions: &[Extension],
    len: Option<u32>,
    deltas: &[(ExtensionType, i32)],
) {
    let mut body = Vec::new();
    for e in extensions {
        put_uint(&mut body, 2, u32::from(e.typ.0));
        let delta = deltas.iter().find(|(t, _)| *t == e.typ).map(|(_, d)| *d);
        let own = delta.map(|d| (e.data.len() as i64 + i64::from(d)).clamp(0, 0xffff) as u32);
        put_vec(&mut body, 2, &e.data, own);
    }
    put_vec(out, 2, &body, len);
}

fn decode_extensions(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<Extension>, DecodeError> {
    let mut list = Reader::new(r.vec(2, what)?);
    let mut out = Vec::new();
    while !list.is_empty() {
        let typ = ExtensionType(list.u16(what)?);
        let data = list.vec(2, what)?.to_vec();
        if out.iter().any(|e: &Extension| e.typ == typ) {
            // RFC 8446 §4.2: no two extensions of one type.
            return Err(DecodeError::Invalid {
                what,
                detail: format!("extension {typ} twice"),
            });
        }
        out.push(Extension { typ, data });
    }
    Ok(out)
}

/// A ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2). Every field is sent as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub version: ProtocolVersion,
    /// 32 random bytes (any length is written as given).
    pub random: Vec<u8>,
    /// `legacy_session_id`.
    pub session_id: Vec<u8>,
    /// The offered suites.
    pub cipher_suites: Vec<CipherSuite>,
    /// Compression methods (`[0]`).
    pub compression_methods: Vec<u8>,
    /// The extensions, in order.
    pub extensions: Vec<Extension>,
    /// Overrides the cipher-suite list's length prefix.
    pub cipher_suites_len: Option<u32>,
    /// Overrides the extensions block's length prefix.
    pub extensions_len: Option<u32>,
    /// Adds to one extension's own length prefix (a body that claims more or less than it has).
    pub extension_len_delta: Vec<(ExtensionType, i32)>,
}

impl ClientHello {
    /// The message body (without the handshake header).
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        put_uint(&mut out, 2, u32::from(self.version.0));
        out.extend_from_slice(&self.random);
        put_vec(&mut out, 1, &self.session_id, None);
        let mut suites = Vec::new();
        for s in &self.cipher_suites {
            put_uint(&mut suites, 2, u32::from(s.0));
        }
        put_vec(&mut out, 2, &suites, self.cipher_suites_len);
        put_vec(&mut out, 1, &self.compression_methods, None);
        encode_extensions(
            &mut out,
            &self.extensions,
            self.extensions_len,
            &self.extension_len_delta,
        );
        out
    }

    /// The extension of type `typ`.
    pub fn extension(&self, typ: ExtensionType) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.typ == typ)
    }
}

/// A ServerHello (RFC 8446 §4.1.3), or a HelloRetryRequest (the same message with the special
/// random).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version`.
    pub version: ProtocolVersion,
    /// The server's random.
    pub random: [u8; 32],
    /// `legacy_session_id_echo`.
    pub session_id: Vec<u8>,
    /// The suite chosen.
    pub cipher_suite: CipherSuite,
    /// `legacy_compression_method`.
    pub compression_method: u8,
    /// The extensions.
    pub extensions: Vec<Extension>,
}

/// The random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest".
pub const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

impl ServerHello {
    /// Decodes a ServerHello body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let version = ProtocolVersion(r.u16("ServerHello.legacy_version")?);
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32, "ServerHello.random")?);
        let session_id = r.vec(1, "ServerHello.legacy_session_id_echo")?.to_vec();
        let cipher_suite = CipherSuite(r.u16("ServerHello.cipher_suite")?);
        let compression_method = r.u8("ServerHello.legacy_compression_method")?;
        // A TLS 1.2 ServerHello may end here (RFC 5246 §7.4.1.3).
        let extensions = if r.is_empty() {
            Vec::new()
        } else {
            decode_extensions(&mut r, "ServerHello.extensions")?
        };
        r.finish("ServerHello")?;
        Ok(Self {
            version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Whether this is a HelloRetryRequest.
    pub fn is_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_RANDOM
    }

    /// The extension of type `typ`.
    pub fn extension(&self, typ: ExtensionType) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.typ == typ)
    }

    /// The version `supported_versions` selects (TLS 1.3), if present.
    pub fn selected_version(&self) -> Result<Option<ProtocolVersion>, DecodeError> {
        let Some(e) = self.extension(ExtensionType::SUPPORTED_VERSIONS) else {
            return Ok(None);
        };
        let mut r = Reader::new(&e.data);
        let v = ProtocolVersion(r.u16("supported_versions.selected_version")?);
        r.finish("supported_versions")?;
        Ok(Some(v))
    }

    /// The server's key share (group, share), if present.
    pub fn key_share(&self) -> Result<Option<(NamedGroup, Vec<u8>)>, DecodeError> {
        let Some(e) = self.extension(ExtensionType::KEY_SHARE) else {
            return Ok(None);
        };
        let mut r = Reader::new(&e.data);
        let group = NamedGroup(r.u16("key_share.group")?);
        let share = r.vec(2, "key_share.key_exchange")?.to_vec();
        r.finish("key_share")?;
        Ok(Some((group, share)))
    }
}

/// The certificate list of a TLS 1.3 Certificate message (RFC 8446 §4.4.2): each entry's DER.
pub fn decode_certificate13(body: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut r = Reader::new(body);
    let _context = r.vec(1, "Certificate.certificate_request_context")?;
    let mut list = Reader::new(r.vec(3, "Certificate.certificate_list")?);
    r.finish("Certificate")?;
    let mut out = Vec::new();
    while !list.is_empty() {
        out.push(list.vec(3, "CertificateEntry.cert_data")?.to_vec());
        let _extensions = list.vec(2, "CertificateEntry.extensions")?;
    }
    Ok(out)
}

/// The certificate list of a TLS 1.2 Certificate message (RFC 5246 §7.4.2): each DER.
pub fn decode_certificate12(body: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec(3, "Certificate.certificate_list")?);
    r.finish("Certificate")?;
    let mut out = Vec::new();
    while !list.is_empty() {
        out.push(list.vec(3, "ASN.1Cert")?.to_vec());
    }
    Ok(out)
}

/// A CertificateVerify body (RFC 8446 §4.4.3): the scheme and the signature.
pub fn decode_certificate_verify(body: &[u8]) -> Result<(SignatureScheme, Vec<u8>), DecodeError> {
    let mut r = Reader::new(body);
    let scheme = SignatureScheme(r.u16("CertificateVerify.algorithm")?);
    let signature = r.vec(2, "CertificateVerify.signature")?.to_vec();
    r.finish("CertificateVerify")?;
    Ok((scheme, signature))
}

/// A well-formed body for a message of `typ` that a case sends where it does not belong, so
/// that the server's answer is about the message's place, not its bytes: TLS 1.3's forms when
/// `tls13`, TLS 1.2's otherwise; a ClientHello is `hello_body` again.
pub fn plausible_body(typ: HandshakeType, tls13: bool, hello_body: &[u8]) -> Vec<u8> {
    let hash_len = 32;
    match typ {
        HandshakeType::CLIENT_HELLO => hello_body.to_vec(),
        HandshakeType::SERVER_HELLO => {
            // legacy_version, random, empty session ID, TLS_AES_128_GCM_SHA256 (or an ECDHE
            // suite), null compression, no extensions.
            let mut b = vec![3, 3];
            b.extend_from_slice(&[0x5a; 32]);
            b.push(0);
            b.extend_from_slice(if tls13 { &[0x13, 0x01] } else { &[0xc0, 0x2b] });
            b.extend_from_slice(&[0, 0, 0]);
            b
        }
        HandshakeType::NEW_SESSION_TICKET if tls13 => {
            // lifetime, age_add, nonce<0..255>, ticket<1..>, extensions.
            vec![0, 0, 0x0e, 0x10, 0, 0, 0, 1, 0, 0, 1, 0x5a, 0, 0]
        }
        // RFC 5077 §3.3: lifetime hint, ticket.
        HandshakeType::NEW_SESSION_TICKET => vec![0, 0, 0x0e, 0x10, 0, 1, 0x5a],
        HandshakeType::ENCRYPTED_EXTENSIONS => vec![0, 0],
        HandshakeType::CERTIFICATE if tls13 => vec![0, 0, 0, 0],
        HandshakeType::CERTIFICATE => vec![0, 0, 0],
        HandshakeType::SERVER_KEY_EXCHANGE => {
            // named_curve x25519, a 32-byte point, ecdsa_secp256r1_sha256, empty signature.
            let mut b = vec![3, 0, 0x1d, 32];
            b.extend_from_slice(&[9; 32]);
            b.extend_from_slice(&[4, 3, 0, 0]);
            b
        }
        // TLS 1.3: empty context, signature_algorithms; TLS 1.2: types, schemes, no CAs.
        HandshakeType::CERTIFICATE_REQUEST if tls13 => {
            vec![0, 0, 8, 0, 0x0d, 0, 4, 0, 2, 4, 3]
        }
        HandshakeType::CERTIFICATE_REQUEST => vec![1, 64, 0, 2, 4, 3, 0, 0],
        HandshakeType::CERTIFICATE_VERIFY => vec![4, 3, 0, 0],
        HandshakeType::CLIENT_KEY_EXCHANGE => {
            let mut b = vec![32];
            b.extend_from_slice(&[9; 32]);
            b
        }
        HandshakeType::FINISHED if tls13 => vec![0; hash_len],
        HandshakeType::FINISHED => vec![0; 12],
        HandshakeType::KEY_UPDATE => vec![0],
        HandshakeType::MESSAGE_HASH => vec![0; hash_len],
        // hello_request, end_of_early_data, server_hello_done, and unknown types: empty.
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknown_values_print() {
        assert_eq!(
            CipherSuite::TLS_AES_128_GCM_SHA256.to_string(),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(CipherSuite(0x1234).to_string(), "0x1234");
        assert_eq!(
            AlertDescription::from_name("HANDSHAKE_FAILURE"),
            Some(AlertDescription(40))
        );
    }

    #[test]
    fn handshake_messages_are_split_across_and_within_records() {
        let mut buf = handshake_message(HandshakeType::FINISHED, &[7; 3], None);
        buf.extend(handshake_message(
            HandshakeType::CERTIFICATE,
            &[1; 10],
            None,
        ));
        buf.truncate(buf.len() - 2);
        let got = take_handshake_messages(&mut buf);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, HandshakeType::FINISHED);
        assert_eq!(buf.len(), 4 + 8);
    }

    #[test]
    fn a_server_hello_with_a_repeated_extension_is_refused() {
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.push(0);
        body.extend([0x13, 0x01, 0]);
        let ext = [0, 43, 0, 2, 3, 4];
        body.extend([0, 12]);
        body.extend(ext);
        body.extend(ext);
        assert!(matches!(
            ServerHello::decode(&body),
            Err(DecodeError::Invalid { .. })
        ));
        body.truncate(body.len() - 6);
        let len = body.len();
        body[len - 7] = 6;
        let hello = ServerHello::decode(&body).expect("one extension decodes");
        assert_eq!(hello.selected_version(), Ok(Some(ProtocolVersion::TLS13)));
    }
}
