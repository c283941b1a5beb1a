//! The report's SVG charts: bars per figure, and the changes against the baseline.

use super::*;
use harness_core::report::esc;
use std::fmt::Write as _;

/// The opening of a chart: the SVG element (text at `font_size`), a white background and the
/// title.
fn open(width: f64, height: f64, font_size: u32, title: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="{font_size}">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="600">{}</text>"#,
        esc(title)
    );
    s
}

/// One bar of a chart.
pub struct Bar {
    /// Its label.
    pub label: String,
    /// Its length.
    pub value: f64,
    /// The text at its end.
    pub text: String,
    /// Its colour.
    pub color: &'static str,
}

pub(super) const OURS: &str = "#2b6cb0";
pub(super) const RUSTLS: &str = "#c05621";
pub(super) const FLOOR: &str = "#718096";
pub(super) const OPENSSL: &str = "#2f855a";
pub(super) const BAD: &str = "#c53030";
pub(super) const GOOD: &str = "#2f855a";

/// A horizontal bar chart as a standalone SVG; `marker` draws a vertical line (a target).
pub fn bar_chart(title: &str, bars: &[Bar], marker: Option<(f64, &str)>) -> String {
    let (label_w, bar_w, row_h, top) = (300.0, 420.0, 26.0, 40.0);
    let width = label_w + bar_w + 120.0;
    let height = top + row_h * bars.len() as f64 + 30.0;
    let max = bars
        .iter()
        .map(|b| b.value)
        .chain(marker.map(|m| m.0))
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = open(width, height, 13, title);
    for (i, b) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (b.value / max * bar_w).max(1.0);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="{}" fill="{}" rx="2"/><text x="{}" y="{}">{}</text>"#,
            label_w - 8.0,
            y + 17.0,
            esc(&b.label),
            y + 4.0,
            row_h - 8.0,
            b.color,
            label_w + w + 6.0,
            y + 17.0,
            esc(&b.text)
        );
    }
    if let Some((v, label)) = marker {
        let x = label_w + v / max * bar_w;
        let bottom = top + row_h * bars.len() as f64;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom}" stroke="#1a202c" stroke-dasharray="4 3"/><text x="{x:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"##,
            top - 6.0,
            bottom + 16.0,
            esc(label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A chart of relative changes around zero: green better, red worse, grey within noise.
pub fn change_chart(title: &str, changes: &[&Change]) -> String {
    let (label_w, half, row_h, top) = (380.0, 220.0, 22.0, 40.0);
    let width = label_w + 2.0 * half + 80.0;
    let height = top + row_h * changes.len() as f64 + 30.0;
    let max = changes
        .iter()
        .map(|c| c.better_by.abs())
        .fold(0.1_f64, f64::max);
    let zero = label_w + half;
    let mut s = open(width, height, 12, title);
    for (i, c) in changes.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = c.better_by.abs() / max * half;
        let x = if c.better_by < 0.0 { zero - w } else { zero };
        let color = match c.verdict {
            Verdict::Regression => BAD,
            Verdict::Improvement => GOOD,
            Verdict::WithinNoise => FLOOR,
        };
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{x:.1}" y="{}" width="{:.1}" height="{}" fill="{color}"/><text x="{}" y="{}" font-size="11">{:+.1}%</text>"#,
            label_w - 8.0,
            y + 15.0,
            esc(&c.id),
            y + 3.0,
            w.max(1.0),
            row_h - 6.0,
            if c.better_by < 0.0 {
                zero + 4.0
            } else {
                zero - 46.0
            },
            y + 15.0,
            c.better_by * 100.0
        );
    }
    let bottom = top + row_h * changes.len() as f64;
    let _ = write!(
        s,
        r##"<line x1="{zero}" y1="{top}" x2="{zero}" y2="{bottom}" stroke="#1a202c"/><text x="{zero}" y="{}" text-anchor="middle" font-size="11">← worse · better →</text>"##,
        bottom + 16.0
    );
    s.push_str("</svg>\n");
    s
}
