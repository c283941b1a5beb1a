//! Key logs: the traffic secrets of recorded sessions, so that protected frames in a capture can
//! be opened offline. The format follows NSS's SSLKEYLOGFILE: one line per secret, named by the
//! client random of the CLIENT_HELLO that succeeded.
//!
//! ```text
//! # comment
//! BTLS_CIPHER_SUITE <client random, 64 hex digits> AES_256_GCM
//! BTLS_CLIENT_TRAFFIC <client random> <c_traffic, 64 hex digits>
//! BTLS_SERVER_TRAFFIC <client random> <s_traffic, 64 hex digits>
//! ```

use crate::Error;
use btls::msgs::CipherSuite;
use std::fmt::Write as _;
use std::path::Path;

/// The secrets of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLogEntry {
    /// The random of the CLIENT_HELLO that succeeded.
    pub client_random: [u8; 32],
    /// The negotiated symmetric protocol.
    pub cipher_suite: CipherSuite,
    /// `c_traffic` (SPEC BT-KS-5).
    pub client_traffic: [u8; 32],
    /// `s_traffic` (SPEC BT-KS-5).
    pub server_traffic: [u8; 32],
}

impl KeyLogEntry {
    /// The entry of an established reference connection, if its handshake completed.
    pub fn of(connection: &btls::Connection) -> Option<Self> {
        let secrets = connection.traffic_secrets()?;
        let summary = connection.summary()?;
        Some(Self {
            client_random: secrets.client_random,
            cipher_suite: summary.cipher_suite,
            client_traffic: *secrets.client_traffic,
            server_traffic: *secrets.server_traffic,
        })
    }
}

impl KeyLogEntry {
    /// The session's three lines of the key log.
    pub fn lines(&self) -> String {
        let r = hex::encode(self.client_random);
        let mut out = String::new();
        let _ = writeln!(out, "BTLS_CIPHER_SUITE {r} {}", self.cipher_suite);
        let _ = writeln!(
            out,
            "BTLS_CLIENT_TRAFFIC {r} {}",
            hex::encode(self.client_traffic)
        );
        let _ = writeln!(
            out,
            "BTLS_SERVER_TRAFFIC {r} {}",
            hex::encode(self.server_traffic)
        );
        out
    }
}

/// The first line of every key log the harness writes.
pub const HEADER: &str = "# bTLS key log (format: harness/CAPTURES.md)\n";

/// A key log: entries of any number of sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLog {
    /// The sessions, in file order.
    pub entries: Vec<KeyLogEntry>,
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text).ok()?;
    <[u8; 32]>::try_from(bytes).ok()
}

impl KeyLog {
    /// The entry for `client_random`.
    pub fn find(&self, client_random: &[u8]) -> Option<&KeyLogEntry> {
        self.entries
            .iter()
            .find(|e| e.client_random.as_slice() == client_random)
    }

    /// The key log's text.
    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        for e in &self.entries {
            out.push_str(&e.lines());
        }
        out
    }

    /// Parses a key log; `origin` names it in errors, which give the line and the field.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        #[derive(Default)]
        struct Partial {
            suite: Option<CipherSuite>,
            client: Option<[u8; 32]>,
            server: Option<[u8; 32]>,
        }
        let mut order: Vec<[u8; 32]> = Vec::new();
        let mut partial: std::collections::HashMap<[u8; 32], Partial> = Default::default();
        for (i, line) in text.lines().enumerate() {
            let at = |what: &str| Error::KeyLog {
                origin: origin.to_owned(),
                line: i + 1,
                message: what.to_owned(),
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [label, random, value] = fields.as_slice() else {
                return Err(at("expected three fields: LABEL CLIENT_RANDOM VALUE"));
            };
            let random =
                hex32(random).ok_or_else(|| at("client random: expected 64 hex digits"))?;
            if !partial.contains_key(&random) {
                order.push(random);
            }
            let entry = partial.entry(random).or_default();
            match *label {
                "BTLS_CIPHER_SUITE" => {
                    entry.suite = Some(
                        CipherSuite::from_name(value)
                            .ok_or_else(|| at(&format!("unknown cipher suite {value}")))?,
                    );
                }
                "BTLS_CLIENT_TRAFFIC" => {
                    entry.client =
                        Some(hex32(value).ok_or_else(|| at("secret: expected 64 hex digits"))?);
                }
                "BTLS_SERVER_TRAFFIC" => {
                    entry.server =
                        Some(hex32(value).ok_or_else(|| at("secret: expected 64 hex digits"))?);
                }
                other => return Err(at(&format!("unknown label {other}"))),
            }
        }
        let mut entries = Vec::new();
        for random in order {
            let Some(Partial {
                suite: Some(cipher_suite),
                client: Some(client_traffic),
                server: Some(server_traffic),
            }) = partial.remove(&random)
            else {
                return Err(Error::KeyLogIncomplete {
                    origin: origin.to_owned(),
                    session: hex::encode(random),
                });
            };
            entries.push(KeyLogEntry {
                client_random: random,
                cipher_suite,
                client_traffic,
                server_traffic,
            });
        }
        Ok(Self { entries })
    }

    /// Reads and parses a key log file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_errors_name_the_line() {
        let log = KeyLog {
            entries: vec![KeyLogEntry {
                client_random: [7; 32],
                cipher_suite: CipherSuite::CHACHA20_POLY1305,
                client_traffic: [1; 32],
                server_traffic: [2; 32],
            }],
        };
        assert_eq!(KeyLog::parse(&log.to_text(), "k").unwrap(), log);
        let bad = log.to_text().replace("BTLS_CLIENT_TRAFFIC", "BTLS_OTHER");
        let e = KeyLog::parse(&bad, "keys.log").unwrap_err();
        let e = e.to_string();
        assert!(e.starts_with("keys.log:3: unknown label BTLS_OTHER"), "{e}");
        let short = log.to_text().lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(KeyLog::parse(&short, "k")
            .unwrap_err()
            .to_string()
            .contains("lacks"));
    }
}
