//! Deliberate bugs ("quirks") that can be switched on in the reference implementation, one per
//! class of requirement, so that the conformance suite can prove that it detects each of them
//! (`btls-harness quirks`). This is the idea of BoringSSL's `ProtocolBugs`.
//!
//! Every quirk is off by default; a configuration without quirks behaves exactly as the
//! specification says, and checking a quirk costs one bit test. Each quirk names the requirement
//! of `SPEC.md` it breaks. Quirks exist for testing the test suite: never turn one on in a real
//! deployment.

use crate::Side;
use std::fmt;

/// The sides a quirk changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// Only the client's code.
    Client,
    /// Only the server's code.
    Server,
    /// Code both sides run (the frame layer, key validation, alerts, closure).
    Both,
}

impl Sides {
    /// The sides, client first.
    pub fn list(self) -> &'static [Side] {
        match self {
            Self::Client => &[Side::Client],
            Self::Server => &[Side::Server],
            Self::Both => &[Side::Client, Side::Server],
        }
    }
}

macro_rules! quirks {
    ($( $(#[$doc:meta])* $variant:ident = ($sides:ident, $name:literal, $req:literal, $what:literal), )*) => {
        /// One deliberate deviation from the specification.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Quirk {
            $( $(#[$doc])* $variant, )*
        }

        impl Quirk {
            /// Every quirk, in declaration order.
            pub const ALL: &'static [Quirk] = &[$(Quirk::$variant),*];

            /// The quirk's name on command lines (`--quirk NAME`), in kebab case.
            pub fn name(self) -> &'static str {
                match self { $(Quirk::$variant => $name,)* }
            }

            /// The requirement ID of SPEC.md that the quirk breaks.
            pub fn requirement(self) -> &'static str {
                match self { $(Quirk::$variant => $req,)* }
            }

            /// The sides whose code the quirk changes: a case against an IUT in each of these
            /// roles can catch it.
            pub fn sides(self) -> Sides {
                match self { $(Quirk::$variant => Sides::$sides,)* }
            }

            /// What the quirk does wrong, in one sentence.
            pub fn description(self) -> &'static str {
                match self { $(Quirk::$variant => $what,)* }
            }
        }
    };
}

quirks! {
    /// Waits for the body of a frame whose length exceeds `MAX_FRAME_BODY` and accepts it.
    AcceptOversizeFrame = (Both, "accept-oversize-frame", "BT-FRAME-2",
        "accepts a frame length above MAX_FRAME_BODY instead of sending record_overflow"),
    /// Silently skips frames of an unknown content type.
    IgnoreUnknownContentType = (Both, "ignore-unknown-content-type", "BT-FRAME-3",
        "skips frames of an unknown content type instead of sending unexpected_message"),
    /// Silently skips HANDSHAKE frames with an unknown code.
    IgnoreUnknownHandshakeCode = (Both, "ignore-unknown-handshake-code", "BT-FRAME-5",
        "skips HANDSHAKE frames with an unknown code instead of sending unexpected_message"),
    /// Accepts APPLICATION frames whose subcode is not 0.
    IgnoreApplicationSubcode = (Both, "ignore-application-subcode", "BT-FRAME-6",
        "accepts APPLICATION frames with a non-zero subcode"),
    /// Decodes a handshake body that has bytes left over after its last field.
    IgnoreTrailingBytes = (Both, "ignore-trailing-bytes", "BT-FRAME-7",
        "ignores bytes after the last field of a handshake body"),
    /// Accepts a CLIENT_HELLO that lists a cipher suite twice.
    AcceptDuplicateSuites = (Server, "accept-duplicate-suites", "BT-MSG-3",
        "accepts a CLIENT_HELLO that lists a cipher suite twice"),
    /// Does not check the peer's ephemeral key share, and accepts an all-zero X25519 secret.
    SkipKeyShareValidation = (Both, "skip-key-share-validation", "BT-MSG-4",
        "does not validate the peer's key share and accepts an all-zero X25519 secret"),
    /// Client: accepts a SERVER_HELLO naming another key algorithm than its CLIENT_HELLO.
    AcceptAlgorithmMismatch = (Client, "accept-algorithm-mismatch", "BT-MSG-6",
        "client: accepts a SERVER_HELLO whose key_algorithm differs from the CLIENT_HELLO's"),
    /// Client: accepts a SERVER_HELLO with a session ID it never offered (as a full handshake).
    AcceptUnofferedSessionId = (Client, "accept-unoffered-session-id", "BT-MSG-7",
        "client: accepts a SERVER_HELLO session_id that is not the one it offered"),
    /// Client: accepts a SESSION_DETAILS cipher suite it did not offer.
    AcceptUnofferedSuite = (Client, "accept-unoffered-suite", "BT-MSG-9",
        "client: accepts a symmetric protocol it did not offer"),
    /// Server: answers a CLIENT_HELLO of any version.
    AcceptAnyVersion = (Server, "accept-any-version", "BT-HS-3",
        "server: accepts a CLIENT_HELLO whose version is not 0x0100"),
    /// Sends FAILED_VALIDATION and closes without the `failed_handshake` alert.
    SkipFailedHandshake = (Both, "skip-failed-handshake", "BT-HS-10",
        "closes after FAILED_VALIDATION without sending failed_handshake"),
    /// Server: accepts any retried CLIENT_HELLO (a repeated algorithm, a session ID).
    IgnoreRetryLimit = (Server, "ignore-retry-limit", "BT-HS-16",
        "server: accepts a retried CLIENT_HELLO that repeats an algorithm or offers a session"),
    /// Client: does not verify the SESSION_DETAILS signature.
    SkipSessionDetailsSignature = (Client, "skip-session-details-signature", "BT-HS-20",
        "client: does not verify the server's SESSION_DETAILS signature"),
    /// Server: does not verify the CLIENT_READY signature.
    SkipClientSignature = (Server, "skip-client-signature", "BT-HS-21",
        "server: does not verify the client's CLIENT_READY signature"),
    /// Server: does not check the CLIENT_READY MAC.
    SkipClientReadyMac = (Server, "skip-client-ready-mac", "BT-HS-22",
        "server: does not check the CLIENT_READY verify_data"),
    /// Client: does not check the SERVER_READY MAC.
    SkipServerReadyMac = (Client, "skip-server-ready-mac", "BT-HS-19",
        "client: does not check the SERVER_READY verify_data"),
    /// Server: sends SERVER_READY right after SESSION_DETAILS, before CLIENT_READY.
    EarlyServerReady = (Server, "early-server-ready", "BT-HS-23",
        "server: sends SERVER_READY with SESSION_DETAILS instead of after CLIENT_READY"),
    /// Delivers plaintext APPLICATION frames received before the handshake completes.
    AcceptEarlyApplicationData = (Both, "accept-early-application-data", "BT-HS-25",
        "delivers APPLICATION data received before the handshake is complete"),
    /// Client: answers every SEND_KEY, not only the first of a CLIENT_HELLO.
    AcceptSecondSendKey = (Client, "accept-second-send-key", "BT-TIME-4",
        "client: answers a second SEND_KEY for the same CLIENT_HELLO"),
    /// Does not compare the peer key's handles and algorithm with those of the hello.
    SkipHandleCheck = (Both, "skip-handle-check", "BT-KEY-5",
        "does not check that the peer key is the one the hello named"),
    /// Checks only the length of an Ed25519 peer key, as bTLS 1.0 allowed.
    AcceptWeakEd25519Keys = (Both, "accept-weak-ed25519-keys", "BT-KEY-6",
        "accepts small-order, non-canonical and undecodable Ed25519 keys (checks the length only)"),
    /// Does not apply the allowed-algorithms policy to peer keys.
    SkipAlgorithmPolicy = (Both, "skip-algorithm-policy", "BT-KEY-7",
        "does not check the peer key's algorithm against the allowed algorithms"),
    /// Does not check the validity period of peer keys.
    SkipExpiryCheck = (Both, "skip-expiry-check", "BT-KEY-8",
        "does not check the validity period of peer keys"),
    /// Trusts every unsigned peer key, as if trust on first use were configured.
    TrustUnsignedKeys = (Both, "trust-unsigned-keys", "BT-KEY-9",
        "trusts unsigned, unknown peer keys although trust on first use is off"),
    /// Treats a registry signature that does not verify as no signature.
    IgnoreBadRegistrySignature = (Both, "ignore-bad-registry-signature", "BT-KEY-10",
        "treats a registry signature that does not verify as absent"),
    /// Checks the key itself, the algorithm and the validity period before trust, as bTLS 1.0 did.
    CheckTrustLast = (Both, "check-trust-last", "BT-KEY-4",
        "checks the key, the algorithm policy and the validity period before trust (an oracle)"),
    /// Keys trust on first use by `(reg_handle, key_handle)`, as bTLS 1.0 did.
    FirstUsePerKeyHandle = (Both, "first-use-per-key-handle", "BT-KEY-13",
        "trusts on first use a new unsigned key for a registration it already learned"),
    /// Falls back to SEND_KEY when the registry is unavailable, as bTLS 1.0 did.
    RegistryFailOpen = (Both, "registry-fail-open", "BT-KEY-14",
        "asks the peer for its key when the registry is unavailable (fail open)"),
    /// Takes a registry's "revoked" answer for "not found".
    IgnoreRevocation = (Both, "ignore-revocation", "BT-KEY-14",
        "treats a revoked key as not found and asks the peer for it"),
    /// Lets every trusted registry key vouch for every registration.
    IgnoreRegistryScope = (Both, "ignore-registry-scope", "BT-KEY-15",
        "accepts a registry signature from a key whose scope does not cover the registration"),
    /// Client: discards its stored session when a server declines to resume it.
    DiscardSessionOnDecline = (Client, "discard-session-on-decline", "BT-RES-5",
        "client: discards its stored session on an unauthenticated SERVER_HELLO that declines it"),
    /// Ignores the record limit: keeps protecting and opening frames past it.
    IgnoreRecordLimit = (Both, "ignore-record-limit", "BT-REC-8",
        "protects and opens frames past the record limit"),
    /// Client: does not check the server's registration against the expected one.
    SkipExpectedServer = (Client, "skip-expected-server", "BT-KEY-11",
        "client: does not check the server's registration against the expected one"),
    /// Opens a protected frame that repeats the previous sequence number (a replay).
    AcceptReplayedRecord = (Both, "accept-replayed-record", "BT-REC-2",
        "accepts a protected frame replayed under the previous sequence number"),
    /// Answers a protected frame that does not open with the wrong alert.
    BadRecordMacAsDecodeError = (Both, "bad-record-mac-as-decode-error", "BT-REC-4",
        "answers a protected frame that does not open with decode_error instead of bad_record_mac"),
    /// Accepts a plaintext ALERT from a peer whose direction is protected.
    AcceptPlaintextAlert = (Both, "accept-plaintext-alert", "BT-REC-4",
        "accepts a plaintext alert after the peer's READY"),
    /// Server: resumes a session for a CLIENT_HELLO that names another client key or suites.
    ResumeWithChangedParameters = (Server, "resume-with-changed-parameters", "BT-RES-3",
        "server: resumes although the hello names another client key or omits the session's suite"),
    /// Stores the session once SESSION_DETAILS is sent or received, before the READY messages.
    StoreSessionEarly = (Both, "store-session-early", "BT-RES-1",
        "stores the session at SESSION_DETAILS, before the peer's READY is verified"),
    /// Server: resumes a session however old it is.
    IgnoreSessionLifetime = (Server, "ignore-session-lifetime", "BT-RES-3",
        "server: resumes a session however long ago its full handshake was"),
    /// Server: renews a session's creation time on every resumption.
    RenewSessionOnResumption = (Server, "renew-session-on-resumption", "BT-RES-3",
        "server: counts a session's lifetime from its latest resumption, not its full handshake"),
    /// Sends every alert with the warning level.
    WrongAlertLevel = (Both, "wrong-alert-level", "BT-ALERT-1",
        "sends fatal alerts with the warning level"),
    /// Ignores alerts whose description it does not know.
    IgnoreUnknownAlert = (Both, "ignore-unknown-alert", "BT-ALERT-2",
        "ignores alerts with an unknown description instead of failing"),
    /// Answers a malformed body with `illegal_parameter` instead of `decode_error`.
    DecodeErrorAsIllegalParameter = (Both, "decode-error-as-illegal-parameter", "BT-ALERT-3",
        "sends illegal_parameter for a body that does not decode"),
    /// Answers a received fatal alert with its own `close_notify`.
    AnswerFatalAlert = (Both, "answer-fatal-alert", "BT-ALERT-4",
        "answers a received fatal alert with an alert"),
    /// Accepts an alert body longer than one byte.
    AcceptLongAlert = (Both, "accept-long-alert", "BT-ALERT-5",
        "accepts an alert whose body is longer than one byte"),
    /// Does not answer the peer's `close_notify`.
    NoCloseNotifyReply = (Both, "no-close-notify-reply", "BT-CLOSE-2",
        "does not answer close_notify with its own"),
    /// Reports an end of stream without `close_notify` as a clean close.
    TruncationAsClose = (Both, "truncation-as-close", "BT-CLOSE-3",
        "treats an end of stream without close_notify as a clean close"),
    /// Never aborts a handshake that does not complete.
    NoHandshakeTimeout = (Both, "no-handshake-timeout", "BT-TIME-1",
        "never aborts a stalled handshake"),
    /// Restarts the handshake timer whenever input is fed in (the reference adapter feeds whole
    /// messages), so a peer that keeps sending a message now and then holds the handshake open.
    TimerRestartsOnMessage = (Both, "timer-restarts-on-message", "BT-TIME-1",
        "restarts the handshake timer whenever a message arrives"),
    /// Answers close_notify but goes on reading, and delivering data, until the stream ends.
    ReadPastCloseNotify = (Both, "read-past-close-notify", "BT-CLOSE-2",
        "answers close_notify but reads on, delivering data, until the stream ends"),
    /// Sends application data once its CLIENT_READY is out, before verifying SERVER_READY.
    FalseStart = (Client, "false-start", "BT-HS-25",
        "sends application data before it has verified SERVER_READY (false start)"),
    /// Caches a peer key as soon as it validates, even if the handshake then fails.
    CacheBeforeCompletion = (Both, "cache-before-completion", "BT-CACHE-1",
        "caches a peer key on validation instead of on completion"),
}

impl Quirk {
    /// The quirk with this [`Quirk::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|q| q.name() == name)
    }

    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of quirks; empty by default (the implementation follows the specification).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Quirks(u64);

impl Quirks {
    /// No quirk.
    pub const NONE: Self = Self(0);

    /// The set holding only `quirk`.
    pub fn only(quirk: Quirk) -> Self {
        Self(quirk.bit())
    }

    /// Adds `quirk`.
    pub fn insert(&mut self, quirk: Quirk) {
        self.0 |= quirk.bit();
    }

    /// Whether `quirk` is on.
    #[inline]
    pub fn has(self, quirk: Quirk) -> bool {
        self.0 & quirk.bit() != 0
    }

    /// Whether no quirk is on.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The quirks that are on, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Quirk> {
        Quirk::ALL.iter().copied().filter(move |q| self.has(*q))
    }
}

impl FromIterator<Quirk> for Quirks {
    fn from_iter<I: IntoIterator<Item = Quirk>>(iter: I) -> Self {
        let mut set = Self::NONE;
        for q in iter {
            set.insert(q);
        }
        set
    }
}

impl fmt::Debug for Quirks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Quirk::name)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        assert!(Quirk::ALL.len() <= 64);
        for q in Quirk::ALL {
            assert_eq!(Quirk::from_name(q.name()), Some(*q));
            assert!(q.requirement().starts_with("BT-"));
        }
        let set: Quirks = Quirk::ALL.iter().copied().collect();
        assert_eq!(set.iter().count(), Quirk::ALL.len());
        assert!(Quirks::default().is_empty());
        assert!(Quirks::only(Quirk::WrongAlertLevel).has(Quirk::WrongAlertLevel));
        assert!(!Quirks::only(Quirk::WrongAlertLevel).has(Quirk::AcceptLongAlert));
    }
}
