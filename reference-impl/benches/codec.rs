//! Encoding and decoding of every HANDSHAKE message (whole frame out, body in), from a real
//! Ed25519 full handshake plus SENDING_KEY and FAILED_VALIDATION. CPU time of the benchmark thread.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::conn::Side;
use btls::msgs::{
    FrameHeader, HandshakeCode, HandshakeMessage, KeyAlgorithm, ValidationFailure, FRAME_HEADER_LEN,
};
use btls::testing::{fixture_keys, split_frames};
use common::btls_work::Handshakes;
use common::measure::{cpu_time, ThreadCpu};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

/// One frame of every message with a body worth measuring, in protocol order.
fn messages() -> Vec<HandshakeMessage> {
    let pair = Handshakes::full(KeyAlgorithm::ED25519_X25519).pair(1);
    let mut out: Vec<HandshakeMessage> = Vec::new();
    for (_, bytes) in &pair.wire.writes {
        for frame in split_frames(bytes) {
            let header = FrameHeader::parse(frame[..FRAME_HEADER_LEN].try_into().unwrap());
            let code = HandshakeCode(header.subcode);
            if let Ok(Some(msg)) = HandshakeMessage::decode(code, &frame[FRAME_HEADER_LEN..]) {
                if !out.iter().any(|m| m.code() == code) {
                    out.push(msg);
                }
            }
        }
    }
    let key = fixture_keys(Side::Client)[0].published.clone();
    out.push(HandshakeMessage::SendingKey(key));
    out.push(HandshakeMessage::FailedValidation(
        ValidationFailure::UNTRUSTED_KEY,
    ));
    out
}

fn encode(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("codec-encode");
    for msg in messages() {
        let len = msg.to_frame().len();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::from_parameter(msg.code()), |b| {
            b.iter(|| black_box(&msg).to_frame())
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("codec-decode");
    for msg in messages() {
        let body = msg.body();
        let code = msg.code();
        group.throughput(Throughput::Bytes((body.len() + FRAME_HEADER_LEN) as u64));
        group.bench_function(BenchmarkId::from_parameter(code), |b| {
            b.iter(|| HandshakeMessage::decode(code, black_box(&body)).unwrap())
        });
    }
    group.finish();
}

fn config() -> Criterion<ThreadCpu> {
    cpu_time(Duration::from_millis(500), Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = encode, decode
}
criterion_main!(benches);
