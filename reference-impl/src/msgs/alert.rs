//! The ALERT body (SPEC §3.8, §9).

use super::{AlertDescription, AlertLevel};
use crate::codec::{DecodeError, Reader};

/// An alert: the description travels as the frame's subcode, the level as its 1-byte body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Warning or fatal (BT-ALERT-1).
    pub level: AlertLevel,
    /// What happened.
    pub description: AlertDescription,
}

impl Alert {
    /// The alert for `description` at the level BT-ALERT-1 requires.
    pub fn new(description: AlertDescription) -> Self {
        Self {
            level: description.level(),
            description,
        }
    }

    /// Decodes the body of an ALERT frame whose subcode is `description` (BT-ALERT-5).
    pub fn from_body(description: u8, body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let level = AlertLevel(r.u8("alert level")?);
        r.expect_end("Alert")?;
        Ok(Self {
            level,
            description: AlertDescription(description),
        })
    }

    /// The 1-byte body.
    pub fn body(&self) -> [u8; 1] {
        [self.level.0]
    }

    /// Whether this alert ends the connection as an error (BT-ALERT-2).
    pub fn is_fatal(&self) -> bool {
        self.description != AlertDescription::CLOSE_NOTIFY
    }
}
