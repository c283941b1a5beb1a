//! Known deviations of an IUT (`expectations.toml`): cases expected to fail, each with a reason.
//! An expected failure that passes is itself a failure (the entry is stale or the bug was fixed),
//! and entries naming no case in the suite are reported.

use crate::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    deviation: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    case: String,
    reason: String,
}

/// The deviations of one IUT, by case id (scenario id without the IUT prefix).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// Case id → reason.
    pub deviations: BTreeMap<String, String>,
}

impl Expectations {
    /// Loads an expectations file; errors name the file and line.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::CannotRead {
            path: path.to_owned(),
            source,
        })?;
        let file: File = crate::toml_errors::parse(path, &text)?;
        let mut deviations = BTreeMap::new();
        for entry in file.deviation {
            if entry.reason.trim().is_empty() {
                return Err(Error::DeviationWithoutReason {
                    path: path.to_owned(),
                    case: entry.case,
                });
            }
            deviations.insert(entry.case, entry.reason);
        }
        Ok(Self { deviations })
    }

    /// The reason `case` is expected to fail, if it is.
    pub fn reason(&self, case: &str) -> Option<&str> {
        self.deviations.get(case).map(String::as_str)
    }

    /// Entries that name no case of the suite.
    pub fn stale<'a>(&'a self, cases: &'a [String]) -> Vec<&'a str> {
        self.deviations
            .keys()
            .filter(|k| !cases.contains(k))
            .map(String::as_str)
            .collect()
    }
}
