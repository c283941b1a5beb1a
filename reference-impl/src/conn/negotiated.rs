//! What both roles hold once the keys are agreed, and completing the handshake from it.

use super::session::StoredSession;
use super::{Common, HandshakeSummary, Side, TrafficSecrets};
use crate::crypto::{KeySchedule, Secret};
use crate::keys::{OwnKey, PeerKeys};
use crate::msgs::{CipherSuite, PublishedKey, SESSION_ID_LEN};
use std::sync::Arc;

/// The agreed parameters and secrets of one handshake.
pub(crate) struct Negotiated {
    pub(crate) key: Arc<OwnKey>,
    pub(crate) client_random: [u8; 32],
    pub(crate) peer_key: PublishedKey,
    pub(crate) peer_key_learned: bool,
    pub(crate) schedule: KeySchedule,
    pub(crate) h_k: [u8; 32],
    pub(crate) session_id: [u8; SESSION_ID_LEN],
    pub(crate) suite: CipherSuite,
    pub(crate) resumed: bool,
}

impl Negotiated {
    /// `c_traffic` (BT-KS-5).
    pub(crate) fn client_traffic(&self) -> Secret {
        self.schedule.client_traffic(&self.h_k)
    }

    /// `s_traffic` (BT-KS-5).
    pub(crate) fn server_traffic(&self) -> Secret {
        self.schedule.server_traffic(&self.h_k)
    }

    /// The session a full handshake stores (BT-RES-1), its `resumption_secret` over the
    /// transcript so far (BT-KS-6: `h_F` once both READY messages are in).
    pub(crate) fn session(&self, common: &Common, side: Side) -> StoredSession {
        let (client_key, server_key) = match side {
            Side::Client => (self.key.published.clone(), self.peer_key.clone()),
            Side::Server => (self.peer_key.clone(), self.key.published.clone()),
        };
        StoredSession {
            session_id: self.session_id,
            resumption_secret: self
                .schedule
                .resumption_secret(&common.transcript.current()),
            key_algorithm: self.key.published.key_algorithm,
            cipher_suite: self.suite,
            client_key,
            server_key,
            created_ms: common.now_ms,
        }
    }

    /// Completes the handshake once both READY messages are verified: learns the peer key
    /// (BT-CACHE-1, BT-KEY-13), reports the summary, and returns the session to store after a full
    /// handshake (BT-RES-1, BT-KS-6).
    pub(crate) fn complete(
        self,
        common: &mut Common,
        side: Side,
        peer_keys: &PeerKeys,
    ) -> Option<StoredSession> {
        let h_f = common.transcript.current();
        if self.peer_key_learned {
            peer_keys.learn(&self.peer_key, common.now_secs()); // BT-CACHE-1, BT-KEY-13
        } else if !self.resumed {
            peer_keys.remember(&self.peer_key); // BT-KEY-13: a known key names its registration too
        }
        let session = (!self.resumed).then(|| self.session(common, side));
        let summary = HandshakeSummary {
            session_id: self.session_id,
            key_algorithm: self.key.published.key_algorithm,
            cipher_suite: self.suite,
            resumed: self.resumed,
            local_key: self.key.published.clone(),
            peer_key: self.peer_key.clone(),
            transcript_hash: h_f,
        };
        let secrets = TrafficSecrets {
            client_random: self.client_random,
            master: zeroize::Zeroizing::new(*self.schedule.master()),
            client_traffic: self.client_traffic(),
            server_traffic: self.server_traffic(),
        };
        common.complete(summary, secrets);
        session
    }
}
