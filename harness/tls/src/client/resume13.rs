//! TLS 1.3 resumption in the harness's client (RFC 8446 §2.2, §4.2.11, §4.6.1): the tickets a
//! server sends after the handshake become PSKs; a later ClientHello offers one with
//! psk_dhe_ke and its binder; a ServerHello that selects it skips the server's Certificate and
//! CertificateVerify.

use super::{decode_failure, violation, ClientPeer, Failure};
use crate::codec::{put_uint, put_vec, Reader};
use crate::keys::Suite13;
use crate::msgs::{AlertDescription as A, CipherSuite, Extension, ExtensionType, ServerHello};

/// A TLS 1.3 ticket the client keeps, with the PSK it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved13 {
    /// The ticket, as the server sent it.
    pub ticket: Vec<u8>,
    /// The PSK: HKDF-Expand-Label(resumption_master_secret, "resumption", nonce).
    pub psk: Vec<u8>,
    /// The suite of the connection that got the ticket (its hash is the PSK's).
    pub suite: CipherSuite,
    /// ticket_age_add.
    pub age_add: u32,
}

/// How the offered PSK is spoiled, for cases that check the server notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spoil13 {
    /// The ticket (the identity) with one byte flipped: the server cannot use it.
    Identity,
    /// The binder with one byte flipped: the server MUST abort (decrypt_error).
    Binder,
}

impl ClientPeer {
    /// RFC 8446 §4.6.1: a NewSessionTicket after the handshake, kept with its PSK.
    pub(super) fn on_ticket13(&mut self, body: &[u8]) -> Result<(), Failure> {
        let bad = |e| decode_failure("RFC8446-4.6.1", e);
        let mut r = Reader::new(body);
        let _lifetime = r.uint(4, "NewSessionTicket.ticket_lifetime").map_err(bad)?;
        let age_add = r.uint(4, "NewSessionTicket.ticket_age_add").map_err(bad)?;
        let nonce = r
            .vec(1, "NewSessionTicket.ticket_nonce")
            .map_err(bad)?
            .to_vec();
        let ticket = r.vec(2, "NewSessionTicket.ticket").map_err(bad)?.to_vec();
        let _extensions = r.vec(2, "NewSessionTicket.extensions").map_err(bad)?;
        r.finish("NewSessionTicket").map_err(bad)?;
        if ticket.is_empty() {
            return Err(violation(
                "RFC8446-4.6.1",
                "an empty ticket (the minimum is one byte)",
                A::DECODE_ERROR,
            ));
        }
        if let Some((suite, master)) = &self.resumption_master {
            if let Some(s) = Suite13::new(*suite) {
                self.saved13 = Some(Saved13 {
                    psk: s.ticket_psk(master, &nonce),
                    ticket,
                    suite: *suite,
                    age_add,
                });
            }
        }
        Ok(())
    }

    /// The TLS 1.3 ticket this connection got, if any (the last one the server sent).
    pub fn saved_ticket(&self) -> Option<&Saved13> {
        self.saved13.as_ref()
    }

    /// Offers `saved` in the ClientHello (not sent yet): psk_key_exchange_modes (psk_dhe_ke)
    /// and, last, pre_shared_key with the ticket and a binder, which is computed when the
    /// hello is sent, over the hello as sent. The ticket's age is taken as 0 ms.
    pub fn offer_ticket(&mut self, saved: &Saved13, spoil: Option<Spoil13>) {
        let hash_len = Suite13::new(saved.suite).map_or(32, |s| s.hash_len());
        let mut ticket = saved.ticket.clone();
        if spoil == Some(Spoil13::Identity) {
            let middle = ticket.len() / 2;
            if let Some(b) = ticket.get_mut(middle) {
                *b ^= 0x01;
            }
        }
        let mut identity = Vec::new();
        put_vec(&mut identity, 2, &ticket, None);
        put_uint(&mut identity, 4, saved.age_add);
        let mut body = Vec::new();
        put_vec(&mut body, 2, &identity, None);
        let mut binders = Vec::new();
        put_vec(&mut binders, 1, &vec![0u8; hash_len], None);
        put_vec(&mut body, 2, &binders, None);
        self.hello.extensions.retain(|e| {
            e.typ != ExtensionType::PRE_SHARED_KEY && e.typ != ExtensionType::PSK_KEY_EXCHANGE_MODES
        });
        self.hello.extensions.push(Extension {
            typ: ExtensionType::PSK_KEY_EXCHANGE_MODES,
            data: vec![1, 1],
        });
        self.hello.extensions.push(Extension {
            typ: ExtensionType::PRE_SHARED_KEY,
            data: body,
        });
        self.resume13 = Some((saved.clone(), spoil));
    }

    /// Writes the binder into the hello `message` (header included) as it is to be sent: the
    /// HMAC over the hash of the message up to its binders list (RFC 8446 §4.2.11.2).
    pub(super) fn bind(&self, message: &mut [u8]) {
        let Some((saved, spoil)) = &self.resume13 else {
            return;
        };
        let Some(suite) = Suite13::new(saved.suite) else {
            return;
        };
        let Some(body) = message.get(4..) else {
            return;
        };
        let Ok(psk) = crate::fields::find(body, "PRE_SHARED_KEY") else {
            return;
        };
        let len = crate::fields::length_of(body, &psk);
        // The extension ends with the binders list: its length, one binder's length, the binder.
        let end = 4 + psk.at + 2 + len;
        let list = 2 + 1 + suite.hash_len();
        let Some(start) = end.checked_sub(list) else {
            return;
        };
        let Some(truncated) = message.get(..start) else {
            return;
        };
        let mut binder = suite.binder(&saved.psk, &suite.hash(truncated));
        if *spoil == Some(Spoil13::Binder) {
            if let Some(b) = binder.first_mut() {
                *b ^= 0x01;
            }
        }
        if let Some(slot) = message.get_mut(start + 3..end) {
            if slot.len() == binder.len() {
                slot.copy_from_slice(&binder);
            }
        }
    }

    /// The PSK the ServerHello selects, if it selects the one offered (RFC 8446 §4.2.11): the
    /// identity must be 0, the only one, and the suite must have the PSK's hash.
    pub(super) fn selected_psk(&self, sh: &ServerHello) -> Result<Option<Vec<u8>>, Failure> {
        let Some(ext) = sh.extension(ExtensionType::PRE_SHARED_KEY) else {
            return Ok(None);
        };
        let Some((saved, _)) = &self.resume13 else {
            return Err(violation(
                "RFC8446-4.2.11",
                "a pre_shared_key in the ServerHello, which offered none",
                A::UNSUPPORTED_EXTENSION,
            ));
        };
        let mut r = Reader::new(&ext.data);
        let index = r
            .u16("PreSharedKeyExtension.selected_identity")
            .map_err(|e| decode_failure("RFC8446-4.2.11", e))?;
        if index != 0 {
            return Err(violation(
                "RFC8446-4.2.11",
                format!("selected_identity {index}, of one identity offered"),
                A::ILLEGAL_PARAMETER,
            ));
        }
        let same_hash = match (Suite13::new(saved.suite), Suite13::new(sh.cipher_suite)) {
            (Some(a), Some(b)) => a.hash_len() == b.hash_len(),
            _ => false,
        };
        if !same_hash {
            return Err(violation(
                "RFC8446-4.2.11",
                format!(
                    "{} with a PSK made under {} (another hash)",
                    sh.cipher_suite, saved.suite
                ),
                A::ILLEGAL_PARAMETER,
            ));
        }
        Ok(Some(saved.psk.clone()))
    }
}
