//! CPU time of the benchmark thread as a criterion measurement.
//!
//! The machine is shared: wall time counts whatever else runs. The in-memory benchmarks are
//! single-threaded, so the thread's own CPU time is their cost ("per CPU-second"); the loopback
//! benchmarks, which need two threads, keep wall time.

use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput};
use std::time::Duration;

/// The CPU time the measuring thread spent, in nanoseconds.
pub(crate) struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e-3, "µs cpu")
        } else if typical < 1e9 {
            (1e-6, "ms cpu")
        } else {
            (1e-9, "s cpu")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (per_iter, bytes) = match *throughput {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (b as f64, true),
            Throughput::Bits(b) => (b as f64 / 8.0, true),
            Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => {
                (e as f64, false)
            }
        };
        let _ = typical;
        for v in values.iter_mut() {
            *v = per_iter * 1e9 / *v;
        }
        if bytes {
            for v in values.iter_mut() {
                *v /= 1e6;
            }
            "MB/cpu-s"
        } else {
            "/cpu-s"
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// Criterion measuring [`ThreadCpu`], 50 samples, with these warm-up and measurement times.
pub(crate) fn cpu_time(warm_up: Duration, measurement: Duration) -> Criterion<ThreadCpu> {
    Criterion::default()
        .with_measurement(ThreadCpu)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .sample_size(50)
}
