//! The generated negative classes of the TLS suite, made from the harness's own ClientHello and
//! records rather than written by hand: every length prefix of the hello one off either way
//! (`length`), the hello cut at the start of every field (`truncation`), and one byte flipped
//! in each protected record the client sends (`bit-flip`), for TLS 1.3 and TLS 1.2. Each case
//! is a scenario text in the file format, parsed like a file, so a failing one can be saved as
//! a file and run on its own (`btls-harness tls --filter ID` reruns it as generated).

use crate::fields::client_hello_fields;
use crate::scenario::{parse, PeerSpec, TlsScenario};
use harness_core::scenario_files::{id_segment, ScenarioError};
use std::path::PathBuf;

/// One version's hello: the `[iut]` and `[peer]` tables, and the peer as the parser reads it.
struct Variant {
    name: &'static str,
    tables: &'static str,
    peer: PeerSpec,
    rfc_hello: &'static str,
    rfc_record: &'static str,
}

fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "tls13",
            tables: "",
            peer: PeerSpec::default(),
            rfc_hello: "RFC8446-4.1.2",
            rfc_record: "RFC8446-5.2",
        },
        Variant {
            name: "tls12",
            tables: "[iut]\nversions = [\"TLS12\"]\n\n[peer]\nversions = [\"TLS12\"]\nsuites = [\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"]\n",
            peer: PeerSpec {
                versions: Some(vec!["TLS12".into()]),
                suites: Some(vec!["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()]),
                ..PeerSpec::default()
            },
            rfc_hello: "RFC5246-7.4.1.2",
            rfc_record: "RFC5246-6.2.3.3",
        },
    ]
}

/// The section that defines a ClientHello field, for the case's requirements.
fn field_rfc(field: &str, v: &Variant) -> &'static str {
    match field.split('.').next().unwrap_or_default() {
        "SERVER_NAME" => "RFC6066-3",
        "SUPPORTED_GROUPS" => "RFC8446-4.2.7",
        "SIGNATURE_ALGORITHMS" => "RFC8446-4.2.3",
        "SUPPORTED_VERSIONS" => "RFC8446-4.2.1",
        "KEY_SHARE" => "RFC8446-4.2.8",
        "EC_POINT_FORMATS" => "RFC8422-5.1.2",
        "RENEGOTIATION_INFO" => "RFC5746-3.2",
        _ => v.rfc_hello,
    }
}

fn case_text(
    title: &str,
    description: &str,
    requirements: &[&str],
    tables: &str,
    steps: &str,
) -> String {
    let reqs = requirements
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[scenario]\ntitle = {title:?}\ndescription = {description:?}\nrequirements = [{reqs}]\niut_role = \"server\"\n\n{tables}\n{steps}"
    )
}

const DECODE_ERROR: &str =
    "[[step]]\nexpect_alert = \"decode_error\"\n[[step]]\nexpect_close = true\n";

/// Every length prefix of the hello (the extensions' own lengths have their scenario files,
/// `alerts/malformed-extension-length`), and the handshake header's, one off either way.
fn length_cases(v: &Variant) -> Vec<(String, String)> {
    let body = v.peer.config(0).hello().hello.encode_body();
    let mut fields: Vec<String> = client_hello_fields(&body)
        .into_iter()
        .filter(|f| {
            f.width > 0 && (f.name.contains('.') || f.name.chars().any(|c| c.is_ascii_lowercase()))
        })
        .map(|f| f.name)
        .collect();
    fields.dedup();
    let mut out = Vec::new();
    for field in &fields {
        for (delta, word) in [(1, "plus-one"), (-1, "minus-one")] {
            let title = format!(
                "A {} ClientHello whose {field} length is {} is a decode_error",
                v.name.to_uppercase(),
                if delta > 0 {
                    "one byte long"
                } else {
                    "one byte short"
                }
            );
            let description = format!(
                "Generated (class length): the length prefix of {field} in the harness's \
                 ClientHello is changed by {delta:+} and nothing else; the record and handshake \
                 headers stay right, so the message is whole and its inside no longer parses. \
                 RFC 8446 §6.2: a message that cannot be decoded is answered with decode_error."
            );
            // RFC 8446 §4.2.8.2: a share one byte short is also a share of the wrong size,
            // which a server that checks the share before the list's end rejects as such.
            let expect = if field == "KEY_SHARE.key_exchange" && delta < 0 {
                "[[step]]\nexpect_alert = [\"decode_error\", \"illegal_parameter\"]\n[[step]]\nexpect_close = true\n"
            } else {
                DECODE_ERROR
            };
            let steps = format!(
                "[[step]]\nsend = \"CLIENT_HELLO\"\nalter = {{ length = [[{field:?}, {delta}]] }}\n{expect}"
            );
            out.push((
                format!("length/{}/{}/{word}", v.name, id_segment(field)),
                case_text(
                    &title,
                    &description,
                    &[field_rfc(field, v), "RFC8446-6.2"],
                    v.tables,
                    &steps,
                ),
            ));
        }
    }
    let title = format!(
        "A {} ClientHello whose handshake header claims one byte less than its body is a decode_error",
        v.name.to_uppercase()
    );
    let steps = format!(
        "[[step]]\nsend = \"CLIENT_HELLO\"\nalter = {{ length = [[\"handshake\", -1]] }}\n{DECODE_ERROR}"
    );
    out.push((
        format!("length/{}/handshake/minus-one", v.name),
        case_text(
            &title,
            "Generated (class length): the ClientHello's handshake header says one byte less than \
             the body that follows, so the hello ends a byte early and the byte after it begins a \
             message of its own. RFC 8446 §6.2: decode_error.",
            &[v.rfc_hello, "RFC8446-4", "RFC8446-6.2"],
            v.tables,
            &steps,
        ),
    ));
    out
}

/// The hello cut where each of its fields starts, its handshake header following the cut.
/// The cut before `extensions` is left out: a hello without extensions is well-formed.
fn truncation_cases(v: &Variant) -> Vec<(String, String)> {
    let body = v.peer.config(0).hello().hello.encode_body();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for f in client_hello_fields(&body) {
        if f.name == "extensions" || seen.contains(&f.name) {
            continue;
        }
        seen.push(f.name.clone());
        let title = format!(
            "A {} ClientHello that ends where its {} begins is a decode_error",
            v.name.to_uppercase(),
            f.name
        );
        let description = format!(
            "Generated (class truncation): the harness's ClientHello body is cut at byte {} (where \
             {} starts) and its handshake header says the shorter length, so the message is whole \
             and what it holds stops inside a vector. RFC 8446 §6.2: decode_error.",
            f.at, f.name
        );
        let steps = format!(
            "[[step]]\nsend = \"CLIENT_HELLO\"\nalter = {{ truncate_at = {:?} }}\n{DECODE_ERROR}",
            f.name
        );
        out.push((
            format!("truncation/{}/{}", v.name, id_segment(&f.name)),
            case_text(
                &title,
                &description,
                &[field_rfc(&f.name, v), "RFC8446-6.2"],
                v.tables,
                &steps,
            ),
        ));
    }
    out
}

/// One byte flipped in the client's Finished record and in an application data record: the
/// first byte of the fragment (TLS 1.2 GCM: the explicit nonce), one in the middle, the tag's
/// last.
fn bit_flip_cases(v: &Variant) -> Vec<(String, String)> {
    let alert = "[[step]]\nexpect_alert = \"bad_record_mac\"\n[[step]]\nexpect_close = true\n";
    let mut out = Vec::new();
    for (at, word) in [(0, "first-byte"), (10, "byte-10"), (-1, "last-byte")] {
        let description = format!(
            "Generated (class bit-flip): the low bit of byte {at} of the protected record's \
             fragment ({}) is flipped after sealing. The record no longer authenticates: the \
             server MUST answer bad_record_mac ({}).",
            if at < 0 {
                "counted from its end: the AEAD tag"
            } else {
                "from its start"
            },
            v.rfc_record
        );
        let title = format!(
            "A {} server answers the client's Finished with byte {at} of its record flipped with bad_record_mac",
            v.name.to_uppercase()
        );
        let steps = format!("[[step]]\ncomplete = true\nfinished = \"flip:{at}\"\n{alert}");
        out.push((
            format!("bit-flip/{}/finished/{word}", v.name),
            case_text(&title, &description, &[v.rfc_record], v.tables, &steps),
        ));
        let title = format!(
            "A {} server answers application data with byte {at} of its record flipped with bad_record_mac",
            v.name.to_uppercase()
        );
        let steps = format!(
            "[[step]]\ncomplete = true\n[[step]]\nsend_app = \"68656c6c6f2c2062697420666c69700a\"\nflip = {at}\n{alert}"
        );
        out.push((
            format!("bit-flip/{}/application-data/{word}", v.name),
            case_text(&title, &description, &[v.rfc_record], v.tables, &steps),
        ));
    }
    out
}

/// Every generated case, with ids below `server/generated/`.
pub fn all() -> Result<Vec<TlsScenario>, ScenarioError> {
    let mut out = Vec::new();
    for v in variants() {
        let cases = length_cases(&v)
            .into_iter()
            .chain(truncation_cases(&v))
            .chain(bit_flip_cases(&v));
        for (id, text) in cases {
            let class = id.split('/').next().unwrap_or_default().to_owned();
            let path = PathBuf::from(format!("generated:{class}"));
            out.push(parse(&path, format!("server/generated/{id}"), &text)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn every_generated_case_parses_and_ids_are_unique() {
        let cases = all().unwrap();
        let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "unique ids");
        for class in ["length", "truncation", "bit-flip"] {
            for v in ["tls13", "tls12"] {
                let prefix = format!("server/generated/{class}/{v}/");
                assert!(ids.iter().any(|i| i.starts_with(&prefix)), "{prefix}");
            }
        }
        assert!(ids.contains(&"server/generated/length/tls13/key-share.key-exchange/minus-one"));
        assert!(ids
            .contains(&"server/generated/truncation/tls12/ec-point-formats.ec-point-format-list"));
    }
}
