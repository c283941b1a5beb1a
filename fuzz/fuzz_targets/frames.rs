//! The frame reader of both roles (SPEC §1, BT-FRAME-1..10): arbitrary bytes, delivered in
//! pieces whose sizes the input chooses, to a fresh server and to a client that has sent its
//! CLIENT_HELLO. Nothing panics, and a connection that failed sends nothing after its alert.
#![no_main]

use btls::testing::fixture_configs;
use btls::{Connection, SeededRandom};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

/// The fixture keys are valid at the testing clock.
const NOW_MS: u64 = btls::testing::TEST_NOW_MS;

fn configs() -> &'static (Arc<btls::ClientConfig>, Arc<btls::ServerConfig>) {
    static CONFIGS: OnceLock<(Arc<btls::ClientConfig>, Arc<btls::ServerConfig>)> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let (c, s) = fixture_configs();
        (Arc::new(c), Arc::new(s))
    })
}

fn feed(mut conn: Connection, data: &[u8]) {
    let _ = conn.take_output();
    let Some((&piece, mut rest)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);
    while !rest.is_empty() {
        let (now, later) = rest.split_at(piece.min(rest.len()));
        let failed = conn.receive(now, NOW_MS).is_err();
        while conn.poll_event().is_some() {}
        let _ = conn.take_output();
        if failed {
            let _ = conn.receive(later, NOW_MS);
            assert!(conn.take_output().is_empty(), "output after a fatal error");
            return;
        }
        rest = later;
    }
    let _ = conn.receive_eof();
}

fuzz_target!(|data: &[u8]| {
    let (client, server) = configs();
    if let Ok(s) = Connection::server(server.clone(), Box::new(SeededRandom::new(1)), NOW_MS) {
        feed(s, data);
    }
    if let Ok(c) = Connection::client(client.clone(), Box::new(SeededRandom::new(2)), NOW_MS) {
        feed(c, data);
    }
});
