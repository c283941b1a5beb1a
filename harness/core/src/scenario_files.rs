//! Scenario files, whatever the profile: where they are, how a case id comes from a path, how a
//! `[matrix]` expands one file into several cases, and the error that names file, line and
//! field. A profile parses each expanded text into its own scenario type.

use crate::toml_errors;
use std::path::{Path, PathBuf};

/// A mistake in a scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// What is wrong, naming the field.
    pub message: String,
}

/// A name as a segment of a case id: lower case, `-` for `_` (`CLIENT_HELLO` → `client-hello`).
pub fn id_segment(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The id of the cases of `path`: its path below `root`, without `.toml`, with `/`.
pub fn base_id(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/")
}

/// Reads a scenario file.
pub fn read_scenario(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|e| ScenarioError {
        path: path.to_owned(),
        line: 0,
        message: format!("cannot read: {e}"),
    })
}

/// The cases of one file's `text`: with a `[matrix]` (a table of lists of strings), one per
/// combination of its values, each `{name}` of the text replaced by its value (which keeps line
/// numbers intact) and `/value` appended to `base_id`; without one, the text itself.
pub fn expand_matrix(
    path: &Path,
    base_id: &str,
    text: &str,
) -> Result<Vec<(String, String)>, ScenarioError> {
    let err = |line, message: String| ScenarioError {
        path: path.to_owned(),
        line,
        message,
    };
    let probe: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, message) = toml_errors::locate(text, &e);
        err(line, message)
    })?;
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    if let Some(matrix) = probe.get("matrix") {
        let table = matrix
            .as_table()
            .ok_or_else(|| err(0, "[matrix] must be a table".into()))?;
        for (name, values) in table {
            let values = values.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                err(
                    0,
                    format!("matrix.{name}: must be a non-empty list of strings"),
                )
            })?;
            let mut next = Vec::new();
            for combo in &combos {
                for v in values {
                    let v = v
                        .as_str()
                        .ok_or_else(|| err(0, format!("matrix.{name}: values must be strings")))?;
                    let mut c = combo.clone();
                    c.push((name.clone(), v.to_owned()));
                    next.push(c);
                }
            }
            combos = next;
        }
    }
    Ok(combos
        .into_iter()
        .map(|combo| {
            let mut body = text.to_owned();
            let mut id = base_id.to_owned();
            for (name, value) in &combo {
                body = body.replace(&format!("{{{name}}}"), value);
                id.push('/');
                id.push_str(&id_segment(value));
            }
            (id, body)
        })
        .collect())
}

/// Folders below a suite's root that hold another format's cases: the interop matrix's, the
/// TLS Pool profile's and the TLS profile's.
pub const OTHER_FORMATS: [&str; 3] = ["interop", "pool", "tls"];

/// Every scenario file below `root`, sorted: each `*.toml` except `untestable.toml` and what is
/// in [`OTHER_FORMATS`] folders.
pub fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(root, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| !OTHER_FORMATS.iter().any(|o| n == *o))
            {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "toml")
            && path.file_name().is_some_and(|n| n != "untestable.toml")
        {
            out.push(path);
        }
    }
}

/// Loads every scenario file below `root` with the profile's `load_file` (`root`, the file);
/// every malformed file is reported.
pub fn load_dir<T>(
    root: &Path,
    load_file: impl Fn(&Path, &Path) -> Result<Vec<T>, ScenarioError>,
) -> Result<Vec<T>, Vec<ScenarioError>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for file in files(root) {
        match load_file(root, &file) {
            Ok(mut c) => cases.append(&mut c),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_gives_one_case_per_combination_with_lines_kept() {
        let text = "x = \"{alg}/{suite}\"\n\n[matrix]\nalg = [\"ED25519_X25519\", \"P256\"]\nsuite = [\"a\", \"b\"]\n";
        let cases = expand_matrix(Path::new("m.toml"), "area/m", text).unwrap();
        let ids: Vec<&str> = cases.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "area/m/ed25519-x25519/a",
                "area/m/ed25519-x25519/b",
                "area/m/p256/a",
                "area/m/p256/b"
            ]
        );
        assert!(cases[3].1.contains("x = \"P256/b\""));
        assert_eq!(cases[3].1.lines().count(), text.lines().count());
    }

    #[test]
    fn a_bad_matrix_names_the_file_and_the_variable() {
        let e = expand_matrix(Path::new("m.toml"), "m", "[matrix]\nalg = []\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.toml:0: matrix.alg: must be a non-empty list of strings"
        );
    }
}
