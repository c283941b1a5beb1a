//! Writes a large synthetic capture for speed measurements ([`Recording::synthetic`]): one long
//! TCP stream of APPLICATION frames of 512 bytes each way, every segment acknowledged, so a
//! capture of N packets has about N/2 frames.
//!
//! ```text
//! cargo run --release -p btls-harness --example synth_capture -- PACKETS OUT.pcap [pcapng]
//! ```
//! Prints the time taken to build and write it.

use harness_capture::{write_capture, Format, Recording};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let packets: usize = args.next().ok_or("PACKETS")?.parse()?;
    let out = args.next().ok_or("OUT")?;
    let format = match args.next().as_deref() {
        Some("pcapng") => Format::Pcapng,
        _ => Format::Pcap,
    };
    let started = Instant::now();
    let frames = packets.saturating_sub(7) / 2;
    let recording = Recording::synthetic(frames);
    let built = started.elapsed();
    let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    write_capture(&recording, format, file)?;
    let total = started.elapsed();
    let written = 2 * frames + 7;
    eprintln!(
        "{written} packets written to {out} in {:.3} s ({:.2} M packets/s; building the recording took {:.3} s)",
        total.as_secs_f64(),
        written as f64 / total.as_secs_f64() / 1e6,
        built.as_secs_f64()
    );
    Ok(())
}
