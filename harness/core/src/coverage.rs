//! Requirement coverage: every requirement ID that SPEC.md defines must be checked by at least
//! one scenario, or be listed in `scenarios/untestable.toml` with the reason it cannot be.

use crate::case::CaseInfo;
use crate::Error;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The coverage of the specification by a set of scenarios.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Coverage {
    /// Every requirement ID defined in the specification, in order.
    pub defined: Vec<String>,
    /// ID → scenarios checking it.
    pub covered: BTreeMap<String, Vec<String>>,
    /// ID → why no scenario checks it.
    pub untestable: BTreeMap<String, String>,
    /// IDs neither covered nor listed as untestable.
    pub missing: Vec<String>,
    /// IDs cited by scenarios or the untestable list that the specification does not define.
    pub unknown: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Untestable {
    #[serde(default)]
    requirement: Vec<UntestableEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UntestableEntry {
    id: String,
    reason: String,
}

/// The requirement IDs defined in the specification: every `**PREFIX…**` (bTLS: `**BT-HS-12**`,
/// prefix `BT-`).
pub fn defined_ids(spec: &str, prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = spec;
    let marker = format!("**{prefix}");
    while let Some(start) = rest.find(&marker) {
        let tail = rest.get(start + 2..).unwrap_or_default();
        let end = tail.find("**").unwrap_or(0);
        let id = tail.get(..end).unwrap_or_default();
        if !id.is_empty() && !ids.iter().any(|i| i == id) {
            ids.push(id.to_owned());
        }
        rest = tail.get(end..).unwrap_or_default();
    }
    ids
}

impl Coverage {
    /// Computes coverage from the specification text (its requirement IDs start with `prefix`),
    /// the scenarios and the untestable list.
    pub fn compute(
        spec: &str,
        prefix: &str,
        scenarios: &[CaseInfo],
        untestable_file: &Path,
    ) -> Result<Self, Error> {
        let defined = defined_ids(spec, prefix);
        let mut covered: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in scenarios {
            for r in &s.requirements {
                let list = covered.entry(r.clone()).or_default();
                if !list.contains(&s.id) {
                    list.push(s.id.clone());
                }
            }
        }
        let mut untestable = BTreeMap::new();
        if untestable_file.exists() {
            let text =
                std::fs::read_to_string(untestable_file).map_err(|source| Error::CannotRead {
                    path: untestable_file.to_owned(),
                    source,
                })?;
            let file: Untestable = crate::toml_errors::parse(untestable_file, &text)?;
            for entry in file.requirement {
                untestable.insert(entry.id, entry.reason);
            }
        }
        let known: BTreeSet<&String> = defined.iter().collect();
        let unknown = covered
            .keys()
            .chain(untestable.keys())
            .filter(|id| !known.contains(id))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let missing = defined
            .iter()
            .filter(|id| !covered.contains_key(*id) && !untestable.contains_key(*id))
            .cloned()
            .collect();
        Ok(Self {
            defined,
            covered,
            untestable,
            missing,
            unknown,
        })
    }

    /// Whether every requirement is covered or justified and no unknown ID is cited.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.unknown.is_empty()
    }

    /// IDs checked by at least one scenario.
    pub fn covered_count(&self) -> usize {
        self.defined
            .iter()
            .filter(|id| self.covered.contains_key(*id))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_bold_markers_once_each() {
        let spec = "- **BT-HS-1** a\n- **BT-HS-2** b (see BT-HS-1)\n- **BT-HS-1** again";
        assert_eq!(defined_ids(spec, "BT-"), ["BT-HS-1", "BT-HS-2"]);
    }
}
