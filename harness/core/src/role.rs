//! The two roles of a connection-oriented protocol.

use serde::{Deserialize, Serialize};

/// Which role the IUT plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The IUT is the client (it opens the connection).
    Client,
    /// The IUT is the server.
    Server,
}

impl Role {
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }

    /// Both roles, client first.
    pub const BOTH: [Self; 2] = [Self::Client, Self::Server];

    /// The role named `client` or `server`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::BOTH.into_iter().find(|r| r.as_str() == name)
    }

    /// The other role.
    pub fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}
