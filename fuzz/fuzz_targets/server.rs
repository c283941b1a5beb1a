//! The server state machine (SPEC §5.2, §12.2) past its first message: a genuine client's
//! CLIENT_HELLO, then frames the input builds (content type, code, body), so the fuzzer reaches
//! every state the tables list. Nothing panics; after a failure nothing more is sent.
#![no_main]

use btls::testing::fixture_configs;
use btls::{Connection, SeededRandom};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn configs() -> &'static (Arc<btls::ClientConfig>, Arc<btls::ServerConfig>) {
    static CONFIGS: OnceLock<(Arc<btls::ClientConfig>, Arc<btls::ServerConfig>)> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let (c, s) = fixture_configs();
        (Arc::new(c), Arc::new(s))
    })
}

/// The fixture keys are valid at the testing clock.
const NOW_MS: u64 = btls::testing::TEST_NOW_MS;

/// Frames from the input: each is 3 bytes of header (content type, subcode, body length) and
/// the body.
fn frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let [ct, sub, len, rest @ ..] = data {
        let n = usize::from(*len).min(rest.len());
        let (body, tail) = rest.split_at(n);
        let mut f = vec![*ct % 4, *sub];
        f.extend_from_slice(&u16::try_from(n).unwrap_or(0).to_be_bytes());
        f.extend_from_slice(body);
        out.push(f);
        data = tail;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (c, s) = configs();
    let Ok(mut client) = Connection::client(c.clone(), Box::new(SeededRandom::new(3)), NOW_MS)
    else {
        return;
    };
    let Ok(mut server) = Connection::server(s.clone(), Box::new(SeededRandom::new(4)), NOW_MS)
    else {
        return;
    };
    let hello = client.take_output();
    if server.receive(&hello, NOW_MS).is_err() {
        return;
    }
    let _ = server.take_output();
    for frame in frames(data) {
        let failed = server.receive(&frame, NOW_MS).is_err();
        while server.poll_event().is_some() {}
        let _ = server.take_output();
        if failed {
            let _ = server.receive(&[2, 0, 0, 1, 0], NOW_MS);
            assert!(server.take_output().is_empty(), "output after a fatal error");
            return;
        }
    }
});
