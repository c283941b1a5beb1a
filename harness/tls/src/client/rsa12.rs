//! TLS 1.2's RSA key exchange in the harness's client (RFC 5246 §7.4.7.1): the 48-byte
//! premaster secret (client_version, 46 random bytes) encrypted to the server certificate's
//! RSA key with PKCS#1 v1.5 — and, for the padding-oracle class (Bleichenbacher, ROBOT) and the
//! version-rollback check, each way a premaster block can be wrong.

use crate::msgs::ProtocolVersion;
use aws_lc_rs::rsa::{Pkcs1PublicEncryptingKey, PublicEncryptingKey};
use num_bigint::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

/// A premaster secret made wrong on purpose. A server MUST answer every one of these the same
/// way as a well-formed premaster that decrypts to something else: go on with a random
/// premaster, so that only the Finished fails (RFC 5246 §7.4.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadPremaster {
    /// client_version in the premaster is 0x0302, the hello's 0x0303 (version rollback).
    VersionRollback,
    /// client_version 0x0300.
    VersionSsl3,
    /// The block's first byte 0x01, not 0x00.
    FirstByte,
    /// Block type 0x01 (signature padding), not 0x02.
    BlockType,
    /// No zero byte separates the padding from the message.
    NoSeparator,
    /// The separator after four padding bytes (PKCS#1 asks for at least eight).
    ShortPadding,
    /// A 47-byte premaster.
    Short,
    /// A 49-byte premaster.
    Long,
    /// A well-formed block whose premaster is all random (its version too): it decrypts and
    /// differs from what the client uses.
    Mismatch,
}

impl BadPremaster {
    /// The variant by its scenario name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "version_rollback" => Self::VersionRollback,
            "version_ssl3" => Self::VersionSsl3,
            "first_byte" => Self::FirstByte,
            "block_type" => Self::BlockType,
            "no_separator" => Self::NoSeparator,
            "short_padding" => Self::ShortPadding,
            "short" => Self::Short,
            "long" => Self::Long,
            "mismatch" => Self::Mismatch,
            _ => return None,
        })
    }
}

/// A DER element's tag, contents and what follows it.
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// The SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 §4.1), as DER.
fn spki(cert: &[u8]) -> Option<&[u8]> {
    let (_, certificate, _) = tlv(cert)?;
    let (_, tbs, _) = tlv(certificate)?;
    let mut rest = tbs;
    // [0] version (optional), serialNumber, signature, issuer, validity, subject.
    let (tag, _, after) = tlv(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..5 {
        rest = tlv(rest)?.2;
    }
    let (_, _, after) = tlv(rest)?;
    rest.get(..rest.len() - after.len())
}

/// The RSA modulus and exponent of a SubjectPublicKeyInfo (RFC 8017 A.1.1).
fn rsa_numbers(spki: &[u8]) -> Option<(BigUint, BigUint)> {
    let (_, info, _) = tlv(spki)?;
    let (_, _, rest) = tlv(info)?; // AlgorithmIdentifier
    let (_, bits, _) = tlv(rest)?; // BIT STRING
    let (_, key, _) = tlv(bits.get(1..)?)?; // RSAPublicKey
    let (_, n, rest) = tlv(key)?;
    let (_, e, _) = tlv(rest)?;
    Some((BigUint::from_bytes_be(n), BigUint::from_bytes_be(e)))
}

/// The premaster the client derives its keys from, and the ClientKeyExchange's encrypted
/// block for it, made wrong as `bad` says. `None` if the certificate's key is not RSA.
pub(super) fn encrypted_premaster(
    cert: &[u8],
    bad: Option<BadPremaster>,
    rng: &mut ChaCha20Rng,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut premaster = vec![0u8; 48];
    rng.fill_bytes(&mut premaster);
    let version = match bad {
        Some(BadPremaster::VersionRollback) => ProtocolVersion::TLS11,
        Some(BadPremaster::VersionSsl3) => ProtocolVersion::SSL3,
        _ => ProtocolVersion::TLS12,
    };
    for (b, v) in premaster.iter_mut().zip(version.0.to_be_bytes()) {
        *b = v;
    }
    let Some(bad) =
        bad.filter(|b| !matches!(b, BadPremaster::VersionRollback | BadPremaster::VersionSsl3))
    else {
        // A well-formed block: PKCS#1 v1.5 by aws-lc-rs.
        let key = PublicEncryptingKey::from_der(spki(cert)?).ok()?;
        let key = Pkcs1PublicEncryptingKey::new(key).ok()?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key.encrypt(&premaster, &mut out).ok()?.len();
        out.truncate(len);
        return Some((premaster, out));
    };
    let spki = spki(cert)?;
    let k = rsa_numbers(spki).and_then(|(n, _)| usize::try_from(n.bits().div_ceil(8)).ok())?;
    let message: Vec<u8> = match bad {
        BadPremaster::Short => premaster.iter().take(47).copied().collect(),
        BadPremaster::Long => [premaster.as_slice(), &[0x5a]].concat(),
        BadPremaster::Mismatch => {
            let mut m = vec![0u8; 48];
            rng.fill_bytes(&mut m);
            m
        }
        _ => premaster.clone(),
    };
    // 00 02 PS 00 M, PS nonzero random bytes.
    let pad_len = k.checked_sub(3 + message.len())?;
    let mut padding = Vec::with_capacity(pad_len);
    while padding.len() < pad_len {
        let mut one = [0u8; 1];
        rng.fill_bytes(&mut one);
        if one[0] != 0 {
            padding.push(one[0]);
        }
    }
    let (first, block_type, separator) = match bad {
        BadPremaster::FirstByte => (1, 2, 0),
        BadPremaster::BlockType => (0, 1, 0),
        BadPremaster::NoSeparator => (0, 2, 0x5a),
        _ => (0, 2, 0),
    };
    if bad == BadPremaster::ShortPadding {
        // The separator after four padding bytes: the rest is taken as the message.
        if let Some(b) = padding.get_mut(4) {
            *b = 0;
        }
    }
    let block = [&[first, block_type][..], &padding, &[separator], &message].concat();
    Some((premaster, raw_encrypt(spki, &block)?))
}

/// `block`^e mod n for the key of `spki`, as k bytes: RSA with no padding, for blocks that no
/// PKCS#1 encryptor would make.
fn raw_encrypt(spki: &[u8], block: &[u8]) -> Option<Vec<u8>> {
    let (n, e) = rsa_numbers(spki)?;
    let k = usize::try_from(n.bits().div_ceil(8)).ok()?;
    let c = BigUint::from_bytes_be(block).modpow(&e, &n).to_bytes_be();
    let mut out = vec![0u8; k.saturating_sub(c.len())];
    out.extend_from_slice(&c);
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeySize, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};

    /// The raw path must be RSA itself: a well-formed block it encrypts decrypts with
    /// aws-lc-rs's PKCS#1 decryption, and a malformed one does not — otherwise every variant of
    /// the padding-oracle class would pass against any server for the wrong reason.
    #[test]
    fn raw_rsa_blocks_decrypt_with_pkcs1_exactly_when_well_formed() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let spki = private.public_key().as_der().unwrap();
        let spki = spki.as_ref();
        let decrypt = Pkcs1PrivateDecryptingKey::new(private).unwrap();
        let message = [0x42u8; 48];
        let mut block = vec![0x11u8; 256];
        block[0] = 0;
        block[1] = 2;
        block[256 - 49] = 0;
        block[256 - 48..].copy_from_slice(&message);
        let c = raw_encrypt(spki, &block).unwrap();
        assert_eq!(c.len(), 256);
        let mut out = vec![0u8; 256];
        assert_eq!(decrypt.decrypt(&c, &mut out).unwrap(), &message);
        block[1] = 1;
        let c = raw_encrypt(spki, &block).unwrap();
        assert!(
            decrypt.decrypt(&c, &mut out).is_err(),
            "block type 1 is refused"
        );
    }
}
