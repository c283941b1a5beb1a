//! Open callbacks: the daemon hands out a `cbid` (1..=1024) with each STARTTLS_LOCALID or
//! PINENTRY it sends, and routes the answer carrying that `cbid` back to the request that
//! waits for it, but only when it comes over the connection the callback was sent on
//! (POOL-CB-2): no application can answer another's callback.

use crate::packet::{Packet, CBID_RANGE};
use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// The table of open callbacks.
#[derive(Debug, Default)]
pub(crate) struct Callbacks {
    inner: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    last: u16,
    open: HashMap<u16, (u64, SyncSender<Packet>)>,
}

/// How an answer was routed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    /// Delivered to the waiting request.
    Delivered,
    /// No callback with this cbid is open on this connection.
    NotOpen,
}

impl Callbacks {
    /// Opens a callback for connection `conn`; `None` when all 1024 are open.
    pub(crate) fn open(&self, conn: u64) -> Option<(u16, Receiver<Packet>)> {
        let mut t = self.inner.lock().ok()?;
        let (lo, hi) = CBID_RANGE;
        let span = usize::from(hi - lo) + 1;
        for i in 0..span {
            // The next after the last handed out, wrapping from 1024 to 1.
            let cbid = lo + u16::try_from((usize::from(t.last) + i) % span).unwrap_or(0);
            if let std::collections::hash_map::Entry::Vacant(slot) = t.open.entry(cbid) {
                let (tx, rx) = sync_channel(1);
                slot.insert((conn, tx));
                t.last = cbid;
                return Some((cbid, rx));
            }
        }
        None
    }

    /// Closes a callback whose request stopped waiting.
    pub(crate) fn close(&self, cbid: u16) {
        if let Ok(mut t) = self.inner.lock() {
            t.open.remove(&cbid);
        }
    }

    /// Whether `cbid` is open on connection `conn`.
    pub(crate) fn is_open_on(&self, cbid: u16, conn: u64) -> bool {
        self.inner
            .lock()
            .map(|t| t.open.get(&cbid).is_some_and(|(c, _)| *c == conn))
            .unwrap_or(false)
    }

    /// Routes an answer that came over connection `conn`.
    pub(crate) fn answer(&self, conn: u64, packet: Packet) -> Routed {
        let Ok(mut t) = self.inner.lock() else {
            return Routed::NotOpen;
        };
        match t.open.get(&packet.cbid) {
            Some((owner, _)) if *owner == conn => {}
            _ => return Routed::NotOpen,
        }
        match t.open.remove(&packet.cbid) {
            Some((_, tx)) => {
                let _ = tx.try_send(packet);
                Routed::Delivered
            }
            None => Routed::NotOpen,
        }
    }

    /// Closes every callback of a connection that ended: their requests see the channel close.
    pub(crate) fn drop_connection(&self, conn: u64) {
        if let Ok(mut t) = self.inner.lock() {
            t.open.retain(|_, (c, _)| *c != conn);
        }
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().map(|t| t.open.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Command;

    #[test]
    fn cbids_run_from_one_to_1024_and_then_run_out() {
        let c = Callbacks::default();
        let mut seen = Vec::new();
        let mut keep = Vec::new();
        for _ in 0..1024 {
            let (cbid, rx) = c.open(1).unwrap();
            seen.push(cbid);
            keep.push(rx);
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=1024).collect::<Vec<u16>>());
        assert!(c.open(1).is_none());
        c.close(77);
        assert_eq!(c.open(2).map(|(id, _)| id), Some(77));
    }

    #[test]
    fn an_answer_from_another_connection_is_not_delivered() {
        let c = Callbacks::default();
        let (cbid, rx) = c.open(1).unwrap();
        let p = Packet::new(Command::STARTTLS_LOCALID, 5, cbid);
        assert_eq!(c.answer(2, p.clone()), Routed::NotOpen);
        assert!(rx.try_recv().is_err());
        assert_eq!(c.answer(1, p.clone()), Routed::Delivered);
        assert_eq!(rx.try_recv().unwrap(), p);
        assert_eq!(c.answer(1, p), Routed::NotOpen, "answered once");
    }
}
