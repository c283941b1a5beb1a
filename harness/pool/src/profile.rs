//! The pool protocol as a profile: fixed 376-byte packets named by their command.

use btls_pool::packet::{describe, Packet, PACKET_LEN};
use harness_capture::Framing;
use harness_core::profile::{Profile, Transport};

/// Fixed-size V1 packets.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolFraming;

impl Framing for PoolFraming {
    fn header_len(&self) -> usize {
        0
    }

    fn frame_len(&self, _: &[u8]) -> usize {
        PACKET_LEN
    }
}

/// The TLS Pool V1 socket protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolProfile;

impl Profile for PoolProfile {
    type Framing = PoolFraming;

    fn name(&self) -> &'static str {
        "tlspool"
    }

    fn display_name(&self) -> &'static str {
        "TLS Pool"
    }

    fn requirement_prefix(&self) -> &'static str {
        "POOL-"
    }

    fn transport(&self) -> Transport {
        Transport::Unix
    }

    fn framing(&self) -> &PoolFraming {
        &PoolFraming
    }

    fn frame_name(&self, frame: &[u8]) -> String {
        match Packet::decode(frame) {
            Ok(p) => p.cmd.to_string(),
            Err(_) => format!("{} bytes", frame.len()),
        }
    }

    fn describe(&self, frame: &[u8]) -> String {
        match Packet::decode(frame) {
            Ok(p) => describe(&p),
            Err(e) => format!("({e})"),
        }
    }

    fn alert_name(&self, frame: &[u8]) -> Option<String> {
        let p = Packet::decode(frame).ok()?;
        let e = btls_pool::packet::ErrorBody::read(&p).ok()?;
        (p.cmd == btls_pool::packet::Command::ERROR).then(|| btls_pool::errno::label(e.errno))
    }

    fn compare(&self, recorded: &[u8], actual: &[u8]) -> Result<(), String> {
        if recorded == actual {
            Ok(())
        } else {
            Err(self.describe(actual))
        }
    }

    fn set_field(&self, frame: &[u8], field: &str, _: &toml::Value) -> Result<Vec<u8>, String> {
        Err(format!(
            "{}: pool scenarios set fields in their send steps, not with {field}",
            self.frame_name(frame)
        ))
    }
}
