//! Where a mistake in one of the harness's TOML files is: its line and the dotted path of the
//! field, for every loader (scenarios, interop cases, expectations, untestable requirements).

use crate::Error;
use serde::de::DeserializeOwned;
use std::path::Path;

/// The 1-based line of byte `offset` in `text` (0 when the offset is not in the text).
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// The 1-based line where `key` is set in the table `[table]` of `text` (0 when it is not set
/// there), for a mistake found after parsing, in a value the parser accepted.
pub fn line_of_field(text: &str, table: &str, key: &str) -> usize {
    let mut current = "";
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[') {
            current = name.trim_start_matches('[').trim_end_matches(']').trim();
        } else if current == table
            && line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return index + 1;
        }
    }
    0
}

/// The line of `e` in `text` (0 when the parser gave no place) and its message, which starts
/// with the field's dotted path when the parser knows it (`iut.keys: unknown fixture key …`).
pub fn locate(text: &str, e: &toml::de::Error) -> (usize, String) {
    let line = e.span().map_or(0, |s| line_of(text, s.start));
    // Without its input, the error's display is the message and, on a line of its own,
    // "in `the.field`".
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let message = match shown.trim_end().rsplit_once("\nin `") {
        Some((message, field)) => format!("{}: {message}", field.trim_end_matches('`')),
        None => e.message().to_owned(),
    };
    (line, message)
}

/// Parses `text`, read from `path`; an error reads `path:line: field: message`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Error> {
    toml::from_str(text).map_err(|e| {
        let (line, message) = locate(text, &e);
        Error::Toml {
            path: path.to_owned(),
            line,
            message,
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_found_in_its_own_table_only() {
        let text = "[iut]\nclock_s = 1\n\n[peer]\nclock = 2\nclock_s = 3\n[[step]]\nclock_s = 4\n";
        assert_eq!(line_of_field(text, "iut", "clock_s"), 2);
        assert_eq!(line_of_field(text, "peer", "clock_s"), 6);
        assert_eq!(line_of_field(text, "step", "clock_s"), 8);
        assert_eq!(line_of_field(text, "outcome", "clock_s"), 0);
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Party {
        #[allow(dead_code, reason = "only its type is checked")]
        port: Option<u16>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[allow(dead_code, reason = "only its type is checked")]
        iut: Party,
    }

    #[test]
    fn a_wrong_value_is_located_by_line_and_field() {
        let text = "# comment\n\n[iut]\nport = \"x\"\n";
        let err = parse::<File>(Path::new("f.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("f.toml:4: iut.port: invalid type: string"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_field_is_located_by_line() {
        let text = "[iut]\nport = 1\nprot = 2\n";
        let err = parse::<File>(Path::new("f.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("f.toml:3: iut: unknown field `prot`"),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_is_located_by_line() {
        let err = parse::<File>(Path::new("f.toml"), "[iut]\nport = = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.toml:2: "), "{err}");
    }

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of("a\nb\n", 0), 1);
        assert_eq!(line_of("a\nb\n", 2), 2);
        assert_eq!(line_of("a\nb\n", 99), 0);
    }
}
