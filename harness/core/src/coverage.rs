//! Requirement coverage: every requirement ID that SPEC.md defines must be checked by at least
//! one scenario, or be listed in `scenarios/untestable.toml` with the reason it cannot be — and,
//! when the specification says which roles a requirement applies to (a role table, see
//! [`defined_roles`]), in **each** of those roles: a server-only case does not show that a client
//! keeps the rule.

use crate::case::CaseInfo;
use crate::{Error, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A requirement in one role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct InRole {
    /// The requirement ID.
    pub id: String,
    /// The IUT's role.
    pub role: Role,
}

impl std::fmt::Display for InRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.id, self.role.as_str())
    }
}

/// The coverage of the specification by a set of scenarios.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Every requirement ID defined in the specification, in order.
    pub defined: Vec<String>,
    /// ID → the roles it applies to, from the specification's role table (empty when the
    /// specification has none: then one case in any role covers a requirement).
    pub roles: BTreeMap<String, Vec<Role>>,
    /// ID → scenarios checking it, in any role.
    pub covered: BTreeMap<String, Vec<String>>,
    /// ID → role → scenarios checking it against an IUT in that role.
    pub covered_in: BTreeMap<String, BTreeMap<Role, Vec<String>>>,
    /// ID → why no scenario checks it (in any role).
    pub untestable: BTreeMap<String, String>,
    /// ID → role → why no scenario checks it in that role.
    pub untestable_in: BTreeMap<String, BTreeMap<Role, String>>,
    /// IDs neither covered nor listed as untestable.
    pub missing: Vec<String>,
    /// Requirements that apply to a role in which no scenario checks them and no reason is given.
    pub missing_in_role: Vec<InRole>,
    /// Requirements cited by a scenario whose IUT plays a role they do not apply to.
    pub misplaced: Vec<InRole>,
    /// IDs cited by scenarios or the untestable list that the specification does not define.
    pub unknown: Vec<String>,
    /// IDs the role table leaves out or names twice, and role table IDs not defined.
    pub role_table_errors: Vec<String>,
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
    /// The roles the reason holds for; every role when absent.
    roles: Option<Vec<Role>>,
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

/// The specification's role table: the rows of a Markdown table whose first cell names roles
/// (`client`, `server`, or both, comma-separated) and whose second cell lists requirement IDs
/// with `prefix`, for example `| client, server | BT-FRAME-1, BT-FRAME-2 |`. Returns ID → roles,
/// and the IDs a row names a second time.
pub fn defined_roles(spec: &str, prefix: &str) -> (BTreeMap<String, Vec<Role>>, Vec<String>) {
    let mut roles: BTreeMap<String, Vec<Role>> = BTreeMap::new();
    let mut twice = Vec::new();
    for line in spec.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [who, ids] = cells.as_slice() else {
            continue;
        };
        let Some(who) = who
            .split(',')
            .map(|r| Role::from_name(r.trim()))
            .collect::<Option<Vec<Role>>>()
        else {
            continue;
        };
        for id in ids
            .split(',')
            .map(str::trim)
            .filter(|i| i.starts_with(prefix))
        {
            if roles.insert(id.to_owned(), who.clone()).is_some() {
                twice.push(id.to_owned());
            }
        }
    }
    (roles, twice)
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
        let (roles, twice) = defined_roles(spec, prefix);
        let mut covered: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut covered_in: BTreeMap<String, BTreeMap<Role, Vec<String>>> = BTreeMap::new();
        for s in scenarios {
            for r in &s.requirements {
                let list = covered.entry(r.clone()).or_default();
                if !list.contains(&s.id) {
                    list.push(s.id.clone());
                }
                let list = covered_in
                    .entry(r.clone())
                    .or_default()
                    .entry(s.iut_role)
                    .or_default();
                if !list.contains(&s.id) {
                    list.push(s.id.clone());
                }
            }
        }
        let mut untestable = BTreeMap::new();
        let mut untestable_in: BTreeMap<String, BTreeMap<Role, String>> = BTreeMap::new();
        if untestable_file.exists() {
            let text =
                std::fs::read_to_string(untestable_file).map_err(|source| Error::CannotRead {
                    path: untestable_file.to_owned(),
                    source,
                })?;
            let file: Untestable = crate::toml_errors::parse(untestable_file, &text)?;
            for entry in file.requirement {
                match entry.roles {
                    None => {
                        untestable.insert(entry.id, entry.reason);
                    }
                    Some(list) => {
                        let by_role = untestable_in.entry(entry.id).or_default();
                        for role in list {
                            by_role.insert(role, entry.reason.clone());
                        }
                    }
                }
            }
        }
        let known: BTreeSet<&String> = defined.iter().collect();
        let unknown = covered
            .keys()
            .chain(untestable.keys())
            .chain(untestable_in.keys())
            .filter(|id| !known.contains(id))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let missing = defined
            .iter()
            .filter(|id| {
                !covered.contains_key(*id)
                    && !untestable.contains_key(*id)
                    && !untestable_in.contains_key(*id)
            })
            .cloned()
            .collect();
        let mut missing_in_role = Vec::new();
        let mut misplaced = Vec::new();
        let mut role_table_errors = Vec::new();
        if !roles.is_empty() {
            for id in &twice {
                role_table_errors.push(format!("{id} is named twice in the role table"));
            }
            for id in roles.keys().filter(|id| !known.contains(id)) {
                role_table_errors.push(format!("{id} is in the role table but not defined"));
            }
            for id in &defined {
                let Some(applies) = roles.get(id) else {
                    role_table_errors.push(format!("{id} has no row in the role table"));
                    continue;
                };
                let cases = covered_in.get(id);
                for role in applies {
                    let checked = cases.is_some_and(|c| c.contains_key(role));
                    let excused = untestable.contains_key(id)
                        || untestable_in.get(id).is_some_and(|u| u.contains_key(role));
                    if !checked && !excused {
                        missing_in_role.push(InRole {
                            id: id.clone(),
                            role: *role,
                        });
                    }
                }
                for role in cases.into_iter().flat_map(BTreeMap::keys) {
                    if !applies.contains(role) {
                        misplaced.push(InRole {
                            id: id.clone(),
                            role: *role,
                        });
                    }
                }
            }
        }
        Ok(Self {
            defined,
            roles,
            covered,
            covered_in,
            untestable,
            untestable_in,
            missing,
            missing_in_role,
            misplaced,
            unknown,
            role_table_errors,
        })
    }

    /// Whether every requirement is covered or justified in every role it applies to, no case
    /// cites a requirement in a role it does not apply to, and no unknown ID is cited.
    pub fn is_complete(&self) -> bool {
        self.problems().is_empty()
    }

    /// What keeps the coverage from being complete, one line each, for people.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for id in &self.missing {
            out.push(format!(
                "{id}: no scenario checks it and untestable.toml gives no reason"
            ));
        }
        for gap in &self.missing_in_role {
            out.push(format!(
                "{}: applies to the {} but no {} case checks it (and untestable.toml gives no reason for that role)",
                gap.id,
                gap.role.as_str(),
                gap.role.as_str()
            ));
        }
        for m in &self.misplaced {
            let cases = self
                .covered_in
                .get(&m.id)
                .and_then(|c| c.get(&m.role))
                .map(|c| c.join(", "))
                .unwrap_or_default();
            out.push(format!(
                "{}: cited by {} case(s) ({cases}) but the role table says it applies to the {} only",
                m.id,
                m.role.as_str(),
                m.role.peer().as_str()
            ));
        }
        for id in &self.unknown {
            out.push(format!("{id}: cited but not defined in the specification"));
        }
        out.extend(self.role_table_errors.iter().cloned());
        out
    }

    /// IDs checked by at least one scenario.
    pub fn covered_count(&self) -> usize {
        self.defined
            .iter()
            .filter(|id| self.covered.contains_key(*id))
            .count()
    }

    /// (requirement, role) pairs the role table asks for, and how many of them a scenario checks.
    pub fn role_counts(&self) -> (usize, usize) {
        let wanted: usize = self.roles.values().map(Vec::len).sum();
        let checked = self
            .roles
            .iter()
            .map(|(id, roles)| {
                roles
                    .iter()
                    .filter(|r| self.covered_in.get(id).is_some_and(|c| c.contains_key(*r)))
                    .count()
            })
            .sum();
        (wanted, checked)
    }

    /// The cases that check `id` against an IUT in `role`.
    pub fn cases_in(&self, id: &str, role: Role) -> &[String] {
        self.covered_in
            .get(id)
            .and_then(|c| c.get(&role))
            .map_or(&[], Vec::as_slice)
    }

    /// Why `id` is not checked in `role`, if untestable.toml says.
    pub fn untestable_reason(&self, id: &str, role: Role) -> Option<&str> {
        self.untestable
            .get(id)
            .or_else(|| self.untestable_in.get(id).and_then(|u| u.get(&role)))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "tests fail loudly on purpose"
    )]
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn ids_are_read_from_bold_markers_once_each() {
        let spec = "- **BT-HS-1** a\n- **BT-HS-2** b (see BT-HS-1)\n- **BT-HS-1** again";
        assert_eq!(defined_ids(spec, "BT-"), ["BT-HS-1", "BT-HS-2"]);
    }

    fn case(id: &str, role: Role, reqs: &[&str]) -> CaseInfo {
        CaseInfo {
            id: id.into(),
            title: String::new(),
            path: PathBuf::new(),
            iut_role: role,
            requirements: reqs.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    const SPEC: &str = "- **BT-A-1** both\n- **BT-A-2** server\n- **BT-A-3** client\n\n\
        | roles | requirements |\n|---|---|\n| client, server | BT-A-1 |\n| server | BT-A-2 |\n\
        | client | BT-A-3 |\n";

    #[test]
    fn a_requirement_of_both_roles_needs_a_case_in_each() {
        let cases = [
            case("server/a", Role::Server, &["BT-A-1", "BT-A-2"]),
            case("client/b", Role::Client, &["BT-A-3"]),
        ];
        let c = Coverage::compute(SPEC, "BT-", &cases, Path::new("/nonexistent")).unwrap();
        assert!(c.missing.is_empty());
        assert_eq!(
            c.missing_in_role,
            [InRole {
                id: "BT-A-1".into(),
                role: Role::Client
            }]
        );
        assert!(!c.is_complete());
        assert_eq!(c.role_counts(), (4, 3));
        assert!(c.problems()[0].contains("BT-A-1: applies to the client"));
    }

    #[test]
    fn a_case_in_a_role_the_requirement_does_not_apply_to_is_misplaced() {
        let cases = [
            case("server/a", Role::Server, &["BT-A-1", "BT-A-2"]),
            case("client/b", Role::Client, &["BT-A-1", "BT-A-3", "BT-A-2"]),
        ];
        let c = Coverage::compute(SPEC, "BT-", &cases, Path::new("/nonexistent")).unwrap();
        assert!(c.missing_in_role.is_empty());
        assert_eq!(c.misplaced.len(), 1);
        assert!(c.problems()[0].contains("client/b"), "{:?}", c.problems());
    }

    #[test]
    fn a_reason_for_one_role_excuses_only_that_role() {
        let dir = std::env::temp_dir().join(format!("coverage-roles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("untestable.toml");
        std::fs::write(
            &file,
            "[[requirement]]\nid = \"BT-A-1\"\nroles = [\"client\"]\nreason = \"r\"\n",
        )
        .unwrap();
        let cases = [case("client/b", Role::Client, &["BT-A-3"])];
        let c = Coverage::compute(SPEC, "BT-", &cases, &file).unwrap();
        let gaps: Vec<String> = c.missing_in_role.iter().map(ToString::to_string).collect();
        assert_eq!(gaps, ["BT-A-1 (server)", "BT-A-2 (server)"]);
        assert_eq!(c.untestable_reason("BT-A-1", Role::Client), Some("r"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_role_table_must_name_every_requirement_once() {
        let spec =
            "- **BT-A-1** x\n- **BT-A-2** y\n| server | BT-A-1, BT-A-9 |\n| client | BT-A-1 |\n";
        let c = Coverage::compute(spec, "BT-", &[], Path::new("/nonexistent")).unwrap();
        assert_eq!(c.role_table_errors.len(), 3, "{:?}", c.role_table_errors);
    }

    #[test]
    fn without_a_role_table_any_role_covers() {
        let spec = "- **P-1** x\n";
        let c = Coverage::compute(
            spec,
            "P-",
            &[case("server/a", Role::Server, &["P-1"])],
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert!(c.is_complete());
    }
}
