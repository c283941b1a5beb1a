//! The registries of SPEC §2: open newtypes over the wire integers.

use crate::codec::registry;

registry! {
    /// Content type of a frame (SPEC §2.1).
    ContentType(u8) {
        HANDSHAKE = 0x01,
        ALERT = 0x02,
        APPLICATION = 0x03,
    }
}

registry! {
    /// Subcode of a HANDSHAKE frame (SPEC §2.2).
    HandshakeCode(u8) {
        CLIENT_HELLO = 0x01,
        SERVER_HELLO = 0x02,
        SEND_KEY = 0x03,
        SENDING_KEY = 0x04,
        CANNOT_SEND_KEY = 0x05,
        SUCCESSFUL_VALIDATION = 0x06,
        FAILED_VALIDATION = 0x07,
        SESSION_DETAILS = 0x08,
        CLIENT_READY = 0x09,
        SERVER_READY = 0x0A,
    }
}

registry! {
    /// Alert level (SPEC §3.8).
    AlertLevel(u8) {
        WARNING = 1,
        FATAL = 2,
    }
}

registry! {
    /// Alert description: the subcode of an ALERT frame (SPEC §9).
    AlertDescription(u8) {
        CLOSE_NOTIFY = 0,
        UNEXPECTED_MESSAGE = 10,
        BAD_RECORD_MAC = 20,
        RECORD_OVERFLOW = 22,
        FAILED_HANDSHAKE = 40,
        ILLEGAL_PARAMETER = 47,
        DECODE_ERROR = 50,
        DECRYPT_ERROR = 51,
        PROTOCOL_VERSION = 70,
        INTERNAL_ERROR = 80,
        HANDSHAKE_TIMEOUT = 130,
    }
}

impl AlertDescription {
    /// The level this description is sent with (BT-ALERT-1).
    pub fn level(self) -> AlertLevel {
        if self == Self::CLOSE_NOTIFY {
            AlertLevel::WARNING
        } else {
            AlertLevel::FATAL
        }
    }
}

registry! {
    /// Long-term key algorithm with its ephemeral agreement (SPEC §2.3).
    KeyAlgorithm(u16) {
        ED25519_X25519 = 0x0001,
        ECDSA_P256_ECDH_P256 = 0x0002,
    }
}

registry! {
    /// Symmetric protocol selection (SPEC §2.4).
    CipherSuite(u16) {
        AES_256_GCM = 0x0001,
        CHACHA20_POLY1305 = 0x0002,
    }
}

registry! {
    /// Reason carried by FAILED_VALIDATION (SPEC §2.5).
    ValidationFailure(u8) {
        UNTRUSTED_KEY = 0x01,
        EXPIRED_KEY = 0x02,
        ALGORITHM_NOT_ALLOWED = 0x03,
        HANDLE_MISMATCH = 0x04,
        BAD_REGISTRY_SIGNATURE = 0x05,
        MALFORMED_KEY = 0x06,
        UNEXPECTED_IDENTITY = 0x07,
        PIN_MISMATCH = 0x08,
        REVOKED_KEY = 0x09,
        REGISTRY_UNAVAILABLE = 0x0A,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_print_in_hex() {
        assert_eq!(HandshakeCode(0x7f).to_string(), "unknown(0x7f)");
        assert_eq!(KeyAlgorithm(0xabcd).to_string(), "unknown(0xabcd)");
        assert_eq!(HandshakeCode::SEND_KEY.to_string(), "SEND_KEY");
    }

    #[test]
    fn names_parse_back() {
        assert_eq!(
            CipherSuite::from_name("chacha20-poly1305"),
            Some(CipherSuite::CHACHA20_POLY1305)
        );
        assert_eq!(AlertDescription::from_name("nope"), None);
    }

    #[test]
    fn only_close_notify_is_a_warning() {
        for d in AlertDescription::ALL {
            let expected = if *d == AlertDescription::CLOSE_NOTIFY {
                1
            } else {
                2
            };
            assert_eq!(d.level().0, expected, "{d}");
        }
    }
}
