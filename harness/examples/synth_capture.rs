//! Writes a large synthetic capture for speed measurements: one long TCP stream (a handshake's
//! worth of frames, then APPLICATION frames of 512 bytes each way) with every segment
//! acknowledged, so a capture of N packets has about N/2 frames.
//!
//! ```text
//! cargo run --release -p btls-harness --example synth_capture -- PACKETS OUT.pcap [pcapng]
//! ```
//! Prints the time taken to build and write it.

use btls_harness::capture::{write_capture, Direction, Format, Recording};
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
    let mut recording = Recording::default();
    recording.open(None);
    let conn = recording.current().ok_or("no connection")?;
    // Each data segment is followed by its ACK: two packets a frame.
    let frames = packets.saturating_sub(7) / 2;
    for i in 0..frames {
        let from = if i % 2 == 0 {
            Direction::FromConnector
        } else {
            Direction::FromListener
        };
        let mut frame = vec![3, 0, 0x02, 0x00];
        frame.extend(std::iter::repeat_n(u8::try_from(i % 251)?, 512));
        conn.data(from, &frame, String::new());
    }
    conn.fin(Direction::FromConnector);
    conn.fin(Direction::FromListener);
    let built = started.elapsed();
    let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    write_capture(&recording, format, file)?;
    let total = started.elapsed();
    let written = 3 + frames * 2 + 4;
    eprintln!(
        "{written} packets written to {out} in {:.3} s ({:.2} M packets/s; building the recording took {:.3} s)",
        total.as_secs_f64(),
        written as f64 / (total - built).as_secs_f64() / 1e6,
        built.as_secs_f64()
    );
    Ok(())
}
