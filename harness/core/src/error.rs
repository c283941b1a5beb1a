//! The core's one error type.

use std::path::PathBuf;

/// What went wrong in the core: every variant names the file or the program it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file the harness needs could not be read.
    #[error("{}: {source}", path.display())]
    CannotRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TOML file has a mistake.
    #[error("{}:{line}: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The 1-based line (0 when the parser gave no place).
        line: usize,
        /// What is wrong, starting with the field's dotted path when the parser knows it.
        message: String,
    },
    /// An expectations entry gives no reason.
    #[error("{}: deviation {case:?} needs a reason", path.display())]
    DeviationWithoutReason {
        /// The expectations file.
        path: PathBuf,
        /// The case it names.
        case: String,
    },
    /// The adapter program could not be started.
    #[error("cannot start IUT {}: {source}", program.display())]
    CannotStartAdapter {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
