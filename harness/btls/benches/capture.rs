//! Capture speed: writing a recording as pcapng and pcap, and reading a capture back
//! (parse, reassemble, decode every frame, render the transcript). One iteration handles a
//! synthetic session of 2,000 frames (4,007 packets, 1.1 MB).

use btls_profile::replay::transcript;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use harness_capture::{write_capture, Format, Recording};
use std::hint::black_box;

const FRAMES: usize = 2_000;
const PACKETS: u64 = 2 * FRAMES as u64 + 7;

fn write(c: &mut Criterion) {
    let recording = Recording::synthetic(FRAMES);
    let mut group = c.benchmark_group("capture-write");
    group.throughput(Throughput::Elements(PACKETS));
    for format in [Format::Pcapng, Format::Pcap] {
        group.bench_function(format.extension(), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1 << 21);
                let _ = write_capture(black_box(&recording), format, &mut out);
                out
            });
        });
    }
    group.finish();
}

fn read(c: &mut Criterion) {
    let recording = Recording::synthetic(FRAMES);
    let mut group = c.benchmark_group("capture-read");
    group.throughput(Throughput::Elements(PACKETS));
    for format in [Format::Pcapng, Format::Pcap] {
        let mut bytes = Vec::new();
        if write_capture(&recording, format, &mut bytes).is_err() {
            continue;
        }
        group.bench_function(format.extension(), |b| {
            b.iter(|| transcript(black_box(&bytes), "bench", None).map(|r| r.frames));
        });
    }
    group.finish();
}

criterion_group!(benches, write, read);
criterion_main!(benches);
