//! What the runner, the reports and the coverage need to know of a case, whatever its profile.

use crate::Role;
use std::path::PathBuf;

/// A case's identity and what it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    /// `<role>/<area>/<file stem>[/<matrix value>]`, unique in a suite.
    pub id: String,
    /// One line for people.
    pub title: String,
    /// The scenario file the case comes from.
    pub path: PathBuf,
    /// The role the IUT plays.
    pub iut_role: Role,
    /// The requirement IDs the case checks.
    pub requirements: Vec<String>,
}
