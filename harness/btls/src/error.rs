//! The bTLS profile's error type for what it reads and writes: files, key logs, interop cases,
//! the adapter's vector mode. Checks that compare what an IUT did with what a case expects
//! return the difference as text (it becomes the case's failure), not an error.

use std::path::PathBuf;

/// What went wrong reading or writing the profile's files, or starting an adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core failed (a TOML file, an adapter that would not start).
    #[error(transparent)]
    Core(#[from] harness_core::Error),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    CannotRead {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    CannotWrite {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON file does not parse, or a value does not serialize.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A key log line is wrong.
    #[error("{origin}:{line}: {message}")]
    KeyLog {
        /// The key log's name.
        origin: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A session in a key log lacks one of its secrets.
    #[error("{origin}: session {session} lacks one of BTLS_CIPHER_SUITE, BTLS_CLIENT_TRAFFIC, BTLS_SERVER_TRAFFIC")]
    KeyLogIncomplete {
        /// The key log's name.
        origin: String,
        /// The session's client random (hex).
        session: String,
    },
    /// An interop case file says something the matrix cannot run.
    #[error("{}: {message}", path.display())]
    InteropCase {
        /// The case file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
}

impl Error {
    /// A file could not be read.
    pub fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::CannotRead { path, source }
    }

    /// A file could not be written.
    pub fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::CannotWrite { path, source }
    }

    /// A JSON file is wrong.
    pub fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> Self {
        let path = path.into();
        move |source| Self::Json { path, source }
    }
}
