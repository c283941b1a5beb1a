//! Record protection per symmetric protocol and record size (seal, open), and bulk transfer of
//! 16 KiB records sent and received on one core: bTLS beside the rustls baseline and the AEAD
//! alone (the floor). CPU time of the benchmark thread.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]

mod common;

use btls::crypto::RecordKey;
use btls::msgs::{CipherSuite, ContentType, FrameHeader};
use common::floor::AeadFloor;
use common::measure::{cpu_time, ThreadCpu};
use common::{btls_work, rustls_work, BULK_RECORD, RECORD_SIZES};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn seal(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("record-seal");
    for suite in CipherSuite::ALL {
        for (size, name) in RECORD_SIZES {
            let data = vec![0x5a; size];
            let mut key = RecordKey::from_traffic(*suite, &[7; 32]).unwrap();
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new(suite.to_string(), name), |b| {
                b.iter(|| {
                    key.seal(ContentType::APPLICATION, 0, black_box(&data))
                        .unwrap()
                })
            });
        }
    }
    group.finish();
}

fn open(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("record-open");
    for suite in CipherSuite::ALL {
        for (size, name) in RECORD_SIZES {
            let mut writer = RecordKey::from_traffic(*suite, &[7; 32]).unwrap();
            let frame = writer
                .seal(ContentType::APPLICATION, 0, &vec![0x5a; size])
                .unwrap();
            let header = FrameHeader::parse(frame[..4].try_into().unwrap());
            let mut reader = RecordKey::from_traffic(*suite, &[7; 32]).unwrap();
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new(suite.to_string(), name), |b| {
                b.iter_batched_ref(
                    || frame[4..].to_vec(),
                    |body| {
                        reader.set_sequence(0);
                        reader.open(header, body).unwrap().len()
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

fn bulk(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("bulk");
    let data = vec![0x5a; BULK_RECORD];
    group.throughput(Throughput::Bytes(data.len() as u64));
    for suite in CipherSuite::ALL {
        let mut work = btls_work::Bulk::new(*suite);
        group.bench_function(BenchmarkId::new("btls", suite), |b| {
            b.iter(|| work.send_receive(&data))
        });
    }
    let mut work = rustls_work::Bulk::new();
    group.bench_function(BenchmarkId::new("rustls", CipherSuite::AES_256_GCM), |b| {
        b.iter(|| work.send_receive(&data))
    });
    for suite in CipherSuite::ALL {
        let mut floor = AeadFloor::new(*suite);
        group.bench_function(BenchmarkId::new("floor", suite), |b| {
            b.iter(|| floor.seal_open(&data))
        });
    }
    group.finish();
}

fn config() -> Criterion<ThreadCpu> {
    cpu_time(Duration::from_secs(1), Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = seal, open, bulk
}
criterion_main!(benches);
