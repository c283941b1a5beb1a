//! bTLS as a profile of the harness (`harness_core::profile`): its framing, frame names,
//! transcript lines, field comparison and field changes.

use crate::{alter, wire};
use btls::msgs::{ContentType, FRAME_HEADER_LEN};
use harness_capture::Framing;
use harness_core::profile::{Profile, Transport};

/// bTLS frames: a 4-byte header (content type, subcode, u16 body length), then the body
/// (BT-FRAME-1).
#[derive(Debug, Clone, Copy, Default)]
pub struct BtlsFraming;

impl Framing for BtlsFraming {
    fn header_len(&self) -> usize {
        FRAME_HEADER_LEN
    }

    fn frame_len(&self, header: &[u8]) -> usize {
        match header {
            &[a, b, c, d] => btls::msgs::frame_len([a, b, c, d]),
            _ => header.len(),
        }
    }
}

/// The bTLS profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct BtlsProfile;

impl Profile for BtlsProfile {
    type Framing = BtlsFraming;

    fn name(&self) -> &'static str {
        "btls"
    }

    fn display_name(&self) -> &'static str {
        "bTLS"
    }

    fn requirement_prefix(&self) -> &'static str {
        "BT-"
    }

    fn transport(&self) -> Transport {
        Transport::Tcp
    }

    fn framing(&self) -> &BtlsFraming {
        &BtlsFraming
    }

    fn frame_name(&self, frame: &[u8]) -> String {
        wire::frame_name(frame)
    }

    fn describe(&self, frame: &[u8]) -> String {
        wire::describe(frame)
    }

    /// How the IUT splits application data into frames depends on how its reads were split, so
    /// its APPLICATION frames are shown without sizes.
    fn transcript_text(&self, frame: &[u8], from_iut: bool) -> String {
        if from_iut && frame.first() == Some(&ContentType::APPLICATION.0) {
            "APPLICATION protected".to_owned()
        } else {
            wire::describe(frame)
        }
    }

    fn alert_name(&self, frame: &[u8]) -> Option<String> {
        wire::alert_description(frame).map(|d| d.to_string())
    }

    fn compare(&self, recorded: &[u8], actual: &[u8]) -> Result<(), String> {
        wire::compare_frames(recorded, actual)
    }

    fn set_field(&self, frame: &[u8], field: &str, value: &toml::Value) -> Result<Vec<u8>, String> {
        let mut set = toml::Table::new();
        set.insert(field.to_owned(), value.clone());
        alter::set_fields(frame, &set)
    }
}
