//! The field map of an encoded ClientHello body: where each field starts and where each length
//! prefix sits, by name (`cipher_suites`, `KEY_SHARE.key_exchange`), so that cases can change a
//! length or cut the message at a field by name, and the generated classes can walk them all.

use crate::msgs::ExtensionType;

/// One field of a ClientHello body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name: a top-level field (`session_id`), an extension's own length (`KEY_SHARE`), or a
    /// field inside an extension (`KEY_SHARE.client_shares`).
    pub name: String,
    /// Where it starts in the body (its length prefix, for a vector).
    pub at: usize,
    /// Its length prefix's width in bytes, 0 for a field of fixed size.
    pub width: usize,
}

/// The vectors inside the extensions whose bodies the cases reach into: each as
/// (name, prefix width), in order; `KEY_SHARE` and `SERVER_NAME` entries repeat.
fn inner_layout(typ: ExtensionType) -> &'static [(&'static str, usize)] {
    match typ {
        ExtensionType::SERVER_NAME => &[("server_name_list", 2)],
        ExtensionType::SUPPORTED_GROUPS => &[("named_group_list", 2)],
        ExtensionType::SIGNATURE_ALGORITHMS => &[("supported_signature_algorithms", 2)],
        ExtensionType::SUPPORTED_VERSIONS => &[("versions", 1)],
        ExtensionType::KEY_SHARE => &[("client_shares", 2)],
        ExtensionType::EC_POINT_FORMATS => &[("ec_point_format_list", 1)],
        ExtensionType::RENEGOTIATION_INFO => &[("renegotiated_connection", 1)],
        ExtensionType::PSK_KEY_EXCHANGE_MODES => &[("ke_modes", 1)],
        _ => &[],
    }
}

/// The big-endian number in `body[from..to]`, 0 past the end.
fn number_in(body: &[u8], from: usize, to: usize) -> usize {
    body.get(from..to).map_or(0, be)
}

fn be(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
}

/// The fields of `body`, a ClientHello body as encoded (well-formed: it is the harness's own),
/// in order. A body that does not parse yields the fields up to where it stops.
pub fn client_hello_fields(body: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |name: String, at: usize, width: usize| out.push(Field { name, at, width });
    push("legacy_version".into(), 0, 0);
    push("random".into(), 2, 0);
    let mut at = 34;
    for (name, width) in [
        ("session_id", 1),
        ("cipher_suites", 2),
        ("compression_methods", 1),
    ] {
        let Some(len) = body.get(at..at + width).map(be) else {
            return out;
        };
        push(name.into(), at, width);
        at += width + len;
    }
    let Some(total) = body.get(at..at + 2).map(be) else {
        return out;
    };
    push("extensions".into(), at, 2);
    let end = (at + 2 + total).min(body.len());
    at += 2;
    while at + 4 <= end {
        let typ = ExtensionType(u16::try_from(number_in(body, at, at + 2)).unwrap_or_default());
        let len = number_in(body, at + 2, at + 4);
        let name = typ.to_string();
        push(format!("{name}.type"), at, 0);
        push(name.clone(), at + 2, 2);
        let inner = at + 4;
        for (field, width) in inner_layout(typ) {
            push(format!("{name}.{field}"), inner, *width);
        }
        // The entries of the two lists whose entries have lengths of their own.
        let list_end = (inner + len).min(end);
        match typ {
            ExtensionType::SERVER_NAME => {
                // name_type, host_name<1..2^16-1>
                let mut p = inner + 2;
                while p + 3 <= list_end {
                    push(format!("{name}.host_name"), p + 1, 2);
                    p += 3 + number_in(body, p + 1, p + 3);
                }
            }
            ExtensionType::KEY_SHARE => {
                // group, key_exchange<1..2^16-1>
                let mut p = inner + 2;
                while p + 4 <= list_end {
                    push(format!("{name}.key_exchange"), p + 2, 2);
                    p += 4 + number_in(body, p + 2, p + 4);
                }
            }
            _ => {}
        }
        at = inner + len;
    }
    out
}

/// `body` with the length prefix of the field `name` changed by `delta` (wrapping within its
/// width), or why it cannot be.
pub fn change_length(body: &mut [u8], name: &str, delta: i64) -> Result<(), String> {
    let field = find(body, name)?;
    if field.width == 0 {
        return Err(format!("{name} has no length prefix"));
    }
    let slot = body
        .get_mut(field.at..field.at + field.width)
        .ok_or(format!("{name} runs past the body"))?;
    let modulus = 1i64 << (8 * field.width);
    let value = (i64::try_from(be(slot)).unwrap_or_default() + delta).rem_euclid(modulus);
    for (i, b) in slot.iter_mut().rev().enumerate() {
        *b = u8::try_from((value >> (8 * i)) & 0xff).unwrap_or_default();
    }
    Ok(())
}

/// The value of the length prefix of `field` in `body`.
pub fn length_of(body: &[u8], field: &Field) -> usize {
    number_in(body, field.at, field.at + field.width)
}

/// Where the field `name` starts in `body`.
pub fn find(body: &[u8], name: &str) -> Result<Field, String> {
    let fields = client_hello_fields(body);
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            format!(
                "the ClientHello has no field {name:?} (it has {})",
                fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::client::Config13;

    #[test]
    fn every_length_prefix_of_the_hello_is_found_where_it_is() {
        let hello = Config13::default().hello().hello;
        let body = hello.encode_body();
        let fields = client_hello_fields(&body);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        for want in [
            "session_id",
            "cipher_suites",
            "compression_methods",
            "extensions",
            "SERVER_NAME.host_name",
            "SUPPORTED_VERSIONS.versions",
            "KEY_SHARE.client_shares",
            "KEY_SHARE.key_exchange",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        // The session ID's prefix is right after the random and says 32.
        let sid = find(&body, "session_id").unwrap();
        assert_eq!((sid.at, body[sid.at]), (34, 32));
        // An X25519 share is 32 bytes.
        let ke = find(&body, "KEY_SHARE.key_exchange").unwrap();
        assert_eq!(be(&body[ke.at..ke.at + 2]), 32);
    }

    #[test]
    fn a_length_changes_in_place_and_wraps_within_its_width() {
        let body = Config13::default().hello().hello.encode_body();
        let mut changed = body.clone();
        change_length(&mut changed, "cipher_suites", 1).unwrap();
        let at = find(&body, "cipher_suites").unwrap().at;
        assert_eq!(be(&changed[at..at + 2]), number_in(&body, at, at + 2) + 1);
        assert_eq!(changed.len(), body.len());
        let mut cm = body.clone();
        change_length(&mut cm, "compression_methods", -2).unwrap();
        let at = find(&body, "compression_methods").unwrap().at;
        assert_eq!(cm[at], 0xff, "1 - 2 wraps to 255");
        assert!(change_length(&mut cm, "random", 1).is_err());
        assert!(find(&body, "NO_SUCH")
            .unwrap_err()
            .contains("cipher_suites"));
    }
}
