//! Test vectors (`vectors/*.json`), in the shape implementers know from Project Wycheproof: a
//! header, notes explaining each flag, groups of tests with `tcId`, `comment`, `flags` and
//! `result` (`valid` / `invalid`). [`regenerate`] writes them from the reference implementation;
//! [`verify`] checks the reference against the checked-in files, naming file and `tcId` for each
//! mismatch.

mod generate;
mod iut;
mod verify;

pub use generate::generate_all;
pub use iut::{check_iut, VectorRun};
pub use verify::{evaluate, judge, verify_file, Answer};

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// One vector file: its name (`frames.json`) and content.
#[derive(Debug, Clone)]
pub struct VectorFile {
    /// File name below `vectors/`.
    pub name: &'static str,
    /// The JSON document.
    pub content: Value,
}

/// A mismatch or a malformed vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: tcId {tc_id}: {message}")]
pub struct VectorError {
    /// The file.
    pub file: String,
    /// The test (0 for the file itself).
    pub tc_id: u64,
    /// What is wrong.
    pub message: String,
}

/// Builds a Wycheproof-shaped document.
pub(crate) fn document(
    algorithm: &str,
    schema: &str,
    header: &[&str],
    notes: Value,
    groups: Vec<Value>,
) -> Value {
    let mut tc_id = 0u64;
    let mut groups = groups;
    for group in &mut groups {
        if let Some(tests) = group.get_mut("tests").and_then(Value::as_array_mut) {
            for test in tests {
                tc_id += 1;
                if let Some(map) = test.as_object_mut() {
                    map.insert("tcId".into(), json!(tc_id));
                }
            }
        }
    }
    json!({
        "algorithm": algorithm,
        "schema": schema,
        "generatorVersion": concat!("btls ", env!("CARGO_PKG_VERSION")),
        "numberOfTests": tc_id,
        "header": header,
        "notes": notes,
        "testGroups": groups,
    })
}

/// What [`regenerate`] did to each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file did not exist.
    Added,
    /// The file's content changed.
    Changed,
    /// Identical.
    Unchanged,
}

/// The text of a vector file as written (pretty JSON, trailing newline).
pub fn render(file: &VectorFile) -> String {
    let mut text = serde_json::to_string_pretty(&file.content).unwrap_or_default();
    text.push('\n');
    text
}

/// Rewrites every vector file in `dir` and reports which changed.
pub fn regenerate(dir: &Path) -> std::io::Result<Vec<(PathBuf, Change)>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for file in generate_all() {
        let path = dir.join(file.name);
        let text = render(&file);
        let change = match std::fs::read_to_string(&path) {
            Ok(old) if old == text => Change::Unchanged,
            Ok(_) => Change::Changed,
            Err(_) => Change::Added,
        };
        if change != Change::Unchanged {
            std::fs::write(&path, text)?;
        }
        out.push((path, change));
    }
    Ok(out)
}

/// Checks the reference implementation against every vector file in `dir`. Returns the number of
/// tests checked, or every error found.
pub fn verify(dir: &Path) -> Result<usize, Vec<VectorError>> {
    let mut errors = Vec::new();
    let mut count = 0;
    for file in generate_all() {
        let path = dir.join(file.name);
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(VectorError {
                    file: name,
                    tc_id: 0,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let doc: Value = match serde_json::from_str(&text) {
            Ok(d) => d,
            Err(e) => {
                errors.push(VectorError {
                    file: name,
                    tc_id: 0,
                    message: format!("not JSON: {e}"),
                });
                continue;
            }
        };
        match verify_file(&name, &doc) {
            Ok(n) => count += n,
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(count)
    } else {
        Err(errors)
    }
}
